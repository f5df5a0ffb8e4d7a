"""Coupons, their redemptions, and threshold discounts (满减) (ORD-8).

What a cart is given is decided by `promotions.engine.best_discount` (pure pricing, reads only);
a coupon use is recorded by `promotions.services.redeem_coupon` in the order's own transaction,
and given back when the order is cancelled. The database refuses values that make no sense
(a negative discount, a window that ends before it starts, a percent of 100 or more).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 10, "decimal_places": 2}

code_validator = RegexValidator(r"^[A-Za-z0-9-]+$", _("Use only letters, digits and dashes (-)."))


def normalize_code(code: str) -> str:
    """Codes are kept, looked up and compared trimmed and in upper case."""
    return (code or "").strip().upper()


class CouponKind(models.TextChoices):
    FIXED = "fixed", _("Fixed amount")
    PERCENT = "percent", _("Percent off")


class Coupon(models.Model):
    """A code the customer enters at checkout for a fixed amount or a percent off the goods."""

    code = models.CharField(
        _("code"),
        max_length=32,
        unique=True,
        validators=[code_validator],
        help_text=_(
            "Letters, digits and dashes; kept in upper case. Customers may type it in any case."
        ),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=CouponKind.choices)
    value = models.DecimalField(
        _("value"),
        **MONEY,
        help_text=_("Amount off in yuan, or the percent off (more than 0, less than 100)."),
    )
    max_discount = models.DecimalField(
        _("largest discount"),
        **MONEY,
        null=True,
        blank=True,
        help_text=_("Percent coupons only: the discount never exceeds this amount."),
    )
    min_spend = models.DecimalField(
        _("minimum spend"),
        **MONEY,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text=_("Goods total needed, after any threshold discount."),
    )
    starts_at = models.DateTimeField(_("valid from"))
    ends_at = models.DateTimeField(_("valid until"))
    usage_limit = models.PositiveIntegerField(
        _("total uses"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("How many orders may use it in all. Empty: no limit."),
    )
    per_customer_limit = models.PositiveIntegerField(
        _("uses per customer"),
        null=True,
        blank=True,
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_(
            "How many orders one customer (or guest e-mail) may use it on. Empty: no limit."
        ),
    )
    stacks_with_threshold = models.BooleanField(
        _("combines with threshold discounts"),
        default=True,
        help_text=_("If not, the customer gets whichever of the two saves more."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-starts_at", "code"]
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        constraints = [
            models.CheckConstraint(
                condition=Q(code=Upper("code")) & ~Q(code=""),
                name="coupon_code_upper_case",
                violation_error_message=_("The code must be in upper case."),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="coupon_window_ends_after_start",
                violation_error_message=_("The coupon must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(value__gt=0) & (Q(kind=CouponKind.FIXED) | Q(value__lt=100)),
                name="coupon_value_sane",
                violation_error_message=_(
                    "The value must be more than 0, and a percent less than 100."
                ),
            ),
            models.CheckConstraint(
                condition=Q(max_discount__isnull=True)
                | (Q(kind=CouponKind.PERCENT) & Q(max_discount__gt=0)),
                name="coupon_max_discount_sane",
                violation_error_message=_(
                    "Only a percent coupon has a largest discount, and it must be more than 0."
                ),
            ),
            models.CheckConstraint(
                condition=Q(min_spend__gte=0),
                name="coupon_min_spend_not_negative",
                violation_error_message=_("The minimum spend cannot be negative."),
            ),
            models.CheckConstraint(
                condition=(Q(usage_limit__isnull=True) | Q(usage_limit__gte=1))
                & (Q(per_customer_limit__isnull=True) | Q(per_customer_limit__gte=1)),
                name="coupon_limits_positive",
                violation_error_message=_("A limit must be at least 1 (or empty for none)."),
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs) -> None:
        self.code = normalize_code(self.code)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.code = normalize_code(self.code)
        errors: dict[str, str] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The coupon must end after it starts.")
        if self.value is not None and self.value <= 0:
            errors["value"] = _("The value must be more than 0.")
        elif self.kind == CouponKind.PERCENT and self.value is not None and self.value >= 100:
            errors["value"] = _("A percent must be less than 100.")
        if self.max_discount is not None:
            if self.kind != CouponKind.PERCENT:
                errors["max_discount"] = _("Only a percent coupon has a largest discount.")
            elif self.max_discount <= 0:
                errors["max_discount"] = _("The largest discount must be more than 0.")
        if errors:
            raise ValidationError(errors)

    def is_current(self, now=None) -> bool:
        now = now or timezone.now()
        return self.is_active and self.starts_at <= now < self.ends_at

    @property
    def status(self) -> str:
        """ "inactive", "upcoming", "ended" or "current", as the staff list filters them."""
        now = timezone.now()
        if not self.is_active:
            return "inactive"
        if now < self.starts_at:
            return "upcoming"
        return "ended" if now >= self.ends_at else "current"


class CouponRedemption(models.Model):
    """One use of a coupon by one order. A cancelled order's use is given back: `released_at`
    is set, and only unreleased redemptions count against the limits."""

    coupon = models.ForeignKey(
        Coupon, verbose_name=_("coupon"), on_delete=models.PROTECT, related_name="redemptions"
    )
    order = models.OneToOneField(
        "orders.Order",
        verbose_name=_("order"),
        on_delete=models.CASCADE,
        related_name="coupon_redemption",
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coupon_redemptions",
    )
    email = models.EmailField(_("e-mail"), blank=True, help_text=_("Lower case."))
    amount = models.DecimalField(_("discount given"), **MONEY)
    created_at = models.DateTimeField(_("redeemed at"), default=timezone.now)
    released_at = models.DateTimeField(_("given back at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("coupon redemption")
        verbose_name_plural = _("coupon redemptions")
        indexes = [
            models.Index(
                fields=["coupon"],
                condition=Q(released_at__isnull=True),
                name="redemption_active_coupon",
            ),
            models.Index(
                fields=["coupon", "customer"],
                condition=Q(released_at__isnull=True),
                name="redemption_active_customer",
            ),
            models.Index(
                fields=["coupon", "email"],
                condition=Q(released_at__isnull=True),
                name="redemption_active_email",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="redemption_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(customer__isnull=True, email=""),
                name="redemption_has_customer_or_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coupon_id} → {self.order_id}"


class ThresholdDiscount(models.Model):
    """满减: `amount_off` off a goods total of at least `threshold`; with `repeat`, off every
    full `threshold` (floor(total / threshold) × amount_off), at most `max_times` times."""

    name = models.CharField(_("name"), max_length=100)
    threshold = models.DecimalField(_("threshold"), **MONEY)
    amount_off = models.DecimalField(_("amount off"), **MONEY)
    repeat = models.BooleanField(
        _("for every threshold reached"),
        default=False,
        help_text=_("E.g. 20 off for every 199: a total of 400 gets 40 off."),
    )
    max_times = models.PositiveIntegerField(
        _("at most times"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("With repeat: how many times at most. Empty: no limit."),
    )
    starts_at = models.DateTimeField(_("valid from"))
    ends_at = models.DateTimeField(_("valid until"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-starts_at", "threshold"]
        verbose_name = _("threshold discount")
        verbose_name_plural = _("threshold discounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="threshold_window_ends_after_start",
                violation_error_message=_("The discount must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(amount_off__gt=0) & Q(threshold__gt=F("amount_off")),
                name="threshold_amount_below_threshold",
                violation_error_message=_(
                    "The amount off must be more than 0 and less than the threshold."
                ),
            ),
            models.CheckConstraint(
                condition=Q(max_times__isnull=True) | Q(max_times__gte=1),
                name="threshold_max_times_positive",
                violation_error_message=_("At most times must be at least 1 (or empty)."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The discount must end after it starts.")
        if self.amount_off is not None and self.amount_off <= 0:
            errors["amount_off"] = _("The amount off must be more than 0.")
        elif (
            self.amount_off is not None
            and self.threshold is not None
            and self.amount_off >= self.threshold
        ):
            errors["amount_off"] = _("The amount off must be less than the threshold.")
        if errors:
            raise ValidationError(errors)

    def is_current(self, now=None) -> bool:
        now = now or timezone.now()
        return self.is_active and self.starts_at <= now < self.ends_at

    @property
    def status(self) -> str:
        """ "inactive", "upcoming", "ended" or "current", as the staff list filters them."""
        now = timezone.now()
        if not self.is_active:
            return "inactive"
        if now < self.starts_at:
            return "upcoming"
        return "ended" if now >= self.ends_at else "current"


class PromotionKind(models.TextChoices):
    COUPON = "coupon", _("Coupon")
    THRESHOLD = "threshold", _("Threshold discount")


class PromotionAction(models.TextChoices):
    CREATED = "created", _("Created")
    CHANGED = "changed", _("Changed")
    DEACTIVATED = "deactivated", _("Switched off")


class PromotionChange(models.Model):
    """One staff action on a coupon or threshold discount, kept for the audit trail (SEC-4,
    ORD-11). Written only by `promotions.services`, never changed afterwards.

    `changes` holds {field: [before, after]} for the fields that changed, each value as text
    (money with its two places, times in ISO 8601 UTC, "true"/"false") or null for empty;
    a creation has null as every "before". `label` is the code or name at that time, so the
    entry still reads well after a rename."""

    kind = models.CharField(_("promotion kind"), max_length=10, choices=PromotionKind.choices)
    promotion_id = models.PositiveBigIntegerField(_("promotion id"))
    label = models.CharField(_("code or name"), max_length=100)
    action = models.CharField(_("action"), max_length=12, choices=PromotionAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the system acted."),
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("promotion change")
        verbose_name_plural = _("promotion changes")
        indexes = [
            models.Index(fields=["kind", "promotion_id", "at"], name="promotionchange_history"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label}: {self.get_action_display()}"
