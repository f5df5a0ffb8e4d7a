"""The demo shows the payment deadline at work (ORD-5): `seed_demo` leaves two unpaid orders
that beat reminds and cancels within minutes of `make run`."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core import demo
from orders import schedules
from orders.models import Order, OrderState


@pytest.fixture
def demo_base(settings):
    settings.PAYMENT_DEADLINE_MINUTES = 15  # config.settings.dev
    settings.PAYMENT_REMINDER_MINUTES_BEFORE = 5
    accounts, skus = demo.seed_base()
    demo.seed_inventory(skus)
    return accounts, skus


@pytest.mark.django_db
def test_demo_orders_are_reminded_and_cancelled_within_minutes_and_made_again(demo_base):
    accounts, skus = demo_base
    now = timezone.now()
    assert demo.seed_deadline_demo_orders(accounts=accounts, skus=skus, now=now) == 2
    assert demo.seed_deadline_demo_orders(accounts=accounts, skus=skus, now=now) == 0
    mine = Order.objects.filter(customer=accounts.customers[0])

    with time_machine.travel(now + timedelta(minutes=2), tick=False):
        assert schedules.send_payment_reminders() == 2
    with time_machine.travel(now + timedelta(minutes=4), tick=False):
        assert schedules.cancel_expired_orders() == 1
    with time_machine.travel(now + timedelta(minutes=7), tick=False):
        assert schedules.cancel_expired_orders() == 1
    assert set(mine.values_list("state", flat=True)) == {OrderState.CANCELLED}

    # The next `make run` seeds a fresh pair.
    assert demo.seed_deadline_demo_orders(accounts=accounts, skus=skus) == 2
