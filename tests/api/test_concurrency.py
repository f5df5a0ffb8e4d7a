"""Concurrent retries of one create with the same Idempotency-Key make one order (API-1),
against PostgreSQL with real threads."""

import threading

import pytest
from django.db import connection

from api.models import IdempotencyRecord
from orders.models import Order
from tests.factories import stock_sku

from .conftest import ApiClient, order_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 6


def send_at_once(token, payload, headers):
    barrier = threading.Barrier(THREADS)
    answers = []

    def send():
        try:
            barrier.wait()
            response = ApiClient(token).post("/api/orders", payload, **headers)
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_concurrent_retries_with_one_idempotency_key_make_one_order(token):
    sku = stock_sku(THREADS * 2)

    answers = send_at_once(token, order_payload(sku), {"Idempotency-Key": "retry-1"})

    assert len(answers) == THREADS
    assert {status for status, _body in answers} == {201}
    assert len({body["number"] for _status, body in answers}) == 1
    assert Order.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_concurrent_sends_of_one_external_id_make_one_order(token):
    sku = stock_sku(THREADS * 2)

    answers = send_at_once(token, order_payload(sku), {})

    assert sorted(status for status, _body in answers) == [200] * (THREADS - 1) + [201]
    assert len({body["number"] for _status, body in answers}) == 1
    assert Order.objects.count() == 1
