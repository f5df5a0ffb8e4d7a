"""Inventory report (RPT-4): stock-outs and low stock as they stand now, the slowest movers of
the period with their days of cover, and the value of the stock on hand per warehouse.

Every table is a fixed number of queries (grouped sums and correlated subqueries), whatever
the number of SKUs, bins or movements. `filters.warehouse_id` narrows every table to one
warehouse; the channel filter does not apply to stock."""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import SKU
from inventory.models import (
    SELLABLE_STOCK,
    Backorder,
    MovementKind,
    Stock,
    StockAlert,
    StockMovement,
    StockThreshold,
)

from .periods import Period
from .registry import ReportFilters
from .tables import COUNT, DATE, MONEY, TEXT, Column, Table

KEY = "inventory"
TITLE = _("Inventory")

SLOW_MOVERS_LIMIT = 50
CENT = Decimal("0.01")


def _int_subquery(queryset, field: str) -> Coalesce:
    return Coalesce(Subquery(queryset.values(field)[:1], output_field=IntegerField()), Value(0))


def _sku_name(row: dict) -> str:
    variant = " / ".join(part for part in (row.pop("color"), row.pop("size")) if part)
    return f"{row.pop('product_name')} {variant}".strip()


def stock_outs(filters: ReportFilters) -> Table:
    now = timezone.now()
    sellable = Stock.objects.filter(SELLABLE_STOCK, sku=OuterRef("pk"), on_hand__gt=F("reserved"))
    if filters.warehouse_id:
        sellable = sellable.filter(bin__warehouse_id=filters.warehouse_id)
    waiting = (
        Backorder.objects.filter(
            sku=OuterRef("pk"), filled_at__isnull=True, cancelled_at__isnull=True
        )
        .order_by()
        .values("sku")
        .annotate(units=Sum(F("quantity") - F("filled")))
    )
    # Nothing is free now, so free stock last fell (to nothing) at the latest movement that
    # lowered it: a reservation, a write-off, a transfer out… (a pick moves reserved units and
    # leaves the free ones as they were).
    lowered = StockMovement.objects.filter(
        sku=OuterRef("pk"),
        bin__is_staging=False,
        bin__is_active=True,
        bin__warehouse__is_active=True,
        on_hand_change__lt=F("reserved_change"),
    )
    if filters.warehouse_id:
        lowered = lowered.filter(bin__warehouse_id=filters.warehouse_id)
    out_since = lowered.order_by("-created_at", "-id")
    rows = list(
        SKU.objects.filter(is_active=True, product__is_active=True)
        .exclude(Exists(sellable))
        .annotate(
            waiting=_int_subquery(waiting, "units"),
            out_since=Subquery(out_since.values("created_at")[:1]),
            product_name=F("product__name"),
        )
        .order_by("-waiting", "code")
        .values("code", "product_name", "color", "size", "waiting", "out_since")
    )
    for row in rows:
        row["name"] = _sku_name(row)
        since = row.pop("out_since")
        row["out_since"] = timezone.localdate(since) if since else None
        row["days_out"] = (now - since).days if since else None
    return Table(
        key="stock_outs",
        title=_("Out of stock now"),
        columns=[
            Column("code", _("SKU"), TEXT),
            Column("name", _("Product"), TEXT),
            Column("waiting", _("Units on backorder"), COUNT),
            Column("out_since", _("Out of stock since"), DATE),
            Column("days_out", _("Days out of stock"), COUNT),
        ],
        rows=rows,
        note=_(
            "SKUs on sale with no available stock now (in the chosen warehouse), each with the "
            "units its open backorders wait for (over all warehouses) and since when nothing has "
            "been available: the last stock movement that took the available stock down. Empty "
            "for SKUs never in stock there."
        ),
    )


def low_stock(filters: ReportFilters) -> Table:
    sellable = Stock.objects.filter(SELLABLE_STOCK, sku=OuterRef("sku_id")).order_by()
    all_free = sellable.values("sku").annotate(free=Sum(F("on_hand") - F("reserved")))
    warehouse_free = (
        sellable.filter(bin__warehouse_id=OuterRef("warehouse_id"))
        .values("sku")
        .annotate(free=Sum(F("on_hand") - F("reserved")))
    )
    raised = StockAlert.objects.filter(
        sku=OuterRef("sku_id"), cleared_at__isnull=True, warehouse=OuterRef("warehouse_id")
    )
    raised_all = StockAlert.objects.filter(
        sku=OuterRef("sku_id"), cleared_at__isnull=True, warehouse__isnull=True
    )
    thresholds = StockThreshold.objects.filter(sku__is_active=True)
    if filters.warehouse_id:
        thresholds = thresholds.filter(warehouse_id=filters.warehouse_id)
    rows = list(
        thresholds.annotate(
            available=Case(
                When(warehouse__isnull=True, then=_int_subquery(all_free, "free")),
                default=_int_subquery(warehouse_free, "free"),
            ),
            raised_at=Case(
                When(
                    warehouse__isnull=True,
                    then=Subquery(raised_all.values("raised_at")[:1]),
                ),
                default=Subquery(raised.values("raised_at")[:1]),
            ),
            code=F("sku__code"),
            product_name=F("sku__product__name"),
            color=F("sku__color"),
            size=F("sku__size"),
            warehouse_code=F("warehouse__code"),
        )
        .filter(available__gt=0, available__lt=F("threshold"))
        .annotate(shortfall=F("threshold") - F("available"))
        .order_by("-shortfall", "code", "warehouse_code")
        .values(
            "code",
            "product_name",
            "color",
            "size",
            "warehouse_code",
            "available",
            "threshold",
            "shortfall",
            "raised_at",
        )
    )
    for row in rows:
        row["name"] = _sku_name(row)
        row["warehouse"] = row.pop("warehouse_code") or str(_("All warehouses"))
        raised_at = row.pop("raised_at")
        row["alert_since"] = timezone.localdate(raised_at) if raised_at else None
    return Table(
        key="low_stock",
        title=_("Low stock"),
        columns=[
            Column("code", _("SKU"), TEXT),
            Column("name", _("Product"), TEXT),
            Column("warehouse", _("Warehouse"), TEXT),
            Column("available", _("Available"), COUNT),
            Column("threshold", _("Threshold"), COUNT),
            Column("shortfall", _("Short by"), COUNT),
            Column("alert_since", _("Alert since"), DATE),
        ],
        rows=rows,
        note=_(
            "SKUs with some stock available but less than their low-stock threshold, now "
            "(those with none are listed as out of stock)."
        ),
    )


def slow_movers(period: Period, filters: ReportFilters) -> Table:
    on_hand_rows = Stock.objects.filter(SELLABLE_STOCK, sku=OuterRef("pk"))
    shipments = StockMovement.objects.filter(
        sku=OuterRef("pk"),
        kind=MovementKind.SHIPMENT,
        created_at__gte=period.starts_at,
        created_at__lt=period.ends_at,
    )
    if filters.warehouse_id:
        on_hand_rows = on_hand_rows.filter(bin__warehouse_id=filters.warehouse_id)
        shipments = shipments.filter(bin__warehouse_id=filters.warehouse_id)
    on_hand = _int_subquery(
        on_hand_rows.order_by().values("sku").annotate(units=Sum("on_hand")), "units"
    )
    shipped = _int_subquery(
        shipments.order_by().values("sku").annotate(units=Sum(-F("on_hand_change"))), "units"
    )
    rows = list(
        SKU.objects.annotate(on_hand=on_hand, shipped=shipped, product_name=F("product__name"))
        .filter(on_hand__gt=0)
        .order_by("shipped", "-on_hand", "code")
        .values("code", "product_name", "color", "size", "on_hand", "shipped")[:SLOW_MOVERS_LIMIT]
    )
    days = Decimal(len(period.days()))
    for row in rows:
        row["name"] = _sku_name(row)
        if row["shipped"]:
            cover = Decimal(row["on_hand"]) * days / Decimal(row["shipped"])
            row["days_of_cover"] = int(cover.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        else:
            row["days_of_cover"] = None
    return Table(
        key="slow_movers",
        title=_("Slow movers"),
        columns=[
            Column("code", _("SKU"), TEXT),
            Column("name", _("Product"), TEXT),
            Column("on_hand", _("On hand"), COUNT),
            Column("shipped", _("Units shipped"), COUNT),
            Column("days_of_cover", _("Days of cover"), COUNT),
        ],
        rows=rows,
        note=_(
            "Up to %(limit)d SKUs in stock: those that shipped the fewest units in the period. "
            "Days of cover: units on hand divided by the units shipped per day of the period "
            "(empty when nothing shipped)."
        )
        % {"limit": SLOW_MOVERS_LIMIT},
    )


def stock_value(filters: ReportFilters) -> Table:
    rows = Stock.objects.filter(on_hand__gt=0)
    if filters.warehouse_id:
        rows = rows.filter(bin__warehouse_id=filters.warehouse_id)
    value = ExpressionWrapper(
        F("on_hand") * F("sku__price"), output_field=DecimalField(max_digits=20, decimal_places=2)
    )
    grouped = list(
        rows.order_by()
        .values(code=F("bin__warehouse__code"), name=F("bin__warehouse__name"))
        .annotate(skus=Count("sku", distinct=True), units=Sum("on_hand"), value=Sum(value))
        .order_by("code")
    )
    total_skus = rows.aggregate(skus=Count("sku", distinct=True))["skus"] or 0
    for row in grouped:
        row["value"] = Decimal(str(row["value"] or 0)).quantize(CENT, rounding=ROUND_HALF_UP)
        row["warehouse"] = f"{row.pop('code')} {row.pop('name')}"
    total = {
        "warehouse": str(_("Total")),
        "skus": total_skus,
        "units": sum(row["units"] for row in grouped),
        "value": sum((row["value"] for row in grouped), Decimal("0.00")),
    }
    return Table(
        key="stock_value",
        title=_("Stock value"),
        columns=[
            Column("warehouse", _("Warehouse"), TEXT),
            Column("skus", _("SKUs"), COUNT),
            Column("units", _("Units on hand"), COUNT),
            Column("value", _("Value at sale price"), MONEY),
        ],
        rows=[*grouped, total],
        note=_(
            "Valued at the SKUs' current sale price: the catalogue keeps no cost price, so this "
            "is the stock's selling value, not its cost. Units on hand in every bin, packing "
            "areas included."
        ),
    )


def build(*, period: Period, filters: ReportFilters) -> list[Table]:
    return [
        stock_outs(filters),
        low_stock(filters),
        slow_movers(period, filters),
        stock_value(filters),
    ]
