"""Coupon limits hold when many orders use a coupon at once (ORD-8), with real threads on
PostgreSQL: each thread places its own order and redeems the coupon in one transaction, as
checkout does."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, transaction

from orders import services as order_services
from orders.models import Order
from promotions.models import CouponRedemption
from promotions.services import CouponUnavailable, redeem_coupon
from tests.factories import UserFactory, make_address, make_order, stock_sku

from .helpers import make_coupon

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _checkout_at_once(coupon, customers) -> Counter:
    # One SKU each, so that nothing but the coupon makes the checkouts wait for one another.
    skus = [stock_sku(1) for _ in customers]
    barrier = threading.Barrier(len(customers))
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def checkout(customer, sku) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                order = order_services.create_order(
                    customer=customer,
                    lines=[order_services.LineRequest(sku.pk, 1, discount=Decimal("10.00"))],
                    address=make_address(),
                )
                redeem_coupon(
                    coupon_id=coupon.pk,
                    order_id=order.pk,
                    customer=customer,
                    email=customer.email,
                    amount=Decimal("10.00"),
                )
            result = "redeemed"
        except CouponUnavailable:
            result = "refused"
        finally:
            connection.close()
        with lock:
            outcomes[result] += 1

    threads = [
        threading.Thread(target=checkout, args=(customer, sku))
        for customer, sku in zip(customers, skus, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_ten_buyers_of_a_coupon_for_three_get_three_uses_and_seven_refusals():
    coupon = make_coupon("FIRST3", usage_limit=3, per_customer_limit=None)
    customers = [UserFactory(role="customer") for _ in range(10)]

    outcomes = _checkout_at_once(coupon, customers)

    assert outcomes == Counter({"redeemed": 3, "refused": 7})
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 3
    assert Order.objects.count() == 3  # a refused coupon leaves no order behind


def test_one_customer_checking_out_five_times_at_once_uses_a_once_per_customer_coupon_once():
    coupon = make_coupon("ONCE", usage_limit=None, per_customer_limit=1)
    customer = UserFactory(role="customer")

    outcomes = _checkout_at_once(coupon, [customer] * 5)

    assert outcomes == Counter({"redeemed": 1, "refused": 4})
    assert CouponRedemption.objects.filter(coupon=coupon, customer=customer).count() == 1
    assert Order.objects.count() == 1


def _redeem_at_once(coupon, orders) -> Counter:
    """Only the redemptions race here: placing an order takes the day's order-number counter
    lock, which already makes whole checkouts wait for one another."""
    barrier = threading.Barrier(len(orders))
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def redeem(order) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                redeem_coupon(
                    coupon_id=coupon.pk,
                    order_id=order.pk,
                    customer=order.customer,
                    email=order.contact_email,
                    amount=Decimal("10.00"),
                )
            result = "redeemed"
        except CouponUnavailable:
            result = "refused"
        finally:
            connection.close()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=redeem, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_redemptions_racing_for_the_last_uses_are_counted_one_after_another():
    coupon = make_coupon("RACE3", usage_limit=3, per_customer_limit=None)
    orders = [make_order() for _ in range(10)]

    assert _redeem_at_once(coupon, orders) == Counter({"redeemed": 3, "refused": 7})
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 3


def test_one_customers_orders_racing_for_a_once_per_customer_coupon_get_it_once():
    coupon = make_coupon("RACE1", usage_limit=None, per_customer_limit=1)
    customer = UserFactory(role="customer")
    orders = [make_order(customer=customer) for _ in range(5)]

    assert _redeem_at_once(coupon, orders) == Counter({"redeemed": 1, "refused": 4})
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 1
