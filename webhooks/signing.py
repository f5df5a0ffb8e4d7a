"""How deliveries are signed: the scheme the shop itself verifies on carriers' tracking pushes
(orders.tracking_io), so one description and one function serve both directions.

    X-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">

keyed with the endpoint's secret. While a rotated secret is in its grace period a second `v1`
(made with the previous secret) follows; a receiver accepts the delivery if any `v1` matches
the secret it holds, and refuses a `t` too far from its clock (replays of a captured request).
"""

import secrets

from orders.tracking_io import sign_carrier_payload

SIGNATURE_HEADER = "X-Webhook-Signature"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: 256 random bits, URL-safe, recognisable by its prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes | str, timestamp: int | str) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" keyed with `secret` (one `v1` value)."""
    return sign_carrier_payload(secret, body, timestamp)


def signature_header(keys: list[str], body: bytes, timestamp: int) -> str:
    """The header value: the time, then one `v1` per secret in `keys` (current first)."""
    signatures = ",".join(f"v1={sign(key, body, timestamp)}" for key in keys if key)
    return f"t={timestamp},{signatures}"
