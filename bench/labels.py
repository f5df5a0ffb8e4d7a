"""Benchmark: shipping labels rendered to one PDF (FUL-4, FUL-7), time and peak memory.

    .venv/bin/python bench/labels.py                      # throwaway SQLite: 500, then 2000
    .venv/bin/python bench/labels.py --labels 500 --job   # also through a background batch
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/benchlabels .venv/bin/python bench/labels.py

Without DATABASE_URL the database is a throwaway SQLite file in a temporary VAR_DIR (removed at
the end), so the demo database is never touched. With DATABASE_URL that database is migrated
and the benchmark's rows are added and deleted again at the end; they are all named BENCH-…:
a customer, a warehouse, a carrier, and one paid-and-picked order per label with its
fulfillment and one packed parcel (bulk inserts: only the rendering is timed).

For each size given (largest seeded once), the labels of that many parcels are rendered with
`fulfillment.documents.write_labels(document_data.iter_labels(ids), file)`, the same call the
batch worker makes, into a file in a temporary folder. Printed per size:

- the time to read the rows alone (`iter_labels`, chunks of 200) and the queries it makes;
- the wall time of the whole rendering (reads and drawing), labels per second;
- the pages and size of the PDF (read back with pypdf);
- the peak of Python allocations during the rendering (tracemalloc, in a second run, as
  tracemalloc slows the run down) and the process's peak resident size (ru_maxrss) before and
  after the rendering.

With --job the largest size is also rendered as a `DocumentJob` through
`fulfillment.document_jobs.render_job` (progress written every 25 labels).
Settings are config.settings.dev with DEBUG off, so that queries are not kept in memory.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--labels",
        type=int,
        nargs="+",
        default=[500, 2000],
        help="Labels per PDF, one run per size (default: 500 2000).",
    )
    parser.add_argument(
        "--job", action="store_true", help="Also render the largest size as a background batch."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the throwaway VAR_DIR.")
    args = parser.parse_args()
    if min(args.labels) < 1:
        parser.error("need at least one label")
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


def seed(tag: str, count: int) -> list[int]:
    """`count` packed parcels, each of its own picked order; returns their ids."""
    from django.utils import timezone

    from accounts.models import User
    from fulfillment.models import Fulfillment, FulfillmentState, PackageType, Parcel
    from inventory.models import Warehouse
    from orders.models import Carrier, Order, OrderState, ShippingService

    label = f"BENCH-{tag}"
    now = timezone.now()
    customer = User.objects.create_user(email=f"{label.lower()}@example.com", password=None)
    warehouse = Warehouse.objects.create(
        code=f"B{tag[:10]}",
        name=f"{label} 杭州一号仓",
        province="浙江省",
        city="杭州市",
        address="余杭区仓前街道文一西路 1500 号",
    )
    carrier = Carrier.objects.create(code=f"B{tag[:8]}", name=f"{label} 顺丰速运")
    orders = Order.objects.bulk_create(
        Order(
            number=f"B{tag[:6]}{i:08d}",
            customer=customer,
            recipient_name="张伟",
            recipient_phone="13812345678",
            province="浙江省",
            city="杭州市",
            district="西湖区",
            address_line="文三路 478 号华星时代广场 A 座 1203 室",
            postcode="310013",
            goods_amount="10.00",
            total_amount="10.00",
            paid_amount="10.00",
            state=OrderState.PICKED,
            created_at=now,
            paid_at=now,
        )
        for i in range(count)
    )
    fulfillments = Fulfillment.objects.bulk_create(
        Fulfillment(
            order=order,
            warehouse=warehouse,
            state=FulfillmentState.PACKED,
            units=2,
            expected_weight_grams=1200,
            is_fragile=i % 3 == 0,
            released_at=now,
            picked_at=now,
            packed_at=now,
        )
        for i, order in enumerate(orders)
    )
    parcels = Parcel.objects.bulk_create(
        Parcel(
            fulfillment=fulfillment,
            package_type=PackageType.BOX_S,
            weight_grams=1250,
            carrier=carrier,
            service=ShippingService.EXPRESS,
            tracking_number=f"SF{tag[:4]}{i:010d}",
            packed_by=customer,
            packed_at=now,
        )
        for i, fulfillment in enumerate(fulfillments)
    )
    return [parcel.pk for parcel in parcels]


def cleanup(tag: str) -> None:
    from accounts.models import User
    from fulfillment.models import DocumentJob, Fulfillment, Parcel
    from inventory.models import Warehouse
    from orders.models import Carrier, Order

    label = f"BENCH-{tag}"
    customer = User.objects.filter(email=f"{label.lower()}@example.com").first()
    Parcel.objects.filter(carrier__name__startswith=label).delete()
    Fulfillment.objects.filter(warehouse__name__startswith=label).delete()
    if customer is not None:
        DocumentJob.objects.filter(requested_by=customer).delete()
        Order.objects.filter(customer=customer).delete()
        customer.delete()
    Carrier.objects.filter(name__startswith=label).delete()
    Warehouse.objects.filter(name__startswith=label).delete()


def pages_of(path: Path) -> int | None:
    try:
        from pypdf import PdfReader
    except ImportError:
        return None
    return len(PdfReader(str(path)).pages)


def render(ids: list[int], folder: Path) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fulfillment import document_data, documents

    count = len(ids)
    print(f"\n== {count:,} labels")
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        rows = sum(1 for _label in document_data.iter_labels(ids))
        read = time.perf_counter() - started
    assert rows == count, (rows, count)
    print(f"  reading the rows alone     {read * 1000:8.0f} ms  ({len(queries)} queries)")

    path = folder / f"labels-{count}.pdf"
    rss_before = max_rss_mb()
    started = time.perf_counter()
    with path.open("wb") as out:
        documents.write_labels(document_data.iter_labels(ids), out)
    wall = time.perf_counter() - started
    rss_after = max_rss_mb()
    pages = pages_of(path)
    size = path.stat().st_size
    print(f"  rendering to one PDF       {wall * 1000:8.0f} ms  ({count / wall:,.0f} labels/s)")
    print(f"  pages                      {pages if pages is not None else '?':>8}")
    print(
        f"  file size                  {size / 1024:8.0f} KB  ({size / count / 1024:.1f} KB/label)"
    )

    tracemalloc.start()
    with path.open("wb") as out:
        documents.write_labels(document_data.iter_labels(ids), out)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  peak Python allocations    {peak / 2**20:8.1f} MB  (tracemalloc)")
    print(f"  peak resident size         {rss_after:8.0f} MB  (ru_maxrss; {rss_before:.0f} before)")


def render_as_job(ids: list[int], customer_email: str) -> None:
    from accounts.models import User
    from fulfillment import document_jobs
    from fulfillment.models import DocumentJob, DocumentKind, JobState

    job = DocumentJob.objects.create(
        kind=DocumentKind.LABELS,
        object_ids=ids,
        total=len(ids),
        requested_by=User.objects.get(email=customer_email),
    )
    started = time.perf_counter()
    document_jobs.render_job(job.pk, language="zh-hans")
    wall = time.perf_counter() - started
    job.refresh_from_db()
    assert job.state == JobState.DONE, job.error
    print(f"\n== background batch of {len(ids):,} labels (render_job, progress every 25)")
    print(f"  {wall * 1000:.0f} ms, done {job.done}/{job.total}, file {job.filename}")


def main() -> None:
    args = parse_args()
    throwaway = configure()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    tag = uuid.uuid4().hex[:10]
    folder = Path(tempfile.mkdtemp(prefix="shop-labels-"))
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
        ids = seed(tag, max(args.labels))
        print(f"Seeded {len(ids):,} packed parcels in {time.perf_counter() - started:.1f} s")
        for size in sorted(args.labels):
            render(ids[:size], folder)
        if args.job:
            settings.DOCUMENTS_DIR = folder / "documents"
            render_as_job(ids, f"bench-{tag}@example.com")
    finally:
        if not throwaway:
            cleanup(tag)
        connection.close()
        shutil.rmtree(folder, ignore_errors=True)
        if throwaway and not args.keep:
            shutil.rmtree(throwaway, ignore_errors=True)
        elif throwaway:
            print(f"Kept {throwaway}")


if __name__ == "__main__":
    main()
