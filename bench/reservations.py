"""Benchmark: reservations per second on one hot SKU, against bare row updates (INV-3, INV-4).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/reservations.py --workers 8 --reservations 2000

PostgreSQL only: on SQLite every writer takes the whole database, so there is nothing to learn
about row locks. The database is migrated first (`manage.py migrate`); the benchmark makes its
own SKU, warehouse and bins (named BENCH-…), so it can run beside other data, e.g. the orders of
bench/seed_bulk.py, and deletes all of its rows at the end.

Two phases, each with N worker processes (each with its own connection, like gunicorn or
Celery workers), all started together once connected and warmed up:

1. `inventory.services.reserve` of one unit of the hot SKU, `--reservations` times in all, each
   its own demand: every call locks the SKU's stock row, writes the row, a ledger row and an
   allocation, in one transaction.
2. The same number of bare `UPDATE inventory_stock SET reserved = reserved + 1 WHERE id = %s`
   on one stock row of the same SKU, in autocommit (one transaction each): the floor set by
   the row lock and the commit alone.

Printed: for each phase the rate (per second of wall time, from the start until the last
worker is done) and the p50 and p95 latency of one call, then the ratio of the two rates. At
the end the reserve phase's row must equal its ledger and `ledger_differences()` must be empty
(after the bare updates' row is deleted: those updates bypass the ledger on purpose).
Settings are config.settings.dev with DEBUG off, so that queries are not logged in memory.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "postgis"}
UPDATE_SQL = "UPDATE inventory_stock SET reserved = reserved + 1 WHERE id = %s"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=8, help="Concurrent workers (8).")
    parser.add_argument(
        "--reservations", type=int, default=2000, help="Calls per phase, over all workers (2000)."
    )
    args = parser.parse_args()
    if args.workers < 1 or args.reservations < args.workers:
        parser.error("need at least one worker and at least one reservation per worker")
    return args


def configure() -> None:
    """Refuse anything but PostgreSQL, then set Django up (in the parent and in each worker)."""
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in POSTGRES_SCHEMES:
        sys.exit(
            "bench/reservations.py measures row locks and needs PostgreSQL; set DATABASE_URL, "
            "e.g.\n  DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench "
            ".venv/bin/python bench/reservations.py --workers 8 --reservations 2000"
        )
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("DEBUG", "0")
    import django

    django.setup()


@dataclass
class Hot:
    """The benchmark's own catalogue and stock rows (all named after `tag`)."""

    tag: str
    sku_id: int
    reserve_stock_id: int  # the row `reserve` draws from
    update_bin_id: int  # where the bare updates' row is made, after the reserve phase


def make_hot_sku(tag: str, units: int) -> Hot:
    from catalog.models import SKU, Category, Product
    from inventory import services
    from inventory.models import Bin, Warehouse

    name = f"BENCH-{tag}"
    category = Category.objects.create(name=name, slug=name.lower())
    product = Product.objects.create(category=category, name=name, slug=name.lower())
    sku = SKU.objects.create(product=product, code=name, barcode=name, price="1.00", weight_grams=1)
    warehouse = Warehouse.objects.create(code=f"B{tag[:10]}", name=name, province="-")
    first = Bin.objects.create(warehouse=warehouse, code="BENCH-1", walk_order=1)
    second = Bin.objects.create(warehouse=warehouse, code="BENCH-2", walk_order=2)
    row = services.receive(
        sku_id=sku.pk, bin_id=first.pk, quantity=units, reference=("benchmark", name)
    )
    return Hot(tag=tag, sku_id=sku.pk, reserve_stock_id=row.pk, update_bin_id=second.pk)


def remove(hot: Hot) -> None:
    """Delete every row the benchmark made, whatever phase it stopped in."""
    from django.db import transaction

    from catalog.models import SKU, Category, Product
    from inventory.models import Allocation, Backorder, Bin, Stock, StockMovement, Warehouse

    name = f"BENCH-{hot.tag}"
    with transaction.atomic():
        Allocation.objects.filter(stock__sku_id=hot.sku_id).delete()
        Backorder.objects.filter(sku_id=hot.sku_id).delete()
        StockMovement.objects.filter(sku_id=hot.sku_id).delete()
        Stock.objects.filter(sku_id=hot.sku_id).delete()
        SKU.objects.filter(pk=hot.sku_id).delete()  # thresholds and alerts go with it
        Product.objects.filter(name=name).delete()
        Category.objects.filter(name=name).delete()
        Bin.objects.filter(warehouse__name=name).delete()
        Warehouse.objects.filter(name=name).delete()


# --- workers -------------------------------------------------------------------------------------
def _reserve_call(hot: Hot, worker: int):
    from inventory.services import DemandLine, reserve

    def call(i: int) -> None:
        demand = f"BENCH-{hot.tag}:{worker}:{i}"
        reserve(group=demand, lines=[DemandLine(demand, hot.sku_id, 1)])

    return call


def _update_call(stock_id: int):
    from django.db import connection

    cursor = connection.cursor()

    def call(_i: int) -> None:
        cursor.execute(UPDATE_SQL, [stock_id])
        if cursor.rowcount != 1:
            raise RuntimeError(f"stock row {stock_id} is gone")

    return call


def worker(phase, hot, target, worker_id, calls, ready, results) -> None:
    """Connect, warm up with one untimed call, wait for the others, then time `calls` calls."""
    try:
        configure()
        from django.db import connection

        connection.ensure_connection()
        call = _reserve_call(hot, worker_id) if phase == "reserve" else _update_call(target)
        call(-1)
        latencies = []
        ready.wait()
        started = time.perf_counter()
        for i in range(calls):
            before = time.perf_counter()
            call(i)
            latencies.append(time.perf_counter() - before)
        results.put((worker_id, started, time.perf_counter(), latencies, None))
    except BaseException:  # noqa: BLE001 - reported by the parent
        ready.abort()
        results.put((worker_id, 0.0, 0.0, [], traceback.format_exc()))
    finally:
        from django.db import connections

        connections.close_all()


@dataclass
class Figures:
    calls: int
    seconds: float
    p50_ms: float
    p95_ms: float

    @property
    def rate(self) -> float:
        return self.calls / self.seconds


def run_phase(phase: str, hot: Hot, target: int, workers: int, total: int) -> Figures:
    """Run one phase in `workers` processes; wall time runs from the common start to the end
    of the last worker (perf_counter is the system-wide monotonic clock on Linux)."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(workers)
    results = context.Queue()
    shares = [total // workers + (1 if i < total % workers else 0) for i in range(workers)]
    processes = [
        context.Process(
            target=worker, args=(phase, hot, target, i, shares[i], ready, results), daemon=True
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=1800) for _ in processes]
    for process in processes:
        process.join()
    errors = [error for *_rest, error in outcomes if error]
    if errors:
        raise RuntimeError(f"{phase}: a worker failed:\n{errors[0]}")
    started = min(o[1] for o in outcomes)
    ended = max(o[2] for o in outcomes)
    latencies = sorted(latency for o in outcomes for latency in o[3])
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Figures(len(latencies), ended - started, cuts[49] * 1000, cuts[94] * 1000)


def main() -> None:
    args = parse_args()
    configure()
    from django.core.management import call_command
    from django.db import connection

    from inventory import services
    from inventory.ledger import ledger_differences
    from inventory.models import Allocation, Stock

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    version = connection.cursor().connection.info.server_version
    print(
        f"Database: PostgreSQL {version // 10000}.{version % 10000} "
        f"({connection.settings_dict['NAME']}); migrated in {time.perf_counter() - started:.1f} s"
    )
    before = ledger_differences()
    if before:
        print(f"Note: {len(before)} stock row(s) already differ from the ledger before the run.")

    tag = uuid.uuid4().hex[:12]
    warm_ups = args.workers
    hot = make_hot_sku(tag, units=args.reservations + warm_ups + 10)
    print(
        f"{args.workers} worker process(es), {args.reservations} calls per phase, "
        f"one hot SKU (BENCH-{tag})\n"
    )
    failed = False
    try:
        reserving = run_phase("reserve", hot, hot.reserve_stock_id, args.workers, args.reservations)
        row = Stock.objects.get(pk=hot.reserve_stock_id)
        expected = args.reservations + warm_ups
        reserved = Allocation.objects.filter(stock_id=row.pk).count()
        if (row.reserved, reserved) != (expected, expected):
            raise RuntimeError(
                f"reserve phase: {row.reserved} units reserved, {reserved} allocations; "
                f"{expected} expected"
            )
        mine = [d for d in ledger_differences() if d.sku_id == hot.sku_id]
        if mine:
            raise RuntimeError(f"reserve phase: the hot row differs from its ledger: {mine}")

        # A second row of the same SKU, made now so that `reserve` never drew from it.
        update_row = services.receive(
            sku_id=hot.sku_id, bin_id=hot.update_bin_id, quantity=args.reservations + warm_ups
        )
        updating = run_phase("update", hot, update_row.pk, args.workers, args.reservations)
        update_row.refresh_from_db()
        if update_row.reserved != expected:
            raise RuntimeError(f"update phase: reserved is {update_row.reserved}, not {expected}")
    except BaseException:
        failed = True
        raise
    finally:
        remove(hot)
        after = ledger_differences()
        if after:
            failed = True
            new = "" if before else " (none before the run)"
            print(f"LEDGER CHECK FAILED: {len(after)} stock row(s) differ from the ledger{new}.")
        else:
            print("Ledger check: ledger_differences() is empty; benchmark rows deleted.")
        connection.close()

    print(f"\n  {'phase':<44} {'calls':>6} {'wall':>7} {'rate':>9} {'p50':>8} {'p95':>8}")
    for label, figures in (
        ("inventory.services.reserve (1 unit)", reserving),
        ("bare UPDATE … SET reserved = reserved + 1", updating),
    ):
        print(
            f"  {label:<44} {figures.calls:>6} {figures.seconds:>6.2f}s {figures.rate:>7.0f}/s "
            f"{figures.p50_ms:>6.2f}ms {figures.p95_ms:>6.2f}ms"
        )
    print(
        f"\n  reserve runs at {reserving.rate / updating.rate:.1%} of the bare UPDATE rate "
        f"(bare UPDATE / reserve = {updating.rate / reserving.rate:.1f}×)"
    )
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
