"""The gateway's notification: signed, fresh, idempotent; odd payments go to a person (ORD-4,
SEC-3)."""

import json
import time
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from orders import services as order_services
from orders.models import OrderEventKind, OrderState
from payments import services
from payments.gateways.sandbox import sign
from payments.models import (
    NotificationOutcome,
    Payment,
    PaymentNotification,
    PaymentStatus,
    SandboxCharge,
)
from tests.factories import SKUFactory, make_order

from .helpers import amount_str, post_notification, signed

pytestmark = pytest.mark.django_db


def started(order) -> Payment:
    payment, _url = services.start_payment(
        order_id=order.pk, actor=order.customer, build_url=lambda path: f"http://testserver{path}"
    )
    return payment


def paid_notification(payment: Payment, **overrides):
    fields = {"reference": payment.reference, "amount": amount_str(payment.amount)}
    fields.update(overrides)
    return signed(**fields)


@pytest.fixture
def order():
    return make_order(skus=[SKUFactory(price=Decimal("88.80"))])


def test_notify_takes_no_csrf_token_but_a_signature(order):
    payment = started(order)
    gateway = Client(enforce_csrf_checks=True)

    response = post_notification(gateway, *paid_notification(payment))

    assert response.status_code == 200
    assert response.content == b"ok"
    order.refresh_from_db()
    assert order.state == OrderState.PAID


def test_forged_signature_is_refused_and_changes_nothing_but_is_recorded(client, order):
    payment = started(order)
    body, headers = paid_notification(payment, key="not-the-secret")

    response = post_notification(client, body, headers)

    assert response.status_code == 400
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT
    assert payment.status == PaymentStatus.PENDING
    assert payment.gateway_txn_id == ""
    record = PaymentNotification.objects.get()
    assert record.outcome == NotificationOutcome.REJECTED_SIGNATURE
    assert not record.signature_valid
    assert record.payment is None
    assert record.body == body.decode()
    assert record.headers["X-Sandbox-Signature"] == headers["X-Sandbox-Signature"]


def test_missing_signature_and_tampered_body_are_refused(client, order):
    payment = started(order)
    body, headers = paid_notification(payment)

    assert post_notification(client, body, {}).status_code == 400
    tampered = body.replace(b'"88.80"', b'"88.81"')
    assert post_notification(client, tampered, headers).status_code == 400

    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT
    assert (
        PaymentNotification.objects.filter(outcome=NotificationOutcome.REJECTED_SIGNATURE).count()
        == 2
    )


def test_stale_notification_is_refused(client, order, settings):
    payment = started(order)
    old = int(time.time()) - settings.PAYMENT_NOTIFICATION_MAX_AGE - 5

    response = post_notification(client, *paid_notification(payment, timestamp=old))

    assert response.status_code == 400
    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT
    assert PaymentNotification.objects.get().outcome == NotificationOutcome.REJECTED_STALE


def test_malformed_notification_is_refused(client, order):
    payment = started(order)
    as_float = paid_notification(payment)[0].replace(b'"88.80"', b"88.80")
    ts = str(int(time.time()))
    headers = {"X-Sandbox-Timestamp": ts, "X-Sandbox-Signature": sign(f"{ts}.{as_float.decode()}")}

    assert post_notification(client, as_float, headers).status_code == 400
    assert PaymentNotification.objects.get().outcome == NotificationOutcome.REJECTED_MALFORMED


def test_unknown_gateway_answers_404(client, order):
    payment = started(order)

    assert post_notification(client, *paid_notification(payment), gateway="nope").status_code == 404


def test_replayed_notification_is_a_duplicate_and_changes_nothing(client, order):
    payment = started(order)
    body, headers = paid_notification(payment)
    assert post_notification(client, body, headers).status_code == 200
    events = order.events.count()

    response = post_notification(client, body, headers)

    assert response.status_code == 200
    assert order.events.count() == events
    assert list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True)) == [
        NotificationOutcome.APPLIED,
        NotificationOutcome.DUPLICATE,
    ]
    assert order.events.filter(kind=OrderEventKind.PAID).count() == 1


def test_second_transaction_after_success_flags_the_order_once(client, order):
    payment = started(order)
    post_notification(client, *paid_notification(payment, txn_id="SBXFIRST"))

    body, headers = paid_notification(payment, txn_id="SBXSECOND")
    assert post_notification(client, body, headers).status_code == 200
    assert post_notification(client, body, headers).status_code == 200  # and its replay

    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.state == OrderState.PAID
    assert order.needs_review
    assert "Paid twice" in order.review_reason
    assert payment.gateway_txn_id == "SBXFIRST"
    assert order.events.filter(kind=OrderEventKind.FLAGGED).count() == 1
    assert order.events.filter(kind=OrderEventKind.PAID).count() == 1
    outcomes = list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == [
        NotificationOutcome.APPLIED,
        NotificationOutcome.PAID_TWICE,
        NotificationOutcome.DUPLICATE,
    ]


def test_wrong_amount_leaves_the_order_unpaid_and_flagged(client, order):
    payment = started(order)

    response = post_notification(client, *paid_notification(payment, amount="8.88"))

    assert response.status_code == 200
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT
    assert order.needs_review
    assert "8.88" in order.review_reason and "88.80" in order.review_reason
    assert payment.status == PaymentStatus.AMOUNT_MISMATCH
    assert PaymentNotification.objects.get().outcome == NotificationOutcome.AMOUNT_MISMATCH
    # Held for a person: no new attempt until the service desk clears it.
    with pytest.raises(services.PaymentNotAllowed):
        started(order)


def test_payment_after_cancellation_is_kept_and_flagged_for_a_refund(client, order):
    payment = started(order)
    order_services.cancel_order(order_id=order.pk, actor=None, reason="Payment deadline passed")

    response = post_notification(client, *paid_notification(payment))

    assert response.status_code == 200
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.state == OrderState.CANCELLED
    assert order.needs_review
    assert "Paid after cancellation" in order.review_reason
    assert payment.status == PaymentStatus.SUCCEEDED
    assert PaymentNotification.objects.get().outcome == NotificationOutcome.FLAGGED


def test_a_replaced_attempt_paid_after_the_newer_one_flags_the_order(client, order):
    first = started(order)
    second = started(order)  # the customer started over in another tab
    post_notification(client, *paid_notification(second, txn_id="SBXB"))

    post_notification(client, *paid_notification(first, txn_id="SBXA"))

    order.refresh_from_db()
    first.refresh_from_db()
    assert order.state == OrderState.PAID
    assert order.needs_review
    assert "Paid twice" in order.review_reason
    assert first.status == PaymentStatus.SUCCEEDED
    assert order.events.filter(kind=OrderEventKind.PAID).count() == 1


def test_failure_notification_marks_the_attempt_failed_once(client, order):
    payment = started(order)
    body, headers = paid_notification(payment, status="failed")

    post_notification(client, body, headers)
    post_notification(client, body, headers)

    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert order.state == OrderState.PENDING_PAYMENT
    assert order.events.filter(kind=OrderEventKind.PAYMENT_FAILED).count() == 1


def test_notification_for_an_unknown_reference_is_recorded_and_answered_ok(client, order):
    response = post_notification(client, *signed(reference="0" * 32))

    assert response.status_code == 200
    assert PaymentNotification.objects.get().outcome == NotificationOutcome.UNKNOWN_PAYMENT


def test_notify_url_is_absolute_and_known_to_the_gateway(order):
    payment, url = services.start_payment(
        order_id=order.pk,
        actor=order.customer,
        build_url=lambda path: f"https://shop.example{path}",
    )

    charge = SandboxCharge.objects.get(reference=payment.reference)
    assert charge.notify_url == "https://shop.example" + reverse(
        "payments:notify", args=["sandbox"]
    )
    assert charge.return_url == "https://shop.example" + reverse(
        "payments:return", args=["sandbox"]
    )
    assert url == reverse("payments:sandbox_pay", args=[charge.txn_id])


def signed_padded(payment: Payment, *, padding: int, key_ok: bool = True, timestamp=None):
    """A notification with an extra `note` field of `padding` characters."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    body = json.dumps(
        {
            "reference": payment.reference,
            "txn_id": "SBXPADDED",
            "amount": amount_str(payment.amount),
            "status": "succeeded",
            "sent_at": ts,
            "note": "x" * padding,
        }
    )
    signature = sign(f"{ts}.{body}") if key_ok else "0" * 64
    return body.encode(), {"X-Sandbox-Timestamp": ts, "X-Sandbox-Signature": signature}


def test_a_refused_notification_keeps_only_the_start_of_its_body(client, order):
    payment = started(order)
    body, headers = signed_padded(payment, padding=64_000, key_ok=False)

    assert post_notification(client, body, headers).status_code == 400
    stale = signed_padded(payment, padding=5_000, timestamp=1)
    assert post_notification(client, *stale).status_code == 400

    records = PaymentNotification.objects.order_by("id")
    assert [record.outcome for record in records] == [
        NotificationOutcome.REJECTED_SIGNATURE,
        NotificationOutcome.REJECTED_STALE,
    ]
    assert [len(record.body) for record in records] == [1_000, 1_000]
    assert records[0].body == body.decode()[:1_000]


def test_a_valid_notification_keeps_its_whole_body(client, order):
    payment = started(order)
    body, headers = signed_padded(payment, padding=5_000)

    assert post_notification(client, body, headers).status_code == 200

    record = PaymentNotification.objects.get()
    assert record.outcome == NotificationOutcome.APPLIED
    assert record.body == body.decode()


def test_success_after_a_failure_of_the_same_transaction_pays_and_flags_the_order(client, order):
    payment = started(order)
    post_notification(client, *paid_notification(payment, txn_id="SBXFLIP", status="failed"))
    body, headers = paid_notification(payment, txn_id="SBXFLIP")

    assert post_notification(client, body, headers).status_code == 200
    assert post_notification(client, body, headers).status_code == 200  # and its replay

    order.refresh_from_db()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.captured_amount == Decimal("88.80")
    assert order.state == OrderState.PAID
    assert order.needs_review
    assert "Success after failure" in order.review_reason and "SBXFLIP" in order.review_reason
    assert order.events.filter(kind=OrderEventKind.PAID).count() == 1
    assert order.events.filter(kind=OrderEventKind.FLAGGED).count() == 1
    outcomes = list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == [
        NotificationOutcome.FAILED,
        NotificationOutcome.AFTER_FAILURE,
        NotificationOutcome.DUPLICATE,
    ]
