"""Sending the webhook outbox (API-2). Thin: the rules and the delivery guarantee are in
`webhooks.services`.

- `send_delivery(id, attempt)` is enqueued after the commit that wrote the delivery (attempt
  1), and by the sweep for later attempts. It claims the row for that attempt first, so a
  duplicate or redelivered message sends nothing. A failure is not retried by Celery: the row
  gets its `next_attempt_at` and the sweep hands it over when due.
- `sweep_deliveries` runs every minute (beat): due retries, deliveries whose hand-over at
  commit was lost, and claims of workers that died, in skip-locked batches.
"""

import logging

from celery import shared_task

from . import conf, services

logger = logging.getLogger(__name__)

# The hard limit stays well under the lease (WEBHOOK_LEASE_SECONDS, 300 s by default), so a
# claim is never taken over from a task that is still running.
SEND_SOFT_TIME_LIMIT = 60
SEND_TIME_LIMIT = 90
SWEEP_MAX_BATCHES = 20


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=SEND_SOFT_TIME_LIMIT,
    time_limit=SEND_TIME_LIMIT,
)
def send_delivery(delivery_id: int, attempt: int | None = None) -> str | None:
    """Make attempt `attempt` of one delivery unless it is delivered, given up, being sent,
    or not at that attempt. Returns the state written (None: nothing to do). Safe to run any
    number of times."""
    return services.deliver(delivery_id, attempt)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=120, time_limit=150)
def sweep_deliveries() -> int:
    """Hand the due deliveries to the workers. Safe beside itself and beside direct sends:
    rows are taken under skip-locked locks, and the send task claims each one for its attempt.
    Returns how many were handed over."""
    batch = conf.sweep_batch()
    handed = 0
    for _round in range(SWEEP_MAX_BATCHES):
        due = services.due_deliveries(limit=batch)
        for delivery_id, attempt in due:
            try:
                send_delivery.delay(delivery_id, attempt)
            except Exception:
                # Due again after one lease; the rest of the batch still goes.
                logger.exception("handing webhook delivery %s over failed", delivery_id)
                continue
            handed += 1
        if len(due) < batch:
            break
    return handed
