"""Placing orders concurrently (ORD-2, INV-3), with real threads on PostgreSQL."""

import threading
from collections import Counter

import pytest
from django.db import connection

from inventory.ledger import ledger_differences
from inventory.selectors import availability
from orders import services
from orders.models import Order
from tests.factories import UserFactory, make_address, stock_sku

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_buyers_of_the_last_units_get_one_order_each_and_the_rest_are_told():
    sku = stock_sku(3)
    buyers = [UserFactory(role="customer") for _ in range(12)]
    barrier = threading.Barrier(len(buyers))
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def buy(customer) -> None:
        try:
            barrier.wait()
            services.create_order(
                customer=customer,
                lines=[services.LineRequest(sku.pk, 1)],
                address=make_address(),
            )
            result = "placed"
        except services.OrderOutOfStock:
            result = "out of stock"
        finally:
            connection.close()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=buy, args=(customer,)) for customer in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == Counter({"placed": 3, "out of stock": 9})
    assert Order.objects.count() == 3  # a refused checkout leaves no order behind
    assert availability(sku_ids=[sku.pk]) == {sku.pk: 0}
    assert ledger_differences() == []
