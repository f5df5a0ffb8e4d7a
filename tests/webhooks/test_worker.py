"""A real Celery worker (its own process, eager mode off) runs the sweep, which hands a due
delivery to the send task through the broker; the POST reaches the local receiver (API-2)."""

import time
from datetime import timedelta

import pytest
from celery import Celery
from django.utils import timezone

from orders.models import OrderState
from tests.core.test_worker import broker, start_worker, stop_worker  # noqa: F401
from tests.factories import make_order
from webhooks import services
from webhooks.models import DeliveryState, WebhookDelivery, WebhookEvent

from .conftest import make_endpoint

WAIT_SECONDS = 30


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sweeps_and_delivers(broker, tmp_path, admin, receiver, monkeypatch):  # noqa: F811
    broker_url, transport_options, broker_env = broker
    make_endpoint(admin, receiver.url, events=[WebhookEvent.ORDER_PAID])
    with monkeypatch.context() as patch:
        patch.setattr(services, "hand_over", lambda ids: None)  # as if the broker was down
        make_order(state=OrderState.PAID)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )

    log_path = tmp_path / "worker.log"
    worker = start_worker(broker_env, log_path)
    try:
        sender = Celery("test-sender", broker=broker_url, set_as_current=False)
        sender.conf.broker_transport_options = transport_options
        sender.conf.task_serializer = "json"
        sender.send_task("webhooks.tasks.sweep_deliveries")
        sender.close()

        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline and worker.poll() is None:
            delivery.refresh_from_db()
            if delivery.state == DeliveryState.DELIVERED:
                break
            time.sleep(0.3)

        output = log_path.read_text(errors="replace")
        assert worker.poll() is None, f"the worker exited early:\n{output}"
        assert delivery.state == DeliveryState.DELIVERED, output
        (request,) = receiver.requests
        assert request.headers["X-Webhook-Id"] == str(delivery.event_id)
        assert delivery.last_status_code == 200
    finally:
        stop_worker(worker)
