"""Reading requests: the client's address behind our own proxies, a safe `next` URL."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


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


def safe_next(request: HttpRequest) -> str:
    """The `next` URL of the request (form field or query) if it is one of this site's,
    else "": never an open redirect."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""
