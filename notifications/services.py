"""Write operations of the notification outbox (SPEC §5, issue 6).

`notify` writes one row per message in the caller's transaction, so a message exists exactly
when the change it tells about committed; after the commit it hands the row to the workers.
`deliver` claims and sends one row; `due_for_dispatch` feeds the periodic outbox dispatcher.

Exactly once, and what remains
------------------------------
Every send is preceded by a *claim*: one conditional UPDATE that moves the row from `pending`
to `sending` (stamping `claimed_at`, counting the attempt). Only one worker can win it, so a
duplicate enqueue, a task retried by the broker, the dispatcher running beside a direct
delivery, or two dispatchers at once send nothing twice: the loser finds the row not claimable
and returns. After the channel accepted the message, the row is marked `sent`.

A claim that is never finished (the worker was killed, the machine lost power) is taken over
once it is older than the lease (NOTIFICATION_LEASE_SECONDS, 5 minutes by default, longer than
the task's hard time limit): the dispatcher hands the row to a worker again, which claims it
and sends it. So no message is lost, and nothing is sent twice, except in one window: a worker
that dies *after* the mail server accepted the message and *before* it marked the row sent.
The row still says `sending`, so after the lease the message is sent a second time. There, and
only there, delivery is at-least-once.

The window cannot be closed from our side. Sending and marking are two systems with no shared
transaction, and SMTP has no idempotency key a server would use to drop a repeat (servers do
not de-duplicate on Message-ID). Marking the row sent *before* sending only moves the window:
a crash there loses the message, which is worse than a duplicate. The window lasts the few
milliseconds between the server's "250 OK" and one UPDATE, and costs a duplicate only if the
worker dies inside it.

Broker outage
-------------
The hand-over after commit (`transaction.on_commit(..., robust=True)`) fails quietly when the
broker is down: the customer's action has already succeeded and the row is `pending`. Every
pending row becomes due for the dispatcher NOTIFICATION_DISPATCH_AFTER_SECONDS after it was
written; beat runs `dispatch_notifications` every 30 s, so once the broker (and beat) are back,
every message owed goes out, once.
"""

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation

from . import conf
from .channels import PermanentFailure, get_channel
from .models import Notification, NotificationKind, NotificationStatus
from .rendering import render

logger = logging.getLogger(__name__)

ERROR_MAX = 2000


def notify(
    *,
    kind: str,
    key: str,
    order=None,
    recipient=None,
    address: str = "",
    language: str = "",
    context: dict | None = None,
    channel: str = "email",
) -> Notification | None:
    """Record one message to `recipient` (a user) or `address` (a guest) and deliver it after
    the caller's transaction commits.

    Idempotent on `key`: a second call with a key already recorded changes nothing and returns
    None, as does a call with nowhere to send to. The row is written in the caller's
    transaction (rolled back with it); `context` must be JSON (ids, strings, numbers as text).
    """
    if not address and recipient is not None:
        address = recipient.email
    if not address:
        return None
    language = (
        language
        or (getattr(recipient, "language", "") if recipient is not None else "")
        or translation.get_language()
        or ""
    )
    notification, created = Notification.objects.get_or_create(
        dedup_key=key,
        defaults={
            "kind": kind,
            "channel": channel,
            "recipient": recipient,
            "address": address,
            "language": language,
            "order": order,
            "context": context or {},
            "next_attempt_at": timezone.now() + timedelta(seconds=conf.dispatch_after_seconds()),
        },
    )
    if not created:
        return None
    if _history.get():
        # Recorded as already sent: a message of the past that nobody should receive now.
        Notification.objects.filter(pk=notification.pk).update(
            status=NotificationStatus.SENT, sent_at=timezone.now()
        )
        return notification
    # Robust: a broker that is down must not turn the customer's action into an error; the
    # row waits for the dispatcher instead.
    transaction.on_commit(_hand_over(notification.pk), robust=True)
    return notification


_history: ContextVar[bool] = ContextVar("notifications_history", default=False)


@contextmanager
def recorded_as_history():
    """Within this block, messages are recorded as sent and never delivered: for writing past
    events (the demo's order history), so that the message centre shows them and nobody's
    inbox — nor the workers' queue — is flooded with the past."""
    token = _history.set(True)
    try:
        yield
    finally:
        _history.reset(token)


def _hand_over(notification_id: int):
    """The callable that enqueues the delivery, for `on_commit(..., robust=True)`, which logs a
    failing callback by its `__qualname__` (a `functools.partial` has none)."""

    def hand_over() -> None:
        from .tasks import deliver_notification

        deliver_notification.delay(notification_id)

    hand_over.__qualname__ = f"deliver_notification.delay({notification_id})"
    return hand_over


def _claimable(now) -> Q:
    lease_start = now - timedelta(seconds=conf.lease_seconds())
    return Q(status=NotificationStatus.PENDING) | Q(
        status=NotificationStatus.SENDING, claimed_at__lte=lease_start
    )


def claim(notification_id: int) -> Notification | None:
    """Take the row for one delivery attempt: a pending row, or one whose claim outlived the
    lease. None when it is sent, failed, or being sent by a live worker."""
    now = timezone.now()
    won = Notification.objects.filter(_claimable(now), pk=notification_id).update(
        status=NotificationStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not won:
        return None
    return Notification.objects.select_related("recipient").get(pk=notification_id)


def due_for_dispatch(*, limit: int | None = None) -> list[int]:
    """The ids of up to `limit` rows the dispatcher should hand to the workers: pending rows
    whose `next_attempt_at` has come (never handed over — the broker was down — or waiting
    for a retry whose task was lost) and claims that outlived the lease (a worker died).

    Rows locked by another dispatcher are skipped (two dispatchers take different rows), and
    each row taken is not due again for one lease, so a slow worker is not sent it twice.
    Nothing is claimed here: the delivery task claims the row just before sending it."""
    now = timezone.now()
    due = Q(next_attempt_at__lte=now) & (
        Q(status=NotificationStatus.PENDING)
        | Q(
            status=NotificationStatus.SENDING,
            claimed_at__lte=now - timedelta(seconds=conf.lease_seconds()),
        )
    )
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(due)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[: limit or conf.dispatch_batch()]
        )
        if ids:
            Notification.objects.filter(pk__in=ids).update(
                next_attempt_at=now + timedelta(seconds=conf.lease_seconds())
            )
    return ids


def send_claimed(notification: Notification) -> None:
    """Render and send a row this worker claimed, then mark it sent. Raises what the channel
    raised, after recording it (`record_failure`)."""
    if _no_longer_true(notification):
        Notification.objects.filter(pk=notification.pk, status=NotificationStatus.SENDING).update(
            status=NotificationStatus.SKIPPED
        )
        return
    try:
        rendered = render(notification)
        get_channel(notification.channel).send(notification, rendered)
    except Exception as error:
        record_failure(notification, error, permanent=isinstance(error, PermanentFailure))
        raise
    marked = Notification.objects.filter(
        pk=notification.pk,
        status=NotificationStatus.SENDING,
        claimed_at=notification.claimed_at,
    ).update(status=NotificationStatus.SENT, sent_at=timezone.now(), last_error="")
    if not marked:
        # Our claim outlived the lease and another worker took the row over: the message may
        # go out twice. The lease is shorter than a delivery can take.
        logger.warning(
            "notification %s (%s) was claimed again while being sent",
            notification.pk,
            notification.dedup_key,
        )


def _no_longer_true(notification: Notification) -> bool:
    """A message that would now mislead: sent late (broker down, retries), the order moved on."""
    from orders.models import OrderState, Shipment

    order = notification.order
    if notification.kind == NotificationKind.PAYMENT_REMINDER:
        return order is None or order.state != OrderState.PENDING_PAYMENT
    if notification.kind in (
        NotificationKind.SHIPMENT_DELAYED,
        NotificationKind.SHIPMENT_DELAYED_STAFF,
    ):
        shipment_id = notification.context.get("shipment_id")
        return Shipment.objects.filter(pk=shipment_id, delivered_at__isnull=False).exists()
    return False


def retry_delay(attempts: int) -> int:
    """Seconds before attempt `attempts + 1`: the base, doubled per attempt, capped."""
    return min(conf.retry_base_seconds() * 2 ** max(attempts - 1, 0), conf.retry_max_seconds())


def record_failure(notification: Notification, error: Exception, *, permanent: bool) -> int | None:
    """The attempt failed: keep the error; wait and try again, or give up after the last
    attempt (or at once when no retry can help). Returns the delay, None when given up."""
    now = timezone.now()
    give_up = permanent or notification.attempts >= conf.max_attempts()
    delay = None if give_up else retry_delay(notification.attempts)
    Notification.objects.filter(
        pk=notification.pk,
        status=NotificationStatus.SENDING,
        claimed_at=notification.claimed_at,
    ).update(
        status=NotificationStatus.FAILED if give_up else NotificationStatus.PENDING,
        last_error=f"{type(error).__name__}: {error}"[:ERROR_MAX],
        next_attempt_at=now if give_up else now + timedelta(seconds=delay),
    )
    log = logger.error if give_up else logger.warning
    log(
        "notification %s (%s, order %s) attempt %s failed%s: %s",
        notification.pk,
        notification.kind,
        notification.order_id,
        notification.attempts,
        " — given up" if give_up else f", retry in {delay}s",
        error,
    )
    return delay


def deliver(notification_id: int) -> bool:
    """Claim and send one notification. False when there was nothing to do (already sent,
    being sent, given up). Raises on a failed attempt (recorded first)."""
    notification = claim(notification_id)
    if notification is None:
        return False
    send_claimed(notification)
    return True


def retry_failed(*, notification_ids, actor) -> int:
    """An admin sends failed notifications again: they become pending, with a fresh count of
    attempts, and are handed to the workers after commit. Returns how many were reset."""
    if not actor.has_perm("notifications.change_notification"):
        return 0
    with transaction.atomic():
        failed = list(
            Notification.objects.select_for_update()
            .filter(pk__in=list(notification_ids), status=NotificationStatus.FAILED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=failed).update(
            status=NotificationStatus.PENDING,
            attempts=0,
            next_attempt_at=timezone.now() + timedelta(seconds=conf.dispatch_after_seconds()),
            claimed_at=None,
        )
        for notification_id in failed:
            transaction.on_commit(_hand_over(notification_id), robust=True)
    return len(failed)


def alert_managers_of_stock(*, alert) -> int:
    """Tell every active manager about a stock alert (INV-7) through the outbox, one message
    each, in their language. Call in the transaction that claims the alert. Returns how many
    messages were recorded."""
    from django.contrib.auth import get_user_model

    from accounts.roles import Role

    managers = get_user_model().objects.filter(groups__name=Role.MANAGER, is_active=True)
    recorded = 0
    for manager in managers.order_by("pk"):
        recorded += (
            notify(
                kind=NotificationKind.LOW_STOCK,
                key=f"low_stock:{alert.pk}:{manager.pk}",
                recipient=manager,
                language=manager.language or _default_language(),
                context={"alert_id": alert.pk},
            )
            is not None
        )
    return recorded


def alert_admins(*, kind: str, key: str, context: dict) -> int:
    """Tell every active administrator about something only they can fix (a webhook endpoint
    that stopped answering, API-2), one message each, in their language, in the caller's
    transaction. `key` names the occasion: it is sent once. Returns the messages recorded."""
    from django.contrib.auth import get_user_model

    from accounts.roles import Role

    admins = get_user_model().objects.filter(groups__name=Role.ADMIN, is_active=True)
    return sum(
        notify(
            kind=kind,
            key=f"{key}:{admin.pk}",
            recipient=admin,
            language=admin.language or _default_language(),
            context=context,
        )
        is not None
        for admin in admins.order_by("pk").distinct()
    )


def _default_language() -> str:
    from django.conf import settings

    return settings.LANGUAGE_CODE


def customer_language(order) -> str:
    """The language to write to an order's customer in: their own setting, else the language
    the shop first wrote to them about this order in, else the current one."""
    from django.conf import settings

    if order.customer is not None and order.customer.language:
        return order.customer.language
    first = (
        Notification.objects.filter(order=order)
        .exclude(language="")
        .order_by("pk")
        .values_list("language", flat=True)
        .first()
    )
    return first or translation.get_language() or settings.LANGUAGE_CODE
