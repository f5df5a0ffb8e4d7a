"""Read queries for order screens. Each returns a queryset whose page costs a fixed number of
queries, whatever the number of orders."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Order, OrderEvent, OrderLine, OrderState


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def staff_order_list(
    *,
    state: str = "",
    channel: str = "",
    placed_from: date | None = None,
    placed_to: date | None = None,
    search: str = "",
) -> QuerySet[Order]:
    """Orders for the staff list, newest first, filtered. Dates are days in the shop's zone."""
    orders = Order.objects.select_related("customer")
    if state:
        orders = orders.filter(state=state)
    if channel:
        orders = orders.filter(channel=channel)
    if placed_from:
        orders = orders.filter(created_at__gte=_local_midnight(placed_from))
    if placed_to:
        orders = orders.filter(created_at__lt=_local_midnight(placed_to) + timedelta(days=1))
    if search:
        orders = orders.filter(_search_filter(search.strip()))
    return _with_item_count(orders).order_by("-created_at", "-id")


def _with_item_count(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Annotate `item_count` (units ordered) with a correlated subquery, so that only the
    page's orders are counted; a join with GROUP BY would sum every order's lines before the
    page is cut."""
    units = (
        OrderLine.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    return orders.annotate(item_count=Subquery(units))


def _search_filter(term: str) -> Q:
    """One indexed look-up chosen by the shape of the term: e-mail, order number, mobile
    phone, else an external id (or a number typed in part)."""
    if "@" in term:
        return Q(contact_email=term.lower())
    if term.isdigit() and len(term) == 16:
        return Q(number=term)
    if term.isdigit() and len(term) == 11:
        return Q(recipient_phone=term)
    return Q(external_id=term) | Q(number=term)


def customer_order_list(*, customer) -> QuerySet[Order]:
    return (
        Order.objects.filter(customer=customer)
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .order_by("-created_at", "-id")
    )


def order_detail(*, number: str, customer=None) -> Order:
    """One order with its lines and timeline. With `customer`, only that customer's order:
    anyone else's raises Order.DoesNotExist (the view answers 404, SEC-2)."""
    orders = Order.objects.select_related("customer").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch(
            "events",
            queryset=OrderEvent.objects.select_related("actor").order_by("created_at", "id"),
        ),
    )
    if customer is not None:
        orders = orders.filter(customer=customer)
    return orders.get(number=number)


def state_counts() -> dict[str, int]:
    """Number of orders per state, in one grouped query."""
    return dict(Order.objects.values_list("state").annotate(n=Count("id")).order_by())


def oldest_in_state(state: str) -> QuerySet[Order]:
    """Orders waiting in `state`, the longest-waiting first (the work queues)."""
    return _with_item_count(Order.objects.filter(state=state).select_related("customer")).order_by(
        "created_at", "id"
    )


def sales_summary(*, periods: dict[str, date]) -> dict[str, dict]:
    """Orders, gross merchandise value and average order value since each given day, in one
    query. Cancelled orders are left out; days are cut at midnight in the shop's time zone."""
    live = ~Q(state=OrderState.CANCELLED)
    aggregates = {}
    for key, since in periods.items():
        in_period = live & Q(created_at__gte=_local_midnight(since))
        aggregates[f"{key}_orders"] = Count("id", filter=in_period)
        aggregates[f"{key}_gmv"] = Coalesce(
            Sum("total_amount", filter=in_period),
            Value(0),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        )
    row = Order.objects.aggregate(**aggregates)
    summary = {}
    for key in periods:
        orders, gmv = row[f"{key}_orders"], row[f"{key}_gmv"]
        summary[key] = {
            "orders": orders,
            "gmv": gmv,
            "average": (gmv / orders).quantize(Decimal("0.01")) if orders else None,
        }
    return summary
