"""Background work: giving a cancelled order's money back (AFS-1), and the sandbox gateway's
server-to-server notification (ORD-4)."""

import logging
import urllib.request
from datetime import timedelta
from urllib.error import HTTPError, URLError

from celery import shared_task

from . import services
from .models import SandboxCharge, SandboxChargeStatus

logger = logging.getLogger(__name__)

DELIVERY_TIMEOUT_SECONDS = 10


def post_notification(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST the notification over HTTP; the receiver's status code. A network failure raises
    `URLError`. The one place the sandbox talks HTTP (tests replace it to post through
    Django's test client)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:
            return response.status
    except HTTPError as error:
        return error.code


@shared_task(
    autoretry_for=(services.RefundPending,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
    acks_late=True,
    reject_on_worker_lost=True,
)
def refund_cancelled_order(order_id: int) -> int:
    """Refund what was paid for a cancelled order; retried while the gateway cannot be
    reached. Safe to run twice: each payment's cancellation refund has a fixed reference.
    Returns how many refunds were asked of the gateway."""
    return len(services.refund_cancelled_order(order_id=order_id))


# A cancellation's refund is handed over after commit; one not done this long after is looked
# for by the sweep (the hand-over was lost while the broker was down).
REFUND_SWEEP_AFTER = timedelta(minutes=10)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=240, time_limit=300)
def sweep_cancelled_refunds() -> int:
    """Run by beat: hand over the refunds of cancelled orders that still hold money. Safe
    beside the direct hand-over and beside itself: each cancellation refund has a fixed
    reference. Returns how many orders it handed over."""
    handed = 0
    for order_id in services.orders_owed_refunds(older_than=REFUND_SWEEP_AFTER):
        try:
            refund_cancelled_order.delay(order_id)
        except Exception:  # broker still down: the next sweep tries again
            logger.warning("refund of cancelled order %s not handed over", order_id, exc_info=True)
            break
        handed += 1
    return handed


@shared_task(
    autoretry_for=(URLError, OSError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,
)
def deliver_sandbox_notification(charge_id: int) -> int:
    """Tell the shop how a sandbox charge settled; retried with backoff while the shop cannot
    be reached or answers 5xx. Safe to run twice: the receiver ignores a notification it has
    already applied. Returns the receiver's status code."""
    from .gateways.sandbox import notification_for

    charge = SandboxCharge.objects.get(pk=charge_id)
    if charge.status == SandboxChargeStatus.PENDING:
        return 0  # not settled: nothing to say yet
    body, headers = notification_for(charge)
    status = post_notification(charge.notify_url, body, headers)
    if status >= 500:
        raise URLError(f"the shop answered {status}")
    if status >= 400:
        # The shop refused it (signature, age): sending it again would not help.
        logger.warning("sandbox notification for %s refused with %s", charge.txn_id, status)
    return status
