"""Benchmark: notifications delivered per second by one Celery worker (SPEC §5, issue 6).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nbench REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/notifications.py --notifications 2000

PostgreSQL only (the dispatcher takes rows with SKIP LOCKED), and a Redis broker: the Redis
database named by REDIS_URL is flushed before each run and at the end, so give the benchmark a
database number of its own (not 0). The PostgreSQL database is migrated first. The benchmark
makes its own rows, all named BENCH-…: a category, product and three SKUs with stock, one
customer, and a handful of orders of three lines each placed with `orders.services.create_order`
(their own "order placed" messages are deleted, and their hand-overs flushed from the broker,
before anything is timed). It deletes all of them, their notifications and their stored mail at
the end, and stops every worker it started, whatever happens.

Each run (`--runs`, default `database:1,dummy:1,database:2`: mail backend and worker
concurrency):

1. `--notifications` pending `order_placed` messages for those orders are written with
   `notifications.services.notify`, in one transaction, with the hand-over after commit
   suppressed: as if the broker had been down at commit, so every row waits for the outbox
   dispatcher. Each row has an address of its own, so that its mail can be counted.
2. One worker is started, as the Procfile starts it but with the run's concurrency:
   `celery -A config worker -l info --pool prefork --concurrency C --without-mingle
   --without-gossip`, settings config.settings.dev with DEBUG off (eager mode is off there),
   broker REDIS_URL, and EMAIL_BACKEND `core.mail.DatabaseEmailBackend` ("database": rendered
   and stored in the database, one INSERT per message, as in the demo) or
   `django.core.mail.backends.dummy.EmailBackend` ("dummy": rendered, then dropped), which
   separates claiming and rendering from the mail store. Neither leaves the machine. Once the
   worker says it is ready, a few messages of their own are delivered to warm its processes
   up (imports, connection, templates); they are not counted.
3. The clock starts, and `notifications.tasks.dispatch_notifications` is published (once per
   2,000 rows: one run hands over at most 20 batches of 100): the path every message takes
   whose hand-over at commit was lost. The dispatcher runs in the same worker, takes the due
   rows in skip-locked batches and enqueues one `deliver_notification` per row, which claims
   the row, renders the message (subject, text and HTML in the customer's language, with the
   order's lines), sends it and marks the row sent.
4. The clock stops at the last row's `sent_at`.

Printed per run: notifications per second and total seconds (from the publication of the
dispatcher to the last `sent_at`), when the dispatcher had handed the last row over, and the
p50 / p95 time inside a delivery (from its claim to its `sent` mark: reading the order,
rendering, sending, marking), whose inverse set against the rate shows what Celery itself costs
per task. Checks, per run: every row `sent` with `attempts` = 1, and with the database backend
exactly one stored mail per row (none with the dummy backend). The benchmark exits with
status 1 if a check fails or a worker fails. Note that the dispatcher hands over every due
pending row in the database, not only the benchmark's: run it on a database of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "postgis"}
BACKENDS = {
    "database": "core.mail.DatabaseEmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}
ORDERS = 10
LINES_PER_ORDER = 3
WORKER_START_SECONDS = 60


@dataclass(frozen=True)
class Run:
    backend: str
    concurrency: int

    @property
    def label(self) -> str:
        return f"{self.backend}:{self.concurrency}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notifications", type=int, default=2000, help="Messages per run (2000).")
    parser.add_argument(
        "--runs",
        default="database:1,dummy:1,database:2",
        help="Runs as BACKEND:CONCURRENCY, comma-separated, BACKEND one of "
        f"{', '.join(BACKENDS)} (database:1,dummy:1,database:2).",
    )
    args = parser.parse_args()
    runs = []
    for item in args.runs.split(","):
        backend, _sep, concurrency = item.strip().partition(":")
        if backend not in BACKENDS or not concurrency.isdigit() or int(concurrency) < 1:
            parser.error(f"bad run {item!r}: BACKEND:CONCURRENCY, e.g. database:1")
        runs.append(Run(backend, int(concurrency)))
    args.runs = runs
    if args.notifications < 1:
        parser.error("need at least one notification")
    return args


def configure() -> str:
    """Refuse anything but PostgreSQL and a Redis database of its own, then set Django up.
    Returns the broker URL."""
    usage = (
        "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/nbench "
        "REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/notifications.py"
    )
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in POSTGRES_SCHEMES:
        sys.exit(
            "bench/notifications.py measures the outbox on PostgreSQL (the dispatcher takes rows "
            f"with SKIP LOCKED); set DATABASE_URL, e.g.\n{usage}"
        )
    broker = os.environ.get("REDIS_URL", "")
    parts = urlsplit(broker)
    if parts.scheme not in {"redis", "rediss"} or parts.path.strip("/") in {"", "0"}:
        sys.exit(
            "bench/notifications.py needs a Redis broker whose database it may flush: set "
            f"REDIS_URL with a database number other than 0, e.g.\n{usage}"
        )
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    os.environ["DEBUG"] = "0"
    os.environ["CELERY_BROKER_URL"] = broker
    # New rows are due for the dispatcher at once (the default waits a minute for the
    # hand-over at commit, which the benchmark suppresses).
    os.environ["NOTIFICATION_DISPATCH_AFTER_SECONDS"] = "0"
    import django

    django.setup()
    return broker


def flush_broker(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


# --- set-up -------------------------------------------------------------------------------------
@dataclass
class Bench:
    """The benchmark's own rows (all named after `tag`)."""

    tag: str
    customer_id: int
    order_ids: list[int]


def name(tag: str) -> str:
    return f"BENCH-{tag}"


def make_bench(tag: str) -> Bench:
    """A customer and ORDERS orders of LINES_PER_ORDER lines, placed by `create_order`; their
    own "order placed" messages are deleted (the broker is flushed before any run)."""
    from accounts.models import User
    from catalog.models import SKU, Category, Product
    from inventory import services as inventory_services
    from inventory.models import Bin, Warehouse
    from notifications.models import Notification
    from orders import services as order_services

    label = name(tag)
    category = Category.objects.create(name=label, slug=label.lower())
    product = Product.objects.create(category=category, name=label, slug=label.lower())
    warehouse = Warehouse.objects.create(code=f"B{tag[:10]}", name=label, province="浙江省")
    bin_ = Bin.objects.create(warehouse=warehouse, code="BENCH-1", walk_order=1)
    customer = User.objects.create_user(
        email=f"{label.lower()}@example.com", password=None, first_name="伟"
    )
    sku_ids = []
    for i in range(LINES_PER_ORDER):
        code = f"{label}-{i}"
        sku = SKU.objects.create(
            product=product, code=code, barcode=code, price="19.90", weight_grams=400
        )
        inventory_services.receive(
            sku_id=sku.pk, bin_id=bin_.pk, quantity=ORDERS, reference=("benchmark", label)
        )
        sku_ids.append(sku.pk)
    address = order_services.ShippingAddress(
        recipient_name="张伟",
        recipient_phone="13812345678",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address_line="文三路 478 号",
        postcode="310013",
    )
    order_ids = [
        order_services.create_order(
            customer=customer,
            lines=[order_services.LineRequest(sku_id, 1) for sku_id in sku_ids],
            address=address,
        ).pk
        for _ in range(ORDERS)
    ]
    Notification.objects.filter(order_id__in=order_ids).delete()
    return Bench(tag=tag, customer_id=customer.pk, order_ids=order_ids)


def mail_prefix(prefix: str) -> str:
    """The start of the addresses of the messages keyed `prefix:…` (no colon in an address)."""
    return prefix.lower().replace(":", "-") + "-"


def write_notifications(bench: Bench, prefix: str, count: int) -> float:
    """`count` pending order_placed messages, written with `notify` in one transaction, their
    hand-over at commit suppressed. Returns the seconds it took."""
    from django.db import transaction

    from accounts.models import User
    from notifications.models import NotificationKind
    from notifications.services import notify
    from orders.models import Order

    customer = User.objects.get(pk=bench.customer_id)
    orders = list(Order.objects.filter(pk__in=bench.order_ids).order_by("pk"))
    started = time.perf_counter()
    # Within this block the only on_commit callbacks registered are notify's hand-overs.
    with mock.patch.object(transaction, "on_commit"), transaction.atomic():
        for i in range(count):
            note = notify(
                kind=NotificationKind.ORDER_PLACED,
                key=f"{prefix}:{i}",
                order=orders[i % len(orders)],
                recipient=customer,
                address=f"{mail_prefix(prefix)}{i}@example.com",
                language="zh-hans",
            )
            if note is None:
                raise RuntimeError(f"notify recorded nothing for {prefix}:{i}")
    return time.perf_counter() - started


def remove(tag: str) -> None:
    """Delete every row the benchmark made, whatever step it stopped in."""
    from django.db import transaction

    from accounts.models import User
    from catalog.models import SKU, Category, Product
    from core.models import SentMail
    from inventory.models import Allocation, Backorder, Bin, Stock, StockMovement, Warehouse
    from notifications.models import Notification
    from orders.models import Order

    label = name(tag)
    with transaction.atomic():
        SentMail.objects.filter(to__startswith=f"{label.lower()}-").delete()
        Notification.objects.filter(dedup_key__startswith=f"{label}:").delete()
        customer = User.objects.filter(email=f"{label.lower()}@example.com").first()
        if customer is not None:
            Order.objects.filter(customer=customer).delete()  # lines, events, messages with them
        sku_ids = list(SKU.objects.filter(product__name=label).values_list("pk", flat=True))
        Allocation.objects.filter(stock__sku_id__in=sku_ids).delete()
        Backorder.objects.filter(sku_id__in=sku_ids).delete()
        StockMovement.objects.filter(sku_id__in=sku_ids).delete()
        Stock.objects.filter(sku_id__in=sku_ids).delete()
        SKU.objects.filter(pk__in=sku_ids).delete()  # thresholds and alerts go with it
        Product.objects.filter(name=label).delete()
        Category.objects.filter(name=label).delete()
        Bin.objects.filter(warehouse__name=label).delete()
        Warehouse.objects.filter(name=label).delete()
        if customer is not None:
            customer.delete()


# --- the worker ---------------------------------------------------------------------------------
def start_worker(run: Run, broker: str, log_path: Path, tag: str) -> subprocess.Popen:
    """One worker, in a process group of its own, as the Procfile starts it; waits until it
    says it is ready."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DEBUG": "0",
        "CELERY_BROKER_URL": broker,
        "EMAIL_BACKEND": BACKENDS[run.backend],
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        str(ROOT / ".venv/bin/celery"),
        "-A",
        "config",
        "worker",
        "-l",
        "info",
        "--pool",
        "prefork",
        "--concurrency",
        str(run.concurrency),
        "--without-mingle",
        "--without-gossip",
        "--hostname",
        f"bench-{tag}@%h",
    ]
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + WORKER_START_SECONDS
    while time.monotonic() < deadline:
        if b" ready." in log_path.read_bytes():
            return worker
        if worker.poll() is not None:
            break
        time.sleep(0.1)
    stop_worker(worker)
    raise RuntimeError(f"the worker did not start:\n{tail(log_path)}")


def stop_worker(worker: subprocess.Popen) -> None:
    """Stop the worker's whole process group: a warm shutdown, then a kill."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    # The pool's children, should any outlive their parent.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)


def tail(log_path: Path) -> str:
    return log_path.read_text(errors="replace")[-4000:]


def wait_until_sent(prefix: str, count: int, worker, log_path: Path, timeout: float) -> None:
    from notifications.models import Notification

    rows = Notification.objects.filter(dedup_key__startswith=f"{prefix}:")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rows.filter(status="sent").count() >= count:
            return
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited:\n{tail(log_path)}")
        time.sleep(0.1)
    done = rows.filter(status="sent").count()
    raise RuntimeError(f"{done} of {count} sent after {timeout:.0f} s:\n{tail(log_path)}")


# --- one run ------------------------------------------------------------------------------------
@dataclass
class Figures:
    run: Run
    count: int
    written_seconds: float
    seconds: float
    handed_over_seconds: float
    in_task_p50_ms: float
    in_task_p95_ms: float
    in_task_mean_ms: float
    failures: list[str]

    @property
    def rate(self) -> float:
        return self.count / self.seconds


def run_once(bench: Bench, run: Run, index: int, count: int, broker: str, logs: Path) -> Figures:
    from datetime import timedelta

    from django.db.models import Count, Max
    from django.utils import timezone

    from config.celery import app
    from core.models import SentMail
    from notifications import conf
    from notifications.models import Notification
    from notifications.tasks import DISPATCH_MAX_BATCHES

    prefix = f"{name(bench.tag)}:{index}"
    warm_prefix = f"{prefix}w"
    warm_ups = 2 * run.concurrency
    written = write_notifications(bench, prefix, count)
    write_notifications(bench, warm_prefix, warm_ups)
    flush_broker(broker)
    log_path = logs / f"worker-{index}-{run.backend}-{run.concurrency}.log"
    worker = start_worker(run, broker, log_path, bench.tag)
    try:
        warm_ids = Notification.objects.filter(dedup_key__startswith=f"{warm_prefix}:").values_list(
            "pk", flat=True
        )
        for pk in warm_ids:
            app.send_task("notifications.tasks.deliver_notification", args=[pk])
        wait_until_sent(warm_prefix, warm_ups, worker, log_path, timeout=60)

        started = timezone.now()
        # One dispatcher run hands over at most DISPATCH_MAX_BATCHES batches.
        per_run = DISPATCH_MAX_BATCHES * conf.dispatch_batch()
        for _ in range(math.ceil(count / per_run)):
            app.send_task("notifications.tasks.dispatch_notifications")
        wait_until_sent(prefix, count, worker, log_path, timeout=max(120.0, count / 5))
    finally:
        stop_worker(worker)

    rows = Notification.objects.filter(dedup_key__startswith=f"{prefix}:")
    last = rows.aggregate(sent=Max("sent_at"), handed=Max("next_attempt_at"))
    in_task = sorted(
        (sent - claimed).total_seconds()
        for claimed, sent in rows.values_list("claimed_at", "sent_at")
    )
    cuts = statistics.quantiles(in_task, n=100, method="inclusive") if count > 1 else in_task * 99

    failures = []
    not_once = rows.exclude(status="sent", attempts=1).count()
    if not_once:
        failures.append(f"{not_once} row(s) not sent with exactly one attempt")
    mail = SentMail.objects.filter(to__startswith=mail_prefix(prefix))
    stored = mail.count()
    expected = count if run.backend == "database" else 0
    if stored != expected:
        failures.append(f"{stored} mail(s) stored, {expected} expected")
    repeated = mail.values("to").annotate(n=Count("id")).filter(n__gt=1).count()
    if repeated:
        failures.append(f"{repeated} address(es) got more than one mail")
    lease = timedelta(seconds=conf.lease_seconds())
    return Figures(
        run=run,
        count=count,
        written_seconds=written,
        seconds=(last["sent"] - started).total_seconds(),
        handed_over_seconds=(last["handed"] - lease - started).total_seconds(),
        in_task_p50_ms=cuts[49] * 1000,
        in_task_p95_ms=cuts[94] * 1000,
        in_task_mean_ms=statistics.fmean(in_task) * 1000,
        failures=failures,
    )


def main() -> None:
    args = parse_args()
    broker = configure()
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    version = connection.cursor().connection.info.server_version
    print(
        f"Database: PostgreSQL {version // 10000}.{version % 10000} "
        f"({connection.settings_dict['NAME']}); migrated in {time.perf_counter() - started:.1f} s; "
        f"broker {broker}; {os.cpu_count()} cores"
    )
    tag = uuid.uuid4().hex[:10]
    results: list[Figures] = []
    failed = False
    flush_broker(broker)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-notifications-") as logs:
            bench = make_bench(tag)
            print(
                f"{ORDERS} orders of {LINES_PER_ORDER} lines ({name(tag)}); "
                f"{args.notifications} order_placed messages per run\n",
                flush=True,
            )
            for index, run in enumerate(args.runs):
                print(f"run {run.label}: writing, starting the worker, delivering …", flush=True)
                figures = run_once(bench, run, index, args.notifications, broker, Path(logs))
                results.append(figures)
                failures = "; ".join(figures.failures)
                print(
                    f"  {figures.rate:.0f}/s, {figures.seconds:.1f} s"
                    + (f"; CHECK FAILED: {failures}" if failures else ""),
                    flush=True,
                )
    except BaseException:
        failed = True
        raise
    finally:
        remove(tag)
        flush_broker(broker)
        print("Benchmark rows deleted, broker database flushed.")
        connection.close()

    print(
        f"\n  {'backend':<9} {'workers':>7} {'messages':>8} {'written':>8} {'handed':>7} "
        f"{'total':>7} {'rate':>7}  {'in task p50 / p95 (mean)':<26} {'per task':>9}"
    )
    for f in results:
        per_task = 1000 * f.run.concurrency / f.rate
        print(
            f"  {f.run.backend:<9} {f.run.concurrency:>7} {f.count:>8} {f.written_seconds:>7.1f}s "
            f"{f.handed_over_seconds:>6.1f}s {f.seconds:>6.1f}s {f.rate:>5.0f}/s  "
            f"{f.in_task_p50_ms:>6.1f} / {f.in_task_p95_ms:>5.1f} ms ({f.in_task_mean_ms:>4.1f}) "
            f"{per_task:>7.1f}ms"
        )
    print(
        "\n  written: notify × N in one transaction (untimed); handed: the dispatcher had handed "
        "the last row over;\n  total: publication of the dispatcher → last sent_at; in task: "
        "claim → sent mark of one row;\n  per task: wall time per message per worker process "
        "(concurrency ÷ rate)."
    )
    for f in results:
        verdict = "FAILED: " + "; ".join(f.failures) if f.failures else "ok"
        mail = "one stored mail per row" if f.run.backend == "database" else "no mail stored"
        print(f"  check {f.run.label}: every row sent, attempts = 1, {mail}: {verdict}")
        failed = failed or bool(f.failures)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
