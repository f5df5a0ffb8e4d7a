"""Deliveries POSTed to a real HTTP server on 127.0.0.1: signed, logged, retried with backoff,
given up, replayed with the same event id, swept when their hand-over was lost, and never
sent twice for the same attempt (API-2)."""

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.models import StaffAction
from orders.models import OrderState
from tests.factories import make_order
from webhooks import services, tasks
from webhooks.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEvent

from .conftest import make_endpoint

pytestmark = pytest.mark.django_db


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Computed here as a receiver would, without the shop's code."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def v1_values(header: str) -> list[str]:
    return [part[3:] for part in header.split(",") if part.startswith("v1=")]


def paid_order_delivery(admin, url) -> WebhookDelivery:
    """One pending order.paid delivery whose hand-over at commit never ran."""
    make_endpoint(admin, url, events=[WebhookEvent.ORDER_PAID])
    make_order(state=OrderState.PAID)
    return WebhookDelivery.objects.get()


def make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_a_delivery_is_posted_signed_and_recorded_delivered(admin, receiver):
    delivery = paid_order_delivery(admin, receiver.url)

    assert tasks.send_delivery.delay(delivery.pk, 1).get() == DeliveryState.DELIVERED

    (request,) = receiver.requests
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["x-webhook-id"] == str(delivery.event_id)
    assert headers["x-webhook-event"] == "order.paid"
    assert headers["content-type"].startswith("application/json")
    timestamp = headers["x-webhook-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    signature = headers["x-webhook-signature"]
    assert signature.startswith(f"t={timestamp},")
    secret = delivery.endpoint.secret
    assert v1_values(signature) == [expected_signature(secret, timestamp, request.body)]
    body = json.loads(request.body)
    assert body["id"] == str(delivery.event_id)
    assert body["type"] == "order.paid"
    assert body["data"] == delivery.payload["data"]

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert delivery.delivered_at is not None
    assert delivery.next_attempt_at is None
    assert '"ok"' in delivery.response_excerpt
    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")
    assert attempt.duration_ms >= 0

    # Sent again (a duplicate message, a broker redelivery): nothing happens.
    assert tasks.send_delivery.delay(delivery.pk, 1).get() is None
    assert services.deliver(delivery.pk) is None
    assert len(receiver.requests) == 1


def test_a_server_error_is_retried_later_with_backoff(admin, receiver):
    delivery = paid_order_delivery(admin, receiver.url)
    receiver.answers = [500, 503]

    before = timezone.now()
    assert services.deliver(delivery.pk, 1) == DeliveryState.FAILED
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    assert delivery.last_status_code == 500
    assert "500" in delivery.last_error
    assert delivery.response_excerpt == "receiver broke"
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 60 <= wait <= 60 * 1.2 + 2  # one minute, plus up to a fifth of jitter

    # Not due yet: the sweep leaves it alone.
    assert tasks.sweep_deliveries.delay().get() == 0
    assert len(receiver.requests) == 1

    make_due(delivery)
    before = timezone.now()
    assert tasks.sweep_deliveries.delay().get() == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("failed", 2, 503)
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 300 <= wait <= 300 * 1.2 + 2  # then five minutes

    make_due(delivery)
    tasks.sweep_deliveries.delay().get()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    codes = list(
        WebhookAttempt.objects.filter(delivery=delivery)
        .order_by("number")
        .values_list("number", "status_code")
    )
    assert codes == [(1, 500), (2, 503), (3, 200)]
    # The same event id on every try.
    assert {r.headers["X-Webhook-Id"] for r in receiver.requests} == {str(delivery.event_id)}


def test_a_refused_connection_is_logged_and_retried(admin, refused_url):
    delivery = paid_order_delivery(admin, refused_url)

    assert services.deliver(delivery.pk, 1) == DeliveryState.FAILED

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    assert delivery.last_status_code is None
    assert "refused" in delivery.last_error.lower()
    assert delivery.next_attempt_at > timezone.now()
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None
    assert "refused" in attempt.error.lower()


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(admin, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.5
    delivery = paid_order_delivery(admin, receiver.url)

    assert services.deliver(delivery.pk, 1) == DeliveryState.FAILED

    attempt = WebhookAttempt.objects.get(delivery__pk=delivery.pk)
    assert attempt.status_code is None
    assert "timed out" in attempt.error
    assert attempt.duration_ms < 1500


def test_a_delivery_is_given_up_after_the_last_attempt(admin, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    delivery = paid_order_delivery(admin, receiver.url)
    receiver.answers = [500, 500, 500, 500]

    services.deliver(delivery.pk, 1)
    for _attempt in (2, 3):
        make_due(delivery)
        tasks.sweep_deliveries.delay().get()

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.GIVEN_UP
    assert delivery.attempts == 3
    assert delivery.next_attempt_at is None
    make_due(delivery)
    assert tasks.sweep_deliveries.delay().get() == 0
    assert len(receiver.requests) == 3
    # The administrators are told once, with the way to replay it.
    from notifications.models import Notification, NotificationKind
    from notifications.rendering import render

    (alert,) = Notification.objects.filter(kind=NotificationKind.WEBHOOK_GIVEN_UP)
    assert alert.recipient == admin
    text = render(alert).text
    assert "after 3 attempts" in text and f"/staff/webhooks/deliveries/{delivery.pk}/" in text


def test_a_replay_sends_the_same_event_again_at_once(
    admin, receiver, django_capture_on_commit_callbacks
):
    delivery = paid_order_delivery(admin, receiver.url)
    services.deliver(delivery.pk, 1)

    with django_capture_on_commit_callbacks(execute=True):
        replay = services.replay_delivery(actor=admin, delivery_id=delivery.pk)

    replay.refresh_from_db()
    assert replay.replay_of_id == delivery.pk
    assert replay.event_id == delivery.event_id
    assert replay.payload == delivery.payload
    assert replay.state == DeliveryState.DELIVERED
    first, second = receiver.requests
    assert first.headers["X-Webhook-Id"] == second.headers["X-Webhook-Id"]
    assert json.loads(first.body) == json.loads(second.body)
    assert StaffAction.objects.filter(actor=admin, action="webhook.replay").count() == 1


def test_the_sweep_sends_deliveries_whose_hand_over_was_lost(admin, receiver):
    delivery = paid_order_delivery(admin, receiver.url)
    assert tasks.sweep_deliveries.delay().get() == 0  # still within its hand-over time

    make_due(delivery)
    assert tasks.sweep_deliveries.delay().get() == 1

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert len(receiver.requests) == 1


def test_the_sweep_takes_over_a_dead_workers_claim_after_the_lease(admin, receiver):
    delivery = paid_order_delivery(admin, receiver.url)
    assert services.claim(delivery.pk, 1) is not None  # the worker dies before POSTing
    make_due(delivery)
    assert tasks.sweep_deliveries.delay().get() == 0  # its claim is still fresh

    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=10)
    )
    assert tasks.sweep_deliveries.delay().get() == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 2)


def test_an_endpoint_switched_off_waits_and_gets_nothing(admin, receiver):
    delivery = paid_order_delivery(admin, receiver.url)
    endpoint = delivery.endpoint
    services.update_endpoint(
        actor=admin,
        endpoint_id=endpoint.pk,
        fields=services.EndpointFields(
            url=endpoint.url, description="", events=endpoint.events, is_active=False
        ),
    )
    make_due(delivery)
    assert services.deliver(delivery.pk, 1) is None
    assert tasks.sweep_deliveries.delay().get() == 0
    assert receiver.requests == []
    make_order(state=OrderState.PAID)
    assert WebhookDelivery.objects.count() == 1  # no new events for it either


def test_after_a_rotation_both_secrets_sign_for_the_grace_period(admin, receiver):
    delivery = paid_order_delivery(admin, receiver.url)
    old_secret = delivery.endpoint.secret
    endpoint = services.rotate_secret(actor=admin, endpoint_id=delivery.endpoint_id)
    assert endpoint.secret != old_secret and endpoint.secret.startswith("whsec_")

    services.deliver(delivery.pk, 1)

    (request,) = receiver.requests
    timestamp = request.headers["X-Webhook-Timestamp"]
    assert v1_values(request.headers["X-Webhook-Signature"]) == [
        expected_signature(endpoint.secret, timestamp, request.body),
        expected_signature(old_secret, timestamp, request.body),
    ]


def test_a_new_endpoint_hears_of_events_at_once(admin, receiver):
    make_order(state=OrderState.PAID)  # cached: nobody subscribes
    make_endpoint(admin, receiver.url, events=[WebhookEvent.ORDER_PAID])
    make_order(state=OrderState.PAID)
    assert WebhookDelivery.objects.filter(event_type="order.paid").count() == 1


def test_a_ping_reaches_the_endpoint(admin, receiver, django_capture_on_commit_callbacks):
    endpoint = make_endpoint(admin, receiver.url, events=[WebhookEvent.ORDER_SHIPPED])
    with django_capture_on_commit_callbacks(execute=True):
        ping = services.send_ping(actor=admin, endpoint_id=endpoint.pk)
    ping.refresh_from_db()
    assert ping.state == DeliveryState.DELIVERED
    (request,) = receiver.requests
    assert request.headers["X-Webhook-Event"] == "ping"
    assert json.loads(request.body)["data"]["endpoint"] == endpoint.pk


def test_backoff_schedule_grows_and_stays_capped():
    class Lowest:
        def uniform(self, low, high):
            return low

    class Highest:
        def uniform(self, low, high):
            return high

    lowest = [services.retry_delay(n, rng=Lowest()) for n in range(1, 10)]
    assert lowest == [60, 300, 1800, 7200, 21600, 43200, 86400, 86400, 86400]
    assert services.retry_delay(1, rng=Highest()) == 72


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_delivery_sent_twice_at_once_is_posted_once(admin, receiver, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(services, "hand_over", lambda ids: None)  # the workers do it here
        delivery = paid_order_delivery(admin, receiver.url)
    receiver.delay = 0.5  # the first POST is still in flight when the second worker comes
    start = threading.Barrier(4)
    results = []

    def worker():
        try:
            start.wait()
            results.append(services.deliver(delivery.pk, 1))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(receiver.requests) == 1
    assert sorted(results, key=str) == [None, None, None, DeliveryState.DELIVERED]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 1)
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1
