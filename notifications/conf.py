"""Settings of the notifications app, each read when used (tests and workers may change them).

Taken from Django settings when set there, else from the environment, else a default:

- SITE_URL: the shop's public address, for links in messages (default http://127.0.0.1:8000).
- NOTIFICATION_CHANNELS: {code: dotted path of a `channels.Channel` class}.
- NOTIFICATION_MAX_ATTEMPTS: attempts before a message is given up as failed (12: with the
  doubling delays capped at an hour, about eight hours of trying — a mail server down for a
  while does not turn every message of the outage into a failure).
- NOTIFICATION_RETRY_BASE_SECONDS: the first retry's delay, doubled each time (60), up to
  NOTIFICATION_RETRY_MAX_SECONDS (3600).
- NOTIFICATION_LEASE_SECONDS: a claim older than this belongs to a worker that died (300). Must
  be longer than the delivery task's hard time limit, so that a live task never loses it.
- NOTIFICATION_DISPATCH_AFTER_SECONDS: how long a new message waits for its direct hand-over
  to the workers before the periodic dispatcher takes it (60).
- NOTIFICATION_DISPATCH_BATCH: messages the dispatcher claims per batch (100).
"""

import os

from django.conf import settings

DEFAULT_CHANNELS = {"email": "notifications.channels.EmailChannel"}


def _int(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name) or default
    return int(value)


def site_url() -> str:
    value = getattr(settings, "SITE_URL", None) or os.environ.get("SITE_URL")
    return (value or "http://127.0.0.1:8000").rstrip("/")


def channels() -> dict[str, str]:
    return getattr(settings, "NOTIFICATION_CHANNELS", None) or DEFAULT_CHANNELS


def max_attempts() -> int:
    return _int("NOTIFICATION_MAX_ATTEMPTS", 12)


def retry_base_seconds() -> int:
    return _int("NOTIFICATION_RETRY_BASE_SECONDS", 60)


def retry_max_seconds() -> int:
    return _int("NOTIFICATION_RETRY_MAX_SECONDS", 3600)


def lease_seconds() -> int:
    return _int("NOTIFICATION_LEASE_SECONDS", 300)


def dispatch_after_seconds() -> int:
    return _int("NOTIFICATION_DISPATCH_AFTER_SECONDS", 60)


def dispatch_batch() -> int:
    return _int("NOTIFICATION_DISPATCH_BATCH", 100)
