"""Read queries of the service desk: the exception queue and the home page's counters, each in
a fixed number of queries whatever the number of orders."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from aftersales.models import REFUND_KINDS, AfterSalesRequest, RequestKind, RequestState
from inventory import selectors as inventory_selectors
from orders.models import Order, OrderEvent, OrderEventKind, OrderState
from orders.services import stock_group
from tickets.selectors import open_ticket_summary

from .models import AuditFinding, AuditRule, AuditRuleChange, Claim

# The queue's filter for orders held by something other than the audit (a payment that did not
# match, a short pick, an address changed after packing).
OTHER_REASON = "other"


def exception_orders() -> QuerySet[Order]:
    """Orders held for review and not cancelled: the exception queue (异常订单)."""
    return Order.objects.filter(needs_review=True).exclude(state=OrderState.CANCELLED)


def exception_queue(
    *,
    agent=None,
    rule: str = "",
    claimed: str = "",
    older_than_hours: int | None = None,
    newest_first: bool = False,
) -> QuerySet[Order]:
    """The exception queue with, per order, when it was flagged (`flagged_at`), its claim and
    agent, its customer and its open audit findings: three queries for a page.

    - `rule`: an audit rule's code, or OTHER_REASON for orders no audit rule holds;
    - `claimed`: "mine" (claimed by `agent`), "unclaimed" or "others";
    - `older_than_hours`: flagged at least that long ago.
    Oldest flag first unless `newest_first`."""
    flagged_at = (
        OrderEvent.objects.filter(order=OuterRef("pk"), kind=OrderEventKind.FLAGGED)
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    open_findings = AuditFinding.objects.filter(cleared_at__isnull=True)
    orders = exception_orders().annotate(flagged_at=Subquery(flagged_at))
    if rule == OTHER_REASON:
        orders = orders.exclude(Exists(open_findings.filter(order=OuterRef("pk"))))
    elif rule:
        orders = orders.filter(Exists(open_findings.filter(order=OuterRef("pk"), code=rule)))
    if claimed == "mine" and agent is not None:
        orders = orders.filter(claim__agent=agent)
    elif claimed == "unclaimed":
        orders = orders.filter(claim__isnull=True)
    elif claimed == "others" and agent is not None:
        orders = orders.filter(claim__isnull=False).exclude(claim__agent=agent)
    if older_than_hours:
        orders = orders.filter(flagged_at__lte=timezone.now() - timedelta(hours=older_than_hours))
    order_by = ["-flagged_at", "-id"] if newest_first else ["flagged_at", "id"]
    return (
        orders.select_related("customer", "claim__agent")
        .prefetch_related(
            Prefetch("audit_findings", queryset=open_findings, to_attr="open_findings")
        )
        .order_by(*order_by)
    )


def claim_for(order_id: int) -> Claim | None:
    return Claim.objects.select_related("agent").filter(order_id=order_id).first()


def waiting_units(order_id: int) -> int:
    """Units of the order still waiting for stock (INV-5), in one query."""
    stock = inventory_selectors.demand_stock(group=stock_group(order_id))
    return sum(figures.waiting for figures in stock.values())


def open_findings_for(order_id: int) -> list[AuditFinding]:
    return list(AuditFinding.objects.filter(order_id=order_id, cleared_at__isnull=True))


def audit_rules_with_changes(limit: int = 20) -> tuple[dict[str, AuditRule], list]:
    """The stored rules by code, and the latest changes with their actors (two queries)."""
    rows = {row.code: row for row in AuditRule.objects.select_related("updated_by")}
    changes = list(AuditRuleChange.objects.select_related("rule", "actor")[:limit])
    return rows, changes


# --- the service desk's home ------------------------------------------------------------------
@dataclass(frozen=True)
class Queue:
    key: str
    count: int
    oldest: datetime | None


def _refunds_to_issue() -> Q:
    """A refund-only request once approved; a return-and-refund once its goods are back."""
    return Q(kind=RequestKind.REFUND_ONLY, state=RequestState.APPROVED) | Q(
        kind__in=list(REFUND_KINDS), state=RequestState.RECEIVED
    )


def desk_queues() -> dict[str, Queue]:
    """Each queue of the service desk with its count and the time its oldest item came:
    exception orders (since flagged), new after-sales requests, returns on their way to
    inspection, refunds to issue, open tickets — three queries."""
    flagged_at = (
        OrderEvent.objects.filter(order=OuterRef("pk"), kind=OrderEventKind.FLAGGED)
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    exceptions = exception_orders().annotate(flagged_at=Subquery(flagged_at))
    exception_figures = exceptions.aggregate(count=Count("pk"), oldest=Min("flagged_at"))
    new = Q(state=RequestState.SUBMITTED)
    returns = Q(state=RequestState.RETURN_SHIPPED)
    refunds = _refunds_to_issue()
    figures = AfterSalesRequest.objects.aggregate(
        new_count=Count("pk", filter=new),
        new_oldest=Min("created_at", filter=new),
        returns_count=Count("pk", filter=returns),
        returns_oldest=Min("return_shipped_at", filter=returns),
        refunds_count=Count("pk", filter=refunds),
        refunds_oldest=Min("decided_at", filter=refunds),
    )
    return {
        "exceptions": Queue("exceptions", exception_figures["count"], exception_figures["oldest"]),
        "new_requests": Queue("new_requests", figures["new_count"], figures["new_oldest"]),
        "returns": Queue("returns", figures["returns_count"], figures["returns_oldest"]),
        "refunds": Queue("refunds", figures["refunds_count"], figures["refunds_oldest"]),
        "tickets": Queue("tickets", *open_ticket_summary()),
    }
