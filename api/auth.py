"""Authentication of the JSON API (API-1): API keys only, never the session cookie.

A key is sent either as ``Authorization: Bearer sk_…`` or as ``X-API-Key: sk_…``. Each
operation names the scope it needs; the two classes below are given per operation (both, so
that the OpenAPI description offers both schemes):

- no key, or a token that is not a key of ours, or a revoked key: 401 problem;
- a key of a sales channel that is switched off, or a valid key without the scope: 403
  problem;
- more than API_RATE_LIMIT requests with one key in the window: 429 problem with Retry-After.

Because only these headers authenticate, a browser's session cookie gives no access to the API,
which is why the API's views are exempt from CSRF checks (cross-site pages cannot set these
headers on a form post).

`last_used_at` is written at most once a minute per key, so reads cost no write.
"""

import math
import re
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import APIKeyHeader, HttpBearer

from . import selectors
from .models import ApiKey
from .problems import Problem, unauthorized

DEFAULT_RATE_LIMIT = "120/minute"
TOUCH_EVERY = timedelta(minutes=1)
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$")


def rate_limit() -> tuple[int, int]:
    """(requests, window seconds) from settings.API_RATE_LIMIT, e.g. "120/minute",
    "1000/hour", "10/5second"; the default when unset or unreadable."""
    text = str(getattr(settings, "API_RATE_LIMIT", DEFAULT_RATE_LIMIT) or DEFAULT_RATE_LIMIT)
    match = _RATE.match(text.lower()) or _RATE.match(DEFAULT_RATE_LIMIT)
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNITS[unit]


def take_request(api_key_id: int) -> int | None:
    """Count one request of the key in the current fixed window; None if allowed, else the
    seconds until the window ends. Atomic add + incr in the shared cache (Redis in production),
    so every web process counts together."""
    limit, window = rate_limit()
    now = time.time()
    slot = int(now // window)
    name = f"api-rate:{api_key_id}:{window}:{slot}"
    cache.add(name, 0, timeout=window + 1)
    try:
        used = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=window + 1)
        used = 1
    if used <= limit:
        return None
    return max(1, math.ceil((slot + 1) * window - now))


def touch(api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= TOUCH_EVERY:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


def check_key(request: HttpRequest, token: str | None, scope: str) -> ApiKey | None:
    """The key `token` names if it is valid and holds `scope`; raises the problem otherwise.
    None (no token) lets the next scheme try."""
    if not token:
        return None
    api_key = selectors.key_for_token(token)
    if api_key is None:
        raise unauthorized(_("This API key is not valid."))
    if api_key.revoked_at is not None:
        raise unauthorized(_("This API key was revoked."))
    if not api_key.store.is_active:
        raise Problem(
            403,
            "channel-inactive",
            _("Sales channel switched off"),
            _("The sales channel of this key is switched off: switch it on to use the key."),
        )
    wait = take_request(api_key.pk)
    if wait is not None:
        raise Problem(
            429,
            "rate-limited",
            _("Too many requests"),
            _("Too many requests with this key; try again in %(seconds)d seconds.")
            % {"seconds": wait},
            headers={"Retry-After": str(wait)},
        )
    touch(api_key)
    if scope not in api_key.scopes:
        raise Problem(
            403,
            "missing-scope",
            _("Not allowed"),
            _("This API key lacks the scope “%(scope)s”.") % {"scope": scope},
        )
    return api_key


class ApiKeyBearer(HttpBearer):
    """``Authorization: Bearer sk_<prefix>_<secret>``."""

    def __init__(self, scope: str):
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return check_key(request, token, self.scope)


class ApiKeyHeader(APIKeyHeader):
    """``X-API-Key: sk_<prefix>_<secret>``."""

    param_name = "X-API-Key"

    def __init__(self, scope: str):
        self.scope = scope
        super().__init__()

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        return check_key(request, key, self.scope)


def key_auth(scope: str) -> list:
    """Both schemes, for an operation needing `scope`."""
    return [ApiKeyBearer(scope), ApiKeyHeader(scope)]
