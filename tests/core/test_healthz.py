import pytest
from django.utils import timezone

from core.models import WorkerHeartbeat
from core.tasks import record_worker_heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == "ok"


def test_healthz_is_503_when_the_broker_is_unreachable(client, settings):
    from config.celery import app

    original = app.conf.broker_url
    # Nothing listens on port 1: a Redis broker there cannot be reached.
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = original

    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"
    assert response.json()["database"] == "ok"


def test_healthz_is_503_when_the_database_is_unreachable(client, monkeypatch):
    from core import health

    monkeypatch.setattr(health, "database_ok", lambda: False)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_healthz_reports_when_a_worker_last_beat(client):
    record_worker_heartbeat()

    body = client.get("/healthz").json()

    assert body["worker"]["recent"] is True
    seen = WorkerHeartbeat.objects.get().seen_at
    assert timezone.now() - seen < timezone.timedelta(seconds=5)
