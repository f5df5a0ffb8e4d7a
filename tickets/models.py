"""Complaints and inquiries (AFS-5): a ticket about one order, with its thread of messages.

The status is a protected django-fsm field, changed only by the transitions below, called from
`tickets.services`, which lock the ticket, check the actor, write the thread entry, keep the
audit trail and tell the customer:

    open ──wait_for_customer──▶ waiting ──(the customer replies: reopen)──▶ open
      │ ╲                         │
      │  ╲──────── resolve ───────┤──▶ resolved ──(the customer replies: reopen)──▶ open
      └──────────── close ────────┴────────┴──▶ closed (final)

Internal notes (`TicketMessage.is_internal`) are for staff: customers never see them.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition


class TicketKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    INQUIRY = "inquiry", _("Inquiry")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting for the customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# Tickets someone still has to act on: the agents' queue shows these unless told otherwise.
ACTIVE_STATUSES = (TicketStatus.OPEN, TicketStatus.WAITING)


class Ticket(FSMModelMixin, models.Model):
    NUMBER_PREFIX = "T"

    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="tickets"
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TicketKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    status = FSMField(
        _("status"), default=TicketStatus.OPEN, choices=TicketStatus.choices, protected=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        permissions = [("answer_ticket", _("Can answer complaints and inquiries"))]
        indexes = [
            models.Index(fields=["status", "created_at"], name="tickets_status_created"),
            models.Index(fields=["assignee", "status"], name="tickets_assignee_status"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def number(self) -> str:
        """How people name the ticket: T and eight digits."""
        return f"{self.NUMBER_PREFIX}{self.pk:08d}" if self.pk else ""

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    # --- transitions (called by tickets.services only) ---------------------------------------
    @transition(field=status, source=TicketStatus.OPEN, target=TicketStatus.WAITING)
    def wait_for_customer(self) -> None:
        """The agent asked the customer something and waits for the answer."""

    @transition(
        field=status,
        source=[TicketStatus.WAITING, TicketStatus.RESOLVED],
        target=TicketStatus.OPEN,
    )
    def reopen(self) -> None:
        """The customer wrote again, or an agent took it up again."""

    @transition(
        field=status, source=[TicketStatus.OPEN, TicketStatus.WAITING], target=TicketStatus.RESOLVED
    )
    def resolve(self) -> None:
        """The agent answered or fixed what the customer asked; the customer may still reply."""

    @transition(
        field=status,
        source=[TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.RESOLVED],
        target=TicketStatus.CLOSED,
    )
    def close(self) -> None:
        """Nothing more to do: no more messages."""


class TicketMessage(models.Model):
    """One entry of a ticket's thread: a message of the customer or an agent, an agent's
    internal note, or (internal too) a change of status or assignee with its reason."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = models.TextField(_("message"))
    is_internal = models.BooleanField(
        _("internal note"), default=False, help_text=_("Seen by staff only, never by the customer.")
    )
    from_status = models.CharField(
        _("from status"), max_length=20, choices=TicketStatus.choices, blank=True
    )
    to_status = models.CharField(
        _("to status"), max_length=20, choices=TicketStatus.choices, blank=True
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        constraints = [
            # Status changes and assignments are staff matters: never shown to customers.
            models.CheckConstraint(
                condition=models.Q(is_internal=True)
                | (models.Q(to_status="") & models.Q(assigned_to__isnull=True)),
                name="ticketmessage_changes_are_internal",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.body[:40]}"

    @property
    def is_status_change(self) -> bool:
        return bool(self.to_status)
