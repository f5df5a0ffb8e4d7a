"""Recording coupon uses on orders and giving them back (ORD-8)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from orders import services as order_services
from orders.models import Order
from promotions.models import CouponRedemption
from promotions.selectors import coupon_usage
from promotions.services import (
    CouponUnavailable,
    deactivate_coupon,
    redeem_coupon,
)
from tests.factories import UserFactory, make_address, make_order, stock_sku

from .helpers import make_coupon

pytestmark = pytest.mark.django_db

D = Decimal


def redeem(coupon, order, *, amount="10.00"):
    return redeem_coupon(
        coupon_id=coupon.pk,
        order_id=order.pk,
        customer=order.customer,
        email=order.contact_email,
        amount=D(amount),
    )


def test_redeeming_within_the_limits_records_the_use():
    coupon = make_coupon("TEN", usage_limit=2)
    order = make_order()
    redemption = redeem(coupon, order)
    assert redemption.order == order
    assert redemption.customer == order.customer
    assert redemption.amount == D("10.00")
    assert redemption.released_at is None
    assert order.customer.email.lower() == redemption.email
    assert Order.objects.get(pk=order.pk).coupon_redemption == redemption


def test_guest_email_is_kept_in_lower_case():
    coupon = make_coupon("TEN")
    order = make_order(contact_email="Guest@Example.COM")
    redemption = redeem_coupon(
        coupon_id=coupon.pk,
        order_id=order.pk,
        customer=None,
        email=" Guest@Example.COM ",
        amount=D("10.00"),
    )
    assert redemption.email == "guest@example.com"


def test_redeeming_over_the_total_limit_is_refused():
    coupon = make_coupon("TWO", usage_limit=2, per_customer_limit=None)
    redeem(coupon, make_order())
    redeem(coupon, make_order())
    third = make_order()
    with pytest.raises(CouponUnavailable, match="Coupon TWO has been used up."):
        redeem(coupon, third)
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 2


def test_redeeming_twice_by_one_customer_is_refused():
    coupon = make_coupon("ONCE", per_customer_limit=1)
    customer = UserFactory(role="customer")
    redeem(coupon, make_order(customer=customer))
    with pytest.raises(CouponUnavailable, match="You have already used coupon ONCE."):
        redeem(coupon, make_order(customer=customer))


def test_redeeming_an_expired_or_switched_off_coupon_is_refused():
    now = timezone.now()
    expired = make_coupon("OLD", starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=1))
    switched_off = make_coupon("OFF")
    deactivate_coupon(coupon_id=switched_off.pk, actor=None)
    with pytest.raises(CouponUnavailable, match="expired"):
        redeem(expired, make_order())
    with pytest.raises(CouponUnavailable, match="no longer valid"):
        redeem(switched_off, make_order())
    assert not CouponRedemption.objects.exists()


def test_an_order_holds_one_coupon_only():
    order = make_order()
    redeem(make_coupon("A"), order)
    with pytest.raises(CouponUnavailable, match="already has a coupon"):
        redeem(make_coupon("B"), order)


def test_a_refused_coupon_rolls_back_the_callers_order():
    """Checkout calls redeem_coupon inside the transaction that creates the order."""
    coupon = make_coupon("GONE", usage_limit=1, per_customer_limit=None)
    redeem(coupon, make_order())
    orders_before = Order.objects.count()
    sku = stock_sku(1)
    with pytest.raises(CouponUnavailable), transaction.atomic():
        order = order_services.create_order(
            customer=UserFactory(role="customer"),
            lines=[order_services.LineRequest(sku.pk, 1, discount=D("10.00"))],
            address=make_address(),
        )
        redeem(coupon, order)
    assert Order.objects.count() == orders_before


def test_cancelling_the_order_gives_the_use_back():
    coupon = make_coupon("ONCE", usage_limit=1, per_customer_limit=1)
    customer = UserFactory(role="customer")
    order = make_order(customer=customer)
    redemption = redeem(coupon, order)

    order_services.cancel_order(order_id=order.pk, actor=customer, reason="Changed my mind")

    redemption.refresh_from_db()
    assert redemption.released_at is not None
    assert coupon_usage([coupon.pk])[coupon.pk].used == 0
    # The same customer may use it again on a new order.
    again = redeem(coupon, make_order(customer=customer))
    assert again.released_at is None


def test_cancelling_an_order_without_coupon_changes_nothing():
    coupon = make_coupon("TEN")
    kept = redeem(coupon, make_order())
    other = make_order()
    order_services.cancel_order(order_id=other.pk, actor=other.customer, reason="Changed my mind")
    kept.refresh_from_db()
    assert kept.released_at is None


def test_coupon_usage_counts_uses_given_back_apart():
    coupon = make_coupon("TEN", per_customer_limit=None)
    unused = make_coupon("UNUSED")
    redeem(coupon, make_order(), amount="10.00")
    cancelled = make_order()
    redeem(coupon, cancelled, amount="10.00")
    order_services.cancel_order(order_id=cancelled.pk, actor=cancelled.customer, reason="No")
    usage = coupon_usage([coupon.pk, unused.pk])
    assert (usage[coupon.pk].used, usage[coupon.pk].released, usage[coupon.pk].discount) == (
        1,
        1,
        D("10.00"),
    )
    assert usage[unused.pk].used == 0
