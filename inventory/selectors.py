"""Read queries for stock: availability in total, per warehouse and per bin, and the stock
screens' lists (overview, bins, movement history, export)."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import SKU

from .models import (
    SELLABLE_STOCK,
    Allocation,
    AllocationState,
    Backorder,
    Bin,
    MovementKind,
    Stock,
    StockAlert,
    StockMovement,
    StockThreshold,
    Warehouse,
)


def availability(*, sku_ids: Iterable[int], warehouse_id: int | None = None) -> dict[int, int]:
    """Units free to sell per SKU (on-hand − reserved, over every bin), in one query."""
    sku_ids = list(sku_ids)
    rows = Stock.objects.filter(SELLABLE_STOCK, sku_id__in=sku_ids)
    if warehouse_id is not None:
        rows = rows.filter(bin__warehouse_id=warehouse_id)
    free = dict(
        rows.order_by()
        .values("sku_id")
        .annotate(free=Sum(F("on_hand") - F("reserved")))
        .values_list("sku_id", "free")
    )
    return {sku_id: free.get(sku_id, 0) for sku_id in sku_ids}


# --- stock screens ------------------------------------------------------------------------------
# Every function below costs a fixed number of queries, whatever the number of SKUs, bins or
# movements: sums are computed by the database (grouped or correlated), never one query per row.


@dataclass(frozen=True)
class StockFigures:
    on_hand: int = 0
    reserved: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def warehouses() -> list[Warehouse]:
    """Every warehouse, active first, for filters and pickers."""
    return list(Warehouse.objects.order_by("-is_active", "code"))


def _sum_of(field: str, rows: QuerySet[Stock]) -> Coalesce:
    """A correlated subquery summing `field` of the stock rows of the outer SKU."""
    total = (
        rows.filter(sku=OuterRef("pk"))
        .order_by()
        .values("sku")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def stock_overview(*, search: str = "", warehouse_id: int | None = None) -> QuerySet[SKU]:
    """SKUs by code with `on_hand` and `reserved` summed over every bin (over the bins of one
    warehouse when `warehouse_id` is given; then only SKUs stored there are listed).

    The sums are correlated subqueries, so a page of 50 sums only its own SKUs' rows instead of
    grouping the whole stock table before the page is cut."""
    rows = Stock.objects.all()
    skus = SKU.objects.select_related("product")
    if warehouse_id is not None:
        rows = rows.filter(bin__warehouse_id=warehouse_id)
        skus = skus.filter(Exists(rows.filter(sku=OuterRef("pk"))))
    if search:
        skus = skus.filter(_sku_search(search))
    return skus.annotate(
        on_hand=_sum_of("on_hand", rows), reserved=_sum_of("reserved", rows)
    ).order_by("code", "id")


def _sku_search(term: str) -> Q:
    term = term.strip()
    return Q(code__istartswith=term) | Q(barcode=term) | Q(product__name__icontains=term)


def sku_by_scan(code: str) -> SKU | None:
    """The SKU whose barcode (or, failing that, SKU code) is exactly `code`, as a scanner
    types it; None when there is none."""
    code = code.strip()
    if not code:
        return None
    matches = list(
        SKU.objects.select_related("product").filter(Q(barcode=code) | Q(code__iexact=code))[:2]
    )
    by_barcode = [sku for sku in matches if sku.barcode == code]
    if by_barcode:
        return by_barcode[0]
    return matches[0] if len(matches) == 1 else None


def figures_by_warehouse(*, sku_ids: Iterable[int]) -> dict[int, dict[int, StockFigures]]:
    """{sku_id: {warehouse_id: StockFigures}} for the given SKUs, in one grouped query."""
    figures: dict[int, dict[int, StockFigures]] = {}
    rows = (
        Stock.objects.filter(sku_id__in=list(sku_ids))
        .order_by()
        .values("sku_id", "bin__warehouse_id")
        .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    )
    for row in rows:
        figures.setdefault(row["sku_id"], {})[row["bin__warehouse_id"]] = StockFigures(
            row["on_hand"], row["reserved"]
        )
    return figures


def sku_totals(*, sku_id: int) -> StockFigures:
    row = Stock.objects.filter(sku_id=sku_id).aggregate(
        on_hand=Coalesce(Sum("on_hand"), 0), reserved=Coalesce(Sum("reserved"), 0)
    )
    return StockFigures(row["on_hand"], row["reserved"])


def sku_bins(*, sku_id: int) -> list[Stock]:
    """The stock rows of one SKU with their bin and warehouse, by warehouse and walking order.
    Rows emptied to nothing (0 on hand) are left out."""
    return list(
        Stock.objects.filter(sku_id=sku_id)
        .exclude(on_hand=0, reserved=0)
        .select_related("bin__warehouse")
        .order_by("bin__warehouse__code", "bin__is_staging", "bin__walk_order", "bin__code")
    )


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def movement_history(
    *,
    sku_id: int | None = None,
    kind: str = "",
    warehouse_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    reference_type: str = "",
) -> QuerySet[StockMovement]:
    """Ledger rows, newest first, with bin, warehouse, SKU and actor joined in. Dates are days
    in the shop's time zone, both ends included."""
    movements = StockMovement.objects.select_related(
        "bin__warehouse", "actor", "sku__product"
    ).order_by("-created_at", "-id")
    if sku_id is not None:
        movements = movements.filter(sku_id=sku_id)
    if kind:
        movements = movements.filter(kind=kind)
    if warehouse_id is not None:
        movements = movements.filter(bin__warehouse_id=warehouse_id)
    if date_from:
        movements = movements.filter(created_at__gte=_local_midnight(date_from))
    if date_to:
        movements = movements.filter(created_at__lt=_local_midnight(date_to) + timedelta(days=1))
    if reference_type:
        movements = movements.filter(reference_type=reference_type)
    return movements


def receipts_today(*, warehouse_id: int | None = None, limit: int = 20) -> list[StockMovement]:
    """The latest receipts since midnight (shop time), newest first."""
    movements = movement_history(
        kind=MovementKind.RECEIPT,
        warehouse_id=warehouse_id,
        date_from=timezone.localdate(),
    )
    return list(movements[:limit])


def bin_by_code(*, warehouse_id: int, code: str) -> Bin | None:
    """The storage bin `code` (as scanned, case-insensitive) of one warehouse; None if none."""
    code = code.strip()
    if not code:
        return None
    return (
        Bin.objects.select_related("warehouse")
        .filter(warehouse_id=warehouse_id, code__iexact=code, is_staging=False)
        .first()
    )


def bin_codes(*, warehouse_id: int) -> list[str]:
    """The codes of a warehouse's active storage bins in walking order (for pickers)."""
    return list(
        Bin.objects.filter(warehouse_id=warehouse_id, is_staging=False, is_active=True)
        .order_by("walk_order", "code")
        .values_list("code", flat=True)
    )


def bin_contents(*, bin_id: int) -> list[Stock]:
    """What the books say lies in a bin: its stock rows with units on hand, by SKU code."""
    return list(
        Stock.objects.filter(bin_id=bin_id, on_hand__gt=0)
        .select_related("sku__product")
        .order_by("sku__code")
    )


def stock_rows_for_export(*, warehouse_id: int | None = None) -> Iterator[tuple]:
    """(sku code, barcode, product, colour, size, warehouse, bin, on hand, reserved) for every
    stock row holding something, streamed from one query in chunks (flat memory)."""
    rows = Stock.objects.exclude(on_hand=0, reserved=0)
    if warehouse_id is not None:
        rows = rows.filter(bin__warehouse_id=warehouse_id)
    return (
        rows.order_by("sku__code", "bin__warehouse__code", "bin__walk_order", "bin__code")
        .values_list(
            "sku__code",
            "sku__barcode",
            "sku__product__name",
            "sku__color",
            "sku__size",
            "bin__warehouse__code",
            "bin__code",
            "on_hand",
            "reserved",
        )
        .iterator(chunk_size=2000)
    )


def open_alerts() -> QuerySet[StockAlert]:
    """Low-stock and stock-out alerts not yet cleared, the newest first (INV-7)."""
    return StockAlert.objects.filter(cleared_at__isnull=True).select_related(
        "sku__product", "warehouse"
    )


def stock_outs() -> QuerySet[SKU]:
    """SKUs on sale with nothing available in any active warehouse (stock rows or not), each
    with `waiting` = units its open backorders wait for."""
    free = Stock.objects.filter(SELLABLE_STOCK).annotate(free=F("on_hand") - F("reserved"))
    waiting = (
        Backorder.objects.filter(
            sku=OuterRef("pk"), filled_at__isnull=True, cancelled_at__isnull=True
        )
        .order_by()
        .values("sku")
        .annotate(units=Sum(F("quantity") - F("filled")))
        .values("units")
    )
    return (
        SKU.objects.filter(is_active=True, product__is_active=True)
        .exclude(Exists(free.filter(sku=OuterRef("pk"), free__gt=0)))
        .select_related("product")
        .annotate(waiting=Coalesce(Subquery(waiting, output_field=IntegerField()), Value(0)))
        .order_by("-waiting", "code")
    )


def thresholds() -> QuerySet[StockThreshold]:
    """Every low-stock threshold, by SKU code."""
    return StockThreshold.objects.select_related("sku__product", "warehouse").order_by(
        "sku__code", "warehouse__code"
    )


def last_movement_id(*, bin_id: int) -> int:
    """The id of the bin's latest ledger row that changed on-hand (0 when none)."""
    last = (
        StockMovement.objects.filter(bin_id=bin_id)
        .exclude(on_hand_change=0)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return last or 0


@dataclass(frozen=True)
class DemandLineStock:
    """Where one demand line's units stand: reserved in bins, picked into packing, shipped,
    and still waiting for stock."""

    reserved: int = 0
    picked: int = 0
    shipped: int = 0
    waiting: int = 0


def demand_stock(*, group: str) -> dict[str, DemandLineStock]:
    """Per demand line of `group` (e.g. an order), in two queries."""
    figures: dict[str, dict[str, int]] = {}
    for line, state, quantity, picked in Allocation.objects.filter(group=group).values_list(
        "line", "state", "quantity", "picked"
    ):
        entry = figures.setdefault(line, {"reserved": 0, "picked": 0, "shipped": 0, "waiting": 0})
        if state == AllocationState.SHIPPED:
            entry["shipped"] += quantity
        elif state != AllocationState.RELEASED:
            entry["picked"] += picked
            entry["reserved"] += quantity - picked
    for line, quantity, filled in Backorder.objects.filter(
        group=group, filled_at__isnull=True, cancelled_at__isnull=True
    ).values_list("line", "quantity", "filled"):
        entry = figures.setdefault(line, {"reserved": 0, "picked": 0, "shipped": 0, "waiting": 0})
        entry["waiting"] += quantity - filled
    return {line: DemandLineStock(**entry) for line, entry in figures.items()}
