"""Inventory report (RPT-4) against a hand-computed fixture: stock-outs with backorders and
days out, low stock against thresholds, slow movers with days of cover over a month cut at
midnight Asia/Shanghai, and stock value at sale price per warehouse — with the warehouse
filter, in a constant number of queries."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory import services
from inventory.models import MovementKind, StockMovement
from reports import inventory
from reports.periods import PeriodKind, period_containing
from reports.registry import ReportFilters, report
from tests.factories import BinFactory, SKUFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

NOVEMBER = period_containing(PeriodKind.MONTH, date(2026, 11, 10))  # 30 days


def _ship(sku, quantity, at, group):
    """Reserve, pick and ship `quantity` of `sku`, the shipment dated `at`."""
    services.reserve(group=group, lines=[services.DemandLine(f"{group}-1", sku.pk, quantity)])
    services.pick_all(group=group)
    services.ship(group=group)
    StockMovement.objects.filter(kind=MovementKind.SHIPMENT, reference_id=f"{group}-1").update(
        created_at=at
    )


@pytest.fixture
def shop():
    wa = WarehouseFactory(code="WA", name="East")
    wb = WarehouseFactory(code="WB", name="West")
    a1, b1 = BinFactory(warehouse=wa), BinFactory(warehouse=wb)
    s = {
        1: SKUFactory(code="S1", price=Decimal("10.00")),
        2: SKUFactory(code="S2", price=Decimal("25.50")),
        3: SKUFactory(code="S3", price=Decimal("3.33")),
        4: SKUFactory(code="S4", price=Decimal("99.00")),
        5: SKUFactory(code="S5", price=Decimal("7.00")),
        6: SKUFactory(code="S6", price=Decimal("50.00")),
        7: SKUFactory(code="S7", price=Decimal("1.00"), is_active=False),
    }
    for sku, bin, units in [
        (s[1], a1, 100),
        (s[2], a1, 40),
        (s[3], b1, 12),
        (s[5], b1, 4),
        (s[6], a1, 6),
        (s[6], b1, 2),
    ]:
        services.receive(sku_id=sku.pk, bin_id=bin.pk, quantity=units)
    # S1: 20 at the very first instant of November (local), 10 at its last second; 7 one
    # second before November began (October, not counted).
    _ship(s[1], 20, datetime(2026, 10, 31, 16, 0, tzinfo=UTC), "g1")
    _ship(s[1], 10, datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC), "g2")
    _ship(s[1], 7, datetime(2026, 10, 31, 15, 59, 59, tzinfo=UTC), "g3")
    _ship(s[3], 3, datetime(2026, 11, 10, 4, 0, tzinfo=UTC), "g4")
    # S4 was never in stock: 5 units wait on backorder.
    services.reserve(
        group="bo",
        lines=[services.DemandLine("bo-1", s[4].pk, 5)],
        backorder_since=timezone.now(),
    )
    # S5: all 4 units promised three days (and an hour) ago: nothing available since.
    services.reserve(group="g5", lines=[services.DemandLine("g5-1", s[5].pk, 4)])
    three_days_ago = timezone.now() - timedelta(days=3, hours=1)
    StockMovement.objects.filter(kind=MovementKind.RESERVATION, reference_id="g5-1").update(
        created_at=three_days_ago
    )
    services.set_threshold(sku_id=s[2].pk, warehouse_id=wa.pk, threshold=50, actor=None)
    services.set_threshold(sku_id=s[5].pk, warehouse_id=wb.pk, threshold=2, actor=None)
    services.set_threshold(sku_id=s[6].pk, warehouse_id=None, threshold=10, actor=None)
    services.set_threshold(sku_id=s[6].pk, warehouse_id=wb.pk, threshold=5, actor=None)
    return {"wa": wa, "wb": wb, "skus": s, "s5_out_since": three_days_ago}


def tables(filters=None):
    filters = filters or ReportFilters()
    return {t.key: t for t in inventory.build(period=NOVEMBER, filters=filters)}


def rows(table, *keys):
    return [tuple(row[key] for key in keys) for row in table.rows]


def test_the_registry_offers_the_inventory_report():
    assert report("inventory") is inventory
    assert inventory.KEY == "inventory"


def test_stock_outs_list_active_skus_with_nothing_available(shop):
    out = tables()["stock_outs"]
    since = shop["s5_out_since"]
    assert rows(out, "code", "waiting", "out_since", "days_out") == [
        ("S4", 5, None, None),
        ("S5", 0, timezone.localdate(since), 3),
    ]


def test_stock_outs_in_one_warehouse(shop):
    out = tables(ReportFilters(warehouse_id=shop["wa"].pk))["stock_outs"]
    # S3 and S5 are only kept in WB; their movements there say nothing about WA.
    assert rows(out, "code", "waiting", "out_since", "days_out") == [
        ("S4", 5, None, None),
        ("S3", 0, None, None),
        ("S5", 0, None, None),
    ]


def test_low_stock_compares_available_units_with_each_threshold(shop):
    low = tables()["low_stock"]
    today = timezone.localdate()
    # S5 has nothing available: it is a stock-out, not low stock.
    assert rows(low, "code", "warehouse", "available", "threshold", "shortfall", "alert_since") == [
        ("S2", "WA", 40, 50, 10, today),
        ("S6", "WB", 2, 5, 3, today),
        ("S6", "All warehouses", 8, 10, 2, today),
    ]
    one = tables(ReportFilters(warehouse_id=shop["wa"].pk))["low_stock"]
    assert rows(one, "code", "warehouse", "available") == [("S2", "WA", 40)]


def test_slow_movers_count_the_units_shipped_in_the_period_with_days_of_cover(shop):
    slow = tables()["slow_movers"]
    # S1: 63 on hand, 30 shipped in 30 days → 1 a day → 63 days; S3: 9 / (3 / 30) = 90 days.
    assert rows(slow, "code", "on_hand", "shipped", "days_of_cover") == [
        ("S2", 40, 0, None),
        ("S6", 8, 0, None),
        ("S5", 4, 0, None),
        ("S3", 9, 3, 90),
        ("S1", 63, 30, 63),
    ]
    one = tables(ReportFilters(warehouse_id=shop["wa"].pk))["slow_movers"]
    assert rows(one, "code", "on_hand", "shipped", "days_of_cover") == [
        ("S2", 40, 0, None),
        ("S6", 6, 0, None),
        ("S1", 63, 30, 63),
    ]


def test_stock_value_at_sale_price_per_warehouse_and_in_total(shop):
    value = tables()["stock_value"]
    assert rows(value, "warehouse", "skus", "units", "value") == [
        # 63 × 10.00 + 40 × 25.50 + 6 × 50.00
        ("WA East", 3, 109, Decimal("1950.00")),
        # 9 × 3.33 + 4 × 7.00 + 2 × 50.00
        ("WB West", 3, 15, Decimal("157.97")),
        ("Total", 5, 124, Decimal("2107.97")),
    ]
    assert "sale price" in str(value.note)
    one = tables(ReportFilters(warehouse_id=shop["wb"].pk))["stock_value"]
    assert rows(one, "warehouse", "skus", "units", "value") == [
        ("WB West", 3, 15, Decimal("157.97")),
        ("Total", 3, 15, Decimal("157.97")),
    ]


def test_the_report_makes_a_constant_number_of_queries(shop, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        inventory.build(period=NOVEMBER, filters=ReportFilters())
    for n in range(10):
        services.receive(sku_id=SKUFactory().pk, bin_id=BinFactory().pk, quantity=n + 1)
    with django_assert_max_num_queries(5):
        built = inventory.build(period=NOVEMBER, filters=ReportFilters())
    assert built[3].rows[-1]["units"] == 124 + 55
