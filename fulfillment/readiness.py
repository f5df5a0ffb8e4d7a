"""The pre-event stock check of a promotion day (FUL-7): which SKUs will not cover the orders
waiting, and which are under their low-stock threshold.

Per SKU, over all warehouses and per warehouse:

- `reserved_paid`: units of paid orders reserved in bins and not picked yet;
- `backordered_paid`: units of paid orders waiting for stock (open backorders, INV-5);
- `reserved_unpaid` and `backordered_unpaid`: the same for orders awaiting payment — they
  "may still come" (be paid) or lapse, so they are shown apart;
- `on_hand`: units in sellable storage bins (`inventory.models.SELLABLE_STOCK`, so not the
  packing area, where picked units already wait);
- `free`: on hand less everything reserved there.

`shortfall` is what the paid orders need beyond the units on hand; `shortfall_if_all_pay` adds
the unpaid orders. Both come out of the same stock: an unpaid order's reserved unit covers a
paid order's backorder once the unpaid order lapses, which is why the first figure is measured
against on-hand stock and not against free stock.

Backorders name no warehouse: arriving stock fills them from whichever warehouse serves their
delivery province first (INV-6), so in the per-warehouse figures a backorder counts against
the warehouse its province prefers (`RegionPriority`, else the first active warehouse by code,
as `inventory.services.warehouse_preference` orders them).

Everything is summed by the database (GROUP BY) in a fixed number of queries whatever the
number of orders, allocations or SKUs: demands are matched to their orders' state with an
`IN (SELECT …)` on the demand group (`order:<id>`), never order by order in Python.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import CharField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Concat

from catalog.models import SKU
from inventory.models import (
    SELLABLE_STOCK,
    Allocation,
    AllocationState,
    Backorder,
    RegionPriority,
    Stock,
    StockThreshold,
    Warehouse,
)
from orders.models import Order, OrderState

from .selectors import ORDER_GROUP_PREFIX

OPEN_ALLOCATIONS = (AllocationState.RESERVED, AllocationState.PICKED)


@dataclass
class Figures:
    reserved_paid: int = 0
    backordered_paid: int = 0
    reserved_unpaid: int = 0
    backordered_unpaid: int = 0
    on_hand: int = 0
    free: int = 0

    @property
    def demanded(self) -> int:
        """Units the paid orders waiting still need."""
        return self.reserved_paid + self.backordered_paid

    @property
    def may_still_come(self) -> int:
        """Units of orders not paid yet."""
        return self.reserved_unpaid + self.backordered_unpaid

    @property
    def shortfall(self) -> int:
        return max(0, self.demanded - self.on_hand)

    @property
    def shortfall_if_all_pay(self) -> int:
        return max(0, self.demanded + self.may_still_come - self.on_hand)

    def add(self, other: "Figures") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class SkuRow:
    """One SKU's figures in one scope (a warehouse, or all of them when `warehouse` is None),
    with the per-warehouse breakdown when the scope is all warehouses."""

    sku: SKU
    warehouse: Warehouse | None
    figures: Figures
    threshold: int | None = None
    breakdown: list[tuple[Warehouse, Figures]] = field(default_factory=list)

    @property
    def is_short(self) -> bool:
        return self.figures.shortfall_if_all_pay > 0

    @property
    def is_low(self) -> bool:
        return self.threshold is not None and self.figures.free < self.threshold


@dataclass
class Readiness:
    warehouse: Warehouse | None
    short: list[SkuRow]
    low: list[SkuRow]

    @property
    def units_short(self) -> int:
        return sum(row.figures.shortfall for row in self.short)

    @property
    def units_short_if_all_pay(self) -> int:
        return sum(row.figures.shortfall_if_all_pay for row in self.short)


# Sort keys of the short list: (key, descending). Ties go by SKU code.
SORTS = {
    "shortfall": (lambda row: (row.figures.shortfall, row.figures.shortfall_if_all_pay), True),
    "if_all_pay": (lambda row: (row.figures.shortfall_if_all_pay, row.figures.shortfall), True),
    "demanded": (lambda row: row.figures.demanded, True),
    "free": (lambda row: row.figures.free, False),
    "sku": (lambda row: 0, False),
}
DEFAULT_SORT = "shortfall"


def _groups_of(state: str) -> QuerySet:
    """The demand groups (`order:<id>`) of the orders in `state`, for `group__in=`."""
    return (
        Order.objects.filter(state=state)
        .order_by()
        .values(demand=Concat(Value(ORDER_GROUP_PREFIX), Cast("pk", CharField())))
    )


def _reserved() -> QuerySet:
    """(sku, warehouse) → units reserved and not picked, for paid and for unpaid orders."""
    paid, unpaid = _groups_of(OrderState.PAID), _groups_of(OrderState.PENDING_PAYMENT)
    unpicked = F("quantity") - F("picked")
    return (
        Allocation.objects.filter(state__in=OPEN_ALLOCATIONS, quantity__gt=F("picked"))
        .filter(Q(group__in=paid) | Q(group__in=unpaid))
        .order_by()
        .values("stock__sku_id", "stock__bin__warehouse_id")
        .annotate(
            paid=Sum(unpicked, filter=Q(group__in=paid)),
            unpaid=Sum(unpicked, filter=Q(group__in=unpaid)),
        )
    )


def _backordered() -> QuerySet:
    """(sku, delivery province) → units waiting for stock, for paid and for unpaid orders."""
    paid, unpaid = _groups_of(OrderState.PAID), _groups_of(OrderState.PENDING_PAYMENT)
    waiting = F("quantity") - F("filled")
    return (
        Backorder.objects.filter(filled_at__isnull=True, cancelled_at__isnull=True)
        .filter(Q(group__in=paid) | Q(group__in=unpaid))
        .order_by()
        .values("sku_id", "province")
        .annotate(
            paid=Sum(waiting, filter=Q(group__in=paid)),
            unpaid=Sum(waiting, filter=Q(group__in=unpaid)),
        )
    )


def _stock(sku_ids: QuerySet) -> QuerySet:
    """(sku, warehouse) → on hand and free in sellable storage bins, for the SKUs given."""
    return (
        Stock.objects.filter(SELLABLE_STOCK, sku_id__in=sku_ids)
        .order_by()
        .values("sku_id", "bin__warehouse_id")
        .annotate(units=Sum("on_hand"), free_units=Sum(F("on_hand") - F("reserved")))
    )


def _first_warehouse_by_province(provinces: set[str], warehouses: list[Warehouse]) -> dict:
    """{province: id of the active warehouse that serves it first}. One query."""
    active = sorted((w for w in warehouses if w.is_active), key=lambda w: w.code)
    fallback = active[0].pk if active else None
    preferred: dict[str, int] = {}
    if provinces:
        rows = (
            RegionPriority.objects.filter(province__in=provinces, warehouse__is_active=True)
            .order_by("province", "priority", "warehouse__code")
            .values_list("province", "warehouse_id")
        )
        for province, warehouse_id in rows:
            preferred.setdefault(province, warehouse_id)
    return {province: preferred.get(province, fallback) for province in provinces}


def figures_by_sku() -> tuple[dict[int, dict[int | None, Figures]], dict[int, Warehouse]]:
    """({sku id: {warehouse id: Figures, None: the SKU's total}}, {warehouse id: Warehouse})
    for every SKU with a demand of an order or a low-stock threshold. Five queries."""
    warehouses = {w.pk: w for w in Warehouse.objects.order_by("code")}
    figures: dict[int, dict[int | None, Figures]] = defaultdict(lambda: defaultdict(Figures))

    for row in _reserved():
        cell = figures[row["stock__sku_id"]][row["stock__bin__warehouse_id"]]
        cell.reserved_paid += row["paid"] or 0
        cell.reserved_unpaid += row["unpaid"] or 0

    backorders = list(_backordered())
    provinces = {row["province"] for row in backorders}
    serving = _first_warehouse_by_province(provinces, list(warehouses.values()))
    for row in backorders:
        cell = figures[row["sku_id"]][serving[row["province"]]]
        cell.backordered_paid += row["paid"] or 0
        cell.backordered_unpaid += row["unpaid"] or 0

    thresholds = StockThreshold.objects.values("sku_id")
    demanded = (
        Allocation.objects.filter(state__in=OPEN_ALLOCATIONS, quantity__gt=F("picked"))
        .order_by()
        .values("stock__sku_id")
    )
    waiting = Backorder.objects.filter(filled_at__isnull=True, cancelled_at__isnull=True).values(
        "sku_id"
    )
    # The SKUs that matter, chosen by the database: no list of ids travels back and forth.
    relevant = (
        SKU.objects.filter(Q(pk__in=thresholds) | Q(pk__in=demanded) | Q(pk__in=waiting))
        .order_by()
        .values("pk")
    )
    for row in _stock(relevant):
        cell = figures[row["sku_id"]][row["bin__warehouse_id"]]
        cell.on_hand += row["units"] or 0
        cell.free += row["free_units"] or 0

    for by_warehouse in figures.values():
        total = Figures()
        for warehouse_id, cell in list(by_warehouse.items()):
            if warehouse_id is not None:
                total.add(cell)
        by_warehouse[None] = total
    return figures, warehouses


def readiness(*, warehouse_id: int | None = None, sort: str = DEFAULT_SORT) -> Readiness:
    """The stock check over all warehouses, or over one (`warehouse_id`): the SKUs that will
    not cover the orders waiting (or will not if the unpaid ones pay), sorted by `sort` (a key
    of SORTS), and the SKUs under a low-stock threshold (in that warehouse, or any threshold
    when all warehouses are checked), furthest under first. Seven queries whatever the
    volume."""
    figures, warehouses = figures_by_sku()
    thresholds: dict[tuple[int, int | None], int] = {
        (sku_id, scope): threshold
        for sku_id, scope, threshold in StockThreshold.objects.values_list(
            "sku_id", "warehouse_id", "threshold"
        )
        if warehouse_id is None or scope == warehouse_id
    }

    def breakdown(sku_id: int) -> list[tuple[Warehouse, Figures]]:
        cells = figures[sku_id]
        return sorted(
            ((warehouses[pk], cell) for pk, cell in cells.items() if pk is not None),
            key=lambda pair: pair[0].code,
        )

    short_keys = [
        sku_id
        for sku_id, cells in figures.items()
        if warehouse_id in cells and cells[warehouse_id].shortfall_if_all_pay > 0
    ]
    low_keys = [
        (sku_id, scope)
        for (sku_id, scope), threshold in thresholds.items()
        if figures.get(sku_id, {}).get(scope, Figures()).free < threshold
    ]
    skus = SKU.objects.select_related("product").in_bulk(
        set(short_keys) | {sku_id for sku_id, _scope in low_keys}
    )

    short = [
        SkuRow(
            sku=skus[sku_id],
            warehouse=warehouses.get(warehouse_id),
            figures=figures[sku_id][warehouse_id],
            threshold=thresholds.get((sku_id, warehouse_id)),
            breakdown=breakdown(sku_id) if warehouse_id is None else [],
        )
        for sku_id in short_keys
    ]
    key, descending = SORTS.get(sort, SORTS[DEFAULT_SORT])
    short.sort(key=lambda row: row.sku.code)
    short.sort(key=key, reverse=descending)

    low = [
        SkuRow(
            sku=skus[sku_id],
            warehouse=warehouses.get(scope),
            figures=figures.get(sku_id, {}).get(scope) or Figures(),
            threshold=thresholds[(sku_id, scope)],
        )
        for sku_id, scope in low_keys
    ]
    low.sort(key=lambda row: (row.figures.free - (row.threshold or 0), row.sku.code))
    return Readiness(warehouse=warehouses.get(warehouse_id), short=short, low=low)


CSV_HEADER = [
    "sku_code",
    "product",
    "warehouse",
    "reserved_paid",
    "backordered_paid",
    "demanded",
    "may_still_come",
    "on_hand",
    "free",
    "shortfall",
    "shortfall_if_all_pay",
    "low_stock_threshold",
    "low_stock",
]


def csv_rows(check: Readiness) -> Iterator[list]:
    """The check as CSV rows: the short SKUs, then the low-stock ones not already listed."""
    seen: set[tuple[int, int | None]] = set()
    for row in [*check.short, *check.low]:
        key = (row.sku.pk, row.warehouse.pk if row.warehouse else None)
        if key in seen:
            continue
        seen.add(key)
        figures = row.figures
        name = f"{row.sku.product.name} {row.sku.variant_label}".strip()
        yield [
            row.sku.code,
            name,
            row.warehouse.code if row.warehouse else "",
            figures.reserved_paid,
            figures.backordered_paid,
            figures.demanded,
            figures.may_still_come,
            figures.on_hand,
            figures.free,
            figures.shortfall,
            figures.shortfall_if_all_pay,
            "" if row.threshold is None else row.threshold,
            1 if row.is_low else 0,
        ]
