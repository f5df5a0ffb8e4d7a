"""Read queries of the after-sales screens (AFS-3, AFS-4, SEC-2): lists in a fixed number of
queries, a request with everything its page shows, and the refund an approval would give."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Prefetch, QuerySet, Sum
from django.utils import timezone

from .models import (
    REFUND_KINDS,
    AfterSalesRequest,
    RequestEvent,
    RequestLine,
    RequestState,
)

CENT = Decimal("0.01")

# Requests whose refund amounts are decided (approved, on their way, or done).
DECIDED_STATES = (
    RequestState.APPROVED,
    RequestState.RETURN_SHIPPED,
    RequestState.RECEIVED,
    RequestState.REPLACING,
    RequestState.CLOSED,
)


@dataclass
class RefundPreview:
    """What approving a request would refund: per request line (pk, amount), the shipping,
    and the total. `shipping_taken_by` names another request that already has the shipping."""

    line_amounts: list[tuple[int, Decimal]] = field(default_factory=list)
    shipping: Decimal = Decimal("0.00")
    shipping_taken_by: str = ""

    @property
    def total(self) -> Decimal:
        return sum((amount for _pk, amount in self.line_amounts), Decimal("0.00")) + self.shipping


def unit_refund(net_amount: Decimal, quantity: int) -> Decimal:
    """A line's net amount per unit, rounded to the cent."""
    return (net_amount / quantity).quantize(CENT, rounding=ROUND_HALF_UP)


def refund_preview(request: AfterSalesRequest, *, refund_shipping: bool = False) -> RefundPreview:
    """The refund of `request` if approved now (AFS-4): for each line, its net amount per unit
    × units, except that the request completing a line's units gets what is left of the line's
    net amount after the other decided refund requests, so a line's refunds add up to its net
    amount to the cent. Shipping once per order. Nothing for kinds that refund no money."""
    preview = RefundPreview()
    if request.kind not in REFUND_KINDS:
        return preview
    lines = list(request.lines.select_related("order_line"))
    earlier = {
        row["order_line_id"]: row
        for row in RequestLine.objects.filter(
            order_line_id__in=[line.order_line_id for line in lines],
            request__kind__in=REFUND_KINDS,
            request__state__in=DECIDED_STATES,
        )
        .exclude(request_id=request.pk)
        .values("order_line_id")
        .annotate(units=Sum("quantity"), amount=Sum("refund_amount"))
    }
    for line in lines:
        sold = line.order_line
        net = sold.net_amount
        before = earlier.get(line.order_line_id, {})
        units_before = before.get("units") or 0
        if units_before + line.quantity >= sold.quantity:
            amount = net - (before.get("amount") or Decimal("0.00"))
        else:
            amount = unit_refund(net, sold.quantity) * line.quantity
        preview.line_amounts.append((line.pk, max(amount, Decimal("0.00")).quantize(CENT)))
    if refund_shipping:
        order = request.order
        taken = (
            AfterSalesRequest.objects.filter(
                order_id=request.order_id, refund_shipping=True, state__in=DECIDED_STATES
            )
            .exclude(pk=request.pk)
            .order_by("pk")
            .first()
        )
        if taken is not None:
            preview.shipping_taken_by = taken.number
        else:
            preview.shipping = order.shipping_amount
    return preview


def _list_base() -> QuerySet[AfterSalesRequest]:
    return AfterSalesRequest.objects.select_related("order", "customer", "agent").annotate(
        units=Sum("lines__quantity")
    )


def staff_request_list(
    *, state: str = "", kind: str = "", older_than_days: int | None = None, search: str = ""
) -> QuerySet[AfterSalesRequest]:
    """The agents' list: oldest first (the longest waiting on top), filtered."""
    requests = _list_base()
    if state:
        requests = requests.filter(state=state)
    if kind:
        requests = requests.filter(kind=kind)
    if older_than_days:
        requests = requests.filter(created_at__lte=timezone.now() - timedelta(days=older_than_days))
    search = (search or "").strip()
    if search:
        pk = AfterSalesRequest.pk_from_number(search)
        if pk is not None:
            requests = requests.filter(pk=pk)
        else:
            requests = requests.filter(order__number=search.upper())
    return requests.order_by("created_at", "id")


def state_counts() -> dict[str, int]:
    rows = AfterSalesRequest.objects.order_by().values("state").annotate(n=Count("id"))
    return {row["state"]: row["n"] for row in rows}


def customer_request_list(*, customer) -> QuerySet[AfterSalesRequest]:
    """A customer's own requests, newest first (SEC-2: only theirs)."""
    return _list_base().filter(customer=customer).order_by("-created_at", "-id")


def request_detail(*, pk: int, customer=None) -> AfterSalesRequest:
    """The request with its order, lines, photos and timeline; only the customer's own when
    `customer` is given. Raises AfterSalesRequest.DoesNotExist."""
    requests = AfterSalesRequest.objects.select_related(
        "order", "customer", "agent", "submitted_by", "return_carrier", "replacement_order"
    ).prefetch_related(
        Prefetch("lines", queryset=RequestLine.objects.select_related("order_line")),
        "photos",
        Prefetch("events", queryset=RequestEvent.objects.select_related("actor")),
    )
    if customer is not None:
        requests = requests.filter(customer=customer)
    return requests.get(pk=pk)


def order_requests(*, order_id: int) -> QuerySet[AfterSalesRequest]:
    return AfterSalesRequest.objects.filter(order_id=order_id).order_by("-created_at", "-id")


def refunds_of(request: AfterSalesRequest) -> list[RequestEvent]:
    """The request's "refunded" events (from its prefetched timeline)."""
    return [event for event in request.events.all() if event.kind == "refunded"]
