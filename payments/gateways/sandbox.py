"""The built-in sandbox gateway: a payment page inside the shop that can succeed or fail, so
the whole payment flow runs with no outside service (ORD-4). No real money moves.

It behaves like a hosted-page provider: `start` opens a charge in the sandbox's own books
(`SandboxCharge`) and sends the payer to its page; the payer's choice settles the charge once;
the sandbox then sends a signed server-to-server notification over HTTP
(`payments.tasks.deliver_sandbox_notification`, retried) and sends the browser back with a
signed query string.

Signatures: hex HMAC-SHA256 with `secret()`,
- notification: over f"{timestamp}.{body}", in X-Sandbox-Signature, the Unix time in
  X-Sandbox-Timestamp; refused when older (or newer) than PAYMENT_NOTIFICATION_MAX_AGE;
- browser return: over f"{reference}.{status}.{ts}", in the `sig` parameter.
"""

import functools
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from ..models import SandboxCharge, SandboxChargeStatus, SandboxRefund
from .base import InvalidNotification, Notification, PaymentGateway, RefundResult, ReturnInfo

TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
SIGNATURE_HEADER = "X-Sandbox-Signature"


def secret() -> bytes:
    """SANDBOX_GATEWAY_SECRET, or a key derived from SECRET_KEY when it is not set."""
    if settings.SANDBOX_GATEWAY_SECRET:
        return settings.SANDBOX_GATEWAY_SECRET.encode()
    return hmac.new(
        settings.SECRET_KEY.encode(), b"payments.gateways.sandbox.secret", hashlib.sha256
    ).digest()


def sign(message: str) -> str:
    return hmac.new(secret(), message.encode(), hashlib.sha256).hexdigest()


def _parse_amount(value) -> Decimal:
    if not isinstance(value, str):  # a JSON number would have gone through a float
        raise InvalidNotification(InvalidNotification.MALFORMED, "amount must be a string")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise InvalidNotification(InvalidNotification.MALFORMED, "amount") from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise InvalidNotification(InvalidNotification.MALFORMED, "amount")
    return amount.quantize(Decimal("0.01"))


class SandboxGateway(PaymentGateway):
    name = "sandbox"
    signature_headers = (SIGNATURE_HEADER, TIMESTAMP_HEADER)

    def start(self, *, payment, return_url: str, notify_url: str) -> str:
        charge = SandboxCharge.objects.create(
            txn_id=f"SBX{uuid.uuid4().hex.upper()}",
            reference=payment.reference,
            amount=payment.amount,
            merchant_name=settings.SHOP_NAME,
            description=payment.order.number,
            notify_url=notify_url,
            return_url=return_url,
        )
        return reverse("payments:sandbox_pay", args=[charge.txn_id])

    def parse_notification(self, *, body: bytes, headers: Mapping[str, str]) -> Notification:
        timestamp = headers.get(TIMESTAMP_HEADER) or ""
        signature = headers.get(SIGNATURE_HEADER) or ""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidNotification(InvalidNotification.MALFORMED, "not UTF-8") from None
        expected = sign(f"{timestamp}.{text}")
        if not signature or not hmac.compare_digest(expected, signature.strip().lower()):
            raise InvalidNotification(InvalidNotification.SIGNATURE)
        try:
            sent = int(timestamp)
        except ValueError:
            raise InvalidNotification(InvalidNotification.STALE, "timestamp") from None
        if abs(time.time() - sent) > settings.PAYMENT_NOTIFICATION_MAX_AGE:
            raise InvalidNotification(InvalidNotification.STALE)
        try:
            data = json.loads(text)
            reference = data["reference"]
            txn_id = data["txn_id"]
            status = data["status"]
            amount = data["amount"]
        except (ValueError, KeyError, TypeError):
            raise InvalidNotification(InvalidNotification.MALFORMED, "fields") from None
        if not (isinstance(reference, str) and isinstance(txn_id, str) and reference and txn_id):
            raise InvalidNotification(InvalidNotification.MALFORMED, "reference")
        if status not in (SandboxChargeStatus.SUCCEEDED, SandboxChargeStatus.FAILED):
            raise InvalidNotification(InvalidNotification.MALFORMED, "status")
        return Notification(
            reference=reference,
            gateway_txn_id=txn_id,
            amount=_parse_amount(amount),
            succeeded=status == SandboxChargeStatus.SUCCEEDED,
            raw=data,
        )

    def parse_return(self, *, query: Mapping[str, str]) -> ReturnInfo:
        reference = query.get("reference") or ""
        status = query.get("status") or ""
        ts = query.get("ts") or ""
        sig = query.get("sig") or ""
        if not (reference and status and ts and sig):
            raise InvalidNotification(InvalidNotification.MALFORMED)
        if not hmac.compare_digest(sign(f"{reference}.{status}.{ts}"), sig.lower()):
            raise InvalidNotification(InvalidNotification.SIGNATURE)
        return ReturnInfo(reference=reference, status=status)

    def refund(self, *, payment, amount: Decimal, reason: str, reference: str) -> RefundResult:
        with transaction.atomic():
            charge = (
                SandboxCharge.objects.select_for_update()
                .filter(txn_id=payment.gateway_txn_id)
                .first()
            )
            if charge is None or charge.status != SandboxChargeStatus.SUCCEEDED:
                return RefundResult(succeeded=False, message="no settled charge")
            done = charge.refunds.filter(merchant_refund_reference=reference).first()
            if done is not None:  # asked again: the same refund, not a second one
                return RefundResult(succeeded=True, gateway_refund_id=done.refund_id)
            refunded = charge.refunds.aggregate(total=Sum("amount"))["total"] or Decimal("0")
            if amount <= 0 or refunded + amount > charge.amount:
                return RefundResult(succeeded=False, message="more than the charge")
            created = SandboxRefund.objects.create(
                charge=charge,
                refund_id=f"SBR{uuid.uuid4().hex.upper()}",
                merchant_refund_reference=reference,
                amount=amount,
            )
        return RefundResult(succeeded=True, gateway_refund_id=created.refund_id)


# --- The sandbox's side: settling a charge, notifying the shop, sending the payer back ------------
def settle_charge(*, txn_id: str, succeed: bool) -> bool:
    """The payer chose on the sandbox page. Settles the charge once; True if this call did
    (then the notification is sent after the commit), False if it was already settled."""
    from .. import tasks

    status = SandboxChargeStatus.SUCCEEDED if succeed else SandboxChargeStatus.FAILED
    with transaction.atomic():
        settled = SandboxCharge.objects.filter(
            txn_id=txn_id, status=SandboxChargeStatus.PENDING
        ).update(status=status, settled_at=timezone.now())
        if settled:
            charge_id = SandboxCharge.objects.values_list("pk", flat=True).get(txn_id=txn_id)
            transaction.on_commit(
                functools.partial(tasks.deliver_sandbox_notification.delay, charge_id)
            )
    return bool(settled)


def notification_for(charge: SandboxCharge, *, now: float | None = None) -> tuple[bytes, dict]:
    """The body and headers of the notification for a settled charge, signed now."""
    timestamp = str(int(now if now is not None else time.time()))
    body = json.dumps(
        {
            "reference": charge.reference,
            "txn_id": charge.txn_id,
            "amount": f"{charge.amount:.2f}",
            "status": charge.status,
            "sent_at": timestamp,
        },
        separators=(",", ":"),
    )
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(f"{timestamp}.{body}"),
    }
    return body.encode(), headers


def return_url_for(charge: SandboxCharge) -> str:
    """Where the payer's browser goes after the sandbox page, with a signed query."""
    ts = str(int(time.time()))
    query = {
        "reference": charge.reference,
        "status": charge.status,
        "ts": ts,
        "sig": sign(f"{charge.reference}.{charge.status}.{ts}"),
    }
    separator = "&" if "?" in charge.return_url else "?"
    return f"{charge.return_url}{separator}{urlencode(query)}"
