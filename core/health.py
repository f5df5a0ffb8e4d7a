"""Liveness checks behind /healthz: the database, the broker and the worker."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            # A connected transport that cannot open a channel is not usable either.
            conn.default_channel  # noqa: B018
        return True
    except Exception:
        return False


def worker_last_seen():
    from .models import WorkerHeartbeat

    try:
        beat = WorkerHeartbeat.objects.order_by("-seen_at").first()
    except Exception:
        return None
    return beat.seen_at if beat else None


def report() -> tuple[bool, dict]:
    db = database_ok()
    broker = broker_ok()
    seen = worker_last_seen() if db else None
    fresh = bool(
        seen and timezone.now() - seen < timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_AFTER)
    )
    body = {
        "status": "ok" if db and broker else "unavailable",
        "database": "ok" if db else "unavailable",
        "broker": "ok" if broker else "unavailable",
        # Informational: a worker that was just started has not beaten yet.
        "worker": {"last_seen": seen.isoformat() if seen else None, "recent": fresh},
    }
    return db and broker, body
