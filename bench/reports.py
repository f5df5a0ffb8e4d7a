"""Benchmark: the monthly sales report (RPT-1) on many orders, beside hand-written SQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/salesbench \\
        .venv/bin/python bench/reports.py                      # 1,000,000 orders
    DATABASE_URL=… .venv/bin/python bench/reports.py --orders 200000
    DATABASE_URL=… .venv/bin/python bench/reports.py --reuse   # measure what is there

PostgreSQL only. The database is migrated and topped up to `--orders` orders with
`manage.py seed_bulk` (as bench/seed_bulk.py does: the missing orders, seeded with the target
size; then ANALYZE), unless `--reuse`, which measures the orders already there. Start from an
empty database (dropdb/createdb) for figures that mean what they say.

Measured, for the last complete month (or `--month 2026-10`), the median and best of
`--repeat` runs after one warm-up, and the number of queries:

- `reports.sales.build()`: the whole report (summary, by day, four breakdowns, top products and
  SKUs, each beside the previous month);
- the summary and by-day tables alone, as the report computes them;
- the same summary and by-day figures with hand-written SQL `GROUP BY`s (`HAND_SQL`: the
  aggregates of both months in one pass with FILTER, per local day with AT TIME ZONE), checked
  to give the same numbers;
- the ratio of the two; the target is under 2 s and within 1.5× of the SQL;
- the manager dashboard page (`reports:dashboard`), fetched in-process with Django's test
  client as a manager, if that URL exists.

Settings are config.settings.dev with DEBUG off, so that queries are not kept in memory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from importlib import import_module
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The summary and by-day figures of the sales report, written by hand. Parameters: start of
# the previous month, start and end of the month, the shop's time zone.
_SOLD = """
    o.created_at >= %(previous)s AND o.created_at < %(end)s
    AND o.channel <> 'replacement' AND NOT (o.state = 'cancelled' AND o.paid_at IS NULL)
"""
HAND_SQL = {
    "orders": f"""
        SELECT count(*) FILTER (WHERE o.created_at >= %(start)s),
               sum(o.goods_amount) FILTER (WHERE o.created_at >= %(start)s),
               sum(o.discount_amount) FILTER (WHERE o.created_at >= %(start)s),
               sum(o.shipping_amount) FILTER (WHERE o.created_at >= %(start)s),
               count(*) FILTER (WHERE o.created_at < %(start)s),
               sum(o.goods_amount) FILTER (WHERE o.created_at < %(start)s),
               sum(o.discount_amount) FILTER (WHERE o.created_at < %(start)s),
               sum(o.shipping_amount) FILTER (WHERE o.created_at < %(start)s)
        FROM orders_order o WHERE {_SOLD}
    """,
    "items": f"""
        SELECT sum(l.quantity) FILTER (WHERE o.created_at >= %(start)s),
               sum(l.quantity) FILTER (WHERE o.created_at < %(start)s)
        FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id WHERE {_SOLD}
    """,
    "refunds": f"""
        SELECT sum(r.amount) FILTER (WHERE o.created_at >= %(start)s),
               sum(r.amount) FILTER (WHERE o.created_at < %(start)s)
        FROM payments_refund r JOIN payments_payment p ON p.id = r.payment_id
        JOIN orders_order o ON o.id = p.order_id WHERE r.status = 'succeeded' AND {_SOLD}
    """,
    "payouts": f"""
        SELECT sum((e.details ->> 'amount')::numeric) FILTER (WHERE o.created_at >= %(start)s),
               sum((e.details ->> 'amount')::numeric) FILTER (WHERE o.created_at < %(start)s)
        FROM aftersales_requestevent e
        JOIN aftersales_aftersalesrequest q ON q.id = e.request_id
        JOIN orders_order o ON o.id = q.order_id
        WHERE e.kind = 'refunded' AND e.details ->> 'method' = 'manual' AND {_SOLD}
    """,
    "by_day": f"""
        SELECT (o.created_at AT TIME ZONE %(zone)s)::date AS day, count(*),
               sum(o.goods_amount),
               sum(o.goods_amount - o.discount_amount + o.shipping_amount)
        FROM orders_order o WHERE {_SOLD} AND o.created_at >= %(start)s
        GROUP BY day ORDER BY day
    """,
    "refunds_by_day": f"""
        SELECT (o.created_at AT TIME ZONE %(zone)s)::date AS day, sum(r.amount)
        FROM payments_refund r JOIN payments_payment p ON p.id = r.payment_id
        JOIN orders_order o ON o.id = p.order_id
        WHERE r.status = 'succeeded' AND {_SOLD} AND o.created_at >= %(start)s
        GROUP BY day
    """,
    "payouts_by_day": f"""
        SELECT (o.created_at AT TIME ZONE %(zone)s)::date AS day,
               sum((e.details ->> 'amount')::numeric)
        FROM aftersales_requestevent e
        JOIN aftersales_aftersalesrequest q ON q.id = e.request_id
        JOIN orders_order o ON o.id = q.order_id
        WHERE e.kind = 'refunded' AND e.details ->> 'method' = 'manual' AND {_SOLD}
          AND o.created_at >= %(start)s
        GROUP BY day
    """,
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="Orders (1000000).")
    parser.add_argument(
        "--reuse", action="store_true", help="Measure the orders already there; seed none."
    )
    parser.add_argument("--month", default="", help="The month to report, e.g. 2026-10.")
    parser.add_argument("--batch-size", type=int, default=5000, help="seed_bulk batch size.")
    parser.add_argument("--repeat", type=int, default=5, help="Timed runs of each (5).")
    parser.add_argument("--explain", action="store_true", help="Print the plan of each query.")
    return parser.parse_args()


def configure() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("DEBUG", "0")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/reports.py measures PostgreSQL: set DATABASE_URL=postgres://…")
    import django

    django.setup()


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


def hand_written(period) -> dict:
    """The summary and by-day figures by hand-written SQL: {figure: (current, previous)} and
    {day: (orders, gmv, net)}."""
    from django.conf import settings
    from django.db import connection

    params = {
        "previous": period.previous().starts_at,
        "start": period.starts_at,
        "end": period.ends_at,
        "zone": settings.TIME_ZONE,
    }
    out = {}
    with connection.cursor() as cursor:
        for name, sql in HAND_SQL.items():
            cursor.execute(sql, params)
            out[name] = cursor.fetchall()
    zero = Decimal("0.00")
    (o,), (items,), (refunds,), (payouts,) = (
        out["orders"], out["items"], out["refunds"], out["payouts"],
    )  # fmt: skip
    summary = {}
    for index, now in ((0, "current"), (1, "previous")):
        orders, goods, discounts, shipping = o[index * 4 : index * 4 + 4]
        goods, discounts, shipping = (v or zero for v in (goods, discounts, shipping))
        refunded = (refunds[index] or zero) + (payouts[index] or zero)
        summary[now] = {
            "orders": orders,
            "items": items[index] or 0,
            "gmv": goods,
            "discounts": discounts,
            "shipping": shipping,
            "refunds": refunded,
            "net": goods - discounts + shipping - refunded,
        }
    back = {}
    for day, amount in out["refunds_by_day"] + out["payouts_by_day"]:
        back[day] = back.get(day, zero) + amount
    by_day = {day: (n, gmv, placed - back.get(day, zero)) for day, n, gmv, placed in out["by_day"]}
    return {"summary": summary, "by_day": by_day}


def summary_and_days(period, filters) -> list:
    """The report's own summary and by-day tables, without the breakdowns."""
    from django.db.models import Q

    from reports import sales

    both = sales._Sources(period.previous().starts_at, period.ends_at, filters)
    now, before = Q(created_at__gte=period.starts_at), Q(created_at__lt=period.starts_at)
    return [
        sales._summary(sales._cells(both, now, before)),
        sales._by_day(period, filters, sales._list_filters()),
    ]


def check_same(tables: list, hand: dict) -> None:
    """The report and the hand-written SQL must agree, figure by figure."""
    summary = {row["key"]: row for row in tables[0].rows}
    for key, figures in hand["summary"]["current"].items():
        assert summary[key]["current"] == figures, (key, summary[key]["current"], figures)
    for key, figures in hand["summary"]["previous"].items():
        assert summary[key]["previous"] == figures, (key, summary[key]["previous"], figures)
    for row in tables[1].rows:
        expected = hand["by_day"].get(row["day"], (0, Decimal("0.00"), Decimal("0.00")))
        assert (row["orders"], row["gmv"], row["net"]) == expected, (row, expected)


def dashboard_timer(period) -> Callable[[], object] | None:
    from django.conf import settings
    from django.contrib.auth import login
    from django.test import Client, RequestFactory
    from django.urls import NoReverseMatch, reverse

    from accounts.models import User

    try:
        url = reverse("reports:dashboard")
    except NoReverseMatch:
        return None
    manager = User.objects.filter(groups__name="manager", is_active=True).first()
    if manager is None:
        print("  (no manager account to open the dashboard with)")
        return None
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    # Client.force_login() logs in from a request without an address, which the sign-in
    # audit refuses: log in through a request that has one, and hand its session over.
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    login(request, manager, backend="django.contrib.auth.backends.ModelBackend")
    request.session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key

    def run() -> int:
        response = client.get(url, {"kind": period.kind, "period": period.key})
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        return len(response.content)

    return run


def main() -> None:
    args = parse_args()
    configure()
    from django.core.management import call_command
    from django.db import connection

    from orders.models import Order
    from reports import sales
    from reports.periods import PeriodKind, last_complete_period, parse_period
    from reports.registry import ReportFilters

    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        version = connection.cursor().connection.info.server_version
        print(f"Database: postgresql {version} ({connection.settings_dict['NAME']}); "
              f"migrated in {time.perf_counter() - started:.1f} s")  # fmt: skip
        total = Order.objects.count()
        if not args.reuse and total < args.orders:
            out = StringIO()
            call_command(
                "seed_bulk", orders=args.orders - total, batch_size=args.batch_size,
                seed=args.orders, stdout=out,
            )  # fmt: skip
            print("  seed_bulk: " + out.getvalue().strip().replace("\n", "\n  "))
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            total = Order.objects.count()
        period = (
            parse_period(PeriodKind.MONTH, args.month)
            if args.month
            else last_complete_period(PeriodKind.MONTH)
        )
        if period is None:
            sys.exit(f"--month {args.month!r} is not a month like 2026-10")
        in_month = Order.objects.filter(
            created_at__gte=period.starts_at, created_at__lt=period.ends_at
        ).count()
        print(f"\n== {total:,} orders; month {period.key}: {in_month:,} orders placed")

        filters = ReportFilters()
        check_same(summary_and_days(period, filters), hand_written(period))
        print("  the report's summary and by-day figures equal the hand-written SQL's")

        cases = {
            "sales.build() (whole report)": lambda: sales.build(period=period, filters=filters),
            "  summary + by day (report)": lambda: summary_and_days(period, filters),
            "  summary + by day (hand SQL)": lambda: hand_written(period),
            "sales.build(), channel=marketplace": lambda: sales.build(
                period=period, filters=ReportFilters(channel="marketplace")
            ),
        }
        dashboard = dashboard_timer(period)
        if dashboard is not None:
            cases["dashboard page (reports:dashboard)"] = dashboard
        else:
            print("  (no reports:dashboard URL: page not measured)")
        results = {}
        print(f"  {'':<40} {'median':>10} {'best':>10}  queries")
        for label, run in cases.items():
            median, best, queries = timed(run, args.repeat)
            results[label] = median
            print(f"  {label:<40} {median:>8.1f}ms {best:>8.1f}ms  {queries}")
        hand = results["  summary + by day (hand SQL)"]
        print(f"\n  summary + by day, report ÷ hand SQL: "
              f"{results['  summary + by day (report)'] / hand:.2f}×")  # fmt: skip
        print(f"  whole report ÷ hand SQL (summary + by day): "
              f"{results['sales.build() (whole report)'] / hand:.2f}×")  # fmt: skip
        whole = results["sales.build() (whole report)"]
        print(f"  whole report under 2 s: {'yes' if whole < 2000 else 'NO'}")
        if args.explain:
            for table in sales.build(period=period, filters=filters):
                print(f"  {table.key}: {len(table.rows)} rows")
            with connection.cursor() as cursor:
                params = {
                    "previous": period.previous().starts_at,
                    "start": period.starts_at,
                    "end": period.ends_at,
                    "zone": "Asia/Shanghai",
                }
                for name, sql in HAND_SQL.items():
                    cursor.execute("EXPLAIN ANALYZE " + sql, params)
                    plan = "\n    ".join(row[0] for row in cursor.fetchall())
                    print(f"  plan of {name}:\n    {plan}")
    finally:
        connection.close()


if __name__ == "__main__":
    main()
