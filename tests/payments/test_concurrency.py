"""Payments under concurrency, with real threads on PostgreSQL (ORD-4): the same notification
delivered many times at once pays the order once; "pay again" racing the previous attempt's
notification neither deadlocks nor loses either."""

import threading
import time
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from orders.models import Order, OrderEventKind, OrderState
from payments import services
from payments.models import NotificationOutcome, Payment, PaymentNotification, PaymentStatus
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


def race_pay_again_with_notification(order, body: bytes, headers: dict) -> dict:
    """Start a new attempt of `order` and deliver `body` in two threads released together;
    what each returned ("again": the new Payment or the refusal, "outcome") and "errors"."""
    barrier = threading.Barrier(2)
    results: dict = {"errors": []}

    def pay_again() -> None:
        try:
            barrier.wait()
            results["again"] = services.start_payment(
                order_id=order.pk, actor=order.customer, build_url=lambda path: path
            )[0]
        except services.PaymentNotAllowed as refused:  # the order was paid just before
            results["again"] = refused
        except BaseException as error:
            results["errors"].append(error)
        finally:
            connection.close()

    def notify() -> None:
        try:
            barrier.wait()
            results["outcome"] = services.handle_notification(
                gateway_name="sandbox", body=body, headers=headers
            )
        except BaseException as error:
            results["errors"].append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay_again), threading.Thread(target=notify)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("succeeded", [True, False], ids=["success", "failure"])
def test_pay_again_racing_the_previous_attempts_notification_never_deadlocks(
    monkeypatch, succeeded
):
    # Widen the gap between each side's two row locks, so that taking them in opposite orders
    # (order then attempts, against attempt then order) deadlocks in every round.
    apply, is_prepaid = services._apply, Order.is_prepaid
    monkeypatch.setattr(services, "_apply", lambda *a: (time.sleep(0.05), apply(*a))[1])
    monkeypatch.setattr(Order, "is_prepaid", lambda self: (time.sleep(0.05), is_prepaid(self))[1])

    for round in range(4):
        order = make_order()
        first, _url = services.start_payment(
            order_id=order.pk, actor=order.customer, build_url=lambda path: path
        )
        body, headers = signed(
            reference=first.reference,
            txn_id=f"SBXRACE{round}",
            amount=amount_str(first.amount),
            status="succeeded" if succeeded else "failed",
        )

        results = race_pay_again_with_notification(order, body, headers)

        assert results["errors"] == []
        order.refresh_from_db()
        first.refresh_from_db()
        pending = list(Payment.objects.filter(order=order, status=PaymentStatus.PENDING))
        assert len(pending) <= 1
        if succeeded:
            # Paid by the first attempt, whether it was replaced before the news came or not.
            assert results["outcome"] == NotificationOutcome.APPLIED
            assert first.status == PaymentStatus.SUCCEEDED
            assert order.state == OrderState.PAID
            assert not order.needs_review
            assert order.events.filter(kind=OrderEventKind.PAID).count() == 1
        else:
            assert results["outcome"] == NotificationOutcome.FAILED
            assert first.status == PaymentStatus.FAILED
            assert order.state == OrderState.PENDING_PAYMENT
            assert pending == [results["again"]]
