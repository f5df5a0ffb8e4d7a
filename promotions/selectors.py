"""Read queries for the promotions staff screens."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import models
from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import (
    Coupon,
    CouponRedemption,
    PromotionChange,
    PromotionKind,
    ThresholdDiscount,
)

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


HISTORY_SHOWN = 50


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: object  # the user, or None when the system acted
    action: str  # PromotionAction
    action_label: str
    reason: str
    changes: list[FieldChange]


@dataclass(frozen=True)
class History:
    entries: list[HistoryEntry]  # newest first, at most HISTORY_SHOWN
    has_more: bool  # older entries not shown (the admin lists them all)


def _display(field: models.Field | None, value: str | None) -> str:
    """An audit value (text, see PromotionChange) as staff read it."""
    if value is None or value == "":
        return "—"
    if field is None:
        return value
    if isinstance(field, models.BooleanField):
        return _("Yes") if value == "true" else _("No")
    if isinstance(field, models.DateTimeField):
        moment = parse_datetime(value)
        if moment is not None:
            return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return value


def promotion_history(*, kind: PromotionKind, promotion_id: int) -> History:
    """The audit trail of one coupon or threshold discount, newest first, with the actors: one
    query whatever its length (the latest HISTORY_SHOWN entries, and whether there are more)."""
    model = Coupon if kind == PromotionKind.COUPON else ThresholdDiscount
    fields = {field.name: field for field in model._meta.concrete_fields}
    rows = list(
        PromotionChange.objects.filter(kind=kind, promotion_id=promotion_id)
        .select_related("actor")
        .order_by("-at", "-id")[: HISTORY_SHOWN + 1]
    )
    entries = []
    for row in rows[:HISTORY_SHOWN]:
        changes = []
        for name, (before, after) in row.changes.items():
            field = fields.get(name)
            label = str(field.verbose_name) if field is not None else name
            changes.append(FieldChange(label, _display(field, before), _display(field, after)))
        entries.append(
            HistoryEntry(
                at=row.at,
                actor=row.actor,
                action=row.action,
                action_label=row.get_action_display(),
                reason=row.reason,
                changes=changes,
            )
        )
    return History(entries=entries, has_more=len(rows) > HISTORY_SHOWN)


def coupon_has_been_used(coupon_id: int) -> bool:
    """Whether any order used the coupon, even one cancelled since (see update_coupon)."""
    return CouponRedemption.objects.filter(coupon_id=coupon_id).exists()
