"""Write operations of the outgoing webhooks (API-2).

Recording
---------
`record_event` runs inside the transaction of the change (the orders signals and the
after-sales timeline are sent there): it writes one `WebhookDelivery` per active endpoint
subscribed to the event — the outbox — and, after the commit, hands their ids to the workers.
A rolled-back change leaves no delivery; a committed one always has its rows. Nobody
subscribed costs no write and, most of the time, no query: the subscriptions are cached
(`subscriptions`) and the cache is dropped whenever an endpoint changes. The writes run in a
savepoint and a failure there is logged, never raised: a webhook never undoes an order.

Sending, and the guarantee
--------------------------
`deliver(delivery_id, attempt)` makes attempt number `attempt` of a delivery:

1. *Claim*, in a short transaction: the row is locked (`SELECT … FOR UPDATE SKIP LOCKED`), and
   taken only if it is still owed (pending, failed, or a claim older than the lease) and has
   had exactly `attempt - 1` attempts; it becomes `sending` with the attempt counted. The
   transaction commits before any network traffic, so no lock is held while the receiver
   answers. A second worker with the same message finds the row locked (skipped) or already
   claimed: two workers never make the same attempt, and a stale or duplicate message of an
   earlier attempt does nothing.
2. *POST*, outside any transaction, with the signature and a timeout.
3. *Record*, in a second short transaction: the attempt's row (code, duration, error) and the
   delivery's outcome — delivered on a 2xx; otherwise failed with `next_attempt_at` set by the
   backoff schedule, or given up after the last attempt. The outcome is only written if the
   claim is still ours.

Delivery is therefore **at least once**: a worker killed between the receiver's 2xx and step 3
leaves the row `sending`; after the lease the sweep sends it again, with the same
`X-Webhook-Id`. Receivers de-duplicate on that header (it is also the same across retries and
staff replays). Nothing is lost: a hand-over missed at commit (broker down), a retry, or a dead
worker's claim all become due for `due_deliveries`, which the beat sweep runs every minute.

Retries are rows, not Celery countdowns: a 12-hour ETA on Redis would outlive the broker's
visibility timeout and be delivered several times (STYLE.md "Background work").
"""

import json
import logging
import random
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import record_staff_action
from core.errors import DomainError
from notifications.conf import site_url
from notifications.models import NotificationKind
from notifications.services import alert_admins as notify_admins

from . import conf, signing
from .models import (
    SUBSCRIBABLE_EVENTS,
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

PERMISSION = "webhooks.manage_webhooks"
EXCERPT_MAX = 500
USER_AGENT = "shop-webhooks/1"
SUBSCRIPTIONS_CACHE_KEY = "webhooks:subscriptions:v1"
# A safety net only: every change of an endpoint drops the cached subscriptions at once.
SUBSCRIPTIONS_CACHE_SECONDS = 300


class WebhookNotAllowed(DomainError):
    """Refused: the user may not manage webhooks, or the action makes no sense now."""


class InvalidEndpoint(DomainError):
    """The endpoint's fields are not acceptable; `errors` maps fields to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(_("The endpoint was not saved."))
        self.errors = errors


def _check_permission(actor) -> None:
    if actor is None or not actor.has_perm(PERMISSION):
        raise WebhookNotAllowed(_("Only administrators manage webhooks."))


# --- subscriptions ----------------------------------------------------------------------------
def subscriptions() -> dict[str, list[int]]:
    """{event type: ids of the active endpoints subscribed}, from the cache when it has it."""
    try:
        cached = cache.get(SUBSCRIPTIONS_CACHE_KEY)
    except Exception:
        logger.exception("reading the webhook subscriptions from the cache failed")
        cached = None
    if cached is not None:
        return cached
    found: dict[str, list[int]] = {}
    for pk, events in WebhookEndpoint.objects.filter(is_active=True).values_list("pk", "events"):
        for event in events or ():
            found.setdefault(event, []).append(pk)
    try:
        cache.set(SUBSCRIPTIONS_CACHE_KEY, found, SUBSCRIPTIONS_CACHE_SECONDS)
    except Exception:
        logger.exception("caching the webhook subscriptions failed")
    return found


def forget_subscriptions() -> None:
    """Drop the cached subscriptions now and again at commit: a reader between the two could
    otherwise cache what the committing transaction is changing."""

    def forget() -> None:
        try:
            cache.delete(SUBSCRIPTIONS_CACHE_KEY)
        except Exception:
            logger.exception("dropping the cached webhook subscriptions failed")

    forget()
    transaction.on_commit(forget)


# --- recording --------------------------------------------------------------------------------
def record_event(*, event_type: str, build_data: Callable[[], dict]) -> list[int]:
    """Write a delivery of the event for every active endpoint subscribed to `event_type`, in
    the caller's transaction, and hand them to the workers after its commit. `build_data` is
    only called when someone subscribes. Returns the deliveries' ids (none when nobody
    subscribes, or when writing failed — logged, never raised)."""
    endpoint_ids = subscriptions().get(event_type)
    if not endpoint_ids:
        return []
    try:
        with transaction.atomic():
            return _write_deliveries(event_type, endpoint_ids, build_data())
    except Exception:
        logger.exception("recording the %s webhook failed; the change goes on", event_type)
        return []


def _write_deliveries(event_type: str, endpoint_ids: list[int], data: dict) -> list[int]:
    now = timezone.now()
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": event_type,
        "created_at": now.isoformat(),
        "data": data,
    }
    due = now + timedelta(seconds=conf.dispatch_after_seconds())
    rows = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event_type=event_type,
                event_id=event_id,
                payload=payload,
                next_attempt_at=due,
            )
            for endpoint_id in endpoint_ids
        ]
    )
    ids = [row.pk for row in rows]
    if None in ids:  # a database that cannot return ids from a bulk insert
        ids = list(WebhookDelivery.objects.filter(event_id=event_id).values_list("pk", flat=True))
    transaction.on_commit(partial(hand_over, ids))
    return ids


def hand_over(delivery_ids: list[int]) -> None:
    """Enqueue the first attempt of each delivery (called at commit). A broker that is down
    is logged, not raised — the change has committed, and the sweep sends the rows later."""
    from .tasks import send_delivery

    for delivery_id in delivery_ids:
        try:
            send_delivery.delay(delivery_id, 1)
        except Exception:
            logger.exception("handing webhook delivery %s to the workers failed", delivery_id)


# --- endpoints (staff) ------------------------------------------------------------------------
@dataclass(frozen=True)
class EndpointFields:
    url: str
    description: str
    events: list[str]
    is_active: bool


def _clean(fields: EndpointFields) -> EndpointFields:
    from django.core.exceptions import ValidationError

    errors: dict[str, list[str]] = {}
    url = (fields.url or "").strip()
    try:
        WebhookEndpoint._meta.get_field("url").run_validators(url)
        if not url:
            raise ValidationError(_("Enter the URL."))
    except ValidationError as error:
        errors["url"] = [_("Enter an http:// or https:// address.")] if url else error.messages
    events = [event for event in SUBSCRIBABLE_EVENTS if event in set(fields.events or ())]
    if len(events) != len(set(fields.events or ())):
        errors["events"] = [_("Choose events from the list.")]
    elif not events:
        errors["events"] = [_("Choose at least one event.")]
    if errors:
        raise InvalidEndpoint(errors)
    return EndpointFields(
        url=url,
        description=(fields.description or "").strip()[:200],
        events=[str(event) for event in events],
        is_active=bool(fields.is_active),
    )


def _snapshot(endpoint: WebhookEndpoint) -> dict:
    return {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events),
        "is_active": endpoint.is_active,
    }


def create_endpoint(*, actor, fields: EndpointFields) -> WebhookEndpoint:
    """Register an endpoint with a new secret (admins). Audited."""
    _check_permission(actor)
    fields = _clean(fields)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=fields.url,
            description=fields.description,
            events=fields.events,
            is_active=fields.is_active,
            secret=signing.new_secret(),
            created_by=actor,
        )
        record_staff_action(
            actor=actor, action="webhook.create", target=endpoint, after=_snapshot(endpoint)
        )
        forget_subscriptions()
    return endpoint


def update_endpoint(*, actor, endpoint_id: int, fields: EndpointFields) -> WebhookEndpoint:
    """Change an endpoint's URL, description, events or switch it on or off. Audited."""
    _check_permission(actor)
    fields = _clean(fields)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        before = _snapshot(endpoint)
        endpoint.url = fields.url
        endpoint.description = fields.description
        endpoint.events = fields.events
        endpoint.is_active = fields.is_active
        endpoint.save()
        record_staff_action(
            actor=actor,
            action="webhook.update",
            target=endpoint,
            before=before,
            after=_snapshot(endpoint),
        )
        forget_subscriptions()
    return endpoint


def rotate_secret(*, actor, endpoint_id: int) -> WebhookEndpoint:
    """Give the endpoint a new secret. The old one still signs too (a second `v1`) for
    WEBHOOK_SECRET_GRACE_HOURS, so the receiver can switch without refusing deliveries.
    Audited (without the secrets)."""
    _check_permission(actor)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + timedelta(
            hours=conf.secret_grace_hours()
        )
        endpoint.secret = signing.new_secret()
        endpoint.save()
        record_staff_action(
            actor=actor,
            action="webhook.rotate_secret",
            target=endpoint,
            after={"previous_secret_valid_until": endpoint.previous_secret_expires_at},
        )
    return endpoint


def _new_delivery(**fields) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        next_attempt_at=timezone.now() + timedelta(seconds=conf.dispatch_after_seconds()),
        **fields,
    )
    transaction.on_commit(partial(hand_over, [delivery.pk]))
    return delivery


def send_ping(*, actor, endpoint_id: int) -> WebhookDelivery:
    """Send a `ping` event to the endpoint now (active or not, subscribed or not), to check
    the receiver and its signature check. Audited."""
    _check_permission(actor)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
        now = timezone.now()
        event_id = uuid.uuid4()
        delivery = _new_delivery(
            endpoint=endpoint,
            event_type=WebhookEvent.PING,
            event_id=event_id,
            payload={
                "id": str(event_id),
                "type": WebhookEvent.PING.value,
                "created_at": now.isoformat(),
                "data": {"endpoint": endpoint.pk, "events": list(endpoint.events)},
            },
        )
        record_staff_action(
            actor=actor,
            action="webhook.ping",
            target=endpoint,
            after={"event_id": str(event_id), "delivery": delivery.pk},
        )
    return delivery


def replay_delivery(*, actor, delivery_id: int) -> WebhookDelivery:
    """Send a delivery's event again, now: a new delivery with the same event id, type and
    payload (`replay_of` the one replayed), whatever became of the first. Refused while the
    endpoint is switched off. Audited."""
    _check_permission(actor)
    with transaction.atomic():
        original = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
        if not original.endpoint.is_active and original.event_type != WebhookEvent.PING:
            raise WebhookNotAllowed(
                _("The endpoint is switched off: switch it on before replaying its events.")
            )
        delivery = _new_delivery(
            endpoint=original.endpoint,
            event_type=original.event_type,
            event_id=original.event_id,
            payload=original.payload,
            replay_of=original,
        )
        record_staff_action(
            actor=actor,
            action="webhook.replay",
            target=original.endpoint,
            after={
                "event_id": str(original.event_id),
                "event": original.event_type,
                "replayed_delivery": original.pk,
                "delivery": delivery.pk,
            },
        )
    return delivery


# --- sending ----------------------------------------------------------------------------------
def retry_delay(attempts: int, *, rng: random.Random | None = None) -> int:
    """Seconds to wait after `attempts` failed attempts: RETRY_SCHEDULE's step, plus up to
    RETRY_JITTER of it at random, so that the backlog of an outage does not return at once."""
    base = conf.RETRY_SCHEDULE[min(max(attempts, 1), len(conf.RETRY_SCHEDULE)) - 1]
    return int(base * (1 + (rng or random).uniform(0, conf.RETRY_JITTER)))


def _sendable() -> Q:
    """Rows whose endpoint is on (pings go to endpoints that are off too)."""
    return Q(endpoint__is_active=True) | Q(event_type=WebhookEvent.PING)


def claim(delivery_id: int, attempt: int | None = None) -> WebhookDelivery | None:
    """Take the delivery for its attempt number `attempt` (the next one when None): lock the
    row, skipping it if another worker holds it, and check it is owed and has had exactly
    `attempt - 1` attempts. None when there is nothing to do."""
    now = timezone.now()
    lease_start = now - timedelta(seconds=conf.lease_seconds())
    owed = Q(state__in=[DeliveryState.PENDING, DeliveryState.FAILED]) | Q(
        state=DeliveryState.SENDING, claimed_at__lte=lease_start
    )
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(owed, _sendable(), pk=delivery_id)
            .first()
        )
        if delivery is None:
            return None
        if attempt is not None and delivery.attempts != attempt - 1:
            return None
        delivery.state = DeliveryState.SENDING
        delivery.claimed_at = now
        delivery.attempts += 1
        delivery.save(update_fields=["state", "claimed_at", "attempts"])
    return delivery


@dataclass(frozen=True)
class Response:
    status_code: int | None
    excerpt: str
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a new address: following it would turn the POST into a
    GET without the body. The 3xx is recorded as a failed attempt."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _excerpt(raw: bytes) -> str:
    return raw[:EXCERPT_MAX].decode("utf-8", errors="replace")[:EXCERPT_MAX]


def request_headers(delivery: WebhookDelivery, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers of a delivery's POST of `body` at `timestamp`."""
    endpoint = delivery.endpoint
    keys = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > timezone.now()
    ):
        keys.append(endpoint.previous_secret)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Webhook-Id": str(delivery.event_id),
        "X-Webhook-Event": delivery.event_type,
        "X-Webhook-Timestamp": str(timestamp),
        signing.SIGNATURE_HEADER: signing.signature_header(keys, body, timestamp),
        "X-Webhook-Attempt": str(delivery.attempts),
    }


def encode_payload(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def post(delivery: WebhookDelivery) -> Response:
    """POST the delivery's payload, signed, and say what came back. Never raises."""
    body = encode_payload(delivery.payload)
    timestamp = int(time.time())
    request = urllib.request.Request(
        delivery.endpoint.url,
        data=body,
        headers=request_headers(delivery, body, timestamp),
        method="POST",
    )
    started = time.monotonic()
    status, excerpt, error = None, "", ""
    try:
        with _opener.open(request, timeout=conf.timeout_seconds()) as answer:
            status = answer.status
            excerpt = _excerpt(answer.read(EXCERPT_MAX))
    except urllib.error.HTTPError as answer:
        status = answer.code
        try:
            excerpt = _excerpt(answer.read(EXCERPT_MAX))
        except Exception:
            excerpt = ""
        error = f"HTTP {answer.code} {answer.reason}"
    except urllib.error.URLError as failure:
        error = str(failure.reason)
    except Exception as failure:  # timeouts while reading, resets, bad status lines…
        error = f"{type(failure).__name__}: {failure}"
    duration_ms = int((time.monotonic() - started) * 1000)
    return Response(status, excerpt, (error or "")[:EXCERPT_MAX], duration_ms)


def record_outcome(delivery: WebhookDelivery, response: Response, *, started_at) -> str:
    """Keep the attempt and move the delivery on: delivered, failed until its next attempt,
    or given up. Returns the state written."""
    now = timezone.now()
    if response.ok:
        changes = {
            "state": DeliveryState.DELIVERED,
            "delivered_at": now,
            "next_attempt_at": None,
            "last_error": "",
        }
    elif delivery.attempts >= conf.max_attempts():
        changes = {"state": DeliveryState.GIVEN_UP, "next_attempt_at": None}
    else:
        changes = {
            "state": DeliveryState.FAILED,
            "next_attempt_at": now + timedelta(seconds=retry_delay(delivery.attempts)),
        }
    if not response.ok:
        changes["last_error"] = response.error or _("HTTP %(code)s") % {
            "code": response.status_code
        }
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            started_at=started_at,
            duration_ms=response.duration_ms,
            status_code=response.status_code,
            error=response.error,
            response_excerpt=response.excerpt,
        )
        mine = WebhookDelivery.objects.filter(
            pk=delivery.pk, state=DeliveryState.SENDING, claimed_at=delivery.claimed_at
        ).update(
            last_status_code=response.status_code,
            response_excerpt=response.excerpt,
            claimed_at=None,
            **changes,
        )
        if mine and changes["state"] == DeliveryState.GIVEN_UP:
            _alert_given_up(delivery, changes["last_error"])
    if not mine:
        logger.warning(
            "webhook delivery %s was claimed again while being sent: it may arrive twice",
            delivery.pk,
        )
    elif changes["state"] == DeliveryState.GIVEN_UP:
        logger.warning(
            "webhook delivery %s (%s to %s) given up after %s attempts: %s",
            delivery.pk,
            delivery.event_type,
            delivery.endpoint.url,
            delivery.attempts,
            changes["last_error"],
        )
    return changes["state"]


def _alert_given_up(delivery: WebhookDelivery, error: str) -> None:
    """The administrators are told once that an endpoint missed an event for good, with a
    link to the delivery (to replay it once the endpoint is fixed)."""
    notify_admins(
        kind=NotificationKind.WEBHOOK_GIVEN_UP,
        key=f"webhook_given_up:{delivery.pk}",
        context={
            "event_type": delivery.event_type,
            "url": delivery.endpoint.url,
            "attempts": delivery.attempts,
            "error": error[:300],
            "delivery_url": site_url() + reverse("webhooks:delivery", args=[delivery.pk]),
        },
    )


def deliver(delivery_id: int, attempt: int | None = None) -> str | None:
    """Make attempt `attempt` of the delivery (see the module's account): claim, POST outside
    any transaction, record. Returns the state written, or None when there was nothing to do
    (delivered, given up, claimed by another worker, or not that attempt's turn)."""
    delivery = claim(delivery_id, attempt)
    if delivery is None:
        return None
    started_at = timezone.now()
    response = post(delivery)
    return record_outcome(delivery, response, started_at=started_at)


def due_deliveries(*, limit: int | None = None) -> list[tuple[int, int]]:
    """(id, attempt number) of up to `limit` deliveries the sweep should hand to the workers:
    pending ones whose hand-over was missed, failed ones whose retry time has come, and
    claims that outlived the lease. Rows another sweep holds are skipped; each row taken is
    not due again for one lease, so a slow queue is not handed the same row every minute.
    Nothing is claimed here: the send task claims the row for that attempt."""
    now = timezone.now()
    due = Q(state__in=[DeliveryState.PENDING, DeliveryState.FAILED], next_attempt_at__lte=now) | (
        Q(
            state=DeliveryState.SENDING,
            claimed_at__lte=now - timedelta(seconds=conf.lease_seconds()),
        )
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    )
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(due, _sendable())
            .order_by("next_attempt_at", "pk")
            .values_list("pk", "attempts")[: limit or conf.sweep_batch()]
        )
        if rows:
            WebhookDelivery.objects.filter(pk__in=[pk for pk, _attempts in rows]).update(
                next_attempt_at=now + timedelta(seconds=conf.lease_seconds())
            )
    return [(pk, attempts + 1) for pk, attempts in rows]
