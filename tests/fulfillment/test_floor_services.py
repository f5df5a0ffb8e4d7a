"""The warehouse floor through its services: reaching the queue, pick lists, scan-verified
picking, packing with weight, hand-over, short picks and interception (FUL-1..FUL-5, ORD-7)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.roles import Role
from fulfillment import selectors, services
from fulfillment.models import (
    ActivityKind,
    FloorActivity,
    Fulfillment,
    FulfillmentState,
    PackageType,
    ShortPick,
    ShortReason,
    SizeFilter,
    WaveState,
)
from inventory import services as inventory_services
from inventory.models import (
    Allocation,
    AllocationState,
    Backorder,
    MovementKind,
    Stock,
    StockMovement,
)
from notifications.models import Notification, NotificationKind
from orders import services as order_services
from orders.models import (
    Carrier,
    OrderEventKind,
    OrderState,
    PaymentMethod,
    Shipment,
    ShippingService,
)
from tests.factories import UserFactory, make_address, make_order, stock_sku

from .kit import (
    fulfillment_of,
    make_floor,
    pack_everything,
    paid_order,
    pick_everything,
    pick_list_for,
    stocked,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor():
    return make_floor()


@pytest.fixture
def staff():
    return UserFactory(role=Role.WAREHOUSE)


def refused(kind, call, **kwargs):
    with pytest.raises(services.ScanRefused) as error:
        call(**kwargs)
    assert error.value.kind == kind, error.value.message
    return error.value


# --- reaching the floor -----------------------------------------------------------------------
def test_a_paid_order_reaches_its_warehouse_queue_with_its_figures(floor):
    glass = stocked(floor, 5, weight_grams=250, is_fragile=True)
    mug = stocked(floor, 5, bin_index=1, weight_grams=400)

    order = paid_order([glass, mug], [2, 1])

    fulfillment = fulfillment_of(order)
    assert fulfillment.warehouse == floor.warehouse
    assert (fulfillment.units, fulfillment.expected_weight_grams) == (3, 900)
    assert fulfillment.is_fragile
    assert list(selectors.queue(warehouse_id=floor.warehouse.pk)) == [fulfillment]


def test_unpaid_and_held_orders_stay_out_of_the_queue(floor):
    sku = stocked(floor, 5)
    unpaid = make_order(skus=[sku], stock=False)
    held = paid_order([sku])
    order_services.flag_for_review(order_id=held.pk, reason="Address looks wrong")

    assert not Fulfillment.objects.filter(order=unpaid).exists()
    assert list(selectors.queue(warehouse_id=floor.warehouse.pk)) == []


def test_cash_on_delivery_orders_reach_the_floor_unpaid(floor):
    order = paid_order([stocked(floor, 1)], payment_method=PaymentMethod.CASH_ON_DELIVERY)

    assert list(selectors.queue(warehouse_id=floor.warehouse.pk)) == [fulfillment_of(order)]


def test_an_order_split_across_warehouses_gets_one_part_per_warehouse(floor):
    other = make_floor()
    sku_here = stocked(floor, 1)
    sku_there = stocked(other, 1)

    order = paid_order([sku_here, sku_there])

    assert {f.warehouse for f in order.fulfillments.all()} == {floor.warehouse, other.warehouse}


def test_new_orders_can_arrive_held_and_be_released_in_bulk(floor, settings, staff):
    settings.WAREHOUSE_HOLD_NEW_ORDERS = True
    sku = stocked(floor, 3)
    orders = [paid_order([sku]) for _ in range(3)]
    assert list(selectors.queue(warehouse_id=floor.warehouse.pk)) == []

    released = services.release(actor=staff, warehouse_id=floor.warehouse.pk, limit=2)

    assert released == 2
    queue = list(selectors.queue(warehouse_id=floor.warehouse.pk))
    assert [f.order for f in queue] == orders[:2]  # the oldest first
    assert orders[0].events.filter(kind=OrderEventKind.WAREHOUSE_RELEASED).count() == 1


def test_holding_needs_a_reason_and_keeps_the_order_out_of_pick_lists(floor, staff):
    order = paid_order([stocked(floor, 1)])
    fulfillment = fulfillment_of(order)

    with pytest.raises(services.FloorRefused):
        services.hold(fulfillment_ids=[fulfillment.pk], actor=staff, reason=" ")
    assert services.hold(fulfillment_ids=[fulfillment.pk], actor=staff, reason="Customer rang") == 1

    assert list(selectors.queue(warehouse_id=floor.warehouse.pk)) == []
    with pytest.raises(services.FloorRefused):
        services.create_waves(warehouse_id=floor.warehouse.pk, actor=staff)


def test_customers_and_agents_cannot_plan_the_floor(floor):
    order = paid_order([stocked(floor, 1)])
    for role in (Role.CUSTOMER, Role.SERVICE):
        with pytest.raises(services.FloorRefused):
            services.create_waves(warehouse_id=floor.warehouse.pk, actor=UserFactory(role=role))
    assert fulfillment_of(order).wave is None


# --- pick lists -------------------------------------------------------------------------------
def test_waves_are_cut_by_size_and_carrier_oldest_first(floor, staff):
    sku = stocked(floor, 20)
    singles = [paid_order([sku]) for _ in range(3)]
    multi = paid_order([sku], [2])
    other_carrier = Carrier.objects.create(code="ZZ", name="Other")
    Fulfillment.objects.filter(order=singles[2]).update(carrier=other_carrier)

    (by_carrier,) = services.create_waves(
        warehouse_id=floor.warehouse.pk, actor=staff, carrier_id=other_carrier.pk
    )
    waves = services.create_waves(
        warehouse_id=floor.warehouse.pk,
        actor=staff,
        size=SizeFilter.SINGLE,
        wave_size=1,
        max_waves=5,
    )

    assert [f.order for f in by_carrier.fulfillments.all()] == [singles[2]]
    assert [w.order_count for w in waves] == [1, 1]
    assert [fulfillment_of(o).wave for o in singles[:2]] == waves
    assert fulfillment_of(multi).wave is None
    (rest,) = services.create_waves(warehouse_id=floor.warehouse.pk, actor=staff)
    assert (rest.order_count, rest.unit_count) == (1, 2)


def test_a_cut_off_leaves_later_orders_for_the_next_wave(floor, staff):
    sku = stocked(floor, 5)
    early = paid_order([sku])
    late = paid_order([sku])
    Fulfillment.objects.filter(order=late).update(released_at=timezone.now() + timedelta(hours=2))

    (wave,) = services.create_waves(
        warehouse_id=floor.warehouse.pk, actor=staff, cutoff=timezone.now() + timedelta(hours=1)
    )

    assert [f.order for f in wave.fulfillments.all()] == [early]
    assert wave.unit_count == 1


def test_the_pick_list_walks_the_bins_in_order_with_each_orders_share(floor, staff):
    near = stocked(floor, 10, bin_index=0)
    far = stocked(floor, 10, bin_index=2)
    first = paid_order([far, near], [1, 2])
    second = paid_order([near], [3])

    wave = pick_list_for(floor, [first, second], staff)
    picklist = selectors.pick_list(wave)

    assert [(line.bin_code, line.sku_code, line.quantity) for line in picklist.lines] == [
        (near.stock.get().bin.code, near.code, 5),
        (far.stock.get().bin.code, far.code, 1),
    ]
    assert [(s.slot, s.order_number, s.quantity) for s in picklist.lines[0].shares] == [
        (1, first.number, 2),
        (2, second.number, 3),
    ]
    assert [(slot.order_number, slot.units) for slot in picklist.slots] == [
        (first.number, 3),
        (second.number, 3),
    ]


def test_an_open_pick_list_can_be_cancelled_and_its_orders_go_back(floor, staff):
    order = paid_order([stocked(floor, 1)])
    wave = pick_list_for(floor, [order], staff)

    services.cancel_wave(wave_id=wave.pk, actor=staff)

    wave.refresh_from_db()
    assert wave.state == WaveState.CANCELLED
    assert list(selectors.queue(warehouse_id=floor.warehouse.pk)) == [fulfillment_of(order)]


# --- picking ----------------------------------------------------------------------------------
def test_scans_need_the_pick_list_scanned_first(floor, staff):
    sku = stocked(floor, 1)
    wave = pick_list_for(floor, [paid_order([sku])], staff)

    refused("closed", services.record_pick_scan, wave_id=wave.pk, code=sku.barcode, actor=staff)
    refused("unknown", services.start_picking, code="W99999999", actor=staff)


def test_every_scanning_rule_of_picking(floor, staff):
    sku = stocked(floor, 5)
    stranger = stocked(floor, 5)
    order = paid_order([sku], [2])
    wave = pick_list_for(floor, [order], staff)
    services.start_picking(code=f" {wave.number.lower()} ", actor=staff)

    refused("unknown", services.record_pick_scan, wave_id=wave.pk, code="0000", actor=staff)
    refused(
        "wrong_item", services.record_pick_scan, wave_id=wave.pk, code=stranger.barcode, actor=staff
    )
    first = services.record_pick_scan(wave_id=wave.pk, code=sku.barcode, actor=staff)
    assert (first.slot, first.order_number, first.line_left, first.order_done) == (
        1,
        order.number,
        1,
        False,
    )
    last = services.record_pick_scan(wave_id=wave.pk, code=sku.code, actor=staff)
    assert last.order_done and last.wave_done
    # The list is done; a third unit is one too many (the wave no longer takes scans).
    refused("closed", services.record_pick_scan, wave_id=wave.pk, code=sku.barcode, actor=staff)


def test_one_unit_too_many_is_refused_while_others_are_still_picked(floor, staff):
    sku = stocked(floor, 5)
    other = stocked(floor, 5)
    order = paid_order([sku, other])
    wave = pick_list_for(floor, [order], staff)
    services.start_picking(code=wave.number, actor=staff)
    services.record_pick_scan(wave_id=wave.pk, code=sku.barcode, actor=staff)

    error = refused(
        "too_many", services.record_pick_scan, wave_id=wave.pk, code=sku.barcode, actor=staff
    )
    assert sku.code in error.message
    assert Allocation.objects.get(group=f"order:{order.pk}", stock__sku=sku).picked == 1


def test_picking_moves_stock_through_the_ledger_and_the_order_becomes_picked(floor, staff):
    sku = stocked(floor, 4)
    order = paid_order([sku], [3])
    wave = pick_list_for(floor, [order], staff)

    pick_everything(wave, staff)

    order.refresh_from_db()
    assert order.state == OrderState.PICKED
    assert order.events.filter(kind=OrderEventKind.PICKED, actor=staff).count() == 1
    assert fulfillment_of(order).state == FulfillmentState.PICKED
    picks = StockMovement.objects.filter(sku=sku, kind=MovementKind.PICK)
    assert picks.count() == 6  # out of the bin and into the packing area, per scan
    storage = Stock.objects.get(sku=sku, bin__is_staging=False)
    assert (storage.on_hand, storage.reserved) == (1, 0)
    assert FloorActivity.objects.filter(kind=ActivityKind.PICK, actor=staff).count() == 3
    wave.refresh_from_db()
    assert (wave.state, wave.picker) == (WaveState.DONE, staff)
    call_command("check_stock_ledger")


def test_a_split_order_is_picked_only_when_every_warehouse_has_picked(floor, staff):
    other = make_floor()
    here, there = stocked(floor, 1), stocked(other, 1)
    order = paid_order([here, there])

    pick_everything(pick_list_for(floor, [order], staff), staff)
    order.refresh_from_db()
    assert order.state == OrderState.PAID

    pick_everything(pick_list_for(other, [order], staff), staff)
    order.refresh_from_db()
    assert order.state == OrderState.PICKED


def test_a_short_pick_sets_the_newest_order_aside_for_customer_service(
    floor, staff, django_capture_on_commit_callbacks
):
    sku = stocked(floor, 3)
    older = paid_order([sku], [2])
    newer = paid_order([sku], [1])
    wave = pick_list_for(floor, [older, newer], staff)
    services.start_picking(code=wave.number, actor=staff)
    bin = sku.stock.get(bin__is_staging=False).bin

    (short,) = services.report_short_pick(
        wave_id=wave.pk,
        sku_id=sku.pk,
        bin_id=bin.pk,
        quantity=1,
        reason=ShortReason.NOT_IN_BIN,
        actor=staff,
    )

    assert (short.fulfillment.order, short.quantity) == (newer, 1)
    assert fulfillment_of(newer).state == FulfillmentState.SHORT
    newer.refresh_from_db()
    assert newer.needs_review and bin.code in newer.review_reason
    # INV-5: the missing unit leaves the bin's reservations; with no other bin holding one,
    # it waits for stock.
    assert Backorder.objects.get(group=f"order:{newer.pk}").waiting == 1
    assert fulfillment_of(older).state == FulfillmentState.READY  # the older goes on
    services.record_pick_scan(wave_id=wave.pk, code=sku.barcode, actor=staff)
    assert services.record_pick_scan(wave_id=wave.pk, code=sku.barcode, actor=staff).wave_done
    # Nothing is reserved on the missing unit any more: the bin can be counted.
    inventory_services.post_stock_take(
        bin_id=bin.pk, counts={sku.pk: 0}, actor=staff, reason="Counted after a short pick"
    )

    order_services.release_held_order(
        order_id=newer.pk, actor=UserFactory(role=Role.SERVICE), reason="Wait for stock"
    )
    closed = fulfillment_of(newer)
    assert (closed.state, closed.stopped_from) == (
        FulfillmentState.CANCELLED,
        FulfillmentState.SHORT,
    )
    assert ShortPick.objects.get().resolved_at is not None
    assert list(selectors.queue(warehouse_id=floor.warehouse.pk)) == []

    with django_capture_on_commit_callbacks(execute=True):
        inventory_services.receive(sku_id=sku.pk, bin_id=floor.bins[1].pk, quantity=1)

    part = Fulfillment.objects.get(order=newer, state=FulfillmentState.READY)
    assert part.units == 1
    assert list(selectors.queue(warehouse_id=floor.warehouse.pk)) == [part]
    call_command("check_stock_ledger")


def test_a_short_picked_unit_found_in_another_bin_is_picked_from_there(floor, staff):
    first, elsewhere = floor.bins[2], floor.bins[0]  # walked first, walked last
    sku = stock_sku(1, bin=first)
    inventory_services.receive(sku_id=sku.pk, bin_id=elsewhere.pk, quantity=1)
    order = paid_order([sku], [1])
    wave = pick_list_for(floor, [order], staff)
    services.start_picking(code=wave.number, actor=staff)
    assert [line.bin_id for line in selectors.pick_list(wave).lines] == [first.pk]

    services.report_short_pick(
        wave_id=wave.pk,
        sku_id=sku.pk,
        bin_id=first.pk,
        quantity=1,
        reason=ShortReason.NOT_IN_BIN,
        actor=staff,
    )
    assert not Backorder.objects.exists()  # reserved again in the other bin
    order_services.release_held_order(
        order_id=order.pk, actor=UserFactory(role=Role.SERVICE), reason="Pick it elsewhere"
    )

    resumed = fulfillment_of(order)
    assert (resumed.state, resumed.units) == (FulfillmentState.READY, 1)
    new_wave = pick_list_for(floor, [order], staff)
    assert [line.bin_id for line in selectors.pick_list(new_wave).lines] == [elsewhere.pk]
    pick_everything(new_wave, staff)
    order.refresh_from_db()
    assert order.state == OrderState.PICKED
    call_command("check_stock_ledger")


def test_a_short_pick_cannot_claim_more_than_is_left(floor, staff):
    sku = stocked(floor, 3)
    wave = pick_list_for(floor, [paid_order([sku])], staff)
    services.start_picking(code=wave.number, actor=staff)

    with pytest.raises(services.FloorRefused):
        services.report_short_pick(
            wave_id=wave.pk,
            sku_id=sku.pk,
            bin_id=sku.stock.get(bin__is_staging=False).bin_id,
            quantity=2,
            reason=ShortReason.DAMAGED,
            actor=staff,
        )
    assert not ShortPick.objects.exists()


# --- packing ----------------------------------------------------------------------------------
@pytest.fixture
def picked(floor, staff):
    glass = stocked(floor, 5, weight_grams=500, is_fragile=True)
    mug = stocked(floor, 5, bin_index=1, weight_grams=300)
    order = paid_order([mug, glass], [1, 2])
    pick_everything(pick_list_for(floor, [order], staff), staff)
    return order, glass, mug


def test_packing_shows_fragile_goods_first_and_refuses_wrong_and_extra_items(floor, staff, picked):
    order, glass, mug = picked
    fulfillment = fulfillment_of(order)
    assert [line.sku_id for line in selectors.pack_lines(fulfillment)] == [glass.pk, mug.pk]
    stranger = stocked(floor, 1)

    refused(
        "wrong_item",
        services.record_pack_scan,
        fulfillment_id=fulfillment.pk,
        code=stranger.barcode,
        actor=staff,
    )
    services.record_pack_scan(fulfillment_id=fulfillment.pk, code=mug.barcode, actor=staff)
    refused(
        "too_many",
        services.record_pack_scan,
        fulfillment_id=fulfillment.pk,
        code=mug.barcode,
        actor=staff,
    )


def test_a_parcel_needs_every_item_confirmed_first(floor, staff, picked):
    order, glass, mug = picked
    fulfillment = fulfillment_of(order)
    services.record_pack_scan(fulfillment_id=fulfillment.pk, code=mug.barcode, actor=staff)

    with pytest.raises(services.FloorRefused, match="2"):
        services.add_parcel(
            fulfillment_id=fulfillment.pk,
            package_type=PackageType.BOX_M,
            weight_grams=1300,
            carrier_id=floor.carrier.pk,
            service=ShippingService.EXPRESS,
            actor=staff,
        )


def test_a_weight_far_from_the_goods_warns_until_confirmed(floor, staff, picked):
    order, _glass, _mug = picked
    fulfillment = fulfillment_of(order)
    assert fulfillment.expected_weight_grams == 1300

    with pytest.raises(services.WeightMismatch) as mismatch:
        pack_everything(fulfillment, staff, floor.carrier, weight_grams=2000)
    assert (mismatch.value.expected, mismatch.value.actual) == (1300, 2000)
    assert not fulfillment.parcels.exists()

    parcel = services.add_parcel(
        fulfillment_id=fulfillment.pk,
        package_type=PackageType.BOX_M,
        weight_grams=2000,
        carrier_id=floor.carrier.pk,
        service=ShippingService.FREIGHT,
        actor=staff,
        weight_confirmed=True,
    )
    assert parcel.tracking_number.startswith("SBX") and len(parcel.tracking_number) == 15
    assert fulfillment_of(order).state == FulfillmentState.PACKED


def test_within_tolerance_packs_without_a_warning(floor, staff, picked):
    order, _glass, _mug = picked
    parcel = pack_everything(fulfillment_of(order), staff, floor.carrier, weight_grams=1450)
    assert parcel.weight_grams == 1450


def test_several_parcels_are_weighed_together(floor, staff, picked):
    order, _glass, _mug = picked
    fulfillment = fulfillment_of(order)
    first = pack_everything(fulfillment, staff, floor.carrier, weight_grams=700, last=False)
    assert fulfillment_of(order).state == FulfillmentState.PICKED

    second = services.add_parcel(
        fulfillment_id=fulfillment.pk,
        package_type=PackageType.BOX_S,
        weight_grams=650,
        carrier_id=floor.carrier.pk,
        service=ShippingService.EXPRESS,
        actor=staff,
    )

    assert first.tracking_number != second.tracking_number
    assert fulfillment_of(order).state == FulfillmentState.PACKED


def test_a_manual_carrier_needs_the_number_from_its_waybill(floor, staff, picked):
    order, _glass, _mug = picked
    manual = Carrier.objects.create(code="MAN", name="Manual Co", integration="manual")

    with pytest.raises(services.FloorRefused, match="type or scan"):
        pack_everything(fulfillment_of(order), staff, manual)
    parcel = services.add_parcel(
        fulfillment_id=fulfillment_of(order).pk,
        package_type=PackageType.BOX_M,
        weight_grams=1300,
        carrier_id=manual.pk,
        service=ShippingService.EXPRESS,
        tracking_number=" sf-1234 5678 9012 ",
        actor=staff,
    )
    assert parcel.tracking_number == "SF123456789012"


def test_a_tracking_number_is_used_once(floor, staff, picked):
    order, glass, _mug = picked
    manual = Carrier.objects.create(code="MAN", name="Manual Co", integration="manual")
    pack_everything(
        fulfillment_of(order), staff, manual, tracking_number="MAN000000001", last=False
    )

    with pytest.raises(services.FloorRefused, match="already"):
        services.add_parcel(
            fulfillment_id=fulfillment_of(order).pk,
            package_type=PackageType.BOX_M,
            weight_grams=600,
            carrier_id=manual.pk,
            service=ShippingService.EXPRESS,
            tracking_number="MAN000000001",
            actor=staff,
            last=False,
        )


# --- hand-over --------------------------------------------------------------------------------
def test_the_hand_over_ships_the_order_consumes_stock_and_tells_the_customer(floor, staff, picked):
    order, glass, mug = picked
    parcel = pack_everything(fulfillment_of(order), staff, floor.carrier, weight_grams=1300)

    handed = services.record_hand_over(code=parcel.tracking_number.lower(), actor=staff)

    assert handed.order_shipped and handed.parcels_left == 0
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    shipment = Shipment.objects.get(order=order)
    assert (shipment.tracking_number, shipment.carrier, shipment.weight_grams) == (
        parcel.tracking_number,
        floor.carrier,
        1300,
    )
    assert shipment.expected_delivery == timezone.localdate() + timedelta(
        days=floor.carrier.express_days
    )
    assert not Stock.objects.filter(bin__is_staging=True, on_hand__gt=0).exists()
    assert (
        Allocation.objects.filter(group=f"order:{order.pk}")
        .exclude(state=AllocationState.SHIPPED)
        .count()
        == 0
    )
    notice = Notification.objects.get(kind=NotificationKind.ORDER_SHIPPED)
    assert parcel.tracking_number in str(notice.context)
    assert FloorActivity.objects.filter(kind=ActivityKind.HAND_OVER, actor=staff).count() == 1
    call_command("check_stock_ledger")

    error = refused("already", services.record_hand_over, code=parcel.tracking_number, actor=staff)
    assert parcel.tracking_number in error.message
    assert Shipment.objects.filter(order=order).count() == 1


def test_an_unknown_or_unpacked_parcel_is_refused(floor, staff, picked):
    order, _glass, _mug = picked
    refused("unknown", services.record_hand_over, code="SBX999", actor=staff)

    parcel = pack_everything(
        fulfillment_of(order), staff, floor.carrier, weight_grams=700, last=False
    )
    refused("closed", services.record_hand_over, code=parcel.tracking_number, actor=staff)


def test_the_first_warehouse_of_a_split_order_ships_its_part_first(staff):
    here, there = make_floor(), make_floor()
    a, b = stocked(here, 1), stocked(there, 1)
    order = paid_order([a, b])
    pick_everything(pick_list_for(here, [order], staff), staff)
    parcel = pack_everything(fulfillment_of(order, here.warehouse), staff, here.carrier)

    handed = services.record_hand_over(code=parcel.tracking_number, actor=staff)

    assert not handed.order_shipped
    order.refresh_from_db()
    assert order.state == OrderState.PAID
    assert order.events.filter(kind=OrderEventKind.PART_SHIPPED).count() == 1
    assert Shipment.objects.filter(order=order).count() == 1

    pick_everything(pick_list_for(there, [order], staff), staff)
    second = pack_everything(fulfillment_of(order, there.warehouse), staff, there.carrier)
    assert services.record_hand_over(code=second.tracking_number, actor=staff).order_shipped
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    call_command("check_stock_ledger")


# --- interception -----------------------------------------------------------------------------
def test_a_cancelled_order_is_stopped_on_the_floor_and_its_scans_refused(floor, staff, picked):
    order, glass, _mug = picked
    agent = UserFactory(role=Role.SERVICE)

    order_services.cancel_order(order_id=order.pk, actor=agent, reason="Customer changed mind")

    fulfillment = fulfillment_of(order)
    assert (fulfillment.state, fulfillment.stopped_from) == (
        FulfillmentState.CANCELLED,
        FulfillmentState.PICKED,
    )
    assert order.events.filter(kind=OrderEventKind.INTERCEPTED).exists()
    error = refused(
        "stopped",
        services.record_pack_scan,
        fulfillment_id=fulfillment.pk,
        code=glass.barcode,
        actor=staff,
    )
    assert order.number in error.message
    assert selectors.floor_counts(warehouse_id=floor.warehouse.pk)["to_put_back"] == 1
    # The ledger has put the goods back in their bins; staff confirm they did it too.
    assert not Stock.objects.filter(bin__is_staging=True, on_hand__gt=0).exists()
    services.confirm_put_back(fulfillment_id=fulfillment.pk, actor=staff)
    assert selectors.floor_counts(warehouse_id=floor.warehouse.pk)["to_put_back"] == 0
    call_command("check_stock_ledger")


def test_a_packed_parcel_of_a_cancelled_order_is_refused_at_hand_over(floor, staff, picked):
    order, _glass, _mug = picked
    parcel = pack_everything(fulfillment_of(order), staff, floor.carrier)
    order_services.cancel_order(
        order_id=order.pk, actor=UserFactory(role=Role.SERVICE), reason="Fraud suspected"
    )

    error = refused("stopped", services.record_hand_over, code=parcel.tracking_number, actor=staff)

    assert "STOP" in error.message
    assert not Shipment.objects.exists()


def test_picking_a_cancelled_order_is_refused_and_the_list_finishes_without_it(floor, staff):
    sku = stocked(floor, 2)
    kept, dropped = paid_order([sku]), paid_order([sku])
    wave = pick_list_for(floor, [kept, dropped], staff)
    services.start_picking(code=wave.number, actor=staff)
    order_services.cancel_order(
        order_id=dropped.pk, actor=UserFactory(role=Role.SERVICE), reason="Duplicate order"
    )

    assert services.record_pick_scan(wave_id=wave.pk, code=sku.barcode, actor=staff).wave_done
    wave.refresh_from_db()
    assert wave.state == WaveState.DONE
    assert [slot.order_number for slot in selectors.pick_list(wave).slots] == [kept.number]


# --- address changed after labelling ----------------------------------------------------------
def test_an_address_changed_after_labelling_stops_the_hand_over_until_relabelled(
    floor, staff, picked
):
    order, _glass, _mug = picked
    parcel = pack_everything(fulfillment_of(order), staff, floor.carrier)
    agent = UserFactory(role=Role.SERVICE)

    order_services.change_address(
        order_id=order.pk,
        address=make_address(address_line="延安西路 200 号 3 楼"),
        actor=agent,
        reason="Customer moved",
    )

    assert fulfillment_of(order).relabel_since is not None
    error = refused("held", services.record_hand_over, code=parcel.tracking_number, actor=staff)
    assert "label" in error.message
    assert not Shipment.objects.exists()

    services.confirm_relabelled(fulfillment_id=fulfillment_of(order).pk, actor=staff)
    assert services.record_hand_over(code=parcel.tracking_number, actor=staff).order_shipped


def test_an_address_change_before_labelling_needs_no_new_label(floor, staff, picked):
    order, _glass, _mug = picked

    order_services.change_address(
        order_id=order.pk,
        address=make_address(address_line="延安西路 200 号 3 楼"),
        actor=UserFactory(role=Role.SERVICE),
        reason="Customer moved",
    )

    assert fulfillment_of(order).relabel_since is None
