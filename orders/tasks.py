"""Beat's order schedules (ORD-5, ORD-10, FUL-6): thin tasks over `orders.schedules`.

Each is safe to run twice or beside another copy of itself (skip-locked row locks, conditions
re-checked under the lock), hence `acks_late` with `reject_on_worker_lost`: a run lost with its
worker is delivered again and finds only what is still due. A run that fails is not retried:
the next tick of beat is the retry. Each returns how many rows it changed.
"""

from celery import shared_task

from . import schedules

SCHEDULE_TASK = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    # A run stops at its soft limit (the row in hand rolls back); the next run goes on.
    "soft_time_limit": 240,
    "time_limit": 300,
}


@shared_task(**SCHEDULE_TASK)
def send_payment_reminders() -> int:
    return schedules.send_payment_reminders()


@shared_task(**SCHEDULE_TASK)
def cancel_expired_orders() -> int:
    return schedules.cancel_expired_orders()


@shared_task(**SCHEDULE_TASK)
def confirm_delivered_orders() -> int:
    return schedules.confirm_delivered_orders()


@shared_task(**SCHEDULE_TASK)
def flag_delayed_shipments() -> int:
    return schedules.flag_delayed_shipments()
