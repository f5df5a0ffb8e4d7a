"""Read queries for order screens. Each returns a queryset whose page costs a fixed number of
queries, whatever the number of orders."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    prefetch_related_objects,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.templatetags.shop import money

from .models import (
    Channel,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderState,
    Shipment,
    TrackingEvent,
)


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def sold(prefix: str = "") -> Q:
    """The orders that are sales, seen from a model reaching the order through `prefix` (""
    for Order itself, "order__" for OrderLine, …): not the goods an after-sales replacement
    sends again, nor an order cancelled before any money changed hands. The sales report and
    the staff list's "sales only" both count with this one rule."""
    return ~Q(**{f"{prefix}channel": Channel.REPLACEMENT}) & ~Q(
        **{f"{prefix}state": OrderState.CANCELLED, f"{prefix}paid_at__isnull": True}
    )


def staff_order_list(
    *,
    state: str = "",
    channel: str = "",
    placed_from: date | None = None,
    placed_to: date | None = None,
    search: str = "",
    payment_method: str = "",
    province: str = "",
    city: str = "",
    product: int | None = None,
    sku: int | None = None,
    sales_only: bool = False,
) -> QuerySet[Order]:
    """Orders for the staff list, newest first, filtered. Dates are days in the shop's zone.
    `product` / `sku`: orders with a line of it; `sales_only`: the orders the sales report
    counts (no order cancelled before payment, no after-sales replacement)."""
    orders = Order.objects.select_related("customer")
    if state:
        orders = orders.filter(state=state)
    if channel:
        orders = orders.filter(channel=channel)
    if payment_method:
        orders = orders.filter(payment_method=payment_method)
    if province:
        orders = orders.filter(province=province.strip())
    if city:
        orders = orders.filter(city=city.strip())
    if product:
        orders = orders.filter(
            Exists(OrderLine.objects.filter(order=OuterRef("pk"), sku__product_id=product))
        )
    if sku:
        orders = orders.filter(Exists(OrderLine.objects.filter(order=OuterRef("pk"), sku_id=sku)))
    if sales_only:
        orders = orders.filter(sold())
    if placed_from:
        orders = orders.filter(created_at__gte=_local_midnight(placed_from))
    if placed_to:
        orders = orders.filter(created_at__lt=_local_midnight(placed_to) + timedelta(days=1))
    if search:
        orders = orders.filter(_search_filter(search.strip()))
    return _with_item_count(orders).order_by("-created_at", "-id")


def line_subjects(*, product: int | None = None, sku: int | None = None) -> list[tuple[str, str]]:
    """What a staff list narrowed to a product or SKU shows it is narrowed to: (caption,
    name) pairs, one query each for what is given."""
    from catalog.models import SKU, Product

    subjects = []
    if product:
        name = Product.objects.filter(pk=product).values_list("name", flat=True).first()
        subjects.append((_("Product"), name or f"#{product}"))
    if sku:
        found = SKU.objects.select_related("product").filter(pk=sku).first()
        subjects.append((_("SKU"), f"{found.code} · {found}" if found else f"#{sku}"))
    return subjects


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


# The customer's "My orders" tabs: each groups the states a customer thinks of as one.
CUSTOMER_ORDER_TABS: dict[str, tuple[str, ...]] = {
    "awaiting_payment": (OrderState.PENDING_PAYMENT,),
    "to_ship": (OrderState.PAID, OrderState.PICKED),
    "shipped": (OrderState.SHIPPED,),
    "completed": (OrderState.COMPLETED,),
    "cancelled": (OrderState.CANCELLED,),
}


def customer_order_list(*, customer, tab: str = "") -> QuerySet[Order]:
    """The customer's orders, newest first, with their lines; `tab` is a key of
    `CUSTOMER_ORDER_TABS` (empty: all)."""
    orders = Order.objects.filter(customer=customer)
    if tab:
        orders = orders.filter(state__in=CUSTOMER_ORDER_TABS[tab])
    return orders.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    ).order_by("-created_at", "-id")


def customer_tab_counts(*, customer) -> dict[str, int]:
    """Number of the customer's orders per tab ("" for all), in one grouped query."""
    per_state = dict(
        Order.objects.filter(customer=customer)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {"": sum(per_state.values())}
    for tab, states in CUSTOMER_ORDER_TABS.items():
        counts[tab] = sum(per_state.get(state, 0) for state in states)
    return counts


# What the customer reads for each event of the timeline. Events not listed (a review flag)
# are the shop's own business and are not shown (SEC-5).
CUSTOMER_EVENT_TITLES = {
    OrderEventKind.PLACED: _("Order placed"),
    OrderEventKind.PAID: _("Payment received"),
    OrderEventKind.PAYMENT_FAILED: _("Payment did not go through"),
    OrderEventKind.COD_ACCEPTED: _("Confirmed for cash on delivery"),
    OrderEventKind.CASH_COLLECTED: _("Cash paid to the courier"),
    OrderEventKind.ADDRESS_CHANGED: _("Delivery address changed"),
    OrderEventKind.PICKED: _("Items picked and packed"),
    OrderEventKind.PART_SHIPPED: _("Part of the order handed to the carrier"),
    OrderEventKind.SHIPPED: _("Handed to the carrier"),
    OrderEventKind.COMPLETED: _("Receipt confirmed"),
    OrderEventKind.CANCELLED: _("Order cancelled"),
    OrderEventKind.RELEASED: _("Checked by the shop"),
    OrderEventKind.SHIPPING_CHOICE: _("Delivery of the items waiting for stock changed"),
    OrderEventKind.LINE_DROPPED: _("Items that could not be supplied were removed"),
    OrderEventKind.LINE_SUBSTITUTED: _("A missing item is replaced by another"),
}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    title: str
    by: str  # "by you", "by the shop" or "" (the system)
    note: str  # only the customer's own words


def customer_timeline(order: Order) -> list[TimelineEntry]:
    """The order's timeline as its customer (or guest) sees it, oldest first: human titles,
    never a member of staff's name, a review reason or an internal note. Uses the events
    already loaded by `with_storefront_detail`."""
    entries = []
    for event in order.events.all():
        title = CUSTOMER_EVENT_TITLES.get(event.kind)
        if event.kind == OrderEventKind.REFUNDED:
            title = _("Refunded %(amount)s") % {"amount": money(event.details.get("amount"))}
        if event.kind == OrderEventKind.LINE_DROPPED:
            title = _("%(units)s × %(item)s could not be supplied: %(amount)s less") % {
                "units": event.details.get("units"),
                "item": event.details.get("sku"),
                "amount": money(event.details.get("amount")),
            }
        elif event.kind == OrderEventKind.LINE_SUBSTITUTED:
            title = _("%(units)s × %(item)s replaced by %(substitute)s, at the same price") % {
                "units": event.details.get("units"),
                "item": event.details.get("sku"),
                "substitute": event.details.get("substitute"),
            }
        elif event.kind == OrderEventKind.SHIPPING_CHOICE:
            title = (
                _("The items in stock ship now; the rest follows as it arrives")
                if event.details.get("ship_partial")
                else _("Everything ships together once it is all in stock")
            )
        if title is None:
            continue
        own = event.actor_id is not None and event.actor_id == order.customer_id
        if own:
            by = _("by you")
        elif event.actor_id is not None:
            by = _("by the shop")
        else:
            by = ""
        entries.append(
            TimelineEntry(at=event.created_at, title=title, by=by, note=event.reason if own else "")
        )
    return entries


def with_storefront_detail(order: Order) -> Order:
    """Load what the customer's order page shows, in a fixed number of queries whatever the
    number of lines, events, shipments and tracking events: lines, timeline (without the
    actors: customers are not shown staff names), shipments with their carrier and their
    tracking events newest first."""
    prefetch_related_objects(
        [order],
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
        Prefetch(
            "shipments",
            queryset=Shipment.objects.select_related("carrier")
            .order_by("shipped_at", "id")
            .prefetch_related(
                Prefetch(
                    "tracking_events",
                    queryset=TrackingEvent.objects.order_by("-occurred_at", "-id"),
                )
            ),
        ),
    )
    return order


def order_detail(*, number: str, customer=None) -> Order:
    """One order with its lines, timeline and parcels. With `customer`, only that customer's
    order: anyone else's raises Order.DoesNotExist (the view answers 404, SEC-2)."""
    orders = Order.objects.select_related("customer").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch(
            "events",
            queryset=OrderEvent.objects.select_related("actor").order_by("created_at", "id"),
        ),
        Prefetch("shipments", queryset=Shipment.objects.select_related("carrier")),
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
