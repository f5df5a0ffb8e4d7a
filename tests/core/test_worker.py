"""A real Celery worker, in its own process, runs tasks against the test database.

The worker uses the test settings with eager mode off. Its broker is Redis (a spare database
number, flushed) when REDIS_URL names a Redis server that answers, otherwise the embedded
file-system broker in a private temporary folder. The tasks are published from this process
to the same broker.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from core.models import SentMail, WorkerHeartbeat
from tests.conftest import redis_available

REDIS_TEST_DB = 15
WAIT_SECONDS = 30


def worker_database_url() -> str:
    """A DATABASE_URL naming the database this test runs on (the test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if connection.vendor == "postgresql":
        user = quote(db.get("USER") or "", safe="")
        password = quote(db.get("PASSWORD") or "", safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = db.get("HOST") or "localhost"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"
    pytest.fail(f"no worker DATABASE_URL for the {connection.vendor} backend")


def redis_broker_url(redis_url: str) -> str:
    """The same Redis server as REDIS_URL, but a spare database number."""
    parts = urlsplit(redis_url)
    return urlunsplit(parts._replace(path=f"/{REDIS_TEST_DB}", query=""))


@pytest.fixture
def broker(tmp_path):
    """(broker URL, transport options, environment for the worker) for an isolated broker."""
    redis_url = os.environ.get("REDIS_URL")
    if redis_url and redis_available():
        import redis

        url = redis_broker_url(redis_url)
        client = redis.Redis.from_url(url, socket_connect_timeout=5)
        client.flushdb()
        try:
            yield url, {"visibility_timeout": 3600}, {"CELERY_BROKER_URL": url}
        finally:
            client.flushdb()
            client.close()
        return

    var_dir = tmp_path / "var"
    queue, processed = var_dir / "broker" / "queue", var_dir / "broker" / "processed"
    queue.mkdir(parents=True)
    processed.mkdir(parents=True)
    # The same folders config/settings/base.py derives from VAR_DIR for the worker.
    options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(processed),
        "store_processed": False,
    }
    yield "filesystem://", options, {"CELERY_BROKER_URL": "filesystem://", "VAR_DIR": str(var_dir)}


def start_worker(extra_env: dict[str, str], log_path: Path) -> subprocess.Popen:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL", "VAR_DIR"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=worker_database_url(),
        CELERY_TASK_ALWAYS_EAGER="0",
        EMAIL_BACKEND="core.mail.DatabaseEmailBackend",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra_env)
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "solo",
        "-l",
        "info",
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
        "--hostname",
        f"test-worker-{os.getpid()}@%h",
    ]
    log = log_path.open("wb")
    try:
        return subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_heartbeat_and_sends_mail(broker, tmp_path):
    broker_url, transport_options, broker_env = broker
    log_path = tmp_path / "worker.log"
    worker = start_worker(broker_env, log_path)
    try:
        # A Celery app of its own, so that the suite's (eager) app is left alone.
        sender = Celery("test-sender", broker=broker_url, set_as_current=False)
        sender.conf.broker_transport_options = transport_options
        sender.conf.task_serializer = "json"
        sender.send_task("core.tasks.record_worker_heartbeat")
        sender.send_task(
            "core.tasks.send_email",
            kwargs={
                "subject": "Worker test",
                "body": "Sent by a real Celery worker.",
                "to": ["customer@example.com"],
            },
        )
        sender.close()

        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if WorkerHeartbeat.objects.exists() and SentMail.objects.exists():
                break
            if worker.poll() is not None:
                break
            time.sleep(0.3)

        output = log_path.read_text(errors="replace")
        assert worker.poll() is None, f"the worker exited early:\n{output}"
        assert WorkerHeartbeat.objects.exists(), f"no heartbeat within {WAIT_SECONDS}s:\n{output}"
        mail = SentMail.objects.get()
        assert mail.subject == "Worker test"
        assert mail.to == "customer@example.com"
        assert mail.from_email == settings.DEFAULT_FROM_EMAIL
    finally:
        stop_worker(worker)
