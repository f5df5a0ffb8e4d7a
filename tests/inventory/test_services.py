"""Stock services (INV-3, INV-4, INV-6): every change balanced by the ledger, nothing oversold."""

import pytest

from inventory import services
from inventory.ledger import ledger_differences
from inventory.models import (
    Allocation,
    AllocationState,
    MovementKind,
    RegionPriority,
    Stock,
    StockMovement,
)
from inventory.selectors import availability
from inventory.services import DemandLine, OutOfStock, StockError
from tests.factories import BinFactory, SKUFactory, UserFactory, WarehouseFactory, stock_sku

pytestmark = pytest.mark.django_db


def _row(sku, bin_):
    return Stock.objects.get(sku=sku, bin=bin_)


def test_receipt_adds_on_hand_and_writes_the_ledger():
    bin_ = BinFactory()
    sku = SKUFactory()
    clerk = UserFactory(role="warehouse")

    services.receive(
        sku_id=sku.pk, bin_id=bin_.pk, quantity=12, actor=clerk, reference=("receipt", "PO-1")
    )

    row = _row(sku, bin_)
    assert (row.on_hand, row.reserved, row.available) == (12, 0, 12)
    movement = StockMovement.objects.get()
    assert (movement.kind, movement.on_hand_change, movement.actor) == (
        MovementKind.RECEIPT,
        12,
        clerk,
    )
    assert ledger_differences() == []


def test_reserve_pick_ship_moves_stock_through_the_packing_area():
    bin_ = BinFactory()
    sku = stock_sku(5, bin=bin_)

    reservation = services.reserve(group="order:1", lines=[DemandLine("line:1", sku.pk, 3)])
    assert _row(sku, bin_).available == 2
    (allocation,) = reservation.by_warehouse[bin_.warehouse_id]

    services.pick(allocation_id=allocation.pk, quantity=3)
    assert (_row(sku, bin_).on_hand, _row(sku, bin_).reserved) == (2, 0)

    assert services.ship(group="order:1") == 3
    assert availability(sku_ids=[sku.pk])[sku.pk] == 2
    assert Stock.objects.filter(sku=sku).exclude(bin=bin_).get().on_hand == 0
    assert ledger_differences() == []


def test_reservation_is_all_or_nothing():
    plenty = stock_sku(10)
    scarce = stock_sku(1)

    with pytest.raises(OutOfStock) as refused:
        services.reserve(
            group="order:1",
            lines=[DemandLine("a", plenty.pk, 2), DemandLine("b", scarce.pk, 2)],
        )

    assert [(s.sku_id, s.wanted, s.available) for s in refused.value.shortages] == [
        (scarce.pk, 2, 1)
    ]
    assert availability(sku_ids=[plenty.pk, scarce.pk]) == {plenty.pk: 10, scarce.pk: 1}
    assert Allocation.objects.count() == 0


def test_release_gives_back_reserved_and_picked_units_once():
    bin_ = BinFactory()
    sku = stock_sku(4, bin=bin_)
    reservation = services.reserve(group="order:9", lines=[DemandLine("l", sku.pk, 3)])
    (allocation,) = reservation.by_warehouse[bin_.warehouse_id]
    services.pick(allocation_id=allocation.pk, quantity=2)

    assert services.release(group="order:9", reason="Cancelled") == 3
    assert services.release(group="order:9", reason="Cancelled again") == 0

    row = _row(sku, bin_)
    assert (row.on_hand, row.reserved) == (4, 0)
    allocation.refresh_from_db()
    assert allocation.state == AllocationState.RELEASED
    assert ledger_differences() == []


def test_cannot_pick_more_than_reserved():
    sku = stock_sku(5)
    reservation = services.reserve(group="g", lines=[DemandLine("l", sku.pk, 2)])
    (allocation,) = next(iter(reservation.by_warehouse.values()))

    with pytest.raises(StockError, match="left to pick"):
        services.pick(allocation_id=allocation.pk, quantity=3)


def test_ship_refuses_until_everything_is_picked():
    sku = stock_sku(5)
    services.reserve(group="g", lines=[DemandLine("l", sku.pk, 2)])

    with pytest.raises(StockError):
        services.ship(group="g")


def test_reserved_units_cannot_be_written_off_or_moved():
    bin_ = BinFactory()
    other = BinFactory(warehouse=bin_.warehouse)
    sku = stock_sku(3, bin=bin_)
    services.reserve(group="g", lines=[DemandLine("l", sku.pk, 2)])
    clerk = UserFactory(role="warehouse")

    with pytest.raises(StockError, match="free to move"):
        services.write_off(sku_id=sku.pk, bin_id=bin_.pk, quantity=2, actor=clerk, reason="Broken")
    with pytest.raises(StockError):
        services.transfer(
            sku_id=sku.pk, from_bin_id=bin_.pk, to_bin_id=other.pk, quantity=2, actor=clerk
        )

    services.write_off(sku_id=sku.pk, bin_id=bin_.pk, quantity=1, actor=clerk, reason="Broken")
    assert _row(sku, bin_).on_hand == 2
    assert ledger_differences() == []


def test_adjustment_and_write_off_need_a_reason():
    bin_ = BinFactory()
    sku = stock_sku(3, bin=bin_)

    with pytest.raises(StockError, match="Say why"):
        services.adjust(sku_id=sku.pk, bin_id=bin_.pk, change=2, actor=None, reason="")
    with pytest.raises(StockError, match="Say why"):
        services.write_off(sku_id=sku.pk, bin_id=bin_.pk, quantity=1, actor=None, reason=" ")

    services.adjust(sku_id=sku.pk, bin_id=bin_.pk, change=-1, actor=None, reason="Found damaged")
    assert _row(sku, bin_).on_hand == 2


def test_transfer_between_warehouses_keeps_the_total():
    source = BinFactory()
    target = BinFactory()
    sku = stock_sku(6, bin=source)

    services.transfer(
        sku_id=sku.pk, from_bin_id=source.pk, to_bin_id=target.pk, quantity=4, actor=None
    )

    assert (_row(sku, source).on_hand, _row(sku, target).on_hand) == (2, 4)
    assert availability(sku_ids=[sku.pk])[sku.pk] == 6
    assert ledger_differences() == []


def test_stock_take_posts_only_the_differences():
    bin_ = BinFactory()
    counted_right = stock_sku(5, bin=bin_)
    counted_short = stock_sku(5, bin=bin_)
    found = SKUFactory()

    movements = services.post_stock_take(
        bin_id=bin_.pk,
        counts={counted_right.pk: 5, counted_short.pk: 3, found.pk: 2},
        actor=None,
        reason="Monthly count",
    )

    assert sorted((m.sku_id, m.on_hand_change) for m in movements) == sorted(
        [(counted_short.pk, -2), (found.pk, 2)]
    )
    assert ledger_differences() == []


def test_stock_take_below_reserved_is_refused_and_posts_nothing():
    bin_ = BinFactory()
    sku = stock_sku(5, bin=bin_)
    services.reserve(group="g", lines=[DemandLine("l", sku.pk, 4)])

    with pytest.raises(StockError, match="reserved"):
        services.post_stock_take(bin_id=bin_.pk, counts={sku.pk: 3}, actor=None, reason="Count")

    assert _row(sku, bin_).on_hand == 5


def test_one_warehouse_that_has_everything_is_preferred_by_region():
    hangzhou = WarehouseFactory(code="HZ", province="浙江省")
    guangzhou = WarehouseFactory(code="GZ", province="广东省")
    RegionPriority.objects.create(province="广东省", warehouse=guangzhou, priority=1)
    RegionPriority.objects.create(province="广东省", warehouse=hangzhou, priority=2)
    sku = stock_sku(5, bin=BinFactory(warehouse=hangzhou))
    stock_sku(5, bin=BinFactory(warehouse=guangzhou), sku=sku)

    south = services.reserve(group="a", lines=[DemandLine("l", sku.pk, 2)], province="广东省")
    other = services.reserve(group="b", lines=[DemandLine("l", sku.pk, 2)], province="北京市")

    assert south.warehouse_ids == [guangzhou.pk]
    # No priority for the province: active warehouses by code, and GZ has everything.
    assert other.warehouse_ids == [guangzhou.pk]
    # GZ, first by code, still has the 1 unit; 浙江省's priority sends it to HZ all the same.
    RegionPriority.objects.create(province="浙江省", warehouse=hangzhou, priority=1)
    east = services.reserve(group="c", lines=[DemandLine("l", sku.pk, 1)], province="浙江省")
    assert east.warehouse_ids == [hangzhou.pk]
    assert not south.is_split


def test_order_no_single_warehouse_can_serve_is_split():
    east = WarehouseFactory(code="E")
    west = WarehouseFactory(code="W")
    tea = stock_sku(5, bin=BinFactory(warehouse=east))
    cup = stock_sku(5, bin=BinFactory(warehouse=west))

    reservation = services.reserve(
        group="split", lines=[DemandLine("1", tea.pk, 1), DemandLine("2", cup.pk, 1)]
    )

    assert reservation.is_split
    assert sorted(reservation.warehouse_ids) == sorted([east.pk, west.pk])


def test_bins_are_drawn_in_walking_order():
    warehouse = WarehouseFactory()
    far = BinFactory(warehouse=warehouse, walk_order=20)
    near = BinFactory(warehouse=warehouse, walk_order=10)
    sku = stock_sku(2, bin=far)
    stock_sku(2, bin=near, sku=sku)

    reservation = services.reserve(group="g", lines=[DemandLine("l", sku.pk, 3)])

    drawn = [(a.stock.bin_id, a.quantity) for a in reservation.by_warehouse[warehouse.pk]]
    assert drawn == [(near.pk, 2), (far.pk, 1)]


def test_database_refuses_negative_stock_whatever_the_code_does():
    from django.db import IntegrityError, transaction

    bin_ = BinFactory()
    sku = stock_sku(1, bin=bin_)

    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(sku=sku, bin=bin_).update(reserved=2)


def test_receive_many_writes_one_movement_per_line_and_balances():
    bins = [BinFactory() for _ in range(3)]
    skus = [SKUFactory() for _ in range(30)]
    lines = [(sku.pk, bins[i % 3].pk, i + 1) for i, sku in enumerate(skus)] * 2  # 60 > exact lock

    units = services.receive_many(lines=lines, reference=("opening_stock", "file.csv"))

    assert units == 2 * sum(range(1, 31))
    assert StockMovement.objects.filter(kind=MovementKind.RECEIPT).count() == 60
    assert availability(sku_ids=[skus[4].pk]) == {skus[4].pk: 10}
    assert ledger_differences() == []


def test_receive_many_into_a_packing_area_changes_nothing():
    from inventory.models import Bin

    staging = Bin.objects.create(warehouse=BinFactory().warehouse, code="STAGING", is_staging=True)
    sku = SKUFactory()

    with pytest.raises(StockError):
        services.receive_many(lines=[(sku.pk, staging.pk, 5)])

    assert not Stock.objects.filter(on_hand__gt=0).exists()


def test_stock_take_of_one_bin_leaves_the_skus_other_bins_alone():
    counted = BinFactory()
    elsewhere = BinFactory(warehouse=counted.warehouse)
    sku = stock_sku(5, bin=counted)
    stock_sku(7, bin=elsewhere, sku=sku)

    services.post_stock_take(bin_id=counted.pk, counts={sku.pk: 4}, actor=None, reason="Count")

    assert (_row(sku, counted).on_hand, _row(sku, elsewhere).on_hand) == (4, 7)
    assert ledger_differences() == []


def test_stock_take_refuses_a_bin_that_moved_while_it_was_counted():
    from inventory.selectors import last_movement_id

    bin_ = BinFactory()
    sku = stock_sku(10, bin=bin_)
    started = last_movement_id(bin_id=bin_.pk)
    services.reserve(group="g", lines=[DemandLine("l", sku.pk, 1)])  # no goods moved
    services.write_off(sku_id=sku.pk, bin_id=bin_.pk, quantity=2, actor=None, reason="Broken")

    with pytest.raises(StockError, match="count it again"):
        services.post_stock_take(
            bin_id=bin_.pk, counts={sku.pk: 10}, actor=None, reason="Count", counted_since=started
        )

    assert _row(sku, bin_).on_hand == 8
