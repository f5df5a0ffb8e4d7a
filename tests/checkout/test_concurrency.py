"""Checkout under concurrent submits, over HTTP with real threads on PostgreSQL (ORD-2)."""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from inventory.ledger import ledger_differences
from inventory.selectors import availability
from orders.models import Order
from tests.factories import UserFactory, stock_sku

from .conftest import checkout_page, submit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_at_once(jobs) -> list:
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait()
            results[index] = job()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def ready_client(sku) -> tuple[Client, dict]:
    client = Client()
    client.force_login(UserFactory(role="customer"))
    client.post("/cart/add/", {"sku": sku.pk, "quantity": 1})
    return client, checkout_page(client)


def test_the_last_unit_bought_by_two_customers_at_once_is_sold_once():
    sku = stock_sku(1)
    (first, first_page), (second, second_page) = ready_client(sku), ready_client(sku)

    statuses = run_at_once(
        [
            lambda: submit(first, first_page).status_code,
            lambda: submit(second, second_page).status_code,
        ]
    )

    assert Counter(statuses) == Counter({302: 1, 409: 1})
    assert Order.objects.count() == 1
    assert availability(sku_ids=[sku.pk]) == {sku.pk: 0}
    assert ledger_differences() == []


def test_a_double_submit_arriving_at_once_places_one_order():
    sku = stock_sku(5)
    client, page = ready_client(sku)

    responses = run_at_once([lambda: submit(client, page), lambda: submit(client, page)])

    assert [response.status_code for response in responses] == [302, 302]
    assert responses[0].url == responses[1].url
    assert Order.objects.count() == 1
    assert availability(sku_ids=[sku.pk]) == {sku.pk: 4}
