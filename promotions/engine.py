"""The promotions engine: what discount a cart gets (ORD-8). Pure pricing: it reads (at most
three queries, whatever the cart size) and writes nothing; checkout calls it to show the cart
and again when the order is placed, and the audit calls it to re-check an order.

The rules:

1. At most one threshold discount (满减) applies: of the active ones in their window, the one
   giving the largest amount on the goods total. A threshold discount gives `amount_off` once
   the goods total reaches `threshold`; one that repeats gives it for every full threshold
   (floor(goods total / threshold) × amount_off), at most `max_times` times if set.
2. At most one coupon applies: the one whose code the customer entered (trimmed, in any case).
   It applies if it is active, in its window, under its total usage limit and under its
   per-customer limit (counted by customer account, or by e-mail address for guests; only uses
   that were not given back by a cancellation count), and if its minimum spend is met by the
   goods total after the threshold discount. A fixed coupon takes its value off; a percent
   coupon takes its percent of the goods total after the threshold discount, rounded half-up to
   the cent, and no more than its largest discount if it has one.
3. A coupon that does not combine with threshold discounts is compared with them: the best
   threshold discount alone against the coupon alone (its minimum spend then measured on the
   goods total), and the larger discount is given; on a tie, the coupon. The customer is told
   which was chosen (the coupon's label, or the coupon's message).
4. The total discount never exceeds the goods total.
5. The discount is shared among the lines in proportion to each line's amount, rounded down to
   the cent; the cents left over go one by one to the lines with the largest amounts (in the
   order given when equal), so that the shares add up exactly to the total and no line's share
   exceeds its amount.
"""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .models import Coupon, CouponKind, CouponRedemption, ThresholdDiscount, normalize_code

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PricedLine:
    key: Hashable  # the caller's id for the line (e.g. sku_id)
    gross: Decimal  # unit price × quantity, computed by the caller on the server


@dataclass(frozen=True)
class AppliedPromotion:
    kind: str  # "threshold" or "coupon"
    promotion_id: int
    label: str  # what the customer sees, e.g. "满199减20 ×2" / "Coupon WELCOME10"
    amount: Decimal


@dataclass(frozen=True)
class DiscountResult:
    total: Decimal
    per_line: dict[Hashable, Decimal]
    applied: tuple[AppliedPromotion, ...] = ()
    coupon: Coupon | None = None
    coupon_error: str = ""
    goods_total: Decimal = field(default=ZERO)


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _plain(amount: Decimal) -> str:
    """199.00 → "199", 199.50 → "199.50": how amounts read in a promotion's name."""
    return str(amount.quantize(Decimal(1))) if amount == amount.to_integral() else str(amount)


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


# --- threshold discounts --------------------------------------------------------------------------
def threshold_times(promotion: ThresholdDiscount, goods_total: Decimal) -> int:
    """How many times `promotion` applies to `goods_total` (0: not reached)."""
    if goods_total < promotion.threshold:
        return 0
    if not promotion.repeat:
        return 1
    times = int(goods_total // promotion.threshold)
    if promotion.max_times is not None:
        times = min(times, promotion.max_times)
    return times


def threshold_label(promotion: ThresholdDiscount, times: int = 1) -> str:
    label = _("%(amount)s off at %(threshold)s") % {
        "amount": _plain(promotion.amount_off),
        "threshold": _plain(promotion.threshold),
    }
    return f"{label} ×{times}" if times > 1 else label


def _best_threshold(goods_total: Decimal, now) -> AppliedPromotion | None:
    best = None
    promotions = ThresholdDiscount.objects.filter(
        is_active=True, starts_at__lte=now, ends_at__gt=now, threshold__lte=goods_total
    ).order_by("pk")
    for promotion in promotions:
        times = threshold_times(promotion, goods_total)
        amount = min(money(promotion.amount_off * times), goods_total)
        if times and (best is None or amount > best.amount):
            best = AppliedPromotion(
                "threshold", promotion.pk, threshold_label(promotion, times), amount
            )
    return best


# --- coupons --------------------------------------------------------------------------------------
def coupon_amount(coupon: Coupon, base: Decimal) -> Decimal:
    """What `coupon` takes off `base` (the goods total it is measured on), never more than it."""
    if coupon.kind == CouponKind.PERCENT:
        amount = money(base * coupon.value / 100)
        if coupon.max_discount is not None:
            amount = min(amount, coupon.max_discount)
    else:
        amount = coupon.value
    return max(min(amount, base), ZERO)


def coupon_refusal(coupon: Coupon, *, now, used: int, used_by_customer: int) -> str:
    """Why `coupon` cannot be used now, given its unreleased uses in all and by this customer
    ("" if it can). The minimum spend is checked by the caller, who knows the base."""
    if not coupon.is_active:
        return _("Coupon %(code)s is no longer valid.") % {"code": coupon.code}
    if now < coupon.starts_at:
        return _("Coupon %(code)s can be used from %(start)s.") % {
            "code": coupon.code,
            "start": _when(coupon.starts_at),
        }
    if now >= coupon.ends_at:
        return _("Coupon %(code)s expired on %(end)s.") % {
            "code": coupon.code,
            "end": _when(coupon.ends_at),
        }
    if coupon.usage_limit is not None and used >= coupon.usage_limit:
        return _("Coupon %(code)s has been used up.") % {"code": coupon.code}
    if coupon.per_customer_limit is not None and used_by_customer >= coupon.per_customer_limit:
        return _("You have already used coupon %(code)s.") % {"code": coupon.code}
    return ""


def customer_uses_filter(*, customer, email: str) -> Q | None:
    """Which redemptions are this buyer's: by account for customers, by e-mail for guests."""
    if customer is not None and getattr(customer, "pk", None):
        return Q(customer_id=customer.pk)
    if email:
        return Q(email=email.strip().lower())
    return None


def _usage(coupon: Coupon, *, customer, email: str) -> tuple[int, int]:
    if coupon.usage_limit is None and coupon.per_customer_limit is None:
        return 0, 0
    mine = customer_uses_filter(customer=customer, email=email)
    counts = {"used": Count("pk")}
    if mine is not None:
        counts["mine"] = Count("pk", filter=mine)
    found = CouponRedemption.objects.filter(coupon=coupon, released_at__isnull=True).aggregate(
        **counts
    )
    return found["used"], found.get("mine", 0)


def _min_spend_error(coupon: Coupon, base: Decimal) -> str:
    if base >= coupon.min_spend:
        return ""
    return _("Coupon %(code)s needs a spend of %(min)s; add %(more)s more to use it.") % {
        "code": coupon.code,
        "min": formats.number_format(coupon.min_spend, 2),
        "more": formats.number_format(coupon.min_spend - base, 2),
    }


# --- allocation -----------------------------------------------------------------------------------
def allocate(total: Decimal, lines: Sequence[PricedLine]) -> dict[Hashable, Decimal]:
    """Share `total` among `lines` (rule 5). `total` must not exceed the sum of the lines."""
    grosses = [int(money(line.gross) * 100) for line in lines]
    goods = sum(grosses)
    cents = int((total * 100).to_integral_value(rounding=ROUND_HALF_UP))
    if cents > goods:
        raise ValueError("The discount exceeds the goods total.")
    shares = [cents * gross // goods if goods else 0 for gross in grosses]
    left = cents - sum(shares)
    by_size = sorted(range(len(lines)), key=lambda i: -grosses[i])  # stable: input order on ties
    while left:
        for i in by_size:
            if left and shares[i] < grosses[i]:
                shares[i] += 1
                left -= 1
    return {
        line.key: Decimal(share).scaleb(-2).quantize(CENT)
        for line, share in zip(lines, shares, strict=True)
    }


# --- the engine -----------------------------------------------------------------------------------
def best_discount(
    *,
    lines: Sequence[PricedLine],
    coupon_code: str = "",
    customer=None,
    email: str = "",
    now=None,
) -> DiscountResult:
    """The discount the rules in this module's docstring give `lines`, for `customer` (or the
    guest with `email`) entering `coupon_code`, at `now` (default: the current time)."""
    keys = [line.key for line in lines]
    if len(set(keys)) != len(keys):
        raise ValueError("Each line needs its own key.")
    if any(line.gross < 0 for line in lines):
        raise ValueError("A line's amount cannot be negative.")
    now = now or timezone.now()
    goods_total = sum((money(line.gross) for line in lines), ZERO)
    code = normalize_code(coupon_code)

    threshold = _best_threshold(goods_total, now) if goods_total > 0 else None
    coupon = None
    coupon_error = ""
    coupon_applied = None
    threshold_applies = threshold is not None

    if code and goods_total > 0:
        coupon = Coupon.objects.filter(code=code).first()
        if coupon is None:
            coupon_error = _("There is no coupon %(code)s. Please check the code.") % {"code": code}
        else:
            used, used_by_customer = _usage(coupon, customer=customer, email=email)
            coupon_error = coupon_refusal(
                coupon, now=now, used=used, used_by_customer=used_by_customer
            )
            stacks = coupon.stacks_with_threshold or threshold is None
            base = goods_total - (threshold.amount if threshold and stacks else ZERO)
            coupon_error = coupon_error or _min_spend_error(coupon, base)
            if not coupon_error:
                amount = coupon_amount(coupon, base)
                label = _("Coupon %(code)s") % {"code": coupon.code}
                if not stacks:
                    if amount >= threshold.amount:
                        threshold_applies = False
                        label = _("Coupon %(code)s (instead of %(promotion)s)") % {
                            "code": coupon.code,
                            "promotion": threshold.label,
                        }
                    else:
                        coupon_error = _(
                            "Coupon %(code)s does not combine with %(promotion)s; "
                            "you get %(promotion)s, which saves you more."
                        ) % {"code": coupon.code, "promotion": threshold.label}
                if not coupon_error:
                    coupon_applied = AppliedPromotion("coupon", coupon.pk, label, amount)
            if coupon_applied is None:
                coupon = None

    applied = tuple(
        promotion
        for promotion in (threshold if threshold_applies else None, coupon_applied)
        if promotion is not None and promotion.amount > 0
    )
    total = min(sum((promotion.amount for promotion in applied), ZERO), goods_total)
    return DiscountResult(
        total=total,
        per_line=allocate(total, lines),
        applied=applied,
        coupon=coupon if coupon_applied else None,
        coupon_error=coupon_error,
        goods_total=goods_total,
    )
