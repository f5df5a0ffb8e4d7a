"""After-sales requests (AFS-1 to AFS-4): refunds, returns, exchanges, re-shipments and changes
of information, each tied to an order and the lines and quantities concerned.

The state field is a protected django-fsm field changed only by the transitions below, called
from `aftersales.services`, which lock the request, check the actor, write a `RequestEvent`
and tell the customer. The flow (AFS-3):

    submitted ──approve──▶ approved ──(returns, exchanges)── return_shipped ──▶ received
        │  ╲                  │                                                  │
     reject withdraw          └──────────────(refund only, re-ship, info)────────┤
        ▼      ▼                                                                  ▼
    rejected withdrawn                     replacing (a replacement is on its way)  ──▶ closed

A refund (through the payment gateway, `payments.services.refund_payment`) or a replacement
(a zero-amount order that the warehouse picks and packs like any other) resolves it.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

MONEY = {"max_digits": 12, "decimal_places": 2}


class RequestKind(models.TextChoices):
    REFUND_ONLY = "refund_only", _("Refund only")
    RETURN_REFUND = "return_refund", _("Return and refund")
    EXCHANGE = "exchange", _("Exchange")
    RESHIP = "reship", _("Re-ship missing or damaged items")
    CHANGE_INFO = "change_info", _("Change of information")


# Kinds whose goods come back to the warehouse before the request is resolved.
RETURN_KINDS = frozenset({RequestKind.RETURN_REFUND, RequestKind.EXCHANGE})
# Kinds resolved by giving money back, and by sending goods again.
REFUND_KINDS = frozenset({RequestKind.REFUND_ONLY, RequestKind.RETURN_REFUND})
REPLACEMENT_KINDS = frozenset({RequestKind.EXCHANGE, RequestKind.RESHIP})


class RequestReason(models.TextChoices):
    DAMAGED = "damaged", _("Arrived damaged")
    WRONG_ITEM = "wrong_item", _("Wrong item sent")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    MISSING = "missing", _("Item missing from the parcel")
    QUALITY = "quality", _("Quality problem")
    CHANGED_MIND = "changed_mind", _("No longer wanted")
    OTHER = "other", _("Other")


class RequestState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted, waiting for review")
    APPROVED = "approved", _("Approved")
    RETURN_SHIPPED = "return_shipped", _("Return on its way")
    RECEIVED = "received", _("Return received")
    REPLACING = "replacing", _("Replacement on its way")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Requests still being worked on: their lines count against what may still be asked for.
OPEN_STATES = (
    RequestState.SUBMITTED,
    RequestState.APPROVED,
    RequestState.RETURN_SHIPPED,
    RequestState.RECEIVED,
    RequestState.REPLACING,
)


class AfterSalesRequest(FSMModelMixin, models.Model):
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        related_name="aftersales_requests",
    )
    # The order's customer (None for a guest's order); kept here so that "my requests" and the
    # 404 for anyone else's (SEC-2) need no join.
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="aftersales_requests",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=RequestKind.choices)
    state = FSMField(
        _("state"), default=RequestState.SUBMITTED, choices=RequestState.choices, protected=True
    )
    reason = models.CharField(_("reason"), max_length=20, choices=RequestReason.choices)
    description = models.TextField(_("what happened"), max_length=2000, blank=True)
    # For a change of information: what the customer asks to change (address, phone, invoice).
    requested_change = models.TextField(_("change asked for"), max_length=1000, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The customer, or the agent who took the request on the phone."),
    )
    # The agent working on it (claimed, or who decided).
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision_reason = models.CharField(_("reason for the decision"), max_length=500, blank=True)
    # Money: what the agent approved to refund (lines, plus shipping when `refund_shipping`).
    refund_shipping = models.BooleanField(_("refund the shipping too"), default=False)
    approved_refund = models.DecimalField(_("refund approved"), default=Decimal("0.00"), **MONEY)
    # The customer's parcel back (returns and exchanges).
    return_carrier = models.ForeignKey(
        "orders.Carrier",
        verbose_name=_("return carrier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    return_tracking_number = models.CharField(
        _("return tracking number"), max_length=30, blank=True, db_index=True
    )
    # The goods sent again (exchanges and re-shipments): a zero-amount order of its own.
    replacement_order = models.OneToOneField(
        "orders.Order",
        verbose_name=_("replacement order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaces_request",
    )
    created_at = models.DateTimeField(_("submitted at"), db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    return_shipped_at = models.DateTimeField(_("return sent at"), null=True, blank=True)
    received_at = models.DateTimeField(_("return received at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    NUMBER_PREFIX = "AS"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("after-sales request")
        verbose_name_plural = _("after-sales requests")
        permissions = [
            ("decide_request", _("Can approve or reject after-sales requests")),
            ("inspect_return", _("Can receive and inspect returned goods")),
        ]
        indexes = [
            models.Index(fields=["state", "created_at"], name="aftersales_state_created"),
            models.Index(fields=["customer", "created_at"], name="aftersales_customer_created"),
            models.Index(fields=["order", "state"], name="aftersales_order_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_refund__gte=0), name="aftersales_refund_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        """The request's reference for customers and staff: AS and eight digits."""
        return f"{self.NUMBER_PREFIX}{self.pk:08d}"

    @classmethod
    def pk_from_number(cls, number: str) -> int | None:
        number = (number or "").strip().upper()
        if number.startswith(cls.NUMBER_PREFIX) and number[2:].isdigit():
            return int(number[2:])
        return None

    # --- conditions ---------------------------------------------------------------------------
    def expects_return(self) -> bool:
        return self.kind in RETURN_KINDS

    def sends_replacement(self) -> bool:
        return self.kind in REPLACEMENT_KINDS

    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    # --- transitions (called only from aftersales.services) -----------------------------------
    @transition(field=state, source=RequestState.SUBMITTED, target=RequestState.APPROVED)
    def approve(self) -> None:
        """An agent accepted it, with the refund (if any) it allows."""

    @transition(field=state, source=RequestState.SUBMITTED, target=RequestState.REJECTED)
    def reject(self) -> None:
        """An agent refused it, with a reason the customer reads."""

    @transition(field=state, source=RequestState.SUBMITTED, target=RequestState.WITHDRAWN)
    def withdraw(self) -> None:
        """The customer took it back before it was decided."""

    @transition(
        field=state,
        source=RequestState.APPROVED,
        target=RequestState.RETURN_SHIPPED,
        conditions=[expects_return],
    )
    def ship_return(self) -> None:
        """The customer sent the goods back and gave the carrier and tracking number."""

    @transition(
        field=state,
        source=[RequestState.APPROVED, RequestState.RETURN_SHIPPED],
        target=RequestState.RECEIVED,
        conditions=[expects_return],
    )
    def receive(self) -> None:
        """The warehouse received and inspected the goods (sellable back to a bin, damaged
        written off). From "approved" too: a parcel may arrive before its tracking number."""

    @transition(
        field=state,
        source=[RequestState.APPROVED, RequestState.RECEIVED],
        target=RequestState.REPLACING,
        conditions=[sends_replacement],
    )
    def send_replacement(self) -> None:
        """The replacement was reserved and is in the warehouse's queue."""

    @transition(
        field=state,
        source=[RequestState.APPROVED, RequestState.RECEIVED, RequestState.REPLACING],
        target=RequestState.CLOSED,
    )
    def close(self) -> None:
        """Resolved: refunded, replacement shipped, or information changed."""


class RequestLine(models.Model):
    """Units of one order line concerned by a request, and what the warehouse found."""

    request = models.ForeignKey(
        AfterSalesRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", verbose_name=_("order line"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    # Inspection of the returned units (AFS-3): back to a bin, or written off.
    received_sellable = models.PositiveIntegerField(_("received, sellable"), default=0)
    received_damaged = models.PositiveIntegerField(_("received, damaged"), default=0)
    # The part of the refund for this line (its net price × units; set at approval).
    refund_amount = models.DecimalField(_("refund"), default=Decimal("0.00"), **MONEY)

    class Meta:
        ordering = ["id"]
        verbose_name = _("request line")
        verbose_name_plural = _("request lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="requestline_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["request", "order_line"], name="requestline_one_per_order_line"
            ),
            models.CheckConstraint(
                condition=Q(received_sellable__gte=0) & Q(received_damaged__gte=0),
                name="requestline_received_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_line_id} × {self.quantity}"

    @property
    def received(self) -> int:
        return self.received_sellable + self.received_damaged


class RequestPhoto(models.Model):
    """A photo the customer attached (type and size checked on upload). Served only to the
    request's customer and to staff, never from a public address."""

    request = models.ForeignKey(
        AfterSalesRequest,
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="photos",
    )
    image = models.FileField(_("photo"), upload_to="aftersales/%Y/%m/")
    content_type = models.CharField(_("type"), max_length=30)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return self.image.name


class RequestEventKind(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    CLAIMED = "claimed", _("Taken by an agent")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    RETURN_SHIPPED = "return_shipped", _("Return sent")
    RECEIVED = "received", _("Return received and inspected")
    REFUNDED = "refunded", _("Refund issued")
    REPLACEMENT = "replacement", _("Replacement sent")
    INFO_CHANGED = "info_changed", _("Information changed")
    CLOSED = "closed", _("Closed")
    NOTE = "note", _("Note")


class RequestEvent(models.Model):
    """One step of a request's timeline (AFS-3): who, when, what, why."""

    request = models.ForeignKey(
        AfterSalesRequest,
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    created_at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the system acted."),
    )
    kind = models.CharField(_("event"), max_length=20, choices=RequestEventKind.choices)
    from_state = models.CharField(
        _("from state"), max_length=20, choices=RequestState.choices, blank=True
    )
    to_state = models.CharField(
        _("to state"), max_length=20, choices=RequestState.choices, blank=True
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        indexes = [models.Index(fields=["request", "created_at"], name="requestevent_request_time")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"
