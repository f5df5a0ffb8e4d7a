"""What payments do when something happens to an order elsewhere (signals from `orders`)."""

import functools

from django.db import transaction

from . import tasks
from .models import Payment
from .services import REFUNDABLE_STATUSES


def on_order_cancelled(sender, *, order_id: int, actor=None, **kwargs) -> None:
    """Receiver of `orders.signals.order_cancelled` (sent inside the cancelling transaction):
    once it commits, refund what was paid (AFS-1). Nothing is queued for an order no money
    was taken for; a payment that arrives after the cancellation is flagged for a person by
    `services.handle_notification`."""
    if Payment.objects.filter(order_id=order_id, status__in=REFUNDABLE_STATUSES).exists():
        transaction.on_commit(
            functools.partial(tasks.refund_cancelled_order.delay, order_id), robust=True
        )
