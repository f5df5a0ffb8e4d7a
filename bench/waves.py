"""Benchmark: promotion-day bulk work on the warehouse floor (FUL-7), time and peak memory.

    .venv/bin/python bench/waves.py                     # throwaway SQLite, 5,000 orders
    .venv/bin/python bench/waves.py --orders 20000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/benchwaves .venv/bin/python bench/waves.py

Without DATABASE_URL the database is a throwaway SQLite file in a temporary VAR_DIR (removed at
the end unless --keep), so the demo database is never touched. With DATABASE_URL that database
is migrated and the benchmark's rows are added and deleted again at the end; they are all
named BENCH-…

Seeded in bulk (only the bulk work is timed), in one warehouse of 200 bins:
- `--orders` paid orders (5,000) with their fulfillment in the queue, each reserving one or
  two lines of 200 SKUs;
- a tenth as many paid orders waiting for stock (open backorders, no fulfillment) and a fifth
  as many unpaid orders holding reservations, for the stock check;
- stock per SKU covering its reservations plus 0–4 free units; low-stock thresholds on a
  quarter of the SKUs.

Measured, each on the same queue and undone before the next:
- `fulfillment.bulk.hold_queue` of the whole queue, then `services.release` of all of it;
- `services.create_waves` making ONE pick list of all the orders, then 100 of 50;
- `fulfillment.readiness.readiness()`, the pre-event stock check over all warehouses.

On PostgreSQL the tables are ANALYZEd after seeding, as autovacuum would have them after such a
load; --stale-statistics skips that, to see the plans right after a bulk load.

Printed per step: wall time (best of --repeat runs), the statements it made, the peak of
Python allocations (tracemalloc, in a separate run, as tracing slows it down) and the
process's peak resident size (ru_maxrss) after it. Settings are config.settings.dev with DEBUG
off, so that queries are not kept in memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKUS = 200


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--orders", type=int, default=5_000, help="Paid orders in the queue (default 5000)."
    )
    parser.add_argument("--repeat", type=int, default=3, help="Timed runs per step (3).")
    parser.add_argument(
        "--stale-statistics",
        action="store_true",
        help="PostgreSQL: skip the ANALYZE after seeding (the planner's view right after a load).",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the throwaway VAR_DIR.")
    args = parser.parse_args()
    if args.orders < 100:
        parser.error("need at least 100 orders (100 pick lists of 50 are cut from them)")
    return args


def configure() -> Path | None:
    """Point Django at the database to measure; return the throwaway VAR_DIR, if one is made."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("DEBUG", "0")
    throwaway = None
    if not os.environ.get("DATABASE_URL"):
        throwaway = Path(tempfile.mkdtemp(prefix="shop-bench-"))
        os.environ["VAR_DIR"] = str(throwaway)
    import django

    django.setup()
    return throwaway


def max_rss_mb() -> float:
    # Linux reports kilobytes (macOS bytes; the benchmark is run on Linux).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(tag: str, count: int):
    """The warehouse, its stock and orders (see the module's docstring); returns the
    warehouse and the acting planner."""
    from django.utils import timezone

    from accounts.models import User
    from catalog.models import SKU, Category, Product
    from fulfillment.models import Fulfillment
    from inventory.models import Allocation, Backorder, Bin, Stock, StockThreshold, Warehouse
    from orders.models import Order, OrderState

    label = f"BENCH-{tag}"
    now = timezone.now()
    planner = User.objects.create_superuser(email=f"{label.lower()}@example.com", password=None)
    warehouse = Warehouse.objects.create(
        code=f"B{tag[:10]}", name=f"{label} 杭州一号仓", province="浙江省", city="杭州市"
    )
    bins = Bin.objects.bulk_create(
        Bin(warehouse=warehouse, code=f"A-{n // 50 + 1:02d}-{n % 50 + 1:02d}", walk_order=n)
        for n in range(SKUS)
    )
    category = Category.objects.create(name=label, slug=label.lower())
    products = Product.objects.bulk_create(
        Product(category=category, name=f"{label} 保温杯 {n}", slug=f"{label.lower()}-{n}")
        for n in range(SKUS)
    )
    skus = SKU.objects.bulk_create(
        SKU(
            product=product,
            code=f"{label}-{n:04d}",
            barcode=f"{label}-{n:04d}",
            price=Decimal("99.00"),
            weight_grams=300,
        )
        for n, product in enumerate(products)
    )

    def order(i: int, state: str) -> Order:
        return Order(
            number=f"B{tag[:6]}{i:08d}",
            customer=planner,
            recipient_name="张伟",
            recipient_phone="13812345678",
            province="浙江省",
            city="杭州市",
            district="西湖区",
            address_line="文三路 478 号",
            goods_amount="99.00",
            total_amount="99.00",
            paid_amount="99.00" if state == OrderState.PAID else "0.00",
            state=state,
            created_at=now,
            paid_at=now if state == OrderState.PAID else None,
        )

    waiting, unpaid = count // 10, count // 5
    paid_orders = Order.objects.bulk_create(
        (order(i, OrderState.PAID) for i in range(count + waiting)), batch_size=2000
    )
    unpaid_orders = Order.objects.bulk_create(
        (order(count + waiting + i, OrderState.PENDING_PAYMENT) for i in range(unpaid)),
        batch_size=2000,
    )
    queued, backordered = paid_orders[:count], paid_orders[count:]

    # Lines: every order one unit of SKU i, odd ones two more of SKU 7i.
    lines: list[tuple[int, int, int]] = []  # (order id, sku index, units)
    units_of: dict[int, int] = {}
    for i, each in enumerate([*queued, *unpaid_orders]):
        lines.append((each.pk, i % SKUS, 1))
        if i % 2:
            lines.append((each.pk, (7 * i) % SKUS, 2))
        units_of[each.pk] = 1 + (2 if i % 2 else 0)
    reserved = [0] * SKUS
    for _order, sku, units in lines:
        reserved[sku] += units
    stock = Stock.objects.bulk_create(
        Stock(sku=skus[n], bin=bins[n], on_hand=reserved[n] + n % 5, reserved=reserved[n])
        for n in range(SKUS)
    )
    Allocation.objects.bulk_create(
        (
            Allocation(
                group=f"order:{order_id}",
                line=f"order_line:{order_id}-{sku}",
                stock=stock[sku],
                quantity=units,
            )
            for order_id, sku, units in lines
        ),
        batch_size=2000,
    )
    Backorder.objects.bulk_create(
        (
            Backorder(
                group=f"order:{each.pk}",
                line=f"order_line:{each.pk}-w",
                sku=skus[i % SKUS],
                quantity=1 + i % 3,
                province="浙江省",
                priority_at=now,
            )
            for i, each in enumerate(backordered)
        ),
        batch_size=2000,
    )
    StockThreshold.objects.bulk_create(
        StockThreshold(sku=skus[n], warehouse=warehouse, threshold=3) for n in range(0, SKUS, 4)
    )
    Fulfillment.objects.bulk_create(
        (
            Fulfillment(
                order=each,
                warehouse=warehouse,
                released_at=now,
                units=units_of[each.pk],
                expected_weight_grams=300 * units_of[each.pk],
            )
            for each in queued
        ),
        batch_size=2000,
    )
    return warehouse, planner


def cleanup(tag: str) -> None:
    from accounts.models import User
    from catalog.models import SKU, Category, Product
    from fulfillment.models import Fulfillment, Wave
    from inventory.models import Allocation, Backorder, Bin, Stock, StockThreshold, Warehouse
    from orders.models import Order

    label = f"BENCH-{tag}"
    planner = User.objects.filter(email=f"{label.lower()}@example.com").first()
    warehouse = Warehouse.objects.filter(name__startswith=label).first()
    if warehouse is not None:
        Fulfillment.objects.filter(warehouse=warehouse).delete()
        Wave.objects.filter(warehouse=warehouse).delete()
        Allocation.objects.filter(stock__bin__warehouse=warehouse).delete()
        Stock.objects.filter(bin__warehouse=warehouse).delete()
        StockThreshold.objects.filter(warehouse=warehouse).delete()
        Bin.objects.filter(warehouse=warehouse).delete()
    if planner is not None:
        orders = Order.objects.filter(customer=planner)
        groups = [f"order:{pk}" for pk in orders.values_list("pk", flat=True)]
        for start in range(0, len(groups), 2000):
            Backorder.objects.filter(group__in=groups[start : start + 2000]).delete()
        orders.delete()
    SKU.objects.filter(code__startswith=label).delete()
    Product.objects.filter(slug__startswith=label.lower()).delete()
    Category.objects.filter(slug=label.lower()).delete()
    if warehouse is not None:
        warehouse.delete()
    if planner is not None:
        planner.delete()


def measure(title: str, run: Callable[[], object], undo: Callable[[], None], repeat: int):
    """Time `run` (best of `repeat`, each followed by `undo`), count its statements, then run it
    once more under tracemalloc for its peak of Python allocations."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    result = None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = run()
            timings.append(time.perf_counter() - started)
        undo()
    tracemalloc.start()
    run()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    undo()
    best, worst = min(timings), max(timings)
    print(
        f"  {title:<44} {best * 1000:8.0f} ms (worst {worst * 1000:.0f})"
        f"  {len(queries):4d} statements"
        f"  peak {peak / 2**20:6.1f} MB (tracemalloc)  ru_maxrss {max_rss_mb():.0f} MB"
    )
    return result


def main() -> None:
    args = parse_args()
    throwaway = configure()
    from django.core.management import call_command
    from django.db import connection

    from fulfillment import bulk, readiness, selectors, services
    from fulfillment.models import Fulfillment, Wave

    tag = uuid.uuid4().hex[:10]
    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        if connection.vendor == "sqlite":
            version = ".".join(map(str, connection.Database.sqlite_version_info))
        else:
            version = str(connection.cursor().connection.info.server_version)
        where = throwaway or connection.settings_dict["NAME"]
        print(f"Database: {connection.vendor} {version} ({where}); migrated in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        started = time.perf_counter()
        warehouse, planner = seed(tag, args.orders)
        if connection.vendor == "postgresql" and not args.stale_statistics:
            # Fresh planner statistics, as autovacuum would have them after such a load.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        queue = selectors.queue(warehouse_id=warehouse.pk).count()
        print(
            f"Seeded {queue:,} orders in the queue (+{args.orders // 10:,} waiting for stock, "
            f"+{args.orders // 5:,} unpaid) in {time.perf_counter() - started:.1f} s; "
            f"ru_maxrss {max_rss_mb():.0f} MB"
        )
        assert queue == args.orders, queue
        rows = Fulfillment.objects.filter(warehouse=warehouse)

        def unwave() -> None:
            rows.update(wave=None)
            Wave.objects.filter(warehouse=warehouse).delete()

        print(f"\n== {args.orders:,} orders, best of {args.repeat}")
        measure(
            f"hold the whole queue ({args.orders:,})",
            lambda: bulk.hold_queue(warehouse_id=warehouse.pk, actor=planner, reason="BENCH"),
            lambda: rows.update(held=False, hold_reason=""),
            args.repeat,
        )
        rows.update(held=True, hold_reason="BENCH")
        measure(
            f"release every held order ({args.orders:,})",
            lambda: services.release(actor=planner, warehouse_id=warehouse.pk),
            lambda: rows.update(held=True, hold_reason="BENCH"),
            args.repeat,
        )
        rows.update(held=False, hold_reason="")
        waves = measure(
            f"create_waves: 1 pick list of {args.orders:,}",
            lambda: services.create_waves(
                warehouse_id=warehouse.pk, actor=planner, wave_size=args.orders, max_waves=1
            ),
            unwave,
            args.repeat,
        )
        assert [w.order_count for w in waves] == [args.orders], [w.order_count for w in waves]
        waves = measure(
            "create_waves: 100 pick lists of 50",
            lambda: services.create_waves(
                warehouse_id=warehouse.pk, actor=planner, wave_size=50, max_waves=100
            ),
            unwave,
            args.repeat,
        )
        assert [w.order_count for w in waves] == [50] * 100
        check = measure(
            "readiness(): the stock check, all warehouses",
            readiness.readiness,
            lambda: None,
            args.repeat,
        )
        print(
            f"  → {len(check.short)} SKUs may run short ({check.units_short:,} units short for "
            f"paid orders, {check.units_short_if_all_pay:,} if all pay), "
            f"{len(check.low)} under their threshold"
        )
    finally:
        if not throwaway:
            cleanup(tag)
        connection.close()
        if throwaway and not args.keep:
            shutil.rmtree(throwaway, ignore_errors=True)
        elif throwaway:
            print(f"Kept {throwaway}")


if __name__ == "__main__":
    main()
