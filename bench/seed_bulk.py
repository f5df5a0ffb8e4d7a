"""Benchmark: bulk order insertion (`manage.py seed_bulk`) and the staff order list.

    .venv/bin/python bench/seed_bulk.py                   # throwaway SQLite: 10k, then 100k orders
    .venv/bin/python bench/seed_bulk.py --orders 50000    # one size
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/seed_bulk.py

Without DATABASE_URL the database is a throwaway SQLite file in a temporary VAR_DIR (removed at
the end unless --keep), so the demo database is never touched. With DATABASE_URL that database
is migrated and orders are added to it: for each size given, the number of orders is topped up
to that size with `seed_bulk`, then the staff order list is measured. Start from an empty
database (dropdb/createdb) for figures that mean what they say.

Printed: the insert rate of `seed_bulk` (orders/s and orders/min), then for the first page of
50 of `orders.selectors.staff_order_list()` (with and without filters) and for
`orders.selectors.state_counts()`: the median and best time and the number of queries.
Settings are config.settings.dev with DEBUG off, so that queries are not logged in memory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE_SIZE = 50


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--orders",
        type=int,
        nargs="+",
        default=[10_000, 100_000],
        help="Total order counts to measure at, ascending (default: 10000 100000).",
    )
    parser.add_argument("--batch-size", type=int, default=5000, help="seed_bulk batch size.")
    parser.add_argument("--repeat", type=int, default=7, help="Timed runs per query (7).")
    parser.add_argument(
        "--explain", action="store_true", help="Print the plan of the first-page query."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the throwaway SQLite VAR_DIR.")
    return parser.parse_args()


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


def timed(run: Callable[[], object], repeat: int) -> tuple[float, float, int]:
    """(median ms, best ms, queries) of `run`, after one untimed warm-up run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run()
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            run()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), min(timings), len(queries)


def measure_lists(repeat: int, explain: bool) -> None:
    from django.core.paginator import Paginator
    from django.utils import timezone

    from orders.models import Order
    from orders.selectors import staff_order_list, state_counts

    newest = Order.objects.order_by("-created_at").values_list("number", "created_at").first()
    month_ago = timezone.localdate() - timedelta(days=30)
    cases: dict[str, dict] = {
        "all orders": {},
        "state=paid": {"state": "paid"},
        "marketplace, last 30 days": {"channel": "marketplace", "placed_from": month_ago},
        "search by order number": {"search": newest[0] if newest else ""},
    }

    def first_page(filters: dict) -> Callable[[], object]:
        def run() -> list:
            page = Paginator(staff_order_list(**filters), PAGE_SIZE).get_page(1)
            return [(order.number, order.customer) for order in page.object_list]

        return run

    def rows_only(filters: dict) -> Callable[[], object]:
        return lambda: list(staff_order_list(**filters)[:PAGE_SIZE])

    def count_only(filters: dict) -> Callable[[], object]:
        return lambda: staff_order_list(**filters).count()

    heading = f"staff_order_list() page 1 of {PAGE_SIZE}"
    print(f"  {heading:<44} {'median':>9} {'best':>9}  queries")
    for label, filters in cases.items():
        median, best, queries = timed(first_page(filters), repeat)
        print(f"  {label:<44} {median:>7.1f}ms {best:>7.1f}ms  {queries}")
        if not filters:
            for part, run in (
                ("  of which the rows", rows_only),
                ("  of which the count", count_only),
            ):
                median, best, queries = timed(run(filters), repeat)
                print(f"  {part:<44} {median:>7.1f}ms {best:>7.1f}ms  {queries}")
    median, best, queries = timed(state_counts, repeat)
    print(f"  {'state_counts()':<44} {median:>7.1f}ms {best:>7.1f}ms  {queries}")
    if explain:
        print("  plan of the first page:")
        plan = staff_order_list()[:PAGE_SIZE].explain()
        print("    " + plan.replace("\n", "\n    "))


def main() -> None:
    args = parse_args()
    throwaway = configure()
    from django.core.management import call_command
    from django.db import connection

    from orders.models import Order

    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        where = throwaway or connection.settings_dict["NAME"]
        if connection.vendor == "sqlite":
            version = ".".join(map(str, connection.Database.sqlite_version_info))
        else:
            version = str(connection.cursor().connection.info.server_version)
        print(f"Database: {connection.vendor} {version} ({where}); migrated in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip

        for target in sorted(args.orders):
            missing = target - Order.objects.count()
            print(f"\n== {target:,} orders")
            if missing > 0:
                out = StringIO()
                call_command(
                    "seed_bulk", orders=missing, batch_size=args.batch_size, seed=target,
                    stdout=out,
                )  # fmt: skip
                print("  seed_bulk: " + out.getvalue().strip().replace("\n", "\n  "))
                if connection.vendor == "postgresql":
                    # What autovacuum would soon do: fresh statistics for the planner.
                    with connection.cursor() as cursor:
                        cursor.execute("ANALYZE")
            else:
                print(f"  (already {Order.objects.count():,} orders: nothing inserted)")
            measure_lists(args.repeat, args.explain)
    finally:
        connection.close()
        if throwaway and not args.keep:
            shutil.rmtree(throwaway, ignore_errors=True)
        elif throwaway:
            print(f"\nKept the throwaway database in {throwaway}")


if __name__ == "__main__":
    main()
