"""Exactly once and no loss, proved with a real Celery worker against Redis (issue 6, §5).

Each test starts `celery worker` in its own process (tests/core/test_worker.py) with the test
settings plus tests/notifications/worker_settings.py, whose e-mail channel kills the worker
while a marker file exists; mail goes to the database (core.mail.DatabaseEmailBackend), where
this process counts it. The broker is the Redis database of REDIS_URL, flushed before and after.
This process publishes to it for real (eager mode off) while a test runs.
"""

import os
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from celery import Celery
from django.utils import timezone
from kombu import pools as kombu_pools

from config.celery import app as shop_app
from core.models import SentMail
from notifications.models import Notification, NotificationStatus
from orders import services as order_services
from tests.core.test_worker import start_worker, stop_worker
from tests.factories import UserFactory, make_order

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 20
LEASE_SECONDS = 2
CLOSED_PORT_BROKER = "redis://127.0.0.1:6390/0"
WORKER_SETTINGS = "tests.notifications.worker_settings"


@pytest.fixture
def redis_url():
    import redis

    url = os.environ["REDIS_URL"]
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(autouse=True)
def _due_at_once(settings):
    # A new row is due for the dispatcher at once, so that a dispatcher run races the direct
    # delivery (and, in the outage test, finds the row whose hand-over failed).
    settings.NOTIFICATION_DISPATCH_AFTER_SECONDS = 0


@contextmanager
def publishing_to(url: str):
    """The shop's Celery app publishes to `url` for real (not eagerly) inside the block."""
    saved = {key: shop_app.conf[key] for key in ("task_always_eager", "broker_url")}

    def reset_pools() -> None:
        # kombu keeps connection pools per broker; start from fresh ones.
        kombu_pools.reset()
        shop_app._pool = None
        shop_app.amqp._producer_pool = None

    shop_app.conf.update(task_always_eager=False, broker_url=url)
    reset_pools()
    try:
        yield
    finally:
        reset_pools()
        shop_app.conf.update(saved)


def send_tasks(url: str, *calls: tuple[str, list]) -> None:
    """Publish tasks by name from an app of its own (the suite's app stays as it is)."""
    sender = Celery("test-sender", broker=url, set_as_current=False)
    sender.conf.broker_transport_options = {"visibility_timeout": 3600}
    sender.conf.task_serializer = "json"
    try:
        for name, args in calls:
            sender.send_task(name, args=args)
    finally:
        sender.close()


def worker_env(url: str, **extra: str) -> dict[str, str]:
    return {
        "CELERY_BROKER_URL": url,
        "DJANGO_SETTINGS_MODULE": WORKER_SETTINGS,
        "NOTIFICATION_LEASE_SECONDS": str(LEASE_SECONDS),
        **extra,
    }


def wait_for(condition, worker, log_path, what: str, *, until_exit: bool = False) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.poll() is not None and not until_exit:
            break
        time.sleep(0.2)
    output = log_path.read_text(errors="replace")
    pytest.fail(f"{what} did not happen within {WAIT_SECONDS}s:\n{output[-4000:]}")


def queue_idle(url: str, *, lost: int = 0) -> bool:
    """Nothing waiting in the queue and nothing taken but unfinished, apart from the `lost`
    messages a killed worker took (kombu restores those after the visibility timeout)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        return client.llen("celery") == 0 and client.hlen("unacked") <= lost
    finally:
        client.close()


def mail_to(address: str) -> int:
    return SentMail.objects.filter(to=address).count()


def test_duplicate_deliveries_and_the_dispatcher_send_a_message_once(redis_url, tmp_path):
    customer = UserFactory(role="customer", email="once@example.com")
    with publishing_to(redis_url):
        order = make_order(customer=customer)  # its delivery is queued after the commit
    note = order.notifications.get()
    send_tasks(
        redis_url,
        *[("notifications.tasks.deliver_notification", [note.pk])] * 3,
        ("notifications.tasks.dispatch_notifications", []),
        ("notifications.tasks.dispatch_notifications", []),
    )

    log_path = tmp_path / "worker.log"
    worker = start_worker(worker_env(redis_url), log_path)
    try:
        wait_for(
            lambda: (
                queue_idle(redis_url)
                and Notification.objects.filter(pk=note.pk, status="sent").exists()
            ),
            worker,
            log_path,
            "delivery",
        )
    finally:
        stop_worker(worker)

    assert mail_to("once@example.com") == 1
    note.refresh_from_db()
    assert note.attempts == 1
    assert order.number in SentMail.objects.get(to="once@example.com").subject


def test_a_worker_killed_mid_delivery_loses_nothing_and_sends_once(redis_url, tmp_path):
    customer = UserFactory(role="customer", email="crash@example.com")
    marker = tmp_path / "crash-now"
    marker.touch()
    env = worker_env(redis_url, NOTIFICATION_CRASH_MARKER=str(marker))

    first_log = tmp_path / "worker-1.log"
    first = start_worker(env, first_log)
    try:
        with publishing_to(redis_url):
            order = make_order(customer=customer)
        note = order.notifications.get()
        wait_for(lambda: first.poll() is not None, first, first_log, "the crash", until_exit=True)
    finally:
        stop_worker(first)

    note.refresh_from_db()
    assert first.returncode == 17, first_log.read_text(errors="replace")[-4000:]
    assert (note.status, note.attempts) == (NotificationStatus.SENDING, 1)  # claimed, unsent
    assert mail_to("crash@example.com") == 0

    marker.unlink()
    second_log = tmp_path / "worker-2.log"
    second = start_worker(env, second_log)
    try:
        lease_over = note.claimed_at + timedelta(seconds=LEASE_SECONDS + 0.2)
        time.sleep(max((lease_over - timezone.now()).total_seconds(), 0))
        send_tasks(
            redis_url,
            ("notifications.tasks.dispatch_notifications", []),
            ("notifications.tasks.deliver_notification", [note.pk]),  # a late duplicate
        )
        wait_for(
            lambda: (
                queue_idle(redis_url, lost=1)
                and Notification.objects.filter(pk=note.pk, status="sent").exists()
            ),
            second,
            second_log,
            "the re-delivery",
        )
    finally:
        stop_worker(second)

    assert mail_to("crash@example.com") == 1
    note.refresh_from_db()
    assert (note.status, note.attempts) == (NotificationStatus.SENT, 2)


def test_an_order_placed_and_paid_while_the_broker_is_down_gets_its_messages_once_it_is_back(
    redis_url, tmp_path
):
    customer = UserFactory(role="customer", email="outage@example.com")
    with publishing_to(CLOSED_PORT_BROKER):
        order = make_order(customer=customer)
        order_services.record_payment(order_id=order.pk, amount=order.total_amount)

    order.refresh_from_db()
    assert order.state == "paid"  # the customer's actions succeeded
    notes = order.notifications.order_by("pk")
    assert [(n.kind, n.status) for n in notes] == [
        ("order_placed", "pending"),
        ("payment_received", "pending"),
    ]

    log_path = tmp_path / "worker.log"
    worker = start_worker(worker_env(redis_url), log_path)
    try:
        send_tasks(redis_url, ("notifications.tasks.dispatch_notifications", []))
        wait_for(
            lambda: (
                queue_idle(redis_url) and not order.notifications.exclude(status="sent").exists()
            ),
            worker,
            log_path,
            "the dispatch after the outage",
        )
    finally:
        stop_worker(worker)

    assert mail_to("outage@example.com") == 2
    assert sorted(SentMail.objects.values_list("subject", flat=True)) == sorted(
        [
            f"Shop: order {order.number} received",
            f"Shop: payment received for order {order.number}",
        ]
    )
