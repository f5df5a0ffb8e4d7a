"""Reading tickets for the agents' queue, a ticket's page and the customer's pages (AFS-5).
Every list is one query for its rows (plus the paginator's count), whatever its length."""

from datetime import datetime

from django.db.models import Count, F, Max, Min, Q, QuerySet

from .models import ACTIVE_STATUSES, Ticket, TicketMessage, TicketStatus

ASSIGNEE_MINE = "mine"
ASSIGNEE_UNASSIGNED = "unassigned"
STATUS_ACTIVE = "active"
STATUS_ALL = "all"


def agent_queue(
    *, agent, status: str = STATUS_ACTIVE, assignee: str = "", kind: str = ""
) -> QuerySet[Ticket]:
    """Tickets for the agents' list, oldest first: open and waiting ones unless `status` names
    one (or "all"); `assignee` "mine" or "unassigned"; `kind` complaint or inquiry. Each row
    carries its order, customer, assignee, the number of public messages and the time of the
    customer's latest message."""
    rows = Ticket.objects.select_related("order", "customer", "assignee")
    if status == STATUS_ACTIVE or not status:
        rows = rows.filter(status__in=ACTIVE_STATUSES)
    elif status != STATUS_ALL:
        rows = rows.filter(status=status)
    if assignee == ASSIGNEE_MINE:
        rows = rows.filter(assignee=agent)
    elif assignee == ASSIGNEE_UNASSIGNED:
        rows = rows.filter(assignee__isnull=True)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.annotate(
        message_count=Count("messages", filter=Q(messages__is_internal=False)),
        last_customer_message_at=Max(
            "messages__created_at", filter=Q(messages__author_id=F("customer_id"))
        ),
    ).order_by("created_at", "pk")


def customer_tickets(*, customer) -> QuerySet[Ticket]:
    """The customer's own tickets, newest first, with their order."""
    return (
        Ticket.objects.filter(customer=customer)
        .select_related("order")
        .order_by("-created_at", "-pk")
    )


def customer_ticket(*, customer, ticket_id: int) -> Ticket | None:
    """The customer's ticket `ticket_id`, or None if there is none of theirs (SEC-2)."""
    return Ticket.objects.filter(pk=ticket_id, customer=customer).select_related("order").first()


def staff_ticket(*, ticket_id: int) -> Ticket | None:
    return (
        Ticket.objects.filter(pk=ticket_id).select_related("order", "customer", "assignee").first()
    )


def thread(ticket: Ticket, *, internal: bool) -> list[TicketMessage]:
    """The ticket's messages, oldest first, with their authors; without the internal entries
    unless `internal` (staff)."""
    rows = ticket.messages.select_related("author", "assigned_to")
    if not internal:
        rows = rows.filter(is_internal=False)
    return list(rows.order_by("created_at", "pk"))


def order_tickets(*, order_id: int) -> list[Ticket]:
    """The tickets about one order (for the staff order page)."""
    return list(Ticket.objects.filter(order_id=order_id).select_related("assignee"))


def open_ticket_summary() -> tuple[int, datetime | None]:
    """The service desk's card: how many tickets wait for an agent (open ones) and when the
    oldest was opened. One query."""
    figures = Ticket.objects.filter(status=TicketStatus.OPEN).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    return figures["count"], figures["oldest"]
