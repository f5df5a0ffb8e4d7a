"""Test infrastructure shared by the whole suite.

Tests marked ``postgres`` run only on PostgreSQL (DATABASE_URL), tests marked ``redis`` only
when REDIS_URL names a Redis server that answers. Factories live in tests/factories.py.
"""

import functools
import os

import pytest

POSTGRES_SKIP_REASON = (
    "needs PostgreSQL (set DATABASE_URL): row locks and concurrent writers are not meaningful "
    "on SQLite"
)
REDIS_SKIP_REASON = "needs a Redis server (set REDIS_URL)"


def database_vendor() -> str:
    from django.db import connection

    return connection.vendor


@functools.cache
def redis_available() -> bool:
    url = os.environ.get("REDIS_URL")
    if not url:
        return False
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    postgres_items = [item for item in items if item.get_closest_marker("postgres")]
    if postgres_items and database_vendor() != "postgresql":
        skip = pytest.mark.skip(reason=POSTGRES_SKIP_REASON)
        for item in postgres_items:
            item.add_marker(skip)

    redis_items = [item for item in items if item.get_closest_marker("redis")]
    if redis_items and not redis_available():
        skip = pytest.mark.skip(reason=REDIS_SKIP_REASON)
        for item in redis_items:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _static_root_exists():
    """WhiteNoise warns on every request when STATIC_ROOT is missing (no collectstatic here)."""
    from django.conf import settings

    os.makedirs(settings.STATIC_ROOT, exist_ok=True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache, which outlives a test's transaction."""
    from django.core.cache import cache

    cache.clear()
    yield
