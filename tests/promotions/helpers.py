"""Builders for promotions tests: a coupon or threshold discount running now unless told."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from promotions.engine import PricedLine
from promotions.models import Coupon, CouponKind, ThresholdDiscount


def make_coupon(code: str = "WELCOME10", **fields) -> Coupon:
    now = timezone.now()
    values = {
        "name": f"Coupon {code}",
        "kind": CouponKind.FIXED,
        "value": Decimal("10.00"),
        "starts_at": now - timedelta(days=1),
        "ends_at": now + timedelta(days=30),
    }
    values.update(fields)
    coupon = Coupon(code=code, **values)
    coupon.full_clean()
    coupon.save()
    return coupon


def make_threshold(threshold: str = "199.00", amount_off: str = "20.00", **fields):
    now = timezone.now()
    values = {
        "name": f"{amount_off} off at {threshold}",
        "starts_at": now - timedelta(days=1),
        "ends_at": now + timedelta(days=30),
    }
    values.update(fields)
    promotion = ThresholdDiscount(
        threshold=Decimal(threshold), amount_off=Decimal(amount_off), **values
    )
    promotion.full_clean()
    promotion.save()
    return promotion


def lines(*amounts: str) -> list[PricedLine]:
    """Cart lines keyed 1, 2, … with these amounts."""
    return [PricedLine(key=i, gross=Decimal(a)) for i, a in enumerate(amounts, start=1)]
