"""Benchmark: orders from other sales channels (ORD-12, API-1): the marketplace CSV import and
the JSON API's order create, beside direct calls of the one path both take.

    .venv/bin/python -m bench.channels                       # throwaway SQLite
    .venv/bin/python -m bench.channels --orders 2000 --creates 500
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/benchch .venv/bin/python -m bench.channels

(`.venv/bin/python bench/channels.py …` works the same.)

VAR_DIR (the SQLite file, the file cache the API's rate limit counts in, the filesystem broker
that hand-overs at commit are written to) is a throwaway directory, removed at the end unless
--keep; --var-dir names one instead (kept). With DATABASE_URL that database is migrated and the
benchmark's rows (all named BENCH-…) are left in it: channel orders bring payments, ledger rows,
fulfillments, audit and import records with them. Give it a database of its own.

Seeded: 20 SKUs with ample stock in one warehouse (浙江省), a marketplace store (Tmall column
headers), a store of kind "api" and a key with every scope. Every order has 2 lines, 8.00
shipping, its own buyer and address (so the audit's orders-per-address rule passes them all).

1. Marketplace import (`stores.imports`), a file of --orders orders (1,000: 2,000 rows), as the
   worker runs it (`run_import` of a stored `StoreImport`, synchronously, no broker):
   - the check alone: `read_file` + `check_rows` of the whole file (best of 3);
   - check and place every order (`run_import`, each order its own transaction);
   - the same file again as a new import: everything found, nothing new.
   Each with its statements, then the tracemalloc peak of one more run (the check; the same
   file again; and, unless --no-trace-import, the whole import of a second, fresh file) and
   ru_maxrss.
2. JSON API (`POST /api/orders` through django.test.Client, Bearer key): --creates creates
   (300), each interleaved with a direct `stores.services.place_channel_order` of the same
   order, so both see the same machine load and the same growing tables; mean, p50 and p95
   per call and statements per call, and the ratio API ÷ direct. Then --creates replays of one
   create with the same Idempotency-Key (the kept answer), and as many sends of a known
   external_id without the header (the first order found again).

API_RATE_LIMIT is set to 1000000/minute unless given (the limit is not what is measured), and
CELERY_BROKER_URL to filesystem:// (under VAR_DIR) unless given.
Settings are config.settings.dev with DEBUG off, so that queries are not kept in memory.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKUS = 20


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--orders", type=int, default=1000, help="Orders in the CSV file, 2 rows each (1000)."
    )
    parser.add_argument(
        "--creates", type=int, default=300, help="API creates, and as many direct calls (300)."
    )
    parser.add_argument(
        "--no-trace-import",
        action="store_true",
        help="Skip the tracemalloc run of a whole fresh import (it takes a few times longer).",
    )
    parser.add_argument("--var-dir", help="VAR_DIR to use (kept); default a throwaway one.")
    parser.add_argument("--keep", action="store_true", help="Keep the throwaway VAR_DIR.")
    args = parser.parse_args()
    if args.orders < 1 or args.creates < 10:
        parser.error("need at least 1 order and 10 creates")
    if args.orders * 2 > 20_000:
        parser.error("an import file holds at most 20,000 rows (10,000 orders)")
    return args


def configure(var_dir: str | None) -> tuple[Path, bool]:
    """Point Django at its own VAR_DIR and the database to measure; returns (VAR_DIR, whether
    it is a throwaway one)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("API_RATE_LIMIT", "1000000/minute")
    # Hand-overs at commit go to files under VAR_DIR, never to a real broker.
    os.environ.setdefault("CELERY_BROKER_URL", "filesystem://")
    if var_dir:
        path, throwaway = Path(var_dir).resolve(), False
        path.mkdir(parents=True, exist_ok=True)
    else:
        path, throwaway = Path(tempfile.mkdtemp(prefix="shop-bench-channels-")), True
    os.environ["VAR_DIR"] = str(path)
    (path / "staticfiles").mkdir(exist_ok=True)  # WhiteNoise warns without it
    import django

    django.setup()
    return path, throwaway


def max_rss_mb() -> float:
    # Linux reports kilobytes (macOS bytes; the benchmark is run on Linux).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def counting():
    """Count the statements run inside (without keeping them, unlike CaptureQueriesContext)."""
    from django.db import connection

    counter = [0]

    def wrapper(execute, sql, params, many, context):
        counter[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counter


def traced_peak(run: Callable[[], object]) -> float:
    """The tracemalloc peak of one run, in MB."""
    tracemalloc.start()
    try:
        run()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


# --- seeding ---------------------------------------------------------------------------------
@dataclass
class Bench:
    tag: str
    admin: object
    skus: list
    market: object
    api_store: object
    token: str


def seed(tag: str, units: int) -> Bench:
    from accounts.models import User
    from api import services as api_services
    from api.models import ApiScope
    from catalog.models import SKU, Category, Product
    from inventory import services as inventory
    from inventory.models import Bin, Warehouse
    from stores.mapping import PRESETS
    from stores.models import Store, StoreKind

    label = f"BENCH-{tag}"
    admin = User.objects.create_superuser(email=f"{label.lower()}@example.com", password=None)
    warehouse = Warehouse.objects.create(
        code=f"B{tag[:10]}", name=f"{label} 杭州一号仓", province="浙江省", city="杭州市"
    )
    category = Category.objects.create(name=label, slug=label.lower())
    skus = []
    for n in range(SKUS):
        product = Product.objects.create(
            category=category, name=f"{label} 保温杯 {n}", slug=f"{label.lower()}-{n}"
        )
        sku = SKU.objects.create(
            product=product,
            code=f"{label}-{n:02d}",
            barcode=f"{label}-{n:02d}",
            price=Decimal("99.00"),
            weight_grams=300,
        )
        place = Bin.objects.create(warehouse=warehouse, code=f"A-{n:02d}", walk_order=n)
        inventory.receive(sku_id=sku.pk, bin_id=place.pk, quantity=units)
        skus.append(sku)
    market = Store.objects.create(
        code=f"bench-{tag[:8]}-tm",
        name=f"{label} Tmall",
        kind=StoreKind.MARKETPLACE,
        column_mapping=dict(PRESETS["tmall"]),
    )
    api_store = Store.objects.create(
        code=f"bench-{tag[:8]}-erp", name=f"{label} ERP", kind=StoreKind.API
    )
    token = api_services.issue_api_key(
        actor=admin, store_id=api_store.pk, name=label, scopes=list(ApiScope.values)
    ).token
    return Bench(tag, admin, skus, market, api_store, token)


# --- the marketplace file --------------------------------------------------------------------
def buyer(i: int) -> dict[str, str]:
    """Each order its own buyer and address."""
    return {
        "recipient_name": f"张伟{i}",
        "phone": f"138{i % 10**8:08d}",
        "address_line": f"文三路 {i} 号华星时代广场 A 座",
    }


def export_file(bench: Bench, prefix: str, count: int) -> bytes:
    """A Tmall export of `count` orders of 2 lines, as tests/stores/exports.py writes one."""
    import csv
    import io

    from django.utils import timezone

    from stores.mapping import IMPORT_FIELDS, PRESETS

    headers = PRESETS["tmall"]
    names = [f.name for f in IMPORT_FIELDS if f.name in headers]
    paid_at = timezone.localtime(timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([headers[name] for name in names])
    for i in range(count):
        first, second = bench.skus[i % SKUS], bench.skus[(7 * i + 3) % SKUS]
        for sku, quantity, price in ((first, 2, "129.00"), (second, 1, "39.90")):
            row = {
                "external_id": f"{prefix}-{i:06d}",
                "sku_code": sku.code,
                "quantity": str(quantity),
                "unit_price": price,
                "line_discount": "",
                "shipping_fee": "8.00",
                "order_total": "305.90",  # 2 × 129.00 + 39.90 + 8.00
                "buyer_email": "",
                "province": "浙江省",
                "city": "杭州市",
                "district": "西湖区",
                "postcode": "310013",
                "buyer_note": "",
                "payment_method": "在线支付",
                "paid_at": paid_at,
                **buyer(i),
            }
            writer.writerow([row.get(name, "") for name in names])
    return buffer.getvalue().encode("utf-8-sig")


def new_import(bench: Bench, raw: bytes):
    """A stored upload, as `request_import` leaves it, without the hand-over to the broker."""
    from stores.models import StoreImport

    return StoreImport.objects.create(
        store=bench.market,
        uploaded_by=bench.admin,
        filename="bench.csv",
        content=raw,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


@dataclass
class Row:
    label: str
    seconds: float
    statements: int
    peak_mb: float | None
    rss_mb: float
    note: str = ""


def import_phase(bench: Bench, count: int, trace_import: bool) -> list[Row]:
    from stores import imports
    from stores.models import ImportState, StoreImport

    raw = export_file(bench, f"BENCH-{bench.tag}-TM", count)
    print(f"Marketplace file: {count:,} orders, {2 * count:,} rows, {len(raw) / 1024:.0f} KB")
    rows: list[Row] = []

    def check():
        return imports.check_rows(bench.market, imports.read_file(bench.market, raw))

    timings = []
    for _ in range(3):
        with counting() as statements:
            started = time.perf_counter()
            result = check()
            timings.append(time.perf_counter() - started)
    assert result.is_clean and len(result.orders) == count, result.errors[:3]
    rows.append(
        Row("check the whole file", min(timings), statements[0], traced_peak(check), max_rss_mb())
    )

    def run(content: bytes) -> StoreImport:
        store_import = new_import(bench, content)
        assert imports.run_import(store_import.pk)
        return StoreImport.objects.get(pk=store_import.pk)

    with counting() as statements:
        started = time.perf_counter()
        done = run(raw)
        seconds = time.perf_counter() - started
    assert done.state == ImportState.DONE, done.errors[:3]
    assert (done.orders_created, done.orders_known, done.orders_failed) == (count, 0, 0)
    placed_peak = None
    if trace_import:
        fresh = export_file(bench, f"BENCH-{bench.tag}-TX", count)
        placed_peak = traced_peak(lambda: run(fresh))
    rows.append(
        Row(
            "check and place every order",
            seconds,
            statements[0],
            placed_peak,
            max_rss_mb(),
            f"{count / seconds:,.1f} orders/s, {statements[0] / count:.1f} statements/order",
        )
    )

    with counting() as statements:
        started = time.perf_counter()
        again = run(raw)
        seconds = time.perf_counter() - started
    assert (again.orders_created, again.orders_known) == (0, count), again.errors[:3]
    rows.append(
        Row(
            "the same file again (nothing new)",
            seconds,
            statements[0],
            traced_peak(lambda: run(raw)),
            max_rss_mb(),
            f"{count / seconds:,.0f} orders/s",
        )
    )
    return rows


# --- the JSON API ----------------------------------------------------------------------------
def api_payload(bench: Bench, external_id: str, i: int) -> dict:
    first, second = bench.skus[i % SKUS], bench.skus[(7 * i + 3) % SKUS]
    who = buyer(100_000 + i)
    return {
        "external_id": external_id,
        "contact_email": f"buyer{i}@example.com",
        "address": {
            "recipient_name": who["recipient_name"],
            "recipient_phone": who["phone"],
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "address_line": who["address_line"],
            "postcode": "310013",
        },
        "lines": [
            {"sku": first.code, "quantity": 2, "unit_price": "129.00"},
            {"sku": second.code, "quantity": 1, "unit_price": "39.90"},
        ],
        "shipping_amount": "8.00",
        "payment_method": "online",
        "note": "",
    }


def direct_call(bench: Bench, external_id: str, i: int):
    """The same order as `api_payload`, straight into `place_channel_order`."""
    from orders.services import LineRequest, ShippingAddress
    from stores.services import place_channel_order

    first, second = bench.skus[i % SKUS], bench.skus[(7 * i + 3) % SKUS]
    who = buyer(200_000 + i)
    placed = place_channel_order(
        store=bench.api_store,
        external_id=external_id,
        lines=[
            LineRequest(sku_id=first.pk, quantity=2, unit_price=Decimal("129.00")),
            LineRequest(sku_id=second.pk, quantity=1, unit_price=Decimal("39.90")),
        ],
        address=ShippingAddress(
            recipient_name=who["recipient_name"],
            recipient_phone=who["phone"],
            province="浙江省",
            city="杭州市",
            district="西湖区",
            address_line=who["address_line"],
            postcode="310013",
        ),
        contact_email=f"direct{i}@example.com",
        shipping_amount=Decimal("8.00"),
    )
    assert placed.created, external_id
    return placed


@dataclass
class Calls:
    label: str
    latencies: list[float]
    statements: int

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000

    def cut_ms(self, percent: int) -> float:
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[percent - 1] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies) / sum(self.latencies)


def api_phase(bench: Bench, creates: int) -> list[Calls]:
    from django.test import Client

    from orders.models import OrderState

    client = Client(HTTP_HOST="localhost")
    headers = {"Authorization": f"Bearer {bench.token}", "Accept-Language": "en"}

    def post(payload: dict, **extra):
        return client.post(
            "/api/orders",
            json.dumps(payload),
            content_type="application/json",
            headers={**headers, **extra},
        )

    def api_create(i: int, prefix: str = "API"):
        response = post(api_payload(bench, f"BENCH-{bench.tag}-{prefix}-{i:06d}", i))
        assert response.status_code == 201, response.content[:500]
        assert response.json()["state"] == OrderState.PAID, response.content[:500]
        return response

    # Warm-up (untimed); the last of each counts the statements of one call.
    for i in range(3):
        with counting() as api_statements:
            api_create(i, "APIW")
        with counting() as direct_statements:
            direct_call(bench, f"BENCH-{bench.tag}-DIRW-{i:06d}", i)

    api, direct = [], []
    for i in range(creates):
        started = time.perf_counter()
        api_create(i)
        api.append(time.perf_counter() - started)
        started = time.perf_counter()
        direct_call(bench, f"BENCH-{bench.tag}-DIR-{i:06d}", i)
        direct.append(time.perf_counter() - started)

    first_payload = api_payload(bench, f"BENCH-{bench.tag}-IDEM", 0)
    key = {"Idempotency-Key": f"BENCH-{bench.tag}"}
    first = post(first_payload, **key)
    assert first.status_code == 201, first.content[:500]
    replays = []
    for i in range(creates):
        with counting() as replay_statements:
            started = time.perf_counter()
            again = post(first_payload, **key)
            replays.append(time.perf_counter() - started)
        if i == 0:
            assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
            assert again.json() == first.json()
    known_payload = api_payload(bench, f"BENCH-{bench.tag}-API-{0:06d}", 0)
    known = []
    for _i in range(creates):
        with counting() as known_statements:
            started = time.perf_counter()
            response = post(known_payload)
            known.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:500]
    return [
        Calls("POST /api/orders (create)", api, api_statements[0]),
        Calls("place_channel_order (direct)", direct, direct_statements[0]),
        Calls("POST, same Idempotency-Key (replay)", replays, replay_statements[0]),
        Calls("POST, known external_id (found, 200)", known, known_statements[0]),
    ]


# --- main ------------------------------------------------------------------------------------
def main() -> None:
    args = parse_args()
    var_dir, throwaway = configure(args.var_dir)
    from django.core.management import call_command
    from django.db import connection

    tag = uuid.uuid4().hex[:10]
    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        if connection.vendor == "sqlite":
            version = ".".join(map(str, connection.Database.sqlite_version_info))
            where = connection.settings_dict["NAME"]
        else:
            number = connection.cursor().connection.info.server_version
            version = f"{number // 10000}.{number % 10000}"
            where = connection.settings_dict["NAME"]
        print(f"Database: {connection.vendor} {version} ({where}); VAR_DIR {var_dir}; "
              f"migrated in {time.perf_counter() - started:.1f} s")  # fmt: skip
        started = time.perf_counter()
        units = 10 * (args.orders + args.creates) + 1000
        bench = seed(tag, units)
        print(
            f"Seeded {SKUS} SKUs × {units:,} units, 2 stores, 1 API key (BENCH-{tag}) in "
            f"{time.perf_counter() - started:.1f} s; ru_maxrss {max_rss_mb():.0f} MB\n",
            flush=True,
        )

        import_rows = import_phase(bench, args.orders, not args.no_trace_import)
        print(f"\n== Marketplace import, {args.orders:,} orders × 2 lines")
        print(f"  {'step':<36} {'time':>9} {'statements':>11} {'tracemalloc':>12} "
              f"{'ru_maxrss':>10}  notes")  # fmt: skip
        for row in import_rows:
            peak = "-" if row.peak_mb is None else f"{row.peak_mb:.1f} MB"
            print(f"  {row.label:<36} {row.seconds:>8.2f}s {row.statements:>11,} {peak:>12} "
                  f"{row.rss_mb:>7.0f} MB  {row.note}")  # fmt: skip

        print(f"\nJSON API: {args.creates} creates interleaved with as many direct calls …",
              flush=True)  # fmt: skip
        calls = api_phase(bench, args.creates)
        print(f"\n== JSON API, {args.creates} calls each, 2 lines per order")
        print(f"  {'call':<38} {'mean':>8} {'p50':>8} {'p95':>8} {'rate':>9} {'statements':>11}")
        for each in calls:
            print(
                f"  {each.label:<38} {each.mean_ms:>6.1f}ms {each.cut_ms(50):>6.1f}ms "
                f"{each.cut_ms(95):>6.1f}ms {each.rate:>7.1f}/s {each.statements:>11}"
            )
        api, direct = calls[0], calls[1]
        print(
            f"\n  API ÷ direct: mean {api.mean_ms / direct.mean_ms:.2f}×, "
            f"p50 {api.cut_ms(50) / direct.cut_ms(50):.2f}×; the API's own part "
            f"{api.mean_ms - direct.mean_ms:.1f} ms and "
            f"{api.statements - direct.statements} statements per create"
        )
        print(f"  ru_maxrss at the end: {max_rss_mb():.0f} MB")
    finally:
        connection.close()
        if throwaway and not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)
        else:
            print(f"Kept VAR_DIR {var_dir}")


if __name__ == "__main__":
    main()
