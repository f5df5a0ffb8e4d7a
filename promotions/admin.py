"""Admin for promotions (ORD-8). Redemptions are shown, never changed here: they are written
by checkout through `promotions.services` and given back when an order is cancelled. The
audit trail of staff changes (SEC-4) is read-only too: `promotions.services` writes it."""

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from .models import Coupon, CouponRedemption, PromotionChange, ThresholdDiscount


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "value",
        "min_spend",
        "starts_at",
        "ends_at",
        "uses",
        "usage_limit",
        "per_customer_limit",
        "stacks_with_threshold",
        "is_active",
    )
    list_filter = ("is_active", "kind", "stacks_with_threshold")
    search_fields = ("code", "name")
    date_hierarchy = "starts_at"
    readonly_fields = ("created_at",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_uses=Count("redemptions", filter=Q(redemptions__released_at__isnull=True))
            )
        )

    @admin.display(description=_("uses"), ordering="active_uses")
    def uses(self, obj: Coupon) -> int:
        return obj.active_uses


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(admin.ModelAdmin):
    list_display = ("coupon", "order", "customer", "email", "amount", "created_at", "released_at")
    list_filter = (("released_at", admin.EmptyFieldListFilter), "coupon")
    search_fields = ("coupon__code", "order__number", "customer__email", "email")
    list_select_related = ("coupon", "order", "customer")
    raw_id_fields = ("order", "customer")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ThresholdDiscount)
class ThresholdDiscountAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "threshold",
        "amount_off",
        "repeat",
        "max_times",
        "starts_at",
        "ends_at",
        "is_active",
    )
    list_filter = ("is_active", "repeat")
    search_fields = ("name",)
    date_hierarchy = "starts_at"
    readonly_fields = ("created_at",)


@admin.register(PromotionChange)
class PromotionChangeAdmin(admin.ModelAdmin):
    list_display = ("at", "kind", "label", "action", "actor", "reason")
    list_filter = ("kind", "action")
    search_fields = ("label", "actor__email", "reason")
    date_hierarchy = "at"
    list_select_related = ("actor",)
    readonly_fields = (
        "kind",
        "promotion_id",
        "label",
        "action",
        "actor",
        "at",
        "changes",
        "reason",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
