"""Order deadlines, kept by periodic scans of the database (ORD-5, ORD-10, FUL-6).

Beat runs each function through `orders.tasks` (reminders and cancellations every minute,
confirmations and delay flags every hour). None of them relies on a task scheduled for the
moment of the deadline: a scan finds what is due from indexed columns, so a missed run (worker
down, broker down) is caught up by the next one. They share these guarantees:

- **Row locks, skip-locked.** What is due is locked with `SELECT … FOR UPDATE SKIP LOCKED`, so
  two copies running at once (a slow run overlapping the next, a second beat by mistake) take
  different rows and never wait for each other.
- **Re-checked under the lock.** The condition that makes a row due is part of the locking
  query: a row changed meanwhile (paid, reminded, confirmed, flagged by the other copy) is not
  taken again. Re-running is harmless; each row is handled once.
- **Signals in the transaction.** The change and the signal the notifications listen to
  (`orders.signals`) commit or roll back together.
- **Bounded runs.** At most `SCHEDULE_MAX_PER_RUN` rows per run, `SCHEDULE_BATCH_SIZE` per
  transaction; the next run goes on where this one stopped. A row whose handling fails is
  logged with its id and skipped for the rest of the run; the others go on.

Orders held for review (`needs_review`) are the service desk's: no schedule touches them. An
unpaid order held because a payment did not match has money to sort out; cancelling it by the
clock would be wrong. Released unpaid, it is due again (cancelled at the next run if its
deadline has passed).

Each function takes `now` (default: the current time) and returns how many rows it handled.
"""

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from . import services, signals
from .models import Order, OrderState, PaymentMethod, Shipment, TrackingEvent

logger = logging.getLogger(__name__)


# --- settings -----------------------------------------------------------------------------------
def payment_deadline() -> timedelta:
    """How long after it was placed an unpaid online order is cancelled (ORD-5)."""
    return timedelta(minutes=settings.PAYMENT_DEADLINE_MINUTES)


def payment_due_by(order: Order) -> datetime:
    """The moment `order` is cancelled if still unpaid (for pages and messages)."""
    return order.created_at + payment_deadline()


def _reminder_lead() -> timedelta:
    return timedelta(minutes=settings.PAYMENT_REMINDER_MINUTES_BEFORE)


def _batch_size(batch_size: int | None) -> int:
    return max(1, batch_size or settings.SCHEDULE_BATCH_SIZE)


def _limit(limit: int | None) -> int:
    return max(1, limit or settings.SCHEDULE_MAX_PER_RUN)


# --- what is due ------------------------------------------------------------------------------
def _awaiting_payment() -> QuerySet[Order]:
    """Unpaid online orders not held for review (index `order_awaiting_online_payment`).
    Cash-on-delivery orders are paid at the door: no deadline."""
    return Order.objects.filter(
        state=OrderState.PENDING_PAYMENT,
        payment_method=PaymentMethod.ONLINE,
        needs_review=False,
    )


def reminders_due(now: datetime) -> QuerySet[Order]:
    """Orders inside the reminder window (its deadline is at most
    PAYMENT_REMINDER_MINUTES_BEFORE away and has not passed) and not reminded yet."""
    deadline = payment_deadline()
    return _awaiting_payment().filter(
        payment_reminded_at__isnull=True,
        created_at__lte=now - (deadline - _reminder_lead()),
        created_at__gt=now - deadline,
    )


def expired_orders(now: datetime) -> QuerySet[Order]:
    """Unpaid online orders whose deadline has come (placed PAYMENT_DEADLINE_MINUTES ago)."""
    return _awaiting_payment().filter(created_at__lte=now - payment_deadline())


def confirmations_due(now: datetime) -> QuerySet[Order]:
    """Shipped orders whose receipt the system confirms (ORD-10).

    The AUTO_CONFIRM_DAYS are counted per parcel: from its delivery when the carrier reported
    one (a "delivered" tracking event stamps `Shipment.delivered_at`), else from its hand-over
    to the carrier. The order is due once every parcel is that old, and the order itself was
    shipped that long ago (index `order_shipped_since`). Cash-on-delivery orders wait for
    their cash to be recorded."""
    cutoff = now - timedelta(days=settings.AUTO_CONFIRM_DAYS)
    recent_parcel = Shipment.objects.filter(order=OuterRef("pk")).filter(
        Q(delivered_at__gt=cutoff) | Q(delivered_at__isnull=True, shipped_at__gt=cutoff)
    )
    # A cash-on-delivery order whose cash was never recorded may have been refused at the
    # door: it is the service desk's to settle, not the clock's to complete.
    cash_missing = Q(payment_method=PaymentMethod.CASH_ON_DELIVERY, paid_at__isnull=True)
    return (
        Order.objects.filter(state=OrderState.SHIPPED, needs_review=False, shipped_at__lte=cutoff)
        .exclude(cash_missing)
        .exclude(Exists(recent_parcel))
    )


def delayed_shipments(now: datetime) -> QuerySet[Shipment]:
    """Parcels of shipped orders, not delivered and not flagged yet, that have not moved for
    SHIPMENT_DELAY_HOURS: handed over that long ago and no tracking event since (FUL-6; index
    `shipment_in_transit_unflagged`)."""
    cutoff = now - timedelta(hours=settings.SHIPMENT_DELAY_HOURS)
    recent_event = TrackingEvent.objects.filter(shipment=OuterRef("pk"), occurred_at__gt=cutoff)
    return Shipment.objects.filter(
        order__state=OrderState.SHIPPED,
        delivered_at__isnull=True,
        delay_flagged_at__isnull=True,
        shipped_at__lte=cutoff,
    ).exclude(Exists(recent_event))


# --- the jobs -------------------------------------------------------------------------------------
def send_payment_reminders(
    *, now: datetime | None = None, batch_size: int | None = None, limit: int | None = None
) -> int:
    """Remind each unpaid online order once, inside its reminder window (ORD-5).

    Stamps `payment_reminded_at` and sends `signals.payment_reminder_due(order_id, deadline)` in
    the same transaction. An order whose window was missed entirely (the schedule was down for
    longer than the window) is not reminded: it is cancelled instead."""
    if settings.PAYMENT_REMINDER_MINUTES_BEFORE <= 0:
        return 0
    now = now or timezone.now()
    deadline = payment_deadline()

    def remind(order: Order) -> None:
        Order.objects.filter(pk=order.pk).update(payment_reminded_at=now)
        signals.payment_reminder_due.send(
            sender=Order, order_id=order.pk, deadline=order.created_at + deadline
        )

    return _in_batches(
        reminders_due(now).only("pk", "created_at"),
        order_by=("created_at", "pk"),
        handle=remind,
        batch_size=_batch_size(batch_size),
        limit=_limit(limit),
    )


def cancel_expired_orders(
    *, now: datetime | None = None, batch_size: int | None = None, limit: int | None = None
) -> int:
    """Cancel the unpaid online orders whose payment deadline has come (ORD-5), by the system,
    through `services.cancel_order`: the stock goes back and the "cancelled" event has no
    actor and the reason "Not paid by the deadline".

    One transaction per order, not per batch: a cancellation locks shared rows (the SKUs'
    stock rows, a coupon's use count), and holding those for a whole batch would stall
    checkout on them and let two overlapping runs deadlock each other. Each order is locked
    with SKIP LOCKED and re-checked first; `cancel_order` then locks the same row again in the
    same transaction, which does not wait."""
    now = now or timezone.now()
    batch_size, limit = _batch_size(batch_size), _limit(limit)
    reason = _("Not paid by the deadline")
    due = expired_orders(now)
    failed: set[int] = set()
    cancelled = 0
    while cancelled < limit:
        candidates = list(
            due.exclude(pk__in=failed)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[: min(batch_size, limit - cancelled)]
        )
        if not candidates:
            break
        # Two overlapping runs read the same candidates: each walks them in its own order, so
        # that they rarely reach for the same row (a skipped row costs a query).
        random.shuffle(candidates)
        progress = 0
        for order_id in candidates:
            try:
                with transaction.atomic():
                    locked = due.filter(pk=order_id).select_for_update(skip_locked=True)
                    if not locked.values_list("pk", flat=True):
                        continue  # another run has it, or it was paid meanwhile
                    services.cancel_order(order_id=order_id, actor=None, reason=reason)
            except SoftTimeLimitExceeded:
                raise  # the task's time is up: this order rolled back, the next run goes on
            except Exception:
                failed.add(order_id)
                logger.exception("Could not cancel expired order id=%s", order_id)
                continue
            progress += 1
        cancelled += progress
        if not progress:
            break  # what is left is being cancelled by another run (or failed)
    if cancelled:
        logger.info("Cancelled %d order(s) not paid by the deadline", cancelled)
    return cancelled


def confirm_delivered_orders(
    *, now: datetime | None = None, batch_size: int | None = None, limit: int | None = None
) -> int:
    """Confirm receipt of shipped orders AUTO_CONFIRM_DAYS after delivery, or after shipment
    for parcels with no delivery reported (ORD-10; see `confirmations_due`), by the system,
    through `services.complete_order` (which writes the event and sends `order_completed`)."""
    now = now or timezone.now()
    days = settings.AUTO_CONFIRM_DAYS
    reason = _("Receipt confirmed automatically %(days)d days after delivery or shipment.") % {
        "days": days
    }

    def confirm(order: Order) -> None:
        services.complete_order(order_id=order.pk, actor=None, reason=reason)

    return _in_batches(
        confirmations_due(now).only("pk"),
        order_by=("shipped_at", "pk"),
        handle=confirm,
        batch_size=_batch_size(batch_size),
        limit=_limit(limit),
    )


def flag_delayed_shipments(
    *, now: datetime | None = None, batch_size: int | None = None, limit: int | None = None
) -> int:
    """Flag each parcel that has not moved for SHIPMENT_DELAY_HOURS, once (FUL-6): stamps
    `delay_flagged_at` and sends `signals.shipment_delayed(order_id, shipment_id)` in the same
    transaction (the customer is told, staff are alerted)."""
    now = now or timezone.now()

    def flag(shipment: Shipment) -> None:
        Shipment.objects.filter(pk=shipment.pk).update(delay_flagged_at=now)
        signals.shipment_delayed.send(
            sender=Order, order_id=shipment.order_id, shipment_id=shipment.pk
        )

    return _in_batches(
        delayed_shipments(now).only("pk", "order_id"),
        order_by=("shipped_at", "pk"),
        handle=flag,
        batch_size=_batch_size(batch_size),
        limit=_limit(limit),
    )


def _in_batches(
    due: QuerySet,
    *,
    order_by: tuple[str, ...],
    handle: Callable[[Any], None],
    batch_size: int,
    limit: int,
) -> int:
    """Lock up to `batch_size` rows of `due` (SKIP LOCKED), hand them to `handle` one by
    one, each in a savepoint, and commit; until nothing is due or `limit` rows were handled.
    `handle` must make its row no longer due. A row that fails is logged and left out
    for the rest of the run instead of failing its whole batch."""
    model = due.model.__name__
    failed: set[int] = set()
    handled = 0
    while handled < limit:
        with transaction.atomic():
            rows = list(
                due.exclude(pk__in=failed)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by(*order_by)[: min(batch_size, limit - handled)]
            )
            if not rows:
                break
            for row in rows:
                try:
                    with transaction.atomic():
                        handle(row)
                except SoftTimeLimitExceeded:
                    raise
                except Exception:
                    failed.add(row.pk)
                    logger.exception("Scheduled change failed for %s id=%s", model, row.pk)
                    continue
                handled += 1
    return handled
