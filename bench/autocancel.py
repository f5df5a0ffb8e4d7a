"""Benchmark: cancelling expired unpaid orders at the payment deadline (ORD-5).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/benchac \\
        .venv/bin/python bench/autocancel.py --orders 10000

PostgreSQL only (the runs lock rows with SKIP LOCKED; on SQLite every writer takes the whole
database). The database is migrated first. The benchmark makes its own rows, all named
BENCH-…: a category, a product with `--skus` SKUs, a warehouse and bin with their stock, one
customer, and `--orders` unpaid online orders placed before their deadline, one line each, with
their stock reserved. It deletes all of them at the end. `orders.schedules.cancel_expired_orders`
cancels every expired order in the database, so the benchmark refuses to run where other
expired unpaid orders are waiting: give it a database of its own.

The orders are written fast with bulk inserts, as `create_order` would leave them (the order, its
line, its "placed" event, an allocation and a reservation movement in the ledger, the stock
row's reserved count), so that only the cancellation is timed. Two phases, each on fresh
orders, each run in its own process with its own connection, like a Celery worker:

1. one run of `cancel_expired_orders`;
2. two runs started together (a slow run overlapping the next, or two beats), sharing the work
   through SKIP LOCKED.

Printed: for each phase the orders cancelled by each run, the wall time from the common start to
the end of the last run, and orders per second. Each phase ends with every order cancelled once
(one "cancelled" event each), its stock released once (no unit left reserved on the benchmark's
rows) and `ledger_differences()` empty for them; otherwise the benchmark exits with status 1.
Settings are config.settings.dev with DEBUG off, so that queries are not kept in memory.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "postgis"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--orders", type=int, default=2_000, help="Expired orders per phase (2000)."
    )
    parser.add_argument(
        "--runs",
        default="1,2",
        help="Phases to run, as numbers of concurrent runs, comma-separated (1,2).",
    )
    parser.add_argument("--skus", type=int, default=50, help="SKUs the orders spread over (50).")
    args = parser.parse_args()
    args.runs = [int(runs) for runs in args.runs.split(",")]
    if args.orders < 2 or args.skus < 1 or min(args.runs) < 1:
        parser.error("need at least two orders, one SKU and one run per phase")
    return args


def configure() -> None:
    """Refuse anything but PostgreSQL, then set Django up (in the parent and in each run)."""
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in POSTGRES_SCHEMES:
        sys.exit(
            "bench/autocancel.py measures SKIP LOCKED runs and needs PostgreSQL; set "
            "DATABASE_URL, e.g.\n  DATABASE_URL=postgres://postgres@127.0.0.1:5432/benchac "
            ".venv/bin/python bench/autocancel.py --orders 10000"
        )
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("DEBUG", "0")
    import django

    django.setup()


@dataclass
class Bench:
    """The benchmark's own rows (all named after `tag`)."""

    tag: str
    customer_id: int
    sku_ids: list[int]
    stock_ids: list[int]  # one stock row per SKU, in `sku_ids` order


def name(tag: str) -> str:
    return f"BENCH-{tag}"


def make_bench(tag: str, skus: int, units: int) -> Bench:
    from accounts.models import User
    from catalog.models import SKU, Category, Product
    from inventory import services
    from inventory.models import Bin, Warehouse

    label = name(tag)
    category = Category.objects.create(name=label, slug=label.lower())
    product = Product.objects.create(category=category, name=label, slug=label.lower())
    warehouse = Warehouse.objects.create(code=f"B{tag[:10]}", name=label, province="-")
    bin_ = Bin.objects.create(warehouse=warehouse, code="BENCH-1", walk_order=1)
    customer = User.objects.create_user(email=f"{label.lower()}@example.com", password=None)
    sku_ids, stock_ids = [], []
    for i in range(skus):
        code = f"{label}-{i:03d}"
        sku = SKU.objects.create(
            product=product, code=code, barcode=code, price="10.00", weight_grams=1
        )
        row = services.receive(sku_id=sku.pk, bin_id=bin_.pk, quantity=units)
        sku_ids.append(sku.pk)
        stock_ids.append(row.pk)
    return Bench(tag=tag, customer_id=customer.pk, sku_ids=sku_ids, stock_ids=stock_ids)


def insert_expired_orders(bench: Bench, count: int, phase: int) -> list[int]:
    """`count` unpaid online orders placed an hour before their deadline, each with one line of
    one unit, reserved as `create_order` reserves it; return their ids."""
    from django.conf import settings
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from inventory.models import Allocation, MovementKind, Stock, StockMovement
    from orders.models import (
        Order,
        OrderEvent,
        OrderEventKind,
        OrderLine,
        OrderState,
        PaymentMethod,
    )
    from orders.services import stock_group, stock_line

    placed = timezone.now() - timedelta(minutes=settings.PAYMENT_DEADLINE_MINUTES + 60)
    per_row: dict[int, int] = {}
    ids: list[int] = []
    with transaction.atomic():
        for start in range(0, count, 2000):
            size = min(2000, count - start)
            orders = Order.objects.bulk_create(
                [
                    Order(
                        number=f"B{bench.tag[:6]}{phase}{start + i:07d}",
                        customer_id=bench.customer_id,
                        contact_email=f"{name(bench.tag).lower()}@example.com",
                        recipient_name="Bench",
                        recipient_phone="13800138000",
                        province="-",
                        city="-",
                        district="-",
                        address_line="-",
                        payment_method=PaymentMethod.ONLINE,
                        goods_amount="10.00",
                        total_amount="10.00",
                        created_at=placed,
                    )
                    for i in range(size)
                ]
            )
            skus = [bench.sku_ids[(start + i) % len(bench.sku_ids)] for i in range(size)]
            lines = OrderLine.objects.bulk_create(
                [
                    OrderLine(
                        order=order,
                        sku_id=sku_id,
                        product_name=name(bench.tag),
                        sku_code=name(bench.tag),
                        unit_price="10.00",
                        quantity=1,
                    )
                    for order, sku_id in zip(orders, skus, strict=True)
                ]
            )
            OrderEvent.objects.bulk_create(
                [
                    OrderEvent(
                        order=order,
                        created_at=placed,
                        actor_id=bench.customer_id,
                        kind=OrderEventKind.PLACED,
                        to_state=OrderState.PENDING_PAYMENT,
                    )
                    for order in orders
                ]
            )
            stock_of = dict(zip(bench.sku_ids, bench.stock_ids, strict=True))
            bin_id = Stock.objects.get(pk=bench.stock_ids[0]).bin_id
            Allocation.objects.bulk_create(
                [
                    Allocation(
                        group=stock_group(order.pk),
                        line=stock_line(line.pk),
                        stock_id=stock_of[sku_id],
                        quantity=1,
                    )
                    for order, line, sku_id in zip(orders, lines, skus, strict=True)
                ]
            )
            StockMovement.objects.bulk_create(
                [
                    StockMovement(
                        kind=MovementKind.RESERVATION,
                        sku_id=sku_id,
                        bin_id=bin_id,
                        reserved_change=1,
                        actor_id=bench.customer_id,
                        reference_type="demand_line",
                        reference_id=stock_line(line.pk),
                    )
                    for line, sku_id in zip(lines, skus, strict=True)
                ]
            )
            for sku_id in skus:
                per_row[stock_of[sku_id]] = per_row.get(stock_of[sku_id], 0) + 1
            ids += [order.pk for order in orders]
        for stock_id, units in per_row.items():
            Stock.objects.filter(pk=stock_id).update(reserved=F("reserved") + units)
    return ids


def run(ready, results, index: int) -> None:
    """One copy of the scheduled job, in its own process and connection."""
    try:
        configure()
        from django.db import connection

        from orders.schedules import cancel_expired_orders

        connection.ensure_connection()
        ready.wait()
        started = time.perf_counter()
        cancelled = cancel_expired_orders(limit=10**9)
        results.put((index, started, time.perf_counter(), cancelled, None))
    except BaseException:  # noqa: BLE001 - reported by the parent
        ready.abort()
        results.put((index, 0.0, 0.0, 0, traceback.format_exc()))
    finally:
        from django.db import connections

        connections.close_all()


@dataclass
class Figures:
    runs: int
    per_run: list[int]
    seconds: float

    @property
    def rate(self) -> float:
        return sum(self.per_run) / self.seconds


def run_phase(runs: int) -> Figures:
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(runs)
    results = context.Queue()
    processes = [
        context.Process(target=run, args=(ready, results, i), daemon=True) for i in range(runs)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=1800) for _ in processes]
    for process in processes:
        process.join()
    errors = [error for *_rest, error in outcomes if error]
    if errors:
        raise RuntimeError(f"a run failed:\n{errors[0]}")
    outcomes.sort()
    started = min(o[1] for o in outcomes)
    ended = max(o[2] for o in outcomes)
    return Figures(runs, [o[3] for o in outcomes], ended - started)


def check(bench: Bench, order_ids: list[int]) -> None:
    """Every order cancelled once, its stock released once, the ledger balanced."""
    from inventory.ledger import ledger_differences
    from inventory.models import Stock
    from orders.models import Order, OrderEvent, OrderEventKind, OrderState

    states = set(Order.objects.filter(pk__in=order_ids).values_list("state", flat=True))
    if states != {OrderState.CANCELLED}:
        raise RuntimeError(f"orders left in {states - {OrderState.CANCELLED}}")
    events = OrderEvent.objects.filter(order_id__in=order_ids, kind=OrderEventKind.CANCELLED)
    if events.count() != len(order_ids):
        raise RuntimeError(f"{events.count()} cancelled events for {len(order_ids)} orders")
    reserved = sum(Stock.objects.filter(pk__in=bench.stock_ids).values_list("reserved", flat=True))
    if reserved:
        raise RuntimeError(f"{reserved} unit(s) still reserved on the benchmark's stock rows")
    mine = [d for d in ledger_differences() if d.sku_id in set(bench.sku_ids)]
    if mine:
        raise RuntimeError(f"the benchmark's stock rows differ from their ledger: {mine[:3]}")


def remove(tag: str) -> None:
    """Delete every row the benchmark made, whatever phase it stopped in."""
    from django.db import transaction

    from accounts.models import User
    from catalog.models import SKU, Category, Product
    from inventory.models import Allocation, Backorder, Bin, Stock, StockMovement, Warehouse
    from orders.models import Order

    label = name(tag)
    with transaction.atomic():
        customer = User.objects.filter(email=f"{label.lower()}@example.com").first()
        sku_ids = list(SKU.objects.filter(product__name=label).values_list("pk", flat=True))
        if customer is not None:
            Order.objects.filter(customer=customer).delete()  # lines and events go with them
        Allocation.objects.filter(stock__sku_id__in=sku_ids).delete()
        Backorder.objects.filter(sku_id__in=sku_ids).delete()
        StockMovement.objects.filter(sku_id__in=sku_ids).delete()
        Stock.objects.filter(sku_id__in=sku_ids).delete()
        SKU.objects.filter(pk__in=sku_ids).delete()
        Product.objects.filter(name=label).delete()
        Category.objects.filter(name=label).delete()
        Bin.objects.filter(warehouse__name=label).delete()
        Warehouse.objects.filter(name=label).delete()
        if customer is not None:
            customer.delete()


def main() -> None:
    args = parse_args()
    configure()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from orders.schedules import expired_orders

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    version = connection.cursor().connection.info.server_version
    print(
        f"Database: PostgreSQL {version // 10000}.{version % 10000} "
        f"({connection.settings_dict['NAME']}); migrated in {time.perf_counter() - started:.1f} s"
    )
    others = expired_orders(timezone.now()).count()
    if others:
        sys.exit(
            f"{others} expired unpaid order(s) already wait in this database: the benchmark's "
            "runs would cancel them too. Use a database of its own."
        )

    tag = uuid.uuid4().hex[:12]
    print(
        f"{args.orders} expired orders per phase over {args.skus} SKUs (BENCH-{tag}); "
        f"batch size {settings.SCHEDULE_BATCH_SIZE}, deadline {settings.PAYMENT_DEADLINE_MINUTES} "
        "min\n"
    )
    failed = False
    phases: list[tuple[str, Figures, float]] = []
    try:
        bench = make_bench(tag, args.skus, units=len(args.runs) * args.orders)
        for phase, runs in enumerate(args.runs, start=1):
            before = time.perf_counter()
            ids = insert_expired_orders(bench, args.orders, phase)
            inserted = time.perf_counter() - before
            figures = run_phase(runs)
            if sum(figures.per_run) != len(ids):
                raise RuntimeError(f"{sum(figures.per_run)} cancelled, {len(ids)} expected")
            check(bench, ids)
            label = "one run" if runs == 1 else f"{runs} concurrent runs"
            phases.append((label, figures, inserted))
            print(
                f"  {label:<20} cancelled {'+'.join(map(str, figures.per_run)):>11} in "
                f"{figures.seconds:6.1f} s = {figures.rate:6.0f} orders/s "
                f"(orders inserted in {inserted:.1f} s)"
            )
    except BaseException:
        failed = True
        raise
    finally:
        remove(tag)
        print("\nBenchmark rows deleted.")
        connection.close()
    if failed:
        sys.exit(1)
    print("Every order cancelled once, its stock released once, the ledger balanced.")


if __name__ == "__main__":
    main()
