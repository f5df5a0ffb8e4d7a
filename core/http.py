"""Who is asking: the client's address behind the shop's own reverse proxies."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address. Behind `TRUSTED_PROXY_COUNT` proxies, each appending the address
    it received from to X-Forwarded-For, the client is that many entries from the right;
    anything further left was written by the client and is not trusted. Used by the login
    lockout (axes) and by every per-client throttle."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if forwarded:
            return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR", "") or "unknown"
