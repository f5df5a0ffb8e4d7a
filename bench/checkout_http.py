"""Benchmark: orders placed per second over HTTP against gunicorn and PostgreSQL (ORD-2).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/checkout_http.py --clients 8 --orders 400 --workers 4

The database is migrated first. The benchmark makes its own customers and SKUs (named
BENCH-…), with enough stock for every order, starts gunicorn (`--workers` sync workers, settings
bench.settings: the shop's own URLs plus one trivial view), and then runs two phases with N
concurrent clients (threads, each with its own customer and keep-alive-less HTTP connections,
as browsers behind a proxy would be):

1. A customer's whole checkout, `--orders` times in all: add a SKU to the cart (POST), open
   the checkout page (GET: prices, stock, promotions, shipping, a fresh token), place the
   order (POST: one transaction that re-prices, reserves stock, numbers the order).
2. The same number of GETs of a Django view that returns "ok", through the same gunicorn,
   middleware, sessions and clients: the floor set by the server itself.

Printed: orders per second (wall time), p50/p95 of one whole checkout and of the placing POST
alone, requests per second of each phase, the trivial view's rate and latency, and the ratio.
Every order placed must exist afterwards and the stock ledger must balance. The benchmark's
rows are deleted at the end (orders are cancelled and removed first).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "postgis"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="Concurrent clients (8).")
    parser.add_argument("--orders", type=int, default=400, help="Orders over all clients (400).")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4).")
    args = parser.parse_args()
    if args.clients < 1 or args.orders < args.clients:
        parser.error("need at least one client and one order per client")
    return args


def configure() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in POSTGRES_SCHEMES:
        sys.exit(
            "bench/checkout_http.py measures checkout on PostgreSQL; set DATABASE_URL, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench "
            ".venv/bin/python bench/checkout_http.py"
        )
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()


# --- set-up -----------------------------------------------------------------------------------
def make_shop(tag: str, clients: int, orders: int) -> tuple[list[str], list[int]]:
    """Customers (one per client) with a saved default address, and SKUs with stock."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from addresses import services as address_services
    from catalog.models import SKU, Category, Product
    from inventory import services as inventory_services
    from inventory.models import Bin, Warehouse

    name = f"BENCH-{tag}"
    category = Category.objects.create(name=name, slug=name.lower())
    warehouse = Warehouse.objects.create(code=f"B{tag[:10]}", name=name, province="浙江省")
    bin_ = Bin.objects.create(warehouse=warehouse, code="BENCH-1", walk_order=1)
    sku_ids = []
    for index in range(20):
        product = Product.objects.create(
            category=category, name=f"{name}-{index}", slug=f"{name.lower()}-{index}"
        )
        sku = SKU.objects.create(
            product=product,
            code=f"{name}-{index}",
            barcode=f"{name}-{index}",
            price="19.90",
            weight_grams=400,
        )
        inventory_services.receive(
            sku_id=sku.pk, bin_id=bin_.pk, quantity=orders, reference=("benchmark", name)
        )
        sku_ids.append(sku.pk)
    User = get_user_model()
    cookies = []
    for index in range(clients):
        user = User.objects.create_user(
            email=f"bench-{tag}-{index}@example.com", password=None, first_name=name
        )
        from django.contrib.auth.models import Group

        from accounts.roles import Role

        user.groups.add(Group.objects.get(name=Role.CUSTOMER))
        address_services.create_address(
            customer=user,
            data={
                "recipient_name": "张伟",
                "recipient_phone": "13812345678",
                "province_code": "33",
                "city_code": "3301",
                "district_code": "330106",
                "province": "浙江省",
                "city": "杭州市",
                "district": "西湖区",
                "address_line": "文三路 478 号",
                "postcode": "310013",
                "label": "",
                "is_default": True,
            },
        )
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        cookies.append(session.session_key)
    return cookies, sku_ids


def remove(tag: str) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from catalog.models import SKU, Category, Product
    from inventory.models import Allocation, Backorder, Bin, Stock, StockMovement, Warehouse
    from orders.models import Order

    name = f"BENCH-{tag}"
    users = get_user_model().objects.filter(first_name=name)
    with transaction.atomic():
        orders = Order.objects.filter(customer__in=users)
        groups = [f"order:{pk}" for pk in orders.values_list("pk", flat=True)]
        Allocation.objects.filter(group__in=groups).delete()
        orders.delete()
        skus = SKU.objects.filter(product__category__name=name)
        Backorder.objects.filter(sku__in=skus).delete()
        StockMovement.objects.filter(sku__in=skus).delete()
        Stock.objects.filter(sku__in=skus).delete()
        skus.delete()
        Product.objects.filter(category__name=name).delete()
        Category.objects.filter(name=name).delete()
        Bin.objects.filter(warehouse__name=name).delete()
        Warehouse.objects.filter(name=name).delete()
        users.delete()


# --- the server -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            request("127.0.0.1", port, "GET", "/bench/hello/", {})
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit("gunicorn did not start within 30 s")


# --- a client ---------------------------------------------------------------------------------
class Browser:
    def __init__(self, port: int, session_key: str):
        self.port = port
        self.cookies = {"sessionid": session_key}

    def _headers(self, extra: dict) -> dict:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"Cookie": cookie, "Host": "127.0.0.1", **extra}

    def call(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, dict]:
        headers = {}
        body = None
        if form is not None:
            body = urlencode({"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **form})
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://127.0.0.1:{self.port}/",
                "X-CSRFToken": self.cookies.get("csrftoken", ""),
            }
        status, text, set_cookies = request(
            "127.0.0.1", self.port, method, path, self._headers(headers), body
        )
        for header in set_cookies:
            cookie = SimpleCookie(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return status, text, headers


def request(host, port, method, path, headers, body=None) -> tuple[int, str, list[str]]:
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        return response.status, text, response.headers.get_all("Set-Cookie") or []
    finally:
        connection.close()


HIDDEN = re.compile(r'name="(checkout_token|seen)" value="([^"]*)"')


def checkout_once(browser: Browser, sku_id: int) -> tuple[float, float]:
    """One whole checkout; returns (seconds for all of it, seconds for the placing POST)."""
    started = time.perf_counter()
    status, _text, _h = browser.call("POST", "/cart/add/", {"sku": sku_id, "quantity": 1})
    assert status == 302, f"add to cart answered {status}"
    status, text, _h = browser.call("GET", "/checkout/")
    assert status == 200, f"checkout page answered {status}"
    hidden = dict(HIDDEN.findall(text))
    saved = re.search(r'name="saved_address" value="(\d+)"', text)
    place_started = time.perf_counter()
    status, text, _h = browser.call(
        "POST",
        "/checkout/",
        {
            "action": "place",
            "payment_method": "online",
            "saved_address": saved.group(1),
            **hidden,
        },
    )
    assert status == 302, f"placing the order answered {status}: {text[:300]}"
    ended = time.perf_counter()
    return ended - started, ended - place_started


def run_phase(clients: int, total: int, job) -> tuple[float, list[tuple]]:
    per_client = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    barrier = threading.Barrier(clients + 1)
    timings: list[list] = [[] for _ in range(clients)]
    errors: list[BaseException] = []

    def work(index: int) -> None:
        barrier.wait()
        try:
            for n in range(per_client[index]):
                timings[index].append(job(index, n))
        except BaseException as error:  # reported after the phase
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed, [t for per in timings for t in per]


def pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0] * 1000
    )


def main() -> None:
    args = parse_args()
    configure()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    tag = uuid.uuid4().hex[:8]
    print(f"Setting up {args.clients} customers and 20 SKUs (BENCH-{tag}) …", flush=True)
    sessions, sku_ids = make_shop(tag, args.clients, args.orders)
    port = free_port()
    server = start_gunicorn(port, args.workers)
    try:
        browsers = [Browser(port, key) for key in sessions]
        for browser in browsers:  # a CSRF cookie for each, as a first page view gives
            browser.call("GET", "/cart/")

        print(f"Phase 1: {args.orders} checkouts by {args.clients} clients …", flush=True)
        seconds, checkouts = run_phase(
            args.clients,
            args.orders,
            lambda i, n: checkout_once(browsers[i], sku_ids[(i + n) % len(sku_ids)]),
        )
        print(f"Phase 2: {args.orders} GETs of a trivial view …", flush=True)
        floor_seconds, hellos = run_phase(
            args.clients, args.orders, lambda i, n: _timed_hello(browsers[i])
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    from inventory.ledger import ledger_differences
    from orders.models import Order

    placed = Order.objects.filter(customer__first_name=f"BENCH-{tag}").count()
    whole = [t[0] for t in checkouts]
    posts = [t[1] for t in checkouts]
    orders_per_second = len(checkouts) / seconds
    hello_rate = len(hellos) / floor_seconds
    print()
    print(f"clients {args.clients}, gunicorn workers {args.workers}, {os.cpu_count()} cores")
    print(
        f"checkout: {orders_per_second:7.1f} orders/s ({3 * orders_per_second:.1f} requests/s); "
        f"whole checkout p50 {pct(whole, 50):.1f} ms p95 {pct(whole, 95):.1f} ms; "
        f"placing POST p50 {pct(posts, 50):.1f} ms p95 {pct(posts, 95):.1f} ms"
    )
    print(
        f"trivial view: {hello_rate:7.1f} requests/s; "
        f"p50 {pct(hellos, 50):.1f} ms p95 {pct(hellos, 95):.1f} ms"
    )
    print(
        f"ratio: trivial view requests/s ÷ checkout requests/s = "
        f"{hello_rate / (3 * orders_per_second):.1f}×; "
        f"placing POST p50 ÷ trivial p50 = {pct(posts, 50) / pct(hellos, 50):.1f}×"
    )
    differences = ledger_differences()
    print(
        f"orders placed and found: {placed} of {len(checkouts)}; "
        f"ledger differences: {len(differences)}"
    )
    remove(tag)
    if placed != len(checkouts) or differences:
        sys.exit(1)


def _timed_hello(browser: Browser) -> float:
    started = time.perf_counter()
    status, _text, _h = browser.call("GET", "/bench/hello/")
    assert status == 200
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
