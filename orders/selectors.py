"""Read queries for order screens. Each returns a queryset whose page costs a fixed number of
queries, whatever the number of orders."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, Prefetch, Q, QuerySet, Sum, Value
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
        term = search.strip()
        orders = orders.filter(
            Q(number=term)
            | Q(external_id=term)
            | Q(recipient_phone=term)
            | Q(contact_email__iexact=term)
            | Q(customer__email__iexact=term)
        )
    return orders.annotate(item_count=Sum("lines__quantity")).order_by("-created_at", "-id")


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
    return (
        Order.objects.filter(state=state)
        .select_related("customer")
        .annotate(item_count=Sum("lines__quantity"))
        .order_by("created_at", "id")
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
