"""The same notification delivered many times at once pays the order once (ORD-4), with real
threads on PostgreSQL."""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from orders.models import OrderEventKind, OrderState
from payments import services
from payments.models import NotificationOutcome, PaymentNotification
from tests.factories import make_order

from .helpers import amount_str, post_notification, signed

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_same_notification_from_eight_threads_pays_the_order_once():
    order = make_order()
    payment, _url = services.start_payment(
        order_id=order.pk, actor=order.customer, build_url=lambda path: f"http://testserver{path}"
    )
    body, headers = signed(reference=payment.reference, amount=amount_str(payment.amount))
    barrier = threading.Barrier(8)
    statuses: Counter = Counter()
    lock = threading.Lock()

    def deliver() -> None:
        try:
            barrier.wait()
            status = post_notification(Client(), body, headers).status_code
        finally:
            connection.close()
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == Counter({200: 8})
    order.refresh_from_db()
    assert order.state == OrderState.PAID
    assert order.events.filter(kind=OrderEventKind.PAID).count() == 1
    outcomes = Counter(PaymentNotification.objects.values_list("outcome", flat=True))
    assert outcomes == Counter({NotificationOutcome.APPLIED: 1, NotificationOutcome.DUPLICATE: 7})
