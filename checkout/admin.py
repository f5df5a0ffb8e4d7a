from django.contrib import admin

from .models import Cart, CartLine, ShippingRule


@admin.register(ShippingRule)
class ShippingRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "priority",
        "first_weight_grams",
        "first_fee",
        "step_grams",
        "step_fee",
        "free_over",
        "is_active",
    ]
    list_editable = ["is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]


class CartLineInline(admin.TabularInline):
    model = CartLine
    extra = 0
    raw_id_fields = ["sku"]
    readonly_fields = ["price_when_added", "added_at"]


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "updated_at"]
    raw_id_fields = ["customer"]
    inlines = [CartLineInline]
    date_hierarchy = "updated_at"
