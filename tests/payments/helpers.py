"""Helpers for payment tests: the sandbox's notification delivered through the test client,
and signed notifications built by hand."""

import hashlib
import hmac
import json
import time
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from payments import tasks
from payments.gateways import sandbox


@pytest.fixture
def deliveries(monkeypatch):
    """Route the sandbox's HTTP delivery through Django's test client; the list of
    (url, status) delivered."""
    delivered: list[tuple[str, int]] = []

    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        response = Client().post(
            urlsplit(url).path,
            data=body,
            content_type=headers["Content-Type"],
            headers={k: v for k, v in headers.items() if k != "Content-Type"},
        )
        delivered.append((url, response.status_code))
        return response.status_code

    monkeypatch.setattr(tasks, "post_notification", post)
    return delivered


def signed(
    *,
    reference: str,
    txn_id: str = "SBXTEST1",
    amount: str = "99.00",
    status: str = "succeeded",
    timestamp: int | None = None,
    key: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A sandbox notification body and its headers, signed with the sandbox secret (or `key`)."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    body = json.dumps(
        {
            "reference": reference,
            "txn_id": txn_id,
            "amount": amount,
            "status": status,
            "sent_at": ts,
        }
    )
    signature = sandbox.sign(f"{ts}.{body}") if key is None else _sign_with(key, f"{ts}.{body}")
    return body.encode(), {"X-Sandbox-Timestamp": ts, "X-Sandbox-Signature": signature}


def _sign_with(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def post_notification(client: Client, body: bytes, headers: dict[str, str], gateway="sandbox"):
    return client.post(
        reverse("payments:notify", args=[gateway]),
        data=body,
        content_type="application/json",
        headers=headers,
    )


def amount_str(value: Decimal) -> str:
    return f"{value:.2f}"
