"""Settings of the outgoing webhooks (API-2), each read when used (tests and workers may change
them), from Django settings with these defaults:

- WEBHOOK_TIMEOUT_SECONDS (5): how long one POST may take, connecting and reading.
- WEBHOOK_MAX_ATTEMPTS (8): tries before a delivery is given up (see RETRY_SCHEDULE).
- WEBHOOK_LEASE_SECONDS (300): a claim older than this belongs to a worker that died; longer
  than the send task's hard time limit, so a live task never loses it.
- WEBHOOK_DISPATCH_AFTER_SECONDS (60): how long a new delivery waits for its hand-over at
  commit before the sweep takes it.
- WEBHOOK_SWEEP_BATCH (100): deliveries the sweep takes per batch.
- WEBHOOK_SECRET_GRACE_HOURS (24): after a rotation, how long the old secret still signs too.
"""

from django.conf import settings

# Seconds to wait after failed attempt n (the last value repeats), before up to a fifth more
# at random (services.retry_delay): 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h…
RETRY_SCHEDULE = (60, 300, 1800, 7200, 21600, 43200, 86400)
RETRY_JITTER = 0.2


def _int(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 5))


def max_attempts() -> int:
    return max(_int("WEBHOOK_MAX_ATTEMPTS", 8), 1)


def lease_seconds() -> int:
    return _int("WEBHOOK_LEASE_SECONDS", 300)


def dispatch_after_seconds() -> int:
    return _int("WEBHOOK_DISPATCH_AFTER_SECONDS", 60)


def sweep_batch() -> int:
    return _int("WEBHOOK_SWEEP_BATCH", 100)


def secret_grace_hours() -> int:
    return _int("WEBHOOK_SECRET_GRACE_HOURS", 24)
