"""Write operations on promotions (ORD-8): recording a coupon use on an order, giving it back
when the order is cancelled, and staff creating, changing and switching off coupons and
threshold discounts, each of which is checked against the actor's permissions and kept in the
audit trail as one `PromotionChange` (SEC-4, ORD-11).

`redeem_coupon` is called by checkout inside the transaction that creates the order: if the
coupon can no longer be used it raises `CouponUnavailable`, the caller's transaction rolls
back, and no order is left behind.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import record_staff_action
from core.errors import DomainError

from .engine import coupon_refusal, customer_uses_filter
from .models import (
    Coupon,
    CouponRedemption,
    PromotionAction,
    PromotionChange,
    PromotionKind,
    ThresholdDiscount,
    normalize_code,
)
from .selectors import CouponUsage, coupon_has_been_used, coupon_usage

__all__ = [
    "COUPON_FIELDS",
    "THRESHOLD_FIELDS",
    "CouponUnavailable",
    "CouponUsage",
    "InvalidPromotion",
    "PromotionNotAllowed",
    "coupon_usage",
    "create_coupon",
    "create_threshold_discount",
    "deactivate_coupon",
    "deactivate_threshold_discount",
    "redeem_coupon",
    "release_redemption",
    "update_coupon",
    "update_threshold_discount",
]

# The fields staff set on the screens; `data` given to the services holds some of these only.
COUPON_FIELDS = (
    "code",
    "name",
    "kind",
    "value",
    "max_discount",
    "min_spend",
    "starts_at",
    "ends_at",
    "usage_limit",
    "per_customer_limit",
    "stacks_with_threshold",
    "is_active",
)
THRESHOLD_FIELDS = (
    "name",
    "threshold",
    "amount_off",
    "repeat",
    "max_times",
    "starts_at",
    "ends_at",
    "is_active",
)
# What existing orders, their refunds and the reports refer to: fixed once a coupon is used.
USED_COUPON_FIXED_FIELDS = ("code", "kind", "value")


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


class PromotionNotAllowed(DomainError):
    """The actor's role does not hold the permission for this change; nothing was written."""


class InvalidPromotion(DomainError):
    """The promotion would break a rule; nothing was written. `errors` maps a field name (or
    None for the whole promotion) to its messages, so that a form can show them in place."""

    def __init__(self, errors: Mapping[str | None, list[str]]):
        self.errors = {field: [str(m) for m in messages] for field, messages in errors.items()}
        super().__init__(" ".join(m for messages in self.errors.values() for m in messages))


def _require(actor, permission: str) -> None:
    # No actor: the system acts (a data migration, a management command).
    if actor is not None and not actor.has_perm(permission):
        raise PromotionNotAllowed(_("You are not allowed to change promotions."))


def _audit_value(field: models.Field, value: Any) -> str | None:
    """A field's value as the text kept in the audit trail."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal) and isinstance(field, models.DecimalField):
        return str(value.quantize(Decimal(1).scaleb(-field.decimal_places)))
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def _snapshot(obj: models.Model, fields: tuple[str, ...]) -> dict[str, str | None]:
    meta = obj._meta
    return {name: _audit_value(meta.get_field(name), getattr(obj, name)) for name in fields}


def _diff(before: dict, after: dict) -> dict[str, list]:
    return {name: [before[name], after[name]] for name in after if before[name] != after[name]}


def _apply(obj: models.Model, data: Mapping[str, Any], fields: tuple[str, ...]) -> None:
    unknown = set(data) - set(fields)
    if unknown:
        raise TypeError(f"Not a field staff may set: {', '.join(sorted(unknown))}")
    errors: dict[str | None, list[str]] = {}
    for name, value in data.items():
        # As full_clean() would, so that "25" and Decimal("25.00") compare as the same value.
        try:
            setattr(obj, name, obj._meta.get_field(name).to_python(value))
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise InvalidPromotion(errors)
    if isinstance(obj, Coupon):
        obj.code = normalize_code(obj.code)


def _validate(obj: models.Model) -> None:
    try:
        obj.full_clean()
    except ValidationError as error:
        errors = error.message_dict
        raise InvalidPromotion(
            {None if field == NON_FIELD_ERRORS else field: msgs for field, msgs in errors.items()}
        ) from None


def _save(obj: models.Model) -> None:
    # full_clean() checked the code is unique; a coupon saved meanwhile by someone else with
    # the same code is refused here by the database.
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as error:
        if isinstance(obj, Coupon):
            raise InvalidPromotion(
                {"code": [_("A coupon with this code already exists.")]}
            ) from error
        raise


def _record(
    *,
    kind: PromotionKind,
    promotion: models.Model,
    label: str,
    action: PromotionAction,
    actor,
    changes: dict,
    reason: str,
) -> PromotionChange:
    record_staff_action(
        actor=actor,
        action=f"{kind}.{action}",
        target=promotion,
        reason=reason,
        label=label,
        before={name: old for name, (old, _new) in changes.items()},
        after={name: new for name, (_old, new) in changes.items()},
    )
    return PromotionChange.objects.create(
        kind=kind,
        promotion_id=promotion.pk,
        label=label,
        action=action,
        actor=actor,
        changes=changes,
        reason=(reason or "").strip(),
    )


def create_coupon(*, actor, data: Mapping[str, Any], reason: str = "") -> Coupon:
    """Create a coupon from `data` (a form's cleaned_data) and record it in the audit trail,
    with every field it was created with. Needs `promotions.add_coupon`; raises
    `PromotionNotAllowed` or `InvalidPromotion` (the models' own messages)."""
    _require(actor, "promotions.add_coupon")
    coupon = Coupon()
    _apply(coupon, data, COUPON_FIELDS)
    _validate(coupon)
    empty = dict.fromkeys(COUPON_FIELDS)
    with transaction.atomic():
        _save(coupon)
        _record(
            kind=PromotionKind.COUPON,
            promotion=coupon,
            label=coupon.code,
            action=PromotionAction.CREATED,
            actor=actor,
            changes=_diff(empty, _snapshot(coupon, COUPON_FIELDS)),
            reason=reason,
        )
    return coupon


def update_coupon(*, coupon_id: int, actor, data: Mapping[str, Any], reason: str = "") -> Coupon:
    """Change coupon `coupon_id` to `data` (some or all of `COUPON_FIELDS`).

    Locks the coupon row (as `redeem_coupon` does), so a use recorded meanwhile is seen: once
    a coupon has been used, even by an order cancelled since, its code, kind and value stay
    as they are (the orders, their refunds and the reports refer to them); its window,
    limits, minimum spend, name and active flag may still change. Records one audit entry
    with the fields that changed, none if nothing did. Needs `promotions.change_coupon`.
    """
    _require(actor, "promotions.change_coupon")
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().get(pk=coupon_id)
        before = _snapshot(coupon, COUPON_FIELDS)
        _apply(coupon, data, COUPON_FIELDS)
        fixed = [
            name
            for name in USED_COUPON_FIXED_FIELDS
            if _snapshot(coupon, (name,))[name] != before[name]
        ]
        if fixed and coupon_has_been_used(coupon_id):
            message = _(
                "Coupon %(code)s has already been used on orders: its code, kind and value "
                "can no longer change. Switch it off and create a new coupon instead."
            ) % {"code": before["code"]}
            raise InvalidPromotion({name: [message] for name in fixed})
        _validate(coupon)
        changes = _diff(before, _snapshot(coupon, COUPON_FIELDS))
        if changes:
            _save(coupon)
            _record(
                kind=PromotionKind.COUPON,
                promotion=coupon,
                label=coupon.code,
                action=PromotionAction.CHANGED,
                actor=actor,
                changes=changes,
                reason=reason,
            )
        return coupon


def deactivate_coupon(*, coupon_id: int, actor, reason: str = "") -> Coupon:
    """Switch a coupon off: it no longer applies to carts; past uses stay recorded. Recorded
    in the audit trail unless it was off already. Needs `promotions.change_coupon`."""
    _require(actor, "promotions.change_coupon")
    return _deactivate(Coupon, coupon_id, PromotionKind.COUPON, "code", actor, reason)


def _deactivate(model, pk: int, kind: str, label_field: str, actor, reason: str):
    """Lock the promotion, switch it off if it is on, and record that in the audit trail."""
    with transaction.atomic():
        promotion = model.objects.select_for_update().get(pk=pk)
        if promotion.is_active:
            promotion.is_active = False
            promotion.save(update_fields=["is_active"])
            _record(
                kind=kind,
                promotion=promotion,
                label=getattr(promotion, label_field),
                action=PromotionAction.DEACTIVATED,
                actor=actor,
                changes={"is_active": ["true", "false"]},
                reason=reason,
            )
        return promotion


def create_threshold_discount(
    *, actor, data: Mapping[str, Any], reason: str = ""
) -> ThresholdDiscount:
    """Create a threshold discount (满减) from `data` and record it in the audit trail. Needs
    `promotions.add_thresholddiscount`; raises `PromotionNotAllowed` or `InvalidPromotion`."""
    _require(actor, "promotions.add_thresholddiscount")
    promotion = ThresholdDiscount()
    _apply(promotion, data, THRESHOLD_FIELDS)
    _validate(promotion)
    empty = dict.fromkeys(THRESHOLD_FIELDS)
    with transaction.atomic():
        _save(promotion)
        _record(
            kind=PromotionKind.THRESHOLD,
            promotion=promotion,
            label=promotion.name,
            action=PromotionAction.CREATED,
            actor=actor,
            changes=_diff(empty, _snapshot(promotion, THRESHOLD_FIELDS)),
            reason=reason,
        )
    return promotion


def update_threshold_discount(
    *, promotion_id: int, actor, data: Mapping[str, Any], reason: str = ""
) -> ThresholdDiscount:
    """Change threshold discount `promotion_id` to `data`, under a row lock; records one
    audit entry with the fields that changed, none if nothing did. Needs
    `promotions.change_thresholddiscount`."""
    _require(actor, "promotions.change_thresholddiscount")
    with transaction.atomic():
        promotion = ThresholdDiscount.objects.select_for_update().get(pk=promotion_id)
        before = _snapshot(promotion, THRESHOLD_FIELDS)
        _apply(promotion, data, THRESHOLD_FIELDS)
        _validate(promotion)
        changes = _diff(before, _snapshot(promotion, THRESHOLD_FIELDS))
        if changes:
            _save(promotion)
            _record(
                kind=PromotionKind.THRESHOLD,
                promotion=promotion,
                label=promotion.name,
                action=PromotionAction.CHANGED,
                actor=actor,
                changes=changes,
                reason=reason,
            )
        return promotion


def deactivate_threshold_discount(
    *, promotion_id: int, actor, reason: str = ""
) -> ThresholdDiscount:
    """Switch a threshold discount off: it no longer applies to carts. Recorded in the audit
    trail unless it was off already. Needs `promotions.change_thresholddiscount`."""
    _require(actor, "promotions.change_thresholddiscount")
    return _deactivate(
        ThresholdDiscount, promotion_id, PromotionKind.THRESHOLD, "name", actor, reason
    )
