"""Counting tries in the shared cache: at most `limit` per key per window."""

from django.core.cache import cache


def take_try(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Count one try of `scope` by `key`; False once over `limit` in the window, which starts
    at the first try. Atomic on Redis and on the file cache's per-key files; every process
    of the shop shares it."""
    name = f"throttle:{scope}:{key}"
    cache.add(name, 0, timeout=window)
    try:
        tries = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=window)
        tries = 1
    return tries <= limit
