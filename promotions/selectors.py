"""Read queries for the promotions staff screens."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Coupon, CouponRedemption, ThresholdDiscount

ACTIVE_USE = Q(redemptions__released_at__isnull=True)


@dataclass(frozen=True)
class CouponUsage:
    used: int  # uses that count against the limits
    released: int  # uses given back by cancelled orders
    discount: Decimal  # discount given on the uses that count


def coupon_usage(coupon_ids: Iterable[int]) -> dict[int, CouponUsage]:
    """Each coupon's uses, in one query; coupons never used are there with zeros."""
    ids = list(coupon_ids)
    usage = {pk: CouponUsage(0, 0, Decimal("0.00")) for pk in ids}
    rows = (
        CouponRedemption.objects.filter(coupon_id__in=ids)
        .values("coupon_id")
        .annotate(
            used=Count("pk", filter=Q(released_at__isnull=True)),
            released=Count("pk", filter=Q(released_at__isnull=False)),
            discount=Coalesce(
                Sum("amount", filter=Q(released_at__isnull=True)),
                Value(Decimal("0.00")),
                output_field=DecimalField(max_digits=12, decimal_places=2),
            ),
        )
        .order_by()
    )
    for row in rows:
        usage[row["coupon_id"]] = CouponUsage(
            row["used"], row["released"], Decimal(row["discount"]).quantize(Decimal("0.01"))
        )
    return usage


def _status_filter(status: str) -> Q:
    now = timezone.now()
    return {
        "current": Q(is_active=True, starts_at__lte=now, ends_at__gt=now),
        "upcoming": Q(is_active=True, starts_at__gt=now),
        "ended": Q(ends_at__lte=now),
        "inactive": Q(is_active=False),
    }.get(status, Q())


def coupons(*, search: str = "", status: str = "") -> QuerySet[Coupon]:
    """Coupons for the staff list, each with `used` (uses that count against the limits)."""
    queryset = Coupon.objects.filter(_status_filter(status)).annotate(
        used=Count("redemptions", filter=ACTIVE_USE)
    )
    if search:
        queryset = queryset.filter(Q(code__icontains=search) | Q(name__icontains=search))
    return queryset.order_by("-is_active", "-starts_at", "code")


def threshold_discounts(*, search: str = "", status: str = "") -> QuerySet[ThresholdDiscount]:
    queryset = ThresholdDiscount.objects.filter(_status_filter(status))
    if search:
        queryset = queryset.filter(name__icontains=search)
    return queryset.order_by("-is_active", "-starts_at", "threshold")
