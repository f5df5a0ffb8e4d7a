"""Payments of orders through a gateway (ORD-4, SEC-3), and refunds of them (AFS-4).

`Payment` is one attempt to pay an order; `PaymentNotification` is every server-to-server
notification a gateway sent us, kept raw whatever became of it; `Refund` is money sent back.
Rows change only through `payments.services`.

`SandboxCharge` and `SandboxRefund` are not ours: they are the "bank side" of the built-in
sandbox gateway (`payments.gateways.sandbox`), kept here so that the whole flow runs with no
outside service.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

MONEY = {"max_digits": 12, "decimal_places": 2}


def new_reference() -> str:
    """Our merchant reference for a payment or a refund: random, so never guessable."""
    return uuid.uuid4().hex


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the gateway")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    AMOUNT_MISMATCH = "amount_mismatch", _("Amount does not match")
    CANCELLED = "cancelled", _("Replaced by a newer attempt")


class Payment(models.Model):
    """One attempt to pay an order online. The amount is the order's total when it started."""

    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="payments"
    )
    gateway = models.CharField(_("gateway"), max_length=30)
    reference = models.CharField(
        _("merchant reference"), max_length=32, unique=True, default=new_reference
    )
    gateway_txn_id = models.CharField(_("gateway transaction id"), max_length=100, blank=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    # What the gateway said it took, when it reported a success (it differs from `amount` for an
    # AMOUNT_MISMATCH): the most a refund may send back.
    captured_amount = models.DecimalField(_("amount taken"), null=True, blank=True, **MONEY)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PaymentStatus.choices,
        default=PaymentStatus.PENDING,
        db_index=True,
    )
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        permissions = [("refund_payment", _("Can refund a payment"))]
        constraints = [
            # One gateway transaction pays at most one attempt: a replay cannot pay twice.
            models.UniqueConstraint(
                fields=["gateway", "gateway_txn_id"],
                condition=~Q(gateway_txn_id=""),
                name="payment_unique_gateway_txn",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [models.Index(fields=["order", "created_at"], name="payment_order_created")]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_pending(self) -> bool:
        return self.status == PaymentStatus.PENDING


class NotificationOutcome(models.TextChoices):
    RECEIVED = "received", _("Received, not processed")
    APPLIED = "applied", _("Applied")
    DUPLICATE = "duplicate", _("Duplicate, nothing changed")
    PAID_TWICE = "paid_twice", _("A second payment, order flagged")
    FLAGGED = "flagged", _("Paid, but the order no longer awaited it: flagged")
    AFTER_FAILURE = "after_failure", _("Succeeded after a failure: order paid and flagged")
    REJECTED_SIGNATURE = "rejected_signature", _("Refused: bad signature")
    REJECTED_STALE = "rejected_stale", _("Refused: too old or from the future")
    REJECTED_MALFORMED = "rejected_malformed", _("Refused: malformed")
    AMOUNT_MISMATCH = "amount_mismatch", _("Amount does not match, order flagged")
    UNKNOWN_PAYMENT = "unknown_payment", _("Unknown payment")
    FAILED = "failed", _("Payment failed")


class PaymentNotification(models.Model):
    """A server-to-server notification as it arrived, forged or not, and what we made of it."""

    gateway = models.CharField(_("gateway"), max_length=30)
    payment = models.ForeignKey(
        Payment,
        verbose_name=_("payment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    gateway_txn_id = models.CharField(_("gateway transaction id"), max_length=100, blank=True)
    body = models.TextField(_("body"))
    headers = models.JSONField(_("signature headers"), default=dict, blank=True)
    signature_valid = models.BooleanField(_("signature valid"), default=False)
    outcome = models.CharField(
        _("outcome"),
        max_length=20,
        choices=NotificationOutcome.choices,
        default=NotificationOutcome.RECEIVED,
    )
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")
        indexes = [
            models.Index(fields=["gateway", "gateway_txn_id"], name="paynotif_gateway_txn"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.received_at:%Y-%m-%d %H:%M:%S} {self.outcome}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Refund(models.Model):
    """Money sent back for a payment. Pending and succeeded refunds count against what was
    paid; a failed one does not."""

    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="refunds"
    )
    reference = models.CharField(
        _("refund reference"), max_length=32, unique=True, default=new_reference
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    reason = models.CharField(_("reason"), max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    gateway_refund_id = models.CharField(_("gateway refund id"), max_length=100, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount}"


# --- The sandbox gateway's own books (the "bank side") ------------------------------------------
class SandboxChargeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the payer")
    SUCCEEDED = "succeeded", pgettext_lazy("payment status", "Paid")
    FAILED = "failed", _("Failed")


class SandboxCharge(models.Model):
    """A charge the sandbox gateway was asked to collect, as the gateway itself keeps it."""

    txn_id = models.CharField(_("transaction id"), max_length=40, unique=True)
    reference = models.CharField(_("merchant reference"), max_length=32, db_index=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    merchant_name = models.CharField(_("merchant"), max_length=100)
    description = models.CharField(_("description"), max_length=200, blank=True)
    notify_url = models.URLField(_("notification URL"), max_length=500)
    return_url = models.URLField(_("return URL"), max_length=500)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=SandboxChargeStatus.choices,
        default=SandboxChargeStatus.PENDING,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sandbox charge")
        verbose_name_plural = _("sandbox charges")

    def __str__(self) -> str:
        return self.txn_id


class SandboxRefund(models.Model):
    """Money the sandbox gateway sent back; one per merchant refund reference."""

    charge = models.ForeignKey(
        SandboxCharge, verbose_name=_("charge"), on_delete=models.PROTECT, related_name="refunds"
    )
    refund_id = models.CharField(_("refund id"), max_length=40, unique=True)
    merchant_refund_reference = models.CharField(
        _("merchant refund reference"), max_length=32, unique=True
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox refund")
        verbose_name_plural = _("sandbox refunds")

    def __str__(self) -> str:
        return self.refund_id
