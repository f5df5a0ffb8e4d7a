"""A coupon's value cannot be changed under an order that is using it (ORD-8, ORD-11): the
change waits for the coupon's row lock, held by the checkout recording the use, then sees the
use and is refused. Real threads on PostgreSQL."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from accounts.roles import Role
from promotions.models import Coupon, PromotionChange
from promotions.services import InvalidPromotion, redeem_coupon, update_coupon
from tests.factories import UserFactory, make_order

from .helpers import make_coupon

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_value_change_racing_a_checkout_waits_for_it_and_is_refused():
    coupon = make_coupon("RACE", value=Decimal("10.00"))
    order = make_order()
    manager = UserFactory(role=Role.MANAGER)
    redeemed = threading.Event()
    outcome: dict[str, object] = {}

    def checkout() -> None:
        try:
            with transaction.atomic():
                redeem_coupon(
                    coupon_id=coupon.pk,
                    order_id=order.pk,
                    customer=order.customer,
                    email=order.contact_email,
                    amount=Decimal("10.00"),
                )
                redeemed.set()
                # Let the manager's change reach the lock before this commits.
                threading.Event().wait(0.5)
        finally:
            redeemed.set()
            connection.close()

    def change() -> None:
        try:
            redeemed.wait(5)
            update_coupon(coupon_id=coupon.pk, actor=manager, data={"value": Decimal("50.00")})
            outcome["result"] = "changed"
        except InvalidPromotion as error:
            outcome["result"] = error.message
        finally:
            connection.close()

    threads = [threading.Thread(target=checkout), threading.Thread(target=change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert "already been used on orders" in str(outcome["result"])
    assert Coupon.objects.get(pk=coupon.pk).value == Decimal("10.00")
    assert not PromotionChange.objects.exists()
