"""Write operations on payments: start one, apply a gateway's notification, refund (ORD-4,
SEC-3, AFS-4).

The order changes only through `orders.services` (record_payment, record_payment_failure,
flag_for_review). Lock order everywhere: the Payment rows (by pk), then the Order row. No
gateway is called while a row is locked.
"""

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import record_staff_action
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

# Notification bodies are kept as evidence, up to this many characters...
MAX_BODY_CHARS = 65_536
# ...but a notification we refuse (forged, stale, malformed) keeps only this much: the endpoint
# is open to anyone, who must not be able to fill the database.
MAX_REJECTED_BODY_CHARS = 1_000

# Payments whose money was taken: they can be refunded.
REFUNDABLE_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.AMOUNT_MISMATCH)

# Derives the reference of a cancelled order's refund from the payment's (see
# `refund_cancelled_order`). Never change it: earlier refunds would no longer be recognised.
CANCELLATION_REFUND_NAMESPACE = uuid.UUID("5f0c7d0e-3a8e-4b7c-9a51-0b8f3c1e2d47")


class PaymentNotAllowed(DomainError):
    """The order cannot be paid online now."""


class GatewayUnavailable(PaymentNotAllowed):
    """The gateway could not open the payment: the attempt stays pending, harmless."""


class RefundNotAllowed(DomainError):
    """The refund is refused: permission, amount or state."""


class RefundPending(RefundNotAllowed):
    """The gateway could not be reached: the refund stays pending, to be asked again with the
    same reference."""


class _PendingAttemptsChanged(Exception):
    """Another attempt of the order was started between locking the attempts and the order."""


def start_payment(*, order_id: int, actor, build_url: Callable[[str], str]) -> tuple[Payment, str]:
    """Open a payment attempt for the order's total and return it with the URL to send the
    payer to.

    Refused unless the order awaits an online payment and is not held for review. The amount
    is the order's total as stored, never anything the browser sent. Earlier pending attempts
    of the order are marked cancelled (a late notification for one of them is still honoured:
    see `handle_notification`). `actor` is the customer (None for a guest, whose access the
    view checked). `build_url` turns a path into an absolute URL, for the gateway's
    notification and return addresses.

    Locks the order's pending attempts (by pk), then the order: the order `handle_notification`
    locks them in, so that "pay again" racing a notification never deadlocks. The attempt is
    committed before the gateway is called, outside any lock; if the gateway fails, the
    attempt stays pending (the next one replaces it) and `GatewayUnavailable` says so.
    """
    gateway = get_gateway()
    for _try in range(3):
        try:
            payment = _open_attempt(order_id=order_id, actor=actor, gateway_name=gateway.name)
            break
        except _PendingAttemptsChanged:
            continue
    else:
        raise PaymentNotAllowed(_("Another payment of this order is starting; please try again."))

    try:
        url = gateway.start(
            payment=payment,
            return_url=build_url(reverse("payments:return", args=[gateway.name])),
            notify_url=build_url(reverse("payments:notify", args=[gateway.name])),
        )
    except Exception:
        logger.exception("payment %s: the gateway %s could not start it", payment, gateway.name)
        raise GatewayUnavailable(
            _(
                "The payment service could not be reached. No money was taken; "
                "please try again in a moment."
            )
        ) from None
    return payment, url


def _open_attempt(*, order_id: int, actor, gateway_name: str) -> Payment:
    """Cancel the order's pending attempts and create a new one, in one transaction."""
    with transaction.atomic(durable=True):
        pending = list(
            Payment.objects.select_for_update()
            .filter(order_id=order_id, status=PaymentStatus.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
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
        # An attempt committed by a concurrent start between our two locks is not locked by
        # us: locking it now would be after the order. Start over instead (rolls back).
        if (
            Payment.objects.filter(order_id=order_id, status=PaymentStatus.PENDING)
            .exclude(pk__in=pending)
            .exists()
        ):
            raise _PendingAttemptsChanged
        now = timezone.now()
        Payment.objects.filter(pk__in=pending).update(
            status=PaymentStatus.CANCELLED, completed_at=now, updated_at=now
        )
        return Payment.objects.create(
            order=order, gateway=gateway_name, amount=order.total_amount, created_at=now
        )


def handle_notification(*, gateway_name: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Apply a gateway's server-to-server notification; returns its `NotificationOutcome`.

    Every notification is recorded first, in its own transaction, whatever follows (its body
    cut to MAX_REJECTED_BODY_CHARS until it proves valid). A bad signature, a stale timestamp
    or a malformed body raise `InvalidNotification` and change nothing else. Otherwise, with
    the Payment row locked (then the Order row):
    - a notification already applied (same gateway transaction, or our payment already
      final) is a "duplicate" and changes nothing, however often it is replayed;
    - a success for a gateway transaction that was reported failed before is applied as a
      success (money was taken) and the order flagged: gateways do not do that;
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
    text = body.decode("utf-8", errors="replace")
    # Recorded before parsing with a short body: the full one is kept once the notification
    # proves valid.
    record = PaymentNotification.objects.create(
        gateway=gateway.name,
        body=text[:MAX_REJECTED_BODY_CHARS],
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
            body=text[:MAX_BODY_CHARS],
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
    # Alipay and WeChat Pay never turn a failed transaction into a paid one; if a gateway
    # does, the money was taken all the same: apply it, and have a person check.
    after_failure = same_txn and payment.status == PaymentStatus.FAILED and notification.succeeded
    if same_txn and payment.status != PaymentStatus.PENDING and not after_failure:
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
    if notification.succeeded:
        payment.captured_amount = notification.amount
        fields.append("captured_amount")

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
    if after_failure:
        reason = _(
            "Success after failure: gateway transaction %(txn)s of payment %(reference)s was "
            "reported failed, then paid (%(amount)s). The order was marked paid; check the "
            "payment with the gateway before sending it."
        ) % {"txn": txn_id, "reference": payment.reference, "amount": notification.amount}
        order_services.flag_for_review(
            order_id=order.pk,
            reason=reason,
            details={"payment": payment.reference, "txn_id": txn_id},
        )
        return NotificationOutcome.AFTER_FAILURE, reason
    return NotificationOutcome.APPLIED, ""


def refundable_amount(payment: Payment) -> Decimal:
    """What may still be refunded: what the gateway took minus refunds pending or done."""
    if payment.status not in REFUNDABLE_STATUSES:
        return Decimal("0.00")
    taken = payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(total=Sum("amount"))
    captured = payment.captured_amount if payment.captured_amount is not None else payment.amount
    return captured - (taken["total"] or Decimal("0.00"))


def refund_payment(
    *, payment_id: int, amount: Decimal, actor, reason: str, reference: str | None = None
) -> Refund:
    """Send `amount` of a payment whose money was taken (succeeded, or for another amount than
    asked) back through its gateway (AFS-4).

    `actor` needs payments.refund_payment; None is the shop itself (a cancelled order's
    money, `refund_cancelled_order`). The amount is checked against what was taken minus
    earlier refunds (pending ones included) with the payment row locked, and the refund is
    written as pending before the gateway is asked, so two refunds at once can never exceed
    the payment. The gateway is called outside the lock with the refund's own reference (a
    retry refunds once). Returns the refund, succeeded or failed; a gateway that cannot be
    reached leaves it pending (its amount stays reserved) and raises `RefundPending`.

    `reference` (default: a new random one) makes the call idempotent: asked again with a
    reference already used, it returns that refund without a second one, asking the gateway
    again only if it is still pending.
    """
    if actor is not None and not actor.has_perm("payments.refund_payment"):
        raise RefundNotAllowed(_("You are not allowed to refund payments."))
    reason = reason.strip()
    if not reason:
        raise RefundNotAllowed(_("Say why the money is refunded."))
    amount = Decimal(amount)
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise RefundNotAllowed(_("A refund must be a positive amount in cents."))
    refund = _reserve_refund(
        payment_id=payment_id, amount=amount, actor=actor, reason=reason, reference=reference
    )
    if refund.status != RefundStatus.PENDING:
        return refund
    return _send_refund(refund)


def refund_cancelled_order(*, order_id: int) -> list[Refund]:
    """Give back, as the shop (no actor), all the money still held for a cancelled order
    (AFS-1): every succeeded or mismatched payment, in full of what is still refundable.

    Idempotent: a payment's cancellation refund has a reference derived from the payment's,
    so running this again finds it and refunds nothing twice (one still pending is asked
    again, with that reference, so the gateway refunds it once). A refund the gateway refuses
    flags the order for a person. Does nothing for an order that is not cancelled. Returns the
    refunds asked of the gateway by this call.
    """
    if not Order.objects.filter(pk=order_id, state=OrderState.CANCELLED).exists():
        return []
    payments = Payment.objects.filter(order_id=order_id, status__in=REFUNDABLE_STATUSES)
    sent = []
    for payment in payments.order_by("pk"):
        refund = _reserve_refund(
            payment_id=payment.pk,
            amount=None,
            actor=None,
            reason=_("Order cancelled"),
            reference=cancellation_refund_reference(payment),
        )
        if refund is None or refund.status != RefundStatus.PENDING:
            continue  # nothing left, or done by an earlier run
        refund = _send_refund(refund)
        sent.append(refund)
        if refund.status == RefundStatus.FAILED:
            reason = _(
                "Refund %(refund)s of payment %(reference)s (%(amount)s) for the cancelled "
                "order was refused by the gateway: %(detail)s. Refund it by hand."
            ) % {
                "refund": refund.reference,
                "reference": payment.reference,
                "amount": refund.amount,
                "detail": refund.detail or "-",
            }
            order_services.flag_for_review(
                order_id=order_id,
                reason=reason,
                details={"payment": payment.reference, "refund": refund.reference},
            )
    return sent


def cancellation_refund_reference(payment: Payment) -> str:
    """The reference of the refund that gives a cancelled order's payment back: the same for
    every run, and 32 characters like every refund reference."""
    return uuid.uuid5(CANCELLATION_REFUND_NAMESPACE, f"cancel-{payment.reference}").hex


def _reserve_refund(
    *, payment_id: int, amount: Decimal | None, actor, reason: str, reference: str | None
) -> Refund | None:
    """With the payment locked: the refund already made with `reference`, or a new pending
    one of `amount` (None: all that is left; then None if nothing is)."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if reference:
            existing = Refund.objects.filter(reference=reference).first()
            if existing is not None:
                if existing.payment_id != payment.pk:
                    raise RefundNotAllowed(_("This refund reference belongs to another payment."))
                return existing
        if payment.status not in REFUNDABLE_STATUSES:
            raise RefundNotAllowed(
                _("Payment %(reference)s did not succeed: there is nothing to refund.")
                % {"reference": payment.reference}
            )
        left = refundable_amount(payment)
        if amount is None:
            if left <= 0:
                return None
            amount = left
        if amount > left:
            raise RefundNotAllowed(
                _("At most %(left)s of payment %(reference)s can still be refunded.")
                % {"left": left, "reference": payment.reference}
            )
        fields = {"reference": reference} if reference else {}
        refund = Refund.objects.create(
            payment=payment, amount=amount, reason=reason, actor=actor, **fields
        )
        record_staff_action(
            actor=actor,
            action="payment.refund",
            target=lambda: payment.order,
            reason=reason,
            after={"amount": amount, "payment": payment.reference, "refund": refund.reference},
        )
        return refund


def _send_refund(refund: Refund) -> Refund:
    """Ask the gateway for a pending refund (no lock held) and record its answer."""
    payment = refund.payment
    gateway = get_gateway(payment.gateway)
    try:
        result = gateway.refund(
            payment=payment, amount=refund.amount, reason=refund.reason, reference=refund.reference
        )
    except OSError as error:
        logger.warning("refund %s: gateway unreachable: %s", refund.reference, error)
        raise RefundPending(
            _("The payment gateway could not be reached; refund %(reference)s is pending.")
            % {"reference": refund.reference}
        ) from None
    refund.status = RefundStatus.SUCCEEDED if result.succeeded else RefundStatus.FAILED
    refund.gateway_refund_id = result.gateway_refund_id
    refund.detail = result.message[:300]
    refund.completed_at = timezone.now()
    with transaction.atomic():
        # Conditional: of two workers sending the same refund, one records the answer (and
        # the order's timeline entry); the gateway refunds once per reference anyway.
        recorded = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            status=refund.status,
            gateway_refund_id=refund.gateway_refund_id,
            detail=refund.detail,
            completed_at=refund.completed_at,
        )
        if recorded and refund.status == RefundStatus.SUCCEEDED:
            order_services.record_refund(
                order_id=payment.order_id,
                amount=refund.amount,
                reference=refund.reference,
                actor=refund.actor,
                reason=refund.reason,
            )
    if not recorded:
        refund.refresh_from_db()
    return refund


def orders_owed_refunds(*, older_than: timedelta, limit: int = 200) -> list[int]:
    """Cancelled orders still holding money a payment took (minus refunds pending or done),
    cancelled more than `older_than` ago: the ones whose refund hand-over after commit was
    lost (broker down). Oldest first."""
    refunded = Coalesce(
        Sum("refunds__amount", filter=~Q(refunds__status=RefundStatus.FAILED)),
        Decimal("0.00"),
    )
    return list(
        Payment.objects.filter(
            status__in=REFUNDABLE_STATUSES,
            order__state=OrderState.CANCELLED,
            order__cancelled_at__lt=timezone.now() - older_than,
        )
        # A refund the gateway refused has flagged the order for a person: not the sweep's.
        .exclude(refunds__status=RefundStatus.FAILED)
        .annotate(refunded=refunded)
        .filter(refunded__lt=Coalesce(F("captured_amount"), F("amount")))
        .order_by("order__cancelled_at")
        .values_list("order_id", flat=True)
        .distinct()[:limit]
    )
