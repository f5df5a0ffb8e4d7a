"""Write operations on promotions (ORD-8): recording a coupon use on an order, giving it back
when the order is cancelled, and switching promotions off.

`redeem_coupon` is called by checkout inside the transaction that creates the order: if the
coupon can no longer be used it raises `CouponUnavailable`, the caller's transaction rolls
back, and no order is left behind.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError

from .engine import coupon_refusal, customer_uses_filter
from .models import Coupon, CouponRedemption, ThresholdDiscount
from .selectors import CouponUsage, coupon_usage

__all__ = [
    "CouponUnavailable",
    "CouponUsage",
    "coupon_usage",
    "deactivate_coupon",
    "deactivate_threshold_discount",
    "redeem_coupon",
    "release_redemption",
]


class CouponUnavailable(DomainError):
    """The coupon cannot be used on this order; nothing was recorded."""


def redeem_coupon(
    *, coupon_id: int, order_id: int, customer, email: str, amount: Decimal
) -> CouponRedemption:
    """Record that order `order_id` used coupon `coupon_id` for a discount of `amount`.

    Locks the coupon row (`select_for_update`), so that concurrent orders using the same coupon
    are counted one after another, then re-checks that it is active, in its window, and under
    its total and per-customer limits (counting only uses not given back). Raises
    `CouponUnavailable` with the reason otherwise; an order can hold one coupon only.
    """
    email = (email or "").strip().lower()
    if amount < 0:
        raise CouponUnavailable(_("A discount cannot be negative."))
    if customer is None and not email:
        raise CouponUnavailable(_("A guest needs an e-mail address to use a coupon."))
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().filter(pk=coupon_id).first()
        if coupon is None:
            raise CouponUnavailable(_("This coupon no longer exists."))
        active = CouponRedemption.objects.filter(coupon=coupon, released_at__isnull=True)
        used = active.count() if coupon.usage_limit is not None else 0
        used_by_customer = (
            active.filter(customer_uses_filter(customer=customer, email=email)).count()
            if coupon.per_customer_limit is not None
            else 0
        )
        refusal = coupon_refusal(
            coupon, now=timezone.now(), used=used, used_by_customer=used_by_customer
        )
        if refusal:
            raise CouponUnavailable(refusal)
        try:
            with transaction.atomic():
                return CouponRedemption.objects.create(
                    coupon=coupon,
                    order_id=order_id,
                    customer=customer,
                    email=email,
                    amount=amount,
                )
        except IntegrityError as error:
            raise CouponUnavailable(_("This order already has a coupon.")) from error


def release_redemption(*, order_id: int) -> bool:
    """Give back the coupon use of order `order_id` (cancelled): it no longer counts against the
    coupon's limits. Idempotent; returns whether a use was given back."""
    return bool(
        CouponRedemption.objects.filter(order_id=order_id, released_at__isnull=True).update(
            released_at=timezone.now()
        )
    )


def on_order_cancelled(sender, *, order_id: int, actor=None, **kwargs) -> None:
    """Receiver of `orders.signals.order_cancelled` (sent inside the cancelling transaction)."""
    release_redemption(order_id=order_id)


def deactivate_coupon(*, coupon_id: int, actor) -> Coupon:
    """Switch a coupon off: it no longer applies to carts; past uses stay recorded."""
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().get(pk=coupon_id)
        if coupon.is_active:
            coupon.is_active = False
            coupon.save(update_fields=["is_active"])
        return coupon


def deactivate_threshold_discount(*, promotion_id: int, actor) -> ThresholdDiscount:
    """Switch a threshold discount off: it no longer applies to carts."""
    with transaction.atomic():
        promotion = ThresholdDiscount.objects.select_for_update().get(pk=promotion_id)
        if promotion.is_active:
            promotion.is_active = False
            promotion.save(update_fields=["is_active"])
        return promotion
