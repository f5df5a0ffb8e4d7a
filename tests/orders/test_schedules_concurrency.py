"""Two copies of the payment-deadline job at once (ORD-5, STYLE.md "Background work"), with
real threads on PostgreSQL: each expired order is cancelled once and its stock released once."""

import logging
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from inventory.ledger import ledger_differences
from inventory.models import MovementKind, StockMovement
from inventory.selectors import availability
from orders import schedules
from orders.models import Order, OrderEvent, OrderEventKind, OrderState
from tests.factories import UserFactory, make_order, stock_sku

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_overlapping_runs_cancel_each_expired_order_once(settings, caplog):
    settings.PAYMENT_DEADLINE_MINUTES = 30
    skus = [stock_sku(100) for _ in range(4)]
    start = availability(sku_ids=[sku.pk for sku in skus])
    customer = UserFactory(role="customer")
    orders = [
        make_order(customer=customer, skus=[skus[i % 4], skus[(i + 1) % 4]], quantities=[1, 2])
        for i in range(40)
    ]
    assert availability(sku_ids=[sku.pk for sku in skus]) != start
    later = timezone.now() + timedelta(minutes=31)
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            counts.append(schedules.cancel_expired_orders(now=later, batch_size=5))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    with caplog.at_level(logging.ERROR):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert sum(counts) == 40
    assert set(Order.objects.values_list("state", flat=True)) == {OrderState.CANCELLED}
    events = OrderEvent.objects.filter(kind=OrderEventKind.CANCELLED)
    assert sorted(events.values_list("order_id", flat=True)) == sorted(o.pk for o in orders)
    releases = StockMovement.objects.filter(kind=MovementKind.RELEASE)
    assert releases.count() == 80  # two lines per order, each released once
    assert availability(sku_ids=[sku.pk for sku in skus]) == start
    assert ledger_differences() == []
