"""A cancelled order's money goes back by itself, once (AFS-1, ORD-4)."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.roles import Role
from orders import services as order_services
from orders.models import OrderState
from payments import services, tasks
from payments.gateways.sandbox import SandboxGateway, settle_charge
from payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    SandboxCharge,
    SandboxRefund,
)
from tests.factories import SKUFactory, UserFactory, make_order

from .helpers import amount_str, post_notification, signed

pytestmark = pytest.mark.django_db


def pay_through_sandbox(order, *, amount: str | None = None) -> Payment:
    """Start an attempt, settle it on the sandbox's books and deliver its notification, for
    `amount` (default: the attempt's)."""
    payment, _url = services.start_payment(
        order_id=order.pk, actor=order.customer, build_url=lambda path: f"http://testserver{path}"
    )
    charge = SandboxCharge.objects.get(reference=payment.reference)
    settle_charge(txn_id=charge.txn_id, succeed=True)
    body, headers = signed(
        reference=payment.reference,
        txn_id=charge.txn_id,
        amount=amount or amount_str(payment.amount),
    )
    assert post_notification(Client(), body, headers).status_code == 200
    payment.refresh_from_db()
    return payment


def refund_queued(callbacks) -> bool:
    return any(getattr(c, "func", None) == tasks.refund_cancelled_order.delay for c in callbacks)


@pytest.fixture
def agent():
    return UserFactory(role=Role.SERVICE)


@pytest.fixture
def order():
    return make_order(skus=[SKUFactory(price=Decimal("88.80"))])


def test_cancelling_a_paid_order_refunds_it_in_full_once(
    order, agent, django_capture_on_commit_callbacks
):
    payment = pay_through_sandbox(order)
    order.refresh_from_db()
    assert order.state == OrderState.PAID

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order_services.cancel_order(order_id=order.pk, actor=agent, reason="Out of stock")
        assert not Refund.objects.exists()  # not before the cancellation commits

    assert refund_queued(callbacks)

    refund = Refund.objects.get()
    assert refund.payment == payment
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.amount == Decimal("88.80")
    assert refund.actor is None
    assert refund.reason == "Order cancelled"
    assert SandboxRefund.objects.get().amount == Decimal("88.80")
    assert services.refundable_amount(payment) == Decimal("0.00")

    tasks.refund_cancelled_order.delay(order.pk)  # delivered again

    assert Refund.objects.count() == 1
    assert SandboxRefund.objects.count() == 1


def test_cancelling_an_order_held_for_a_wrong_amount_refunds_what_was_taken(
    order, agent, django_capture_on_commit_callbacks
):
    payment = pay_through_sandbox(order, amount="8.88")
    order.refresh_from_db()
    assert payment.status == PaymentStatus.AMOUNT_MISMATCH
    assert order.state == OrderState.PENDING_PAYMENT and order.needs_review

    with django_capture_on_commit_callbacks(execute=True):
        order_services.cancel_order(order_id=order.pk, actor=agent, reason="Wrong amount paid")

    refund = Refund.objects.get()
    assert refund.payment == payment
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.amount == Decimal("8.88")  # what the gateway took, not the order's total


def test_cancelling_an_unpaid_order_refunds_nothing(order, django_capture_on_commit_callbacks):
    services.start_payment(order_id=order.pk, actor=order.customer, build_url=lambda path: path)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order_services.cancel_order(order_id=order.pk, actor=order.customer, reason="Changed")

    assert not Refund.objects.exists()
    assert not refund_queued(callbacks)


def test_a_refund_left_pending_by_an_unreachable_gateway_is_sent_once_on_the_next_run(
    order, agent, monkeypatch
):
    payment = pay_through_sandbox(order)
    order_services.cancel_order(order_id=order.pk, actor=agent, reason="Out of stock")
    real_refund = SandboxGateway.refund

    def unreachable(self, **kwargs):
        raise OSError("timed out")

    monkeypatch.setattr(SandboxGateway, "refund", unreachable)
    with pytest.raises(services.RefundPending):
        services.refund_cancelled_order(order_id=order.pk)
    assert Refund.objects.get().status == RefundStatus.PENDING
    assert services.refundable_amount(payment) == Decimal("0.00")  # reserved meanwhile

    monkeypatch.setattr(SandboxGateway, "refund", real_refund)
    services.refund_cancelled_order(order_id=order.pk)
    services.refund_cancelled_order(order_id=order.pk)

    refund = Refund.objects.get()
    assert refund.status == RefundStatus.SUCCEEDED
    assert SandboxRefund.objects.get().merchant_refund_reference == refund.reference


def test_a_refund_the_gateway_refuses_flags_the_order_once(order, agent, monkeypatch):
    pay_through_sandbox(order)
    order_services.cancel_order(order_id=order.pk, actor=agent, reason="Out of stock")
    SandboxCharge.objects.update(status="failed")  # the sandbox no longer knows the money

    services.refund_cancelled_order(order_id=order.pk)
    services.refund_cancelled_order(order_id=order.pk)

    assert Refund.objects.get().status == RefundStatus.FAILED
    order.refresh_from_db()
    assert order.needs_review
    assert order.review_reason.count("Refund it by hand") == 1


def test_an_order_that_is_not_cancelled_is_not_refunded_by_the_task(order):
    pay_through_sandbox(order)

    assert tasks.refund_cancelled_order.delay(order.pk).get() == 0
    assert not Refund.objects.exists()


def test_staff_may_refund_a_payment_of_the_wrong_amount_up_to_what_was_taken(order, agent):
    payment = pay_through_sandbox(order, amount="8.88")

    with pytest.raises(services.RefundNotAllowed, match="8.88"):
        services.refund_payment(
            payment_id=payment.pk, amount=Decimal("8.89"), actor=agent, reason="Overpaid?"
        )
    refund = services.refund_payment(
        payment_id=payment.pk, amount=Decimal("8.88"), actor=agent, reason="Paid the wrong sum"
    )

    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.actor == agent


def test_refunds_with_the_same_reference_refund_once(order, agent):
    payment = pay_through_sandbox(order)

    first = services.refund_payment(
        payment_id=payment.pk, amount=Decimal("10.00"), actor=None, reason="x", reference="r" * 32
    )
    again = services.refund_payment(
        payment_id=payment.pk, amount=Decimal("10.00"), actor=agent, reason="x", reference="r" * 32
    )

    assert again == first
    assert SandboxRefund.objects.count() == 1


def test_a_refund_lost_with_the_broker_is_found_by_the_sweep(order, agent):
    from django.utils import timezone

    from orders.models import Order

    payment = pay_through_sandbox(order)
    # The cancellation commits; its refund hand-over never runs (the broker was down).
    order_services.cancel_order(order_id=order.pk, actor=agent, reason="Customer asked")
    assert not Refund.objects.exists()
    assert tasks.sweep_cancelled_refunds() == 0  # not before the hand-over had its chance

    Order.objects.filter(pk=order.pk).update(
        cancelled_at=timezone.now() - tasks.REFUND_SWEEP_AFTER * 2
    )
    assert tasks.sweep_cancelled_refunds() == 1

    refund = Refund.objects.get()
    assert (refund.payment, refund.amount, refund.status) == (
        payment,
        payment.amount,
        RefundStatus.SUCCEEDED,
    )
    assert tasks.sweep_cancelled_refunds() == 0  # nothing owed any more
