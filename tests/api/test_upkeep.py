"""The answers kept for Idempotency-Key retries are forgotten after a day (API-1)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import IdempotencyRecord
from api.tasks import purge_idempotency_records
from tests.factories import stock_sku

from .conftest import order_payload

pytestmark = pytest.mark.django_db


def test_records_older_than_a_day_are_purged_and_a_late_retry_finds_the_order(api):
    sku = stock_sku(5)
    first = api.post("/api/orders", order_payload(sku), **{"Idempotency-Key": "k-1"})
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))

    assert purge_idempotency_records.delay().get() == 1
    late = api.post("/api/orders", order_payload(sku), **{"Idempotency-Key": "k-1"})

    assert not IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - timedelta(hours=1))
    assert late.status_code == 200  # the external id still finds the first order
    assert late.json()["number"] == first.json()["number"]
    assert purge_idempotency_records.delay().get() == 0
