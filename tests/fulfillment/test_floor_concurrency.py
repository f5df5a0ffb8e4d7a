"""The floor under concurrent scans and planners, with real threads on PostgreSQL: a unit is
picked once, an order lands in one pick list, a parcel ships once, and cancelling an order
while it is being picked neither deadlocks nor leaves stock behind (FUL-2, FUL-5, ORD-7)."""

import contextlib
import threading
from collections import Counter

import pytest
from django.db import connection

from accounts.roles import Role
from fulfillment import services
from fulfillment.models import Fulfillment
from inventory.ledger import ledger_differences
from inventory.models import Allocation
from orders import services as order_services
from orders.models import OrderState, Shipment
from tests.factories import UserFactory

from .kit import (
    fulfillment_of,
    make_floor,
    pack_everything,
    paid_order,
    pick_everything,
    pick_list_for,
    stocked,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(calls) -> Counter:
    """Start every call at once on its own thread and connection; count how each ended."""
    barrier = threading.Barrier(len(calls))
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def run(call) -> None:
        try:
            barrier.wait()
            call()
            result = "done"
        except services.FloorRefused as refused:
            result = getattr(refused, "kind", "refused")
        finally:
            connection.close()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a scan is stuck (deadlock?)"
    return outcomes


def test_ten_scanners_on_five_units_pick_exactly_five():
    floor = make_floor()
    sku = stocked(floor, 10)
    order = paid_order([sku], [5])
    pickers = [UserFactory(role=Role.WAREHOUSE) for _ in range(10)]
    wave = pick_list_for(floor, [order], pickers[0])
    services.start_picking(code=wave.number, actor=pickers[0])

    outcomes = run_together(
        [
            lambda picker=picker: services.record_pick_scan(
                wave_id=wave.pk, code=sku.barcode, actor=picker
            )
            for picker in pickers
        ]
    )

    assert outcomes["done"] == 5
    assert sum(outcomes.values()) == 10
    assert Allocation.objects.get(group=f"order:{order.pk}").picked == 5
    order.refresh_from_db()
    assert order.state == OrderState.PICKED
    assert ledger_differences() == []


def test_two_planners_at_once_never_put_an_order_in_two_pick_lists():
    floor = make_floor()
    sku = stocked(floor, 12)
    orders = [paid_order([sku]) for _ in range(12)]
    planners = [UserFactory(role=Role.WAREHOUSE) for _ in range(2)]

    outcomes = run_together(
        [
            lambda planner=planner: services.create_waves(
                warehouse_id=floor.warehouse.pk, actor=planner, wave_size=3, max_waves=4
            )
            for planner in planners
        ]
    )

    assert outcomes["done"] >= 1
    waves = {fulfillment_of(order).wave_id for order in orders}
    assert None not in waves  # every order is on exactly one list (the FK holds one)
    listed = sum(wave.order_count for wave in {fulfillment_of(o).wave for o in orders})
    assert listed == 12


def test_a_parcel_scanned_twice_at_once_ships_once():
    floor = make_floor()
    sku = stocked(floor, 1)
    order = paid_order([sku])
    staff = [UserFactory(role=Role.WAREHOUSE) for _ in range(2)]
    pick_everything(pick_list_for(floor, [order], staff[0]), staff[0])
    parcel = pack_everything(fulfillment_of(order), staff[0], floor.carrier)

    outcomes = run_together(
        [
            lambda user=user: services.record_hand_over(code=parcel.tracking_number, actor=user)
            for user in staff
        ]
    )

    assert outcomes == Counter({"done": 1, "already": 1})
    assert Shipment.objects.filter(order=order).count() == 1
    assert ledger_differences() == []


def test_cancelling_while_the_order_is_picked_neither_deadlocks_nor_loses_stock():
    floor = make_floor()
    skus = [stocked(floor, 6, bin_index=i) for i in range(3)]
    order = paid_order(skus, [2, 2, 2])
    picker = UserFactory(role=Role.WAREHOUSE)
    agent = UserFactory(role=Role.SERVICE)
    wave = pick_list_for(floor, [order], picker)
    services.start_picking(code=wave.number, actor=picker)

    def pick_all() -> None:
        for sku in skus * 2:
            with contextlib.suppress(services.ScanRefused):
                services.record_pick_scan(wave_id=wave.pk, code=sku.barcode, actor=picker)

    def cancel() -> None:
        order_services.cancel_order(order_id=order.pk, actor=agent, reason="Customer rang")

    outcomes = run_together([pick_all, cancel])

    assert outcomes["done"] == 2
    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED
    assert Fulfillment.objects.get(order=order).state == "cancelled"
    assert not Allocation.objects.filter(
        group=f"order:{order.pk}", state__in=["reserved", "picked"]
    ).exists()
    assert ledger_differences() == []
