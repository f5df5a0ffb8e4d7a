"""Outgoing webhooks (API-2): endpoints that admins register, and the outbox of deliveries.

A `WebhookDelivery` is one event for one endpoint. It is written in the transaction of the
change it tells about (an order placed, paid, shipped…, an after-sales decision), so it exists
exactly when the change committed, and is sent by the workers afterwards (`webhooks.services`).
Each try is kept as a `WebhookAttempt`, for the delivery log.
"""

import uuid

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.TextChoices):
    ORDER_CREATED = "order.created", _("Order created")
    ORDER_PAID = "order.paid", _("Order paid (or accepted for cash on delivery)")
    ORDER_SHIPPED = "order.shipped", _("Order shipped")
    ORDER_COMPLETED = "order.completed", _("Order completed")
    ORDER_CANCELLED = "order.cancelled", _("Order cancelled")
    AFTERSALES_APPROVED = "aftersales.approved", _("After-sales request approved")
    AFTERSALES_REJECTED = "aftersales.rejected", _("After-sales request rejected")
    AFTERSALES_REFUNDED = "aftersales.refunded", _("After-sales refund issued")
    AFTERSALES_CLOSED = "aftersales.closed", _("After-sales request closed")
    # Sent on demand from the endpoint's page to check the receiver; nobody subscribes to it.
    PING = "ping", _("Test ping")


SUBSCRIBABLE_EVENTS = [event for event in WebhookEvent if event != WebhookEvent.PING]


class WebhookEndpoint(models.Model):
    url = models.URLField(
        _("URL"),
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("Where the events are POSTed, e.g. https://erp.example.com/hooks/shop."),
    )
    description = models.CharField(
        _("receiving system"),
        max_length=200,
        blank=True,
        help_text=_("What receives the events, e.g. the ERP or a marketplace connector."),
    )
    # The HMAC key of the X-Webhook-Signature header; made here, never typed in.
    secret = models.CharField(_("signing secret"), max_length=100)
    # After a rotation the old secret still signs too (a second v1 value) until this time, so
    # the receiver can switch keys without rejecting deliveries meanwhile.
    previous_secret = models.CharField(_("previous signing secret"), max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(
        _("previous secret valid until"), null=True, blank=True
    )
    # Codes of WebhookEvent (without "ping") the endpoint receives.
    events = models.JSONField(_("events"), default=list, blank=True)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Inactive endpoints receive no new events and their retries wait."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        permissions = [("manage_webhooks", _("Can manage outgoing webhooks"))]

    def __str__(self) -> str:
        return self.description or self.url

    @property
    def code(self) -> str:
        """How the audit trail names it."""
        return f"webhook-{self.pk}"

    def event_labels(self) -> list[str]:
        labels = dict(WebhookEvent.choices)
        return [str(labels.get(event, event)) for event in self.events]


class DeliveryState(models.TextChoices):
    # Waiting for its first try (handed to the workers at commit, or to the sweep).
    PENDING = "pending", _("Pending")
    # Claimed by a worker for one try; a claim older than the lease belongs to a dead worker.
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Accepted by the endpoint")
    # The last try failed; tried again at next_attempt_at.
    FAILED = "failed", _("Failed, will retry")
    GIVEN_UP = "given_up", _("Given up")


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event_type = models.CharField(_("event"), max_length=40, choices=WebhookEvent.choices)
    # The X-Webhook-Id: the same for every endpoint told of the event, across retries and
    # replays, so receivers drop what they have already seen.
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, db_index=True)
    payload = models.JSONField(_("payload"))
    state = models.CharField(
        _("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When the sweep may take it: the first hand-over missed, or the next retry.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    response_excerpt = models.CharField(_("response excerpt"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    replay_of = models.ForeignKey(
        "self",
        verbose_name=_("replay of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replays",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            # The sweep (services.due_deliveries): rows still owed, by when they are due.
            models.Index(
                fields=["next_attempt_at"],
                name="webhookdelivery_due",
                condition=Q(state__in=["pending", "sending", "failed"]),
            ),
            # The endpoint's delivery log, newest first.
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhookdelivery_log"),
        ]
        constraints = [
            # An event reaches an endpoint once; a replay is a new delivery of the same event.
            models.UniqueConstraint(
                fields=["endpoint", "event_id"],
                condition=Q(replay_of__isnull=True),
                name="webhookdelivery_once_per_endpoint",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class WebhookAttempt(models.Model):
    """One POST of a delivery and what came back."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("delivery"),
        on_delete=models.CASCADE,
        related_name="attempt_log",
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("time"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_excerpt = models.CharField(_("response excerpt"), max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number", "id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
