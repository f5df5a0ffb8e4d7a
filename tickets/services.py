"""What customers and agents do with complaints and inquiries (AFS-5).

Each service locks the ticket row, re-checks what it locked, writes the thread entry, keeps
the audit trail of staff actions (SEC-4) and records the customer's message in the
notification outbox in the same transaction:

- `open_ticket`: a customer opens a ticket about one of their own orders, with a first message.
- `post_message`: the customer replies (a waiting or resolved ticket opens again), or an agent
  replies (the customer is told) or writes an internal note (the customer never sees it).
- `assign_ticket`: an agent takes a ticket or gives it to another agent.
- `change_status`: an agent moves it on (waiting, resolved, closed, open again), with a reason
  kept as an internal note; resolving it tells the customer.
"""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from core.audit import record_staff_action
from core.errors import DomainError
from notifications import conf as notification_conf
from notifications.models import NotificationKind
from notifications.services import notify
from orders.models import Order

from .models import Ticket, TicketKind, TicketMessage, TicketStatus

ANSWER_PERMISSION = "tickets.answer_ticket"
BODY_MAX = 5000


class TicketNotAllowed(DomainError):
    """The ticket cannot be opened, answered or moved like that."""


def may_answer(user) -> bool:
    return user is not None and user.is_authenticated and user.has_perm(ANSWER_PERMISSION)


def _body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise TicketNotAllowed(_("Write a message."))
    if len(body) > BODY_MAX:
        raise TicketNotAllowed(
            _("A message may be at most %(max)d characters long.") % {"max": BODY_MAX}
        )
    return body


def _locked(ticket_id: int) -> Ticket:
    return Ticket.objects.select_for_update().select_related("order").get(pk=ticket_id)


def _tell_customer(ticket: Ticket, kind: str, key: str, context: dict) -> None:
    customer = ticket.customer
    notify(
        kind=kind,
        key=key,
        order=ticket.order,
        recipient=customer,
        language=customer.language,
        context={
            "ticket": ticket.number,
            "subject": ticket.subject,
            "ticket_url": notification_conf.site_url()
            + reverse("my_tickets:detail", args=[ticket.pk]),
            **context,
        },
    )


def open_ticket(*, order_id: int, actor, kind: str, subject: str, body: str) -> Ticket:
    """The customer opens a complaint or inquiry about their order `order_id`, with its first
    message. Refused for someone else's order (the same answer as for no order)."""
    if kind not in TicketKind.values:
        raise TicketNotAllowed(_("Choose whether it is a complaint or an inquiry."))
    subject = (subject or "").strip()
    if not subject:
        raise TicketNotAllowed(_("Give your message a subject."))
    body = _body(body)
    with transaction.atomic():
        order = Order.objects.filter(pk=order_id, customer_id=actor.pk).first()
        if order is None:
            raise TicketNotAllowed(_("There is no such order."))
        ticket = Ticket.objects.create(
            order=order, customer=actor, kind=kind, subject=subject[:200]
        )
        TicketMessage.objects.create(ticket=ticket, author=actor, body=body)
    return ticket


def post_message(*, ticket_id: int, actor, body: str, internal: bool = False) -> TicketMessage:
    """Add a message to the thread.

    The ticket's customer writes publicly; their message opens a waiting or resolved ticket
    again. An agent (tickets.answer_ticket) replies publicly — the customer is told — or writes
    an internal note. Nobody writes to a closed ticket."""
    body = _body(body)
    with transaction.atomic():
        ticket = _locked(ticket_id)
        is_customer = actor.pk == ticket.customer_id
        if not is_customer and not may_answer(actor):
            raise TicketNotAllowed(_("You are not allowed to answer this ticket."))
        if ticket.status == TicketStatus.CLOSED:
            raise TicketNotAllowed(
                _("Ticket %(number)s is closed: it takes no more messages.")
                % {"number": ticket.number}
            )
        internal = bool(internal) and not is_customer
        message = TicketMessage.objects.create(
            ticket=ticket, author=actor, body=body, is_internal=internal
        )
        if is_customer:
            if can_proceed(ticket.reopen):
                ticket.reopen()
                ticket.resolved_at = None
            ticket.save()  # the customer's message counts as the ticket's latest change
        else:
            ticket.save(update_fields=["updated_at"])
            record_staff_action(
                actor=actor,
                action="ticket.note" if internal else "ticket.reply",
                target=ticket,
                after={"message": body[:500]},
            )
            if not internal:
                _tell_customer(
                    ticket,
                    NotificationKind.TICKET_REPLY,
                    f"ticket_reply:{message.pk}",
                    {"excerpt": body[:500]},
                )
    return message


def assign_ticket(*, ticket_id: int, actor, assignee) -> Ticket:
    """Give the ticket to `assignee` (an agent; the actor themself to take it). Recorded as an
    internal entry of the thread and in the audit trail."""
    if not may_answer(actor):
        raise TicketNotAllowed(_("You are not allowed to answer this ticket."))
    if not may_answer(assignee):
        raise TicketNotAllowed(
            _("%(name)s does not answer complaints and inquiries.") % {"name": assignee}
        )
    with transaction.atomic():
        ticket = _locked(ticket_id)
        if ticket.status == TicketStatus.CLOSED:
            raise TicketNotAllowed(_("Ticket %(number)s is closed.") % {"number": ticket.number})
        if ticket.assignee_id == assignee.pk:
            return ticket
        before = ticket.assignee
        ticket.assignee = assignee
        ticket.save(update_fields=["assignee", "updated_at"])
        TicketMessage.objects.create(
            ticket=ticket,
            author=actor,
            body=_("Taken") if assignee.pk == actor.pk else _("Assigned"),
            is_internal=True,
            assigned_to=assignee,
        )
        record_staff_action(
            actor=actor,
            action="ticket.assign",
            target=ticket,
            before={"assignee": before},
            after={"assignee": assignee},
        )
    return ticket


# The transition that leads to each status an agent may choose.
_TRANSITIONS = {
    TicketStatus.OPEN: "reopen",
    TicketStatus.WAITING: "wait_for_customer",
    TicketStatus.RESOLVED: "resolve",
    TicketStatus.CLOSED: "close",
}


def change_status(*, ticket_id: int, actor, status: str, reason: str) -> Ticket:
    """Move the ticket to `status`, with a reason kept as an internal note and in the audit
    trail. Resolving it tells the customer. Refused when the status cannot follow."""
    if not may_answer(actor):
        raise TicketNotAllowed(_("You are not allowed to answer this ticket."))
    reason = (reason or "").strip()
    if not reason:
        raise TicketNotAllowed(_("Say why the status changes."))
    if status not in _TRANSITIONS:
        raise TicketNotAllowed(_("Choose a status."))
    with transaction.atomic():
        ticket = _locked(ticket_id)
        transition = getattr(ticket, _TRANSITIONS[status])
        if not can_proceed(transition):
            raise TicketNotAllowed(
                _("Ticket %(number)s is “%(status)s”: it cannot become “%(target)s”.")
                % {
                    "number": ticket.number,
                    "status": ticket.get_status_display(),
                    "target": TicketStatus(status).label,
                }
            )
        before = ticket.status
        transition()
        now = timezone.now()
        if status == TicketStatus.RESOLVED:
            ticket.resolved_at = now
        elif status == TicketStatus.CLOSED:
            ticket.closed_at = now
        elif status == TicketStatus.OPEN:
            ticket.resolved_at = None
        ticket.save()
        message = TicketMessage.objects.create(
            ticket=ticket,
            author=actor,
            body=reason[:BODY_MAX],
            is_internal=True,
            from_status=before,
            to_status=ticket.status,
        )
        record_staff_action(
            actor=actor,
            action="ticket.status",
            target=ticket,
            reason=reason,
            before={"status": before},
            after={"status": ticket.status},
        )
        if status == TicketStatus.RESOLVED:
            _tell_customer(
                ticket, NotificationKind.TICKET_RESOLVED, f"ticket_resolved:{message.pk}", {}
            )
    return ticket
