"""Fulfilment efficiency (RPT-2): how long paid orders take to pass each stage, where orders
are waiting now, and what each picker and packer did.

- "stages": orders that started in the period — paid (`paid_at`), or for cash on delivery
  accepted (their "cod_accepted" event; their `paid_at` is the cash collected at the door) —
  and the time from that start to: the audit decision (only the orders that were flagged: to
  their first "released" event; orders never flagged are left out, not counted as 0), picked
  (the order's "picked" event, else its fulfillments' latest `picked_at`), shipped
  (`shipped_at`), delivered (latest `Shipment.delivered_at`) and completed (`completed_at`).
  Per stage: the orders that reached it, median and 90th percentile (reports.percentiles).
- "waiting": where orders are now, whatever the period.
- "pickers" / "packers": per person from the floor's scans (FloorActivity) in the period. The
  hours are the span from a person's first to last scan of that kind on each local day, added
  up over the days (a day with one scan counts 0 hours); the rate is units (orders) per hour
  of that span.
Everything is computed in the database; a constant number of queries per build."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fulfillment.models import ActivityKind, FloorActivity, Fulfillment, FulfillmentState
from orders.models import Order, OrderEvent, OrderEventKind, OrderState, PaymentMethod, Shipment
from reports.percentiles import MEDIAN, P90, Seconds, duration_stats
from reports.periods import Period
from reports.registry import ReportFilters
from reports.tables import COUNT, DURATION, TEXT, Column, Table

KEY = "fulfillment"
TITLE = _("Fulfilment efficiency")

STAGES = [
    ("audit", _("Audit decision (flagged orders)")),
    ("picked", _("Picked")),
    ("shipped", _("Shipped")),
    ("delivered", _("Delivered")),
    ("completed", _("Completed")),
]


def _first_event(kind: str):
    return Subquery(
        OrderEvent.objects.filter(order=OuterRef("pk"), kind=kind)
        .order_by("created_at", "pk")
        .values("created_at")[:1],
        output_field=DateTimeField(),
    )


def _last_delivery():
    return Subquery(
        Shipment.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(last=Max("delivered_at"))
        .values("last"),
        output_field=DateTimeField(),
    )


def _orders(filters: ReportFilters):
    orders = Order.objects.all()
    if filters.channel:
        orders = orders.filter(channel=filters.channel)
    if filters.warehouse_id:
        orders = orders.filter(
            Exists(
                Fulfillment.objects.filter(order=OuterRef("pk"), warehouse_id=filters.warehouse_id)
            )
        )
    return orders


def _first(kind: str):
    return Min("events__created_at", filter=Q(events__kind=kind))


def started_orders(period: Period, filters: ReportFilters):
    """Orders paid (or, cash on delivery, accepted) in the period, one row each with `started`
    and the times of their stages, from one pass over their events, fulfillments and
    shipments (grouped by order: first/last are indifferent to the join's repeated rows)."""
    accepted = OrderEvent.objects.filter(
        kind=OrderEventKind.COD_ACCEPTED,
        created_at__gte=period.starts_at,
        created_at__lt=period.ends_at,
    ).values("order_id")
    paid = Q(paid_at__gte=period.starts_at, paid_at__lt=period.ends_at) & ~Q(
        payment_method=PaymentMethod.CASH_ON_DELIVERY
    )
    cod = Q(payment_method=PaymentMethod.CASH_ON_DELIVERY, pk__in=accepted)
    # Plain conditions (not on the annotations) so that the database can use its indexes.
    return (
        _orders(filters)
        .filter(paid | cod)
        .annotate(
            started=Case(
                When(
                    payment_method=PaymentMethod.CASH_ON_DELIVERY,
                    then=_first(OrderEventKind.COD_ACCEPTED),
                ),
                default=F("paid_at"),
                output_field=DateTimeField(),
            ),
            released=_first(OrderEventKind.RELEASED),
            picked=Coalesce(
                _first(OrderEventKind.PICKED),
                Max(
                    "fulfillments__picked_at",
                    filter=~Q(fulfillments__state=FulfillmentState.CANCELLED),
                ),
            ),
            delivered=Max("shipments__delivered_at"),
        )
    )


def _stage_table(period: Period, filters: ReportFilters) -> Table:
    durations = {
        "audit": Seconds(F("released"), F("started")),
        "picked": Seconds(F("picked"), F("started")),
        "shipped": Seconds(F("shipped_at"), F("started")),
        "delivered": Seconds(F("delivered"), F("started")),
        "completed": Seconds(F("completed_at"), F("started")),
    }
    stats = duration_stats(started_orders(period, filters), durations)
    drill = {
        "paid_from": period.start.isoformat(),
        "paid_to": period.last_day.isoformat(),
        **filters.as_query(),
    }
    rows = [
        {
            "stage": label,
            "orders": stats[key]["count"],
            "median": _rounded(stats[key][MEDIAN]),
            "p90": _rounded(stats[key][P90]),
            "_drill": {**drill, "stage": key},
        }
        for key, label in STAGES
    ]
    return Table(
        key="stages",
        title=_("Time from payment to each stage"),
        columns=[
            Column("stage", _("Stage"), TEXT),
            Column("orders", _("Orders"), COUNT),
            Column("median", _("Median"), DURATION),
            Column("p90", _("90th percentile"), DURATION),
        ],
        rows=rows,
        note=_(
            "Orders paid in the period (cash on delivery: accepted). The audit counts only the "
            "orders flagged for review, up to their release."
        ),
    )


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


WAITING = [
    ("awaiting_payment", _("Awaiting payment")),
    ("review", _("Held for review")),
    ("queue", _("In the warehouse queue")),
    ("pick_list", _("On pick lists")),
    ("picked", _("Picked, not packed")),
    ("packed", _("Packed, not handed over")),
    ("in_transit", _("Shipped, not delivered")),
    ("delivered", _("Delivered, not completed")),
]


def _waiting_table(filters: ReportFilters, now: datetime) -> Table:
    open_states = [OrderState.PAID, OrderState.PICKED, OrderState.SHIPPED]
    orders = (
        _orders(filters)
        .filter(state__in=[OrderState.PENDING_PAYMENT, *open_states])
        .annotate(delivered=_last_delivery())
    )
    order_stages = {
        "awaiting_payment": (Q(state=OrderState.PENDING_PAYMENT), F("created_at")),
        "review": (
            Q(needs_review=True, state__in=open_states),
            Coalesce("paid_at", "created_at"),
        ),
        "in_transit": (Q(state=OrderState.SHIPPED, delivered__isnull=True), F("shipped_at")),
        "delivered": (Q(state=OrderState.SHIPPED, delivered__isnull=False), F("delivered")),
    }
    aggregates = {}
    for key, (condition, since) in order_stages.items():
        aggregates[f"{key}__count"] = Count("pk", filter=condition)
        aggregates[f"{key}__since"] = Min(since, filter=condition)
    figures = orders.order_by().aggregate(**aggregates)

    parts = Fulfillment.objects.all()
    if filters.warehouse_id:
        parts = parts.filter(warehouse_id=filters.warehouse_id)
    if filters.channel:
        parts = parts.filter(order__channel=filters.channel)
    floor_stages = {
        "queue": (Q(state=FulfillmentState.READY, wave__isnull=True), "released_at"),
        "pick_list": (Q(state=FulfillmentState.READY, wave__isnull=False), "released_at"),
        "picked": (Q(state=FulfillmentState.PICKED), "picked_at"),
        "packed": (Q(state=FulfillmentState.PACKED), "packed_at"),
    }
    aggregates = {}
    for key, (condition, since) in floor_stages.items():
        aggregates[f"{key}__count"] = Count("order", filter=condition, distinct=True)
        aggregates[f"{key}__since"] = Min(since, filter=condition)
    figures.update(parts.order_by().aggregate(**aggregates))

    rows = []
    for key, label in WAITING:
        since = figures[f"{key}__since"]
        rows.append(
            {
                "stage": label,
                "orders": figures[f"{key}__count"],
                "oldest": None if since is None else float(int((now - since).total_seconds())),
                "_drill": {"waiting": key, **filters.as_query()},
            }
        )
    return Table(
        key="waiting",
        title=_("Where orders are waiting now"),
        columns=[
            Column("stage", _("Waiting for"), TEXT),
            Column("orders", _("Orders"), COUNT),
            Column("oldest", _("Oldest waiting"), DURATION),
        ],
        rows=rows,
        note=_("As of %(time)s, whatever the period.")
        % {"time": timezone.localtime(now).strftime("%Y-%m-%d %H:%M")},
    )


def _activity_by_person_and_day(period: Period, filters: ReportFilters) -> list[dict]:
    """One grouped query: per person and shop-local day, their figures and first/last scans."""
    activity = FloorActivity.objects.filter(at__gte=period.starts_at, at__lt=period.ends_at)
    if filters.warehouse_id:
        activity = activity.filter(warehouse_id=filters.warehouse_id)
    if filters.channel:
        activity = activity.filter(fulfillment__order__channel=filters.channel)
    picking = Q(kind__in=[ActivityKind.PICK, ActivityKind.SHORT])
    packing = Q(kind__in=[ActivityKind.PACK, ActivityKind.HAND_OVER])
    return list(
        activity.annotate(day=TruncDate("at", tzinfo=timezone.get_default_timezone()))
        .values("actor", "actor__first_name", "actor__last_name", "actor__email", "day")
        .annotate(
            picked=Sum("units", filter=Q(kind=ActivityKind.PICK), default=0),
            shorts=Count("pk", filter=Q(kind=ActivityKind.SHORT)),
            packed=Count("pk", filter=Q(kind=ActivityKind.PACK, units__gt=0)),
            parcels=Count("pk", filter=Q(kind=ActivityKind.PACK)),
            handed_over=Count("pk", filter=Q(kind=ActivityKind.HAND_OVER)),
            pick_first=Min("at", filter=picking),
            pick_last=Max("at", filter=picking),
            pack_first=Min("at", filter=packing),
            pack_last=Max("at", filter=packing),
        )
        .order_by("actor", "day")
    )


def _people_tables(period: Period, filters: ReportFilters) -> list[Table]:
    people: dict[int, dict] = {}
    for day in _activity_by_person_and_day(period, filters):
        name = " ".join(p for p in (day["actor__first_name"], day["actor__last_name"]) if p)
        person = people.setdefault(
            day["actor"],
            {
                "person": name or day["actor__email"],
                "picked": 0,
                "shorts": 0,
                "packed": 0,
                "parcels": 0,
                "handed_over": 0,
                "pick_span": timedelta(0),
                "pack_span": timedelta(0),
            },
        )
        for figure in ("picked", "shorts", "packed", "parcels", "handed_over"):
            person[figure] += day[figure]
        if day["pick_first"] is not None:
            person["pick_span"] += day["pick_last"] - day["pick_first"]
        if day["pack_first"] is not None:
            person["pack_span"] += day["pack_last"] - day["pack_first"]

    pickers, packers = [], []
    for person in people.values():
        if person["picked"] or person["shorts"]:
            pickers.append(
                {
                    "person": person["person"],
                    "units": person["picked"],
                    "shorts": person["shorts"],
                    "hours": float(int(person["pick_span"].total_seconds())),
                    "per_hour": _per_hour(person["picked"], person["pick_span"]),
                }
            )
        if person["parcels"] or person["handed_over"]:
            packers.append(
                {
                    "person": person["person"],
                    "orders": person["packed"],
                    "parcels": person["parcels"],
                    "handed_over": person["handed_over"],
                    "hours": float(int(person["pack_span"].total_seconds())),
                    "per_hour": _per_hour(person["packed"], person["pack_span"]),
                }
            )
    pickers.sort(key=lambda row: (-row["units"], row["person"]))
    packers.sort(key=lambda row: (-row["orders"], row["person"]))
    span_note = _(
        "Time active: from the first to the last scan of each day, added up over the days; "
        "the rate is per hour of those spans."
    )
    return [
        Table(
            key="pickers",
            title=_("Pickers"),
            columns=[
                Column("person", _("Picker"), TEXT),
                Column("units", _("Units picked"), COUNT),
                Column("shorts", _("Short picks"), COUNT),
                Column("hours", _("Time active"), DURATION),
                Column("per_hour", _("Units per hour"), TEXT),
            ],
            rows=pickers,
            note=span_note,
        ),
        Table(
            key="packers",
            title=_("Packers"),
            columns=[
                Column("person", _("Packer"), TEXT),
                Column("orders", _("Orders packed"), COUNT),
                Column("parcels", _("Parcels packed"), COUNT),
                Column("handed_over", _("Parcels handed over"), COUNT),
                Column("hours", _("Time active"), DURATION),
                Column("per_hour", _("Orders per hour"), TEXT),
            ],
            rows=packers,
            note=span_note,
        ),
    ]


def _per_hour(units: int, span: timedelta) -> Decimal | None:
    seconds = int(span.total_seconds())
    if seconds <= 0:
        return None
    return (Decimal(units) * 3600 / seconds).quantize(Decimal("0.1"))


def build(*, period: Period, filters: ReportFilters, now: datetime | None = None) -> list[Table]:
    now = now or timezone.now()
    return [
        _stage_table(period, filters),
        _waiting_table(filters, now),
        *_people_tables(period, filters),
    ]
