"""The notification outbox (SPEC §5): one row per message, written in the transaction of the
change it tells about, delivered by the workers (see `notifications.tasks`)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    # To the customer.
    ORDER_PLACED = "order_placed", _("Order placed")
    PAYMENT_RECEIVED = "payment_received", _("Payment received")
    PAYMENT_REMINDER = "payment_reminder", _("Payment reminder")
    ORDER_CANCELLED = "order_cancelled", _("Order cancelled")
    ORDER_PART_SHIPPED = "order_part_shipped", _("Part of an order shipped")
    ORDER_SHIPPED = "order_shipped", _("Order shipped")
    SHIPMENT_DELAYED = "shipment_delayed", _("Shipment delayed")
    ORDER_COMPLETED = "order_completed", _("Order completed")
    # Items waiting for stock dropped or substituted by an agent (INV-5).
    ORDER_ITEMS_CHANGED = "order_items_changed", _("Order items changed")
    # To staff.
    EXCEPTION_ORDER = "exception_order", _("Exception order")
    LOW_STOCK = "low_stock", _("Low stock")
    SHIPMENT_DELAYED_STAFF = "shipment_delayed_staff", _("Delayed shipment (staff)")
    WEBHOOK_GIVEN_UP = "webhook_given_up", _("Webhook delivery given up")
    # After-sales requests (SPEC §6, AFS-3): each step tells the customer.
    AFTERSALES_SUBMITTED = "aftersales_submitted", _("After-sales request received")
    AFTERSALES_APPROVED = "aftersales_approved", _("After-sales request approved")
    AFTERSALES_REJECTED = "aftersales_rejected", _("After-sales request rejected")
    AFTERSALES_WITHDRAWN = "aftersales_withdrawn", _("After-sales request withdrawn")
    AFTERSALES_RECEIVED = "aftersales_received", _("Returned goods received")
    AFTERSALES_REPLACEMENT = "aftersales_replacement", _("Replacement on its way")
    AFTERSALES_REFUNDED = "aftersales_refunded", _("Refund issued")
    AFTERSALES_CLOSED = "aftersales_closed", _("After-sales request closed")
    # Complaints and inquiries (AFS-5).
    TICKET_REPLY = "ticket_reply", _("Reply to your complaint or inquiry")
    TICKET_RESOLVED = "ticket_resolved", _("Complaint or inquiry resolved")


STAFF_KINDS = frozenset(
    {
        NotificationKind.EXCEPTION_ORDER,
        NotificationKind.LOW_STOCK,
        NotificationKind.SHIPMENT_DELAYED_STAFF,
        NotificationKind.WEBHOOK_GIVEN_UP,
    }
)


class NotificationStatus(models.TextChoices):
    # Waiting for its first attempt, or for the next one after a passing failure.
    PENDING = "pending", _("Pending")
    # Claimed by a worker; a claim older than the lease belongs to a worker that died.
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    # Given up after the last attempt (or a failure no retry can fix); an admin may retry.
    FAILED = "failed", _("Failed")
    # Not sent: by the time it was due, the order had moved on (a reminder for an order already
    # paid or cancelled, a delay notice for a delivered parcel).
    SKIPPED = "skipped", _("Skipped: no longer true")


class Notification(models.Model):
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    # A key of settings.NOTIFICATION_CHANNELS ("email"; "sms" once there is an SMS channel).
    channel = models.CharField(_("channel"), max_length=20, default="email")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        help_text=_("Empty for a guest."),
    )
    # Where the channel sends it: an e-mail address (a phone number for SMS).
    address = models.CharField(_("address"), max_length=254)
    language = models.CharField(_("language"), max_length=10, blank=True)
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    context = models.JSONField(_("details"), default=dict, blank=True)
    # What the message is about, e.g. "order_placed:42": the same key twice is one message.
    dedup_key = models.CharField(_("de-duplication key"), max_length=200, unique=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # When the periodic dispatcher may take it (first hand-over missed, or the next retry).
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                name="notification_dispatch",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.address}"

    @property
    def is_staff_alert(self) -> bool:
        return self.kind in STAFF_KINDS
