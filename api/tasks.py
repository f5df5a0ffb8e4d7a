"""Periodic upkeep of the JSON API (run by beat)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import services

DEFAULT_IDEMPOTENCY_HOURS = 24


@shared_task
def purge_idempotency_records() -> int:
    """Forget the answers kept for retries after API_IDEMPOTENCY_HOURS (24 by default): a retry
    later than that is a new request. Safe to run twice."""
    hours = getattr(settings, "API_IDEMPOTENCY_HOURS", DEFAULT_IDEMPOTENCY_HOURS)
    return services.purge_idempotency_records(older_than=timezone.now() - timedelta(hours=hours))
