"""Reads for the warehouse floor: the queue, pick lists, what goes into a parcel (FUL-1..FUL-4).

Each function answers in a fixed number of queries whatever the number of orders or lines:
allocations are fetched for all the orders at once and joined to their order lines in Python
by the line reference (`order_line:<id>`) inventory keeps.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import (
    Count,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone

from inventory.models import Allocation, AllocationState, Backorder
from orders.models import OrderLine, OrderState
from orders.services import stock_group

from .models import (
    ActivityKind,
    FloorActivity,
    Fulfillment,
    FulfillmentState,
    Parcel,
    ShortPick,
    SizeFilter,
    Wave,
    WaveState,
)

ORDER_GROUP_PREFIX = stock_group(0)[:-1]  # "order:"
LINE_PREFIX = "order_line:"
OPEN_ALLOCATIONS = (AllocationState.RESERVED, AllocationState.PICKED)


def queue(
    *,
    warehouse_id: int,
    carrier_id: int | None = None,
    cutoff: datetime | None = None,
    size: str = SizeFilter.ANY,
) -> QuerySet[Fulfillment]:
    """Fulfillments a new pick list may take, oldest first (FUL-1): ready, not held, in no
    pick list, their order paid (or cash on delivery), not held for review, and not waiting
    for stock unless the order ships what is there now (INV-5)."""
    rows = Fulfillment.objects.filter(
        warehouse_id=warehouse_id,
        state=FulfillmentState.READY,
        held=False,
        wave__isnull=True,
        order__state=OrderState.PAID,
        order__needs_review=False,
    ).exclude(Q(order_id__in=orders_waiting_for_stock()) & Q(order__ship_partial=False))
    if carrier_id:
        rows = rows.filter(carrier_id=carrier_id)
    if cutoff is not None:
        rows = rows.filter(released_at__lte=cutoff)
    if size == SizeFilter.SINGLE:
        rows = rows.filter(units=1)
    elif size == SizeFilter.MULTI:
        rows = rows.filter(units__gt=1)
    return rows.order_by("released_at", "pk")


def orders_waiting_for_stock() -> set[int]:
    """Orders with a line still waiting for stock (INV-5: unless they ship what is there now,
    they ship complete). One query over the open backorders (a partial index keeps them
    apart), whatever the size of the queue."""
    groups = Backorder.objects.filter(
        filled_at__isnull=True, cancelled_at__isnull=True, group__startswith=ORDER_GROUP_PREFIX
    ).values_list("group", flat=True)
    return {order_id for order_id in map(order_id_of_group, set(groups)) if order_id}


def order_id_of_group(group: str) -> int | None:
    if group.startswith(ORDER_GROUP_PREFIX) and group[len(ORDER_GROUP_PREFIX) :].isdigit():
        return int(group[len(ORDER_GROUP_PREFIX) :])
    return None


def line_id_of(reference: str) -> int | None:
    if reference.startswith(LINE_PREFIX) and reference[len(LINE_PREFIX) :].isdigit():
        return int(reference[len(LINE_PREFIX) :])
    return None


def allocations_of(
    fulfillments: Iterable[Fulfillment], *, states: Iterable[str] = OPEN_ALLOCATIONS
) -> dict[int, list[Allocation]]:
    """{fulfillment id: its allocations} (the units tagged with its part), with stock, bin
    and SKU, in bin walking order. One query."""
    by_part = {f.part: f.pk for f in fulfillments}
    result: dict[int, list[Allocation]] = {pk: [] for pk in by_part.values()}
    if not by_part:
        return result
    rows = (
        Allocation.objects.filter(part__in=list(by_part), state__in=list(states))
        .select_related("stock__bin", "stock__sku__product")
        .order_by("stock__bin__walk_order", "stock__bin__code", "pk")
    )
    for allocation in rows:
        result[by_part[allocation.part]].append(allocation)
    return result


def order_lines_for(allocations: Iterable[Allocation]) -> dict[int, OrderLine]:
    """The order lines behind allocations (names and variants as sold). One query."""
    ids = {line_id_of(a.line) for a in allocations} - {None}
    return OrderLine.objects.in_bulk(ids) if ids else {}


# --- pick lists -------------------------------------------------------------------------------
@dataclass
class SlotShare:
    """One order's share of a pick line: what to put into that order's tote."""

    slot: int
    order_number: str
    quantity: int
    picked: int


@dataclass
class PickLine:
    """One stop of the walk: a SKU in a bin, with the units to take for every order."""

    bin_id: int
    bin_code: str
    walk_order: int
    sku_id: int
    sku_code: str
    barcode: str
    name: str
    variant: str
    is_fragile: bool
    quantity: int = 0
    picked: int = 0
    shares: list[SlotShare] = field(default_factory=list)

    @property
    def left(self) -> int:
        return self.quantity - self.picked

    @property
    def done(self) -> bool:
        return self.picked >= self.quantity


@dataclass
class Slot:
    """One order of a pick list: its tote number for sorting afterwards, and its progress."""

    slot: int
    fulfillment: Fulfillment
    units: int = 0
    picked: int = 0

    @property
    def order_number(self) -> str:
        return self.fulfillment.order.number


@dataclass
class PickList:
    wave: Wave
    lines: list[PickLine]
    slots: list[Slot]

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def picked(self) -> int:
        return sum(line.picked for line in self.lines)

    @property
    def percent(self) -> int:
        return 100 if not self.units else self.picked * 100 // self.units


def wave_fulfillments(wave: Wave) -> list[Fulfillment]:
    """The orders of a pick list in tote order (oldest first). One query."""
    return list(
        Fulfillment.objects.filter(wave=wave)
        .select_related("order", "carrier")
        .order_by("released_at", "pk")
    )


def pick_list(wave: Wave) -> PickList:
    """The pick list of `wave`: lines grouped by bin and SKU in walking order, each with the
    per-order breakdown (tote slot, order number, units), and per-order progress (FUL-1).
    Stopped and short orders are left out. Three queries."""
    fulfillments = [
        f
        for f in wave_fulfillments(wave)
        if f.state not in (FulfillmentState.CANCELLED, FulfillmentState.SHORT)
    ]
    slots = {f.pk: Slot(slot=n, fulfillment=f) for n, f in enumerate(fulfillments, start=1)}
    lines: dict[tuple[int, int], PickLine] = {}
    states = (*OPEN_ALLOCATIONS, AllocationState.SHIPPED)
    for fulfillment_id, allocations in allocations_of(fulfillments, states=states).items():
        slot = slots[fulfillment_id]
        for allocation in allocations:
            stock = allocation.stock
            key = (stock.bin_id, stock.sku_id)
            line = lines.get(key)
            if line is None:
                sku = stock.sku
                line = lines[key] = PickLine(
                    bin_id=stock.bin_id,
                    bin_code=stock.bin.code,
                    walk_order=stock.bin.walk_order,
                    sku_id=sku.pk,
                    sku_code=sku.code,
                    barcode=sku.barcode,
                    name=sku.product.name,
                    variant=sku.variant_label,
                    is_fragile=sku.is_fragile,
                )
            picked = (
                allocation.quantity
                if allocation.state == AllocationState.SHIPPED
                else allocation.picked
            )
            line.quantity += allocation.quantity
            line.picked += picked
            slot.units += allocation.quantity
            slot.picked += picked
            share = next((s for s in line.shares if s.slot == slot.slot), None)
            if share is None:
                line.shares.append(
                    SlotShare(slot.slot, slot.order_number, allocation.quantity, picked)
                )
            else:
                share.quantity += allocation.quantity
                share.picked += picked
    ordered = sorted(
        lines.values(), key=lambda line: (line.walk_order, line.bin_code, line.sku_code)
    )
    return PickList(wave=wave, lines=ordered, slots=list(slots.values()))


# --- packing ----------------------------------------------------------------------------------
@dataclass
class PackLine:
    sku_id: int
    sku_code: str
    barcode: str
    name: str
    variant: str
    is_fragile: bool
    weight_grams: int
    quantity: int
    confirmed: int

    @property
    def done(self) -> bool:
        return self.confirmed >= self.quantity


def pack_lines(fulfillment: Fulfillment) -> list[PackLine]:
    """The packing screen's lines of one fulfillment (see `pack_lines_of`)."""
    return pack_lines_of([fulfillment])[fulfillment.pk]


def pack_lines_of(fulfillments: Sequence[Fulfillment]) -> dict[int, list[PackLine]]:
    """What goes into each fulfillment's parcels, per SKU (names and variants as sold), with
    the units the packer has confirmed by scanning; fragile goods first so that they are
    packed with care. Two queries for any number of fulfillments (packing slips in bulk)."""
    states = (*OPEN_ALLOCATIONS, AllocationState.SHIPPED)
    allocations = allocations_of(fulfillments, states=states)
    names = order_lines_for(a for rows in allocations.values() for a in rows)
    result: dict[int, list[PackLine]] = {}
    for fulfillment in fulfillments:
        lines: dict[int, PackLine] = {}
        for allocation in allocations.get(fulfillment.pk, []):
            sku = allocation.stock.sku
            line = lines.get(sku.pk)
            if line is None:
                sold = names.get(line_id_of(allocation.line))
                line = lines[sku.pk] = PackLine(
                    sku_id=sku.pk,
                    sku_code=sku.code,
                    barcode=sku.barcode,
                    name=sold.product_name if sold else sku.product.name,
                    variant=sold.variant_label if sold else sku.variant_label,
                    is_fragile=sku.is_fragile,
                    weight_grams=sku.weight_grams,
                    quantity=0,
                    confirmed=int(fulfillment.packed_counts.get(str(sku.pk), 0)),
                )
            line.quantity += allocation.quantity
        result[fulfillment.pk] = sorted(
            lines.values(), key=lambda line: (not line.is_fragile, line.sku_code)
        )
    return result


def find_by_code(code: str, *, warehouse_id: int | None = None) -> list[Fulfillment]:
    """The fulfillments a packer's scan names: an order number or a pick-list number."""
    code = (code or "").strip().upper()
    rows = Fulfillment.objects.select_related("order", "warehouse", "carrier")
    if warehouse_id:
        rows = rows.filter(warehouse_id=warehouse_id)
    wave_pk = Wave.pk_from_number(code)
    if wave_pk is not None:
        return list(rows.filter(wave_id=wave_pk).order_by("released_at", "pk"))
    return list(rows.filter(order__number=code).order_by("pk"))


# Stopped after picking: the goods are out of their bins until someone puts them back.
TO_PUT_BACK = Q(
    state=FulfillmentState.CANCELLED,
    stopped_from__in=[FulfillmentState.PICKED, FulfillmentState.PACKED],
    put_back_at__isnull=True,
)


# Labelled, then the address changed: new labels before hand-over.
TO_RELABEL = Q(
    state__in=[FulfillmentState.PICKED, FulfillmentState.PACKED], relabel_since__isnull=False
)


def floor_counts(*, warehouse_id: int) -> dict[str, int]:
    """The warehouse home's counters: two queries whatever the volume."""
    counts = Fulfillment.objects.filter(warehouse_id=warehouse_id).aggregate(
        in_waves=Count("pk", filter=Q(state=FulfillmentState.READY, wave__isnull=False)),
        held=Count("pk", filter=Q(state=FulfillmentState.READY, held=True)),
        picked=Count("pk", filter=Q(state=FulfillmentState.PICKED)),
        packed=Count("pk", filter=Q(state=FulfillmentState.PACKED)),
        short=Count("pk", filter=Q(state=FulfillmentState.SHORT)),
        to_put_back=Count("pk", filter=TO_PUT_BACK),
        to_relabel=Count("pk", filter=TO_RELABEL),
    )
    counts["queue"] = queue(warehouse_id=warehouse_id).count()
    return counts


# --- lists of the floor screens (each one query, sliced or paginated by the view) -------------
def held(*, warehouse_id: int) -> QuerySet[Fulfillment]:
    return (
        Fulfillment.objects.filter(
            warehouse_id=warehouse_id, state=FulfillmentState.READY, held=True
        )
        .select_related("order")
        .order_by("released_at", "pk")
    )


def open_short_picks(*, warehouse_id: int) -> list[ShortPick]:
    return list(
        ShortPick.objects.filter(
            fulfillment__warehouse_id=warehouse_id, resolved_at__isnull=True
        ).select_related("fulfillment__order", "sku__product", "bin", "reported_by")[:50]
    )


def needing_attention(*, warehouse_id: int) -> tuple[list[Fulfillment], list[Fulfillment]]:
    """Stopped orders whose goods must go back to their bins, and labelled orders whose
    address changed (new labels before hand-over): one query for both lists."""
    rows = list(
        Fulfillment.objects.filter(TO_PUT_BACK | TO_RELABEL, warehouse_id=warehouse_id)
        .select_related("order")
        .order_by("pk")[:100]
    )
    stopped = [f for f in rows if f.state == FulfillmentState.CANCELLED]
    return stopped, [f for f in rows if f.state != FulfillmentState.CANCELLED]


def waves(*, warehouse_id: int, state: str = "") -> QuerySet[Wave]:
    rows = Wave.objects.filter(warehouse_id=warehouse_id).select_related("picker", "carrier")
    if state in WaveState.values:
        rows = rows.filter(state=state)
    return rows.order_by("-created_at", "-pk")


def open_waves(*, warehouse_id: int) -> list[Wave]:
    return list(
        waves(warehouse_id=warehouse_id).filter(state__in=[WaveState.OPEN, WaveState.PICKING])[:20]
    )


def waves_of_picker(*, user) -> list[Wave]:
    """Pick lists waiting for this picker, or being picked by them."""
    return list(
        Wave.objects.filter(
            Q(picker=user) | Q(picker__isnull=True, state=WaveState.OPEN),
            state__in=[WaveState.OPEN, WaveState.PICKING],
        )
        .select_related("warehouse")
        .order_by("created_at", "pk")[:20]
    )


def short_picks_of(wave: Wave) -> list[ShortPick]:
    return list(
        ShortPick.objects.filter(wave=wave).select_related("fulfillment__order", "sku", "bin")
    )


def ready_to_pack(*, warehouse_id: int) -> QuerySet[Fulfillment]:
    return (
        Fulfillment.objects.filter(warehouse_id=warehouse_id, state=FulfillmentState.PICKED)
        .select_related("order", "wave")
        .order_by("picked_at", "pk")
    )


def handed_over_today(*, warehouse_id: int) -> dict:
    """Today's hand-overs in the warehouse: the count per carrier and the latest 20."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    rows = Parcel.objects.filter(fulfillment__warehouse_id=warehouse_id, handed_over_at__gte=start)
    return {
        "by_carrier": list(
            rows.values("carrier__name").annotate(parcels=Count("pk")).order_by("-parcels")
        ),
        "latest": list(
            rows.select_related("carrier", "fulfillment__order").order_by("-handed_over_at")[:20]
        ),
    }


def parcels_waiting(*, warehouse_id: int) -> int:
    """Packed parcels not yet handed over."""
    return Parcel.objects.filter(
        fulfillment__warehouse_id=warehouse_id,
        fulfillment__state=FulfillmentState.PACKED,
        handed_over_at__isnull=True,
    ).count()


def activity_today(*, warehouse_id: int) -> list[dict]:
    """Per person today: units picked, short picks, orders packed, parcels handed over. One
    grouped query (the reports build their per-picker and per-packer figures the same way)."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return list(
        FloorActivity.objects.filter(warehouse_id=warehouse_id, at__gte=start)
        .values("actor__first_name", "actor__email")
        .annotate(
            picked=Sum("units", filter=Q(kind=ActivityKind.PICK), default=0),
            shorts=Count("pk", filter=Q(kind=ActivityKind.SHORT)),
            packed=Count("pk", filter=Q(kind=ActivityKind.PACK, units__gt=0)),
            handed_over=Count("pk", filter=Q(kind=ActivityKind.HAND_OVER)),
        )
        .order_by("-picked", "actor__email")
    )


def order_on_floor(*, number: str) -> list[Fulfillment]:
    """An order's parts on the floor with their warehouse, pick list, parcels and open short
    picks. Three queries."""
    return list(
        Fulfillment.objects.filter(order__number=number)
        .select_related("warehouse", "wave__picker", "carrier", "order")
        .prefetch_related(
            Prefetch("parcels", queryset=Parcel.objects.select_related("carrier", "packed_by")),
            Prefetch(
                "short_picks",
                queryset=ShortPick.objects.filter(resolved_at__isnull=True).select_related(
                    "sku", "bin"
                ),
            ),
        )
        .order_by("pk")
    )
