"""Write operations on payments: start one, apply a gateway's notification, refund (ORD-4,
SEC-3, AFS-4).

The order changes only through `orders.services` (record_payment, record_payment_failure,
flag_for_review). Lock order everywhere: the Payment row, then the Order row.
"""

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from orders import services as order_services
from orders.models import Order, OrderState

from .gateways import InvalidNotification, Notification, get_gateway
from .models import (
    NotificationOutcome,
    Payment,
    PaymentNotification,
    PaymentStatus,
    Refund,
    RefundStatus,
)

logger = logging.getLogger(__name__)

# Notification bodies are kept as evidence, up to this many characters.
MAX_BODY_CHARS = 65_536


class PaymentNotAllowed(DomainError):
    """The order cannot be paid online now."""


class RefundNotAllowed(DomainError):
    """The refund is refused: permission, amount or state."""


def start_payment(*, order_id: int, actor, build_url: Callable[[str], str]) -> tuple[Payment, str]:
    """Open a payment attempt for the order's total and return it with the URL to send the
    payer to.

    Locks the order; refused unless it awaits an online payment and is not held for review.
    The amount is the order's total as stored, never anything the browser sent. Earlier
    pending attempts of the order are marked cancelled (a late notification for one of them
    is still honoured: see `handle_notification`). `actor` is the customer (None for a guest,
    whose access the view checked). `build_url` turns a path into an absolute URL, for the
    gateway's notification and return addresses.
    """
    gateway = get_gateway()
    with transaction.atomic(durable=True):
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.customer_id is not None and (actor is None or actor.pk != order.customer_id):
            raise PaymentNotAllowed(_("You are not allowed to pay this order."))
        if not order.is_prepaid():
            raise PaymentNotAllowed(
                _("Order %(number)s is paid in cash on delivery.") % {"number": order.number}
            )
        if order.state != OrderState.PENDING_PAYMENT:
            raise PaymentNotAllowed(
                _("Order %(number)s is “%(state)s”: it cannot be paid now.")
                % {"number": order.number, "state": order.get_state_display()}
            )
        if order.needs_review:
            raise PaymentNotAllowed(
                _(
                    "Order %(number)s is being checked by customer service; "
                    "please wait until they contact you before paying."
                )
                % {"number": order.number}
            )
        now = timezone.now()
        Payment.objects.filter(order_id=order.pk, status=PaymentStatus.PENDING).update(
            status=PaymentStatus.CANCELLED, completed_at=now, updated_at=now
        )
        payment = Payment.objects.create(
            order=order, gateway=gateway.name, amount=order.total_amount, created_at=now
        )
        url = gateway.start(
            payment=payment,
            return_url=build_url(reverse("payments:return", args=[gateway.name])),
            notify_url=build_url(reverse("payments:notify", args=[gateway.name])),
        )
    return payment, url


def handle_notification(*, gateway_name: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Apply a gateway's server-to-server notification; returns its `NotificationOutcome`.

    Every notification is recorded first, in its own transaction, whatever follows. A bad
    signature, a stale timestamp or a malformed body raise `InvalidNotification` and change
    nothing else. Otherwise, with the Payment row locked (then the Order row):
    - a notification already applied (same gateway transaction, or our payment already
      final) is a "duplicate" and changes nothing, however often it is replayed;
    - a second successful transaction for an already-paid attempt flags the order (paid
      twice, refund needed);
    - a failure marks the attempt failed and writes PAYMENT_FAILED; the order stays payable;
    - a success for another amount than the attempt's and the order's flags the order, which
      stays pending_payment;
    - a success for an order no longer awaiting payment (cancelled at its deadline, or paid by
      another attempt) is kept and the order flagged: the money must go back;
    - otherwise the order is paid (`orders.services.record_payment`).
    Raises `UnknownGateway` for a gateway that is not configured.
    """
    gateway = get_gateway(gateway_name)
    record = PaymentNotification.objects.create(
        gateway=gateway.name,
        body=body.decode("utf-8", errors="replace")[:MAX_BODY_CHARS],
        headers={name: (headers.get(name) or "")[:200] for name in gateway.signature_headers},
    )
    try:
        notification = gateway.parse_notification(body=body, headers=headers)
    except InvalidNotification as error:
        outcome = {
            InvalidNotification.SIGNATURE: NotificationOutcome.REJECTED_SIGNATURE,
            InvalidNotification.STALE: NotificationOutcome.REJECTED_STALE,
        }.get(error.reason, NotificationOutcome.REJECTED_MALFORMED)
        PaymentNotification.objects.filter(pk=record.pk).update(
            outcome=outcome,
            signature_valid=error.reason != InvalidNotification.SIGNATURE,
            detail=str(error)[:300],
        )
        logger.warning("payment notification %s refused: %s", record.pk, error)
        raise

    with transaction.atomic(durable=True):
        payment = (
            Payment.objects.select_for_update()
            .filter(gateway=gateway.name, reference=notification.reference)
            .first()
        )
        if payment is None:
            outcome, detail = NotificationOutcome.UNKNOWN_PAYMENT, ""
        else:
            outcome, detail = _apply(payment, notification)
        PaymentNotification.objects.filter(pk=record.pk).update(
            payment=payment,
            gateway_txn_id=notification.gateway_txn_id[:100],
            signature_valid=True,
            outcome=outcome,
            detail=detail[:300],
        )
    return outcome


def _apply(payment: Payment, notification: Notification) -> tuple[str, str]:
    """The notification's effect on the locked payment: (outcome, detail)."""
    txn_id = notification.gateway_txn_id
    same_txn = payment.gateway_txn_id == txn_id
    if same_txn and payment.status != PaymentStatus.PENDING:
        return NotificationOutcome.DUPLICATE, ""
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.AMOUNT_MISMATCH):
        if not notification.succeeded:
            return NotificationOutcome.DUPLICATE, "a failure after a success"
        already = PaymentNotification.objects.filter(
            gateway=payment.gateway, gateway_txn_id=txn_id, outcome=NotificationOutcome.PAID_TWICE
        ).exists()
        if already:
            return NotificationOutcome.DUPLICATE, ""
        reason = _(
            "Paid twice: payment %(reference)s was paid again by gateway transaction %(txn)s "
            "(%(amount)s). Refund needed."
        ) % {"reference": payment.reference, "txn": txn_id, "amount": notification.amount}
        order_services.flag_for_review(
            order_id=payment.order_id,
            reason=reason,
            details={"payment": payment.reference, "txn_id": txn_id},
        )
        return NotificationOutcome.PAID_TWICE, reason
    if payment.status == PaymentStatus.FAILED and not notification.succeeded:
        return NotificationOutcome.DUPLICATE, ""
    reused = Payment.objects.filter(gateway=payment.gateway, gateway_txn_id=txn_id)
    if reused.exclude(pk=payment.pk).exists():
        # The gateway reused a transaction id of another attempt: not ours to guess.
        return NotificationOutcome.DUPLICATE, "transaction id belongs to another payment"

    # Pending, replaced by a newer attempt, or failed before and now paid after all.
    was_pending = payment.status == PaymentStatus.PENDING
    now = timezone.now()
    payment.gateway_txn_id = txn_id
    payment.completed_at = now
    fields = ["gateway_txn_id", "status", "completed_at", "updated_at"]

    if not notification.succeeded:
        payment.status = PaymentStatus.FAILED
        payment.save(update_fields=fields)
        if was_pending:
            order_services.record_payment_failure(
                order_id=payment.order_id,
                reference=txn_id,
                reason=_("The payment did not go through."),
            )
        return NotificationOutcome.FAILED, ""

    order = Order.objects.select_for_update().get(pk=payment.order_id)
    if notification.amount != payment.amount or notification.amount != order.total_amount:
        payment.status = PaymentStatus.AMOUNT_MISMATCH
        payment.save(update_fields=fields)
        reason = _(
            "Payment %(reference)s: the gateway reported %(paid)s but the order total is "
            "%(total)s. The order was not marked paid; check and refund or collect the "
            "difference."
        ) % {
            "reference": payment.reference,
            "paid": notification.amount,
            "total": order.total_amount,
        }
        order_services.flag_for_review(
            order_id=order.pk,
            reason=reason,
            details={
                "payment": payment.reference,
                "txn_id": txn_id,
                "amount": str(notification.amount),
            },
        )
        return NotificationOutcome.AMOUNT_MISMATCH, reason

    payment.status = PaymentStatus.SUCCEEDED
    payment.save(update_fields=fields)
    if order.state != OrderState.PENDING_PAYMENT:
        if order.state == OrderState.CANCELLED:
            reason = _(
                "Paid after cancellation: payment %(reference)s (%(amount)s) arrived after the "
                "order was cancelled. Refund needed."
            )
        else:
            reason = _(
                "Paid twice: payment %(reference)s (%(amount)s) arrived for an order already "
                "paid. Refund needed."
            )
        reason %= {"reference": payment.reference, "amount": notification.amount}
        order_services.flag_for_review(
            order_id=order.pk,
            reason=reason,
            details={"payment": payment.reference, "txn_id": txn_id},
        )
        return NotificationOutcome.FLAGGED, reason

    order_services.record_payment(order_id=order.pk, amount=notification.amount, reference=txn_id)
    return NotificationOutcome.APPLIED, ""


def refundable_amount(payment: Payment) -> Decimal:
    """What may still be refunded: paid minus refunds pending or done."""
    if payment.status != PaymentStatus.SUCCEEDED:
        return Decimal("0.00")
    taken = payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(total=Sum("amount"))
    return payment.amount - (taken["total"] or Decimal("0.00"))


def refund_payment(*, payment_id: int, amount: Decimal, actor, reason: str) -> Refund:
    """Send `amount` of a successful payment back through its gateway (AFS-4).

    `actor` needs payments.refund_payment. The amount is checked against what was paid minus
    earlier refunds (pending ones included) with the payment row locked, and the refund is
    written as pending before the gateway is asked, so two refunds at once can never exceed
    the payment. The gateway is called outside the lock with the refund's own reference (a
    retry refunds once). Returns the refund, succeeded or failed; a gateway that cannot be
    reached leaves it pending (its amount stays reserved) and raises `RefundNotAllowed`.
    """
    if actor is None or not actor.has_perm("payments.refund_payment"):
        raise RefundNotAllowed(_("You are not allowed to refund payments."))
    reason = reason.strip()
    if not reason:
        raise RefundNotAllowed(_("Say why the money is refunded."))
    amount = Decimal(amount)
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise RefundNotAllowed(_("A refund must be a positive amount in cents."))

    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status != PaymentStatus.SUCCEEDED:
            raise RefundNotAllowed(
                _("Payment %(reference)s did not succeed: there is nothing to refund.")
                % {"reference": payment.reference}
            )
        left = refundable_amount(payment)
        if amount > left:
            raise RefundNotAllowed(
                _("At most %(left)s of payment %(reference)s can still be refunded.")
                % {"left": left, "reference": payment.reference}
            )
        refund = Refund.objects.create(payment=payment, amount=amount, reason=reason, actor=actor)

    gateway = get_gateway(payment.gateway)
    try:
        result = gateway.refund(
            payment=payment, amount=amount, reason=reason, reference=refund.reference
        )
    except OSError as error:
        logger.warning("refund %s: gateway unreachable: %s", refund.reference, error)
        raise RefundNotAllowed(
            _("The payment gateway could not be reached; refund %(reference)s is pending.")
            % {"reference": refund.reference}
        ) from None
    refund.status = RefundStatus.SUCCEEDED if result.succeeded else RefundStatus.FAILED
    refund.gateway_refund_id = result.gateway_refund_id
    refund.detail = result.message[:300]
    refund.completed_at = timezone.now()
    refund.save(update_fields=["status", "gateway_refund_id", "detail", "completed_at"])
    return refund
