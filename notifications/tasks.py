"""Delivery of the notification outbox (SPEC §5, issue 6). Thin: the rules, and the account of
what "exactly once" means here and which window remains, are in `notifications.services`.

- `deliver_notification(id)` is enqueued after the commit that wrote the row. It claims the
  row first, so a duplicate or retried task sends nothing; a passing failure (mail server down)
  is retried with exponential backoff, until NOTIFICATION_MAX_ATTEMPTS, then the row is failed.
- `dispatch_notifications` runs every 30 s (beat): it hands to the workers, in skip-locked
  batches, the rows whose hand-over was lost (broker down at commit), retries whose task was
  lost, and claims of workers that died (older than the lease).
"""

import logging

from celery import shared_task

from . import conf, services
from .channels import PermanentFailure

logger = logging.getLogger(__name__)

# The hard limit stays well under the lease (NOTIFICATION_LEASE_SECONDS, 300 s by default), so
# that a claim is never taken over from a task that is still running.
DELIVERY_SOFT_TIME_LIMIT = 60
DELIVERY_TIME_LIMIT = 90
# Batches per dispatcher run; it stops at the first batch that comes back short.
DISPATCH_MAX_BATCHES = 20


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=DELIVERY_SOFT_TIME_LIMIT,
    time_limit=DELIVERY_TIME_LIMIT,
)
def deliver_notification(self, notification_id: int) -> bool:
    """Send one notification unless it is sent, being sent, or given up. Returns whether this
    run sent it. Safe to run any number of times."""
    notification = services.claim(notification_id)
    if notification is None:
        return False
    try:
        services.send_claimed(notification)
    except PermanentFailure:
        return False  # recorded as failed by send_claimed
    except Exception as error:
        if notification.attempts >= conf.max_attempts():
            return False  # given up, recorded as failed
        # The row is due for the dispatcher at the same moment (next_attempt_at): whichever
        # comes first claims it, the other finds nothing to do.
        raise self.retry(
            exc=error, countdown=services.retry_delay(notification.attempts), max_retries=None
        ) from error
    return True


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=120, time_limit=150)
def dispatch_notifications() -> int:
    """The outbox dispatcher. Safe beside itself and beside direct deliveries: rows are taken
    under skip-locked row locks, and the delivery task claims each before sending. Returns
    how many rows it handed over."""
    batch = conf.dispatch_batch()
    handed = 0
    for _round in range(DISPATCH_MAX_BATCHES):
        ids = services.due_for_dispatch(limit=batch)
        for notification_id in ids:
            try:
                deliver_notification.delay(notification_id)
            except Exception:
                # Due again after one lease; the rest of the batch still goes.
                logger.exception("handing over notification %s failed", notification_id)
                continue
            handed += 1
        if len(ids) < batch:
            break
    return handed
