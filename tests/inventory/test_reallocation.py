"""Units a picker did not find in their bin (INV-5): their reservation leaves the bin, they are
reserved again in another bin — the same warehouse first — or wait for stock."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import services
from inventory.ledger import ledger_differences
from inventory.models import Allocation, AllocationState, Backorder, Stock
from inventory.services import DemandLine, StockError
from tests.factories import BinFactory, SKUFactory, UserFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk():
    return UserFactory(role="warehouse")


def _reserve(sku, quantity, group="order:1"):
    services.reserve(group=group, lines=[DemandLine("order_line:1", sku.pk, quantity)])


def test_missing_units_are_reserved_again_in_another_bin_of_the_same_warehouse_first(clerk):
    here = WarehouseFactory(code="HZ")
    elsewhere = WarehouseFactory(code="ZZ")  # the only one with all the missing units
    short_bin, other_bin = BinFactory(warehouse=here, walk_order=1), BinFactory(warehouse=here)
    sku = SKUFactory()
    services.receive(sku_id=sku.pk, bin_id=short_bin.pk, quantity=3)
    services.receive(sku_id=sku.pk, bin_id=other_bin.pk, quantity=1)
    services.receive(sku_id=sku.pk, bin_id=BinFactory(warehouse=elsewhere).pk, quantity=5)
    _reserve(sku, 3)
    allocation = Allocation.objects.get()
    assert allocation.stock.bin == short_bin
    services.pick(allocation_id=allocation.pk, quantity=1, actor=clerk)

    done = services.reallocate_missing(
        group="order:1", sku_id=sku.pk, bin_id=short_bin.pk, quantity=2, actor=clerk, reason="x"
    )

    assert (done.released, done.reserved_again, done.waiting) == (2, 2, 0)
    allocation.refresh_from_db()
    assert (allocation.quantity, allocation.picked, allocation.state) == (
        1,
        1,
        AllocationState.PICKED,
    )
    by_bin = {
        a.stock.bin.warehouse.code: a.quantity
        for a in Allocation.objects.filter(state=AllocationState.RESERVED)
    }
    assert by_bin == {"HZ": 1, "ZZ": 1}  # what the same warehouse has, first
    short_row = Stock.objects.get(sku=sku, bin=short_bin)
    assert (short_row.on_hand, short_row.reserved) == (0, 0)  # 1 picked out, 2 missing
    assert not ledger_differences()


def test_what_no_bin_holds_waits_for_stock_in_the_orders_place(clerk):
    bin_ = BinFactory()
    sku = SKUFactory()
    services.receive(sku_id=sku.pk, bin_id=bin_.pk, quantity=2)
    _reserve(sku, 2)
    paid = timezone.now() - timedelta(days=2)

    done = services.reallocate_missing(
        group="order:1",
        sku_id=sku.pk,
        bin_id=bin_.pk,
        quantity=2,
        actor=clerk,
        reason="Not in the bin",
        backorder_since=paid,
    )

    assert (done.reserved_again, done.waiting) == (0, 2)
    assert Allocation.objects.get().state == AllocationState.RELEASED
    backorder = Backorder.objects.get()
    assert (backorder.line, backorder.waiting, backorder.priority_at) == ("order_line:1", 2, paid)
    # The books no longer hold the missing units: nobody else can be sold them.
    row = Stock.objects.get(sku=sku, bin=bin_)
    assert (row.on_hand, row.reserved) == (0, 0)
    with pytest.raises(services.OutOfStock):
        _reserve(sku, 1, group="order:2")
    # A count that finds them after all brings them back, and the waiting order gets them.
    services.post_stock_take(bin_id=bin_.pk, counts={sku.pk: 2}, actor=clerk, reason="found")
    assert Backorder.objects.get().filled_at is not None
    assert not ledger_differences()


def test_more_than_is_left_to_pick_there_is_refused(clerk):
    bin_ = BinFactory()
    sku = SKUFactory()
    services.receive(sku_id=sku.pk, bin_id=bin_.pk, quantity=2)
    _reserve(sku, 2)

    with pytest.raises(StockError):
        services.reallocate_missing(
            group="order:1", sku_id=sku.pk, bin_id=bin_.pk, quantity=3, actor=clerk, reason="x"
        )

    assert Stock.objects.get(sku=sku, bin=bin_).reserved == 2
