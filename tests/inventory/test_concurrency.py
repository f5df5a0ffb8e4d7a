"""No overselling under concurrency (INV-3), proven with real threads on PostgreSQL."""

import threading
from collections import Counter

import pytest
from django.db import connection

from inventory import services
from inventory.ledger import ledger_differences
from inventory.models import Stock
from inventory.selectors import availability
from inventory.services import DemandLine
from tests.factories import BinFactory, stock_sku

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run_concurrently(count: int, work) -> Counter:
    """Start `count` threads at once on `work(i)`; count what each returned or raised."""
    barrier = threading.Barrier(count)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait()
            result = work(i)
        except BaseException as error:  # noqa: BLE001 - counted and asserted below
            result = type(error).__name__
        finally:
            connection.close()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_fifty_buyers_of_ten_units_exactly_ten_succeed():
    sku = stock_sku(10)

    def buy(i: int) -> str:
        services.reserve(group=f"order:{i}", lines=[DemandLine(f"line:{i}", sku.pk, 1)])
        return "reserved"

    outcomes = _run_concurrently(50, buy)

    assert outcomes == Counter({"reserved": 10, "OutOfStock": 40})
    row = Stock.objects.get(sku=sku)
    assert (row.on_hand, row.reserved) == (10, 10)
    assert availability(sku_ids=[sku.pk]) == {sku.pk: 0}
    assert ledger_differences() == []


def test_last_unit_spread_over_two_bins_is_never_sold_twice():
    first = BinFactory()
    second = BinFactory(warehouse=first.warehouse)
    sku = stock_sku(3, bin=first)
    stock_sku(3, bin=second, sku=sku)

    def buy(i: int) -> str:
        services.reserve(group=f"o{i}", lines=[DemandLine("l", sku.pk, 2)])
        return "reserved"

    outcomes = _run_concurrently(20, buy)

    assert outcomes["reserved"] == 3
    assert sum(Stock.objects.filter(sku=sku).values_list("reserved", flat=True)) == 6
    assert ledger_differences() == []


def test_orders_locking_the_same_skus_in_opposite_order_both_complete():
    tea = stock_sku(100)
    cup = stock_sku(100)

    def buy(i: int) -> str:
        lines = [DemandLine("a", tea.pk, 1), DemandLine("b", cup.pk, 1)]
        if i % 2:
            lines.reverse()
        for round_ in range(5):
            services.reserve(group=f"o{i}:{round_}", lines=lines)
        return "reserved"

    outcomes = _run_concurrently(10, buy)

    assert outcomes == Counter({"reserved": 10})
    assert availability(sku_ids=[tea.pk, cup.pk]) == {tea.pk: 50, cup.pk: 50}


def test_concurrent_release_of_one_order_gives_back_once():
    sku = stock_sku(5)
    services.reserve(group="order:1", lines=[DemandLine("l", sku.pk, 5)])

    outcomes = _run_concurrently(8, lambda i: services.release(group="order:1", reason="cancel"))

    assert outcomes == Counter({5: 1, 0: 7})
    assert availability(sku_ids=[sku.pk]) == {sku.pk: 5}
    assert ledger_differences() == []


def test_concurrent_crossings_raise_one_alert_and_one_message(mailoutbox):
    from inventory.models import StockAlert, StockThreshold
    from tests.factories import UserFactory

    UserFactory(role="manager")
    sku = stock_sku(10)
    StockThreshold.objects.create(sku=sku, threshold=8)

    def buy(i: int) -> str:
        services.reserve(group=f"order:{i}", lines=[DemandLine(f"line:{i}", sku.pk, 1)])
        return "reserved"

    outcomes = _run_concurrently(10, buy)

    assert outcomes == Counter({"reserved": 10})
    alert = StockAlert.objects.get()
    assert alert.notified_at is not None
    assert len(mailoutbox) == 1


def test_restocking_during_a_stock_out_never_deadlocks_with_checkouts():
    """Receipts into different bins, releases and checkouts of one SKU with open backorders
    all run at once: every one completes (a deadlock would surface as OperationalError)."""
    from django.utils import timezone

    warehouse_bins = [BinFactory()]
    warehouse_bins += [BinFactory(warehouse=warehouse_bins[0].warehouse) for _ in range(3)]
    sku = stock_sku(4, bin=warehouse_bins[0])
    services.reserve(group="held", lines=[DemandLine("held:1", sku.pk, 4)])
    for i in range(6):
        services.reserve(
            group=f"waiting:{i}",
            lines=[DemandLine(f"waiting:{i}:1", sku.pk, 2)],
            backorder_since=timezone.now(),
        )

    def work(i: int) -> str:
        if i % 3 == 0:
            services.receive(sku_id=sku.pk, bin_id=warehouse_bins[i % 4].pk, quantity=2)
            return "received"
        if i % 3 == 1:
            services.reserve(
                group=f"buyer:{i}",
                lines=[DemandLine(f"buyer:{i}:1", sku.pk, 1)],
                backorder_since=timezone.now(),
            )
            return "reserved"
        services.release(group="held" if i == 2 else f"waiting:{i % 6}", reason="cancel")
        return "released"

    outcomes = _run_concurrently(12, work)

    assert outcomes == Counter({"received": 4, "reserved": 4, "released": 4})
    assert ledger_differences() == []
    row_totals = Stock.objects.filter(sku=sku).values_list("on_hand", "reserved")
    assert all(0 <= reserved <= on_hand for on_hand, reserved in row_totals)


def test_the_same_file_imported_twice_at_once_is_received_once():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inventory import csv_io
    from tests.factories import SKUFactory

    shelf = BinFactory(code="A-01-03")
    sku = SKUFactory(code="OPEN-1")
    text = f"sku_code,warehouse,bin,quantity\nOPEN-1,{shelf.warehouse.code},A-01-03,100\n"
    check = csv_io.check_rows(csv_io.read_file(SimpleUploadedFile("opening.csv", text.encode())))
    assert check.is_clean

    def upload(i: int) -> str:
        csv_io.import_opening_stock(check=check, filename="opening.csv", actor=None)
        return "imported"

    outcomes = _run_concurrently(4, upload)

    assert outcomes == Counter({"imported": 1, "ImportRefused": 3})
    assert Stock.objects.get(sku=sku, bin=shelf).on_hand == 100
