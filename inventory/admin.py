"""Admin for warehouses and bins (configured by administrators), and read-only views of the
stock, its ledger and allocations: stock changes only through `inventory.services` (INV-4)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    Allocation,
    Backorder,
    Bin,
    RegionPriority,
    Stock,
    StockAlert,
    StockImport,
    StockMovement,
    StockThreshold,
    Warehouse,
)


class RegionPriorityInline(admin.TabularInline):
    model = RegionPriority
    extra = 0
    fields = ("province", "priority")


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "province", "city", "is_active")
    list_filter = ("is_active", "province")
    search_fields = ("code", "name", "city")
    inlines = [RegionPriorityInline]


@admin.register(Bin)
class BinAdmin(admin.ModelAdmin):
    list_display = ("code", "warehouse", "walk_order", "is_staging", "is_active")
    list_filter = ("warehouse", "is_active", "is_staging")
    search_fields = ("code",)
    list_select_related = ("warehouse",)
    ordering = ("warehouse__code", "walk_order", "code")


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never changed here: the services keep these rows and the ledger in step."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Stock)
class StockAdmin(_ReadOnlyAdmin):
    list_display = ("sku", "bin", "warehouse", "on_hand", "reserved", "available")
    list_filter = ("bin__warehouse",)
    search_fields = ("sku__code", "sku__barcode", "sku__product__name", "bin__code")
    list_select_related = ("sku__product", "bin__warehouse")
    ordering = ("sku__code", "bin__warehouse__code", "bin__code")

    @admin.display(description=_("warehouse"), ordering="bin__warehouse__code")
    def warehouse(self, obj: Stock) -> str:
        return obj.bin.warehouse.code

    @admin.display(description=_("available"))
    def available(self, obj: Stock) -> int:
        return obj.available


@admin.register(StockMovement)
class StockMovementAdmin(_ReadOnlyAdmin):
    list_display = (
        "created_at",
        "kind",
        "sku",
        "bin",
        "on_hand_change",
        "reserved_change",
        "actor",
        "reason",
        "reference_type",
        "reference_id",
    )
    list_filter = ("kind", "bin__warehouse", "reference_type")
    search_fields = ("sku__code", "sku__barcode", "bin__code", "reference_id", "reason")
    list_select_related = ("sku__product", "bin", "actor")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Allocation)
class AllocationAdmin(_ReadOnlyAdmin):
    list_display = ("group", "line", "stock", "quantity", "picked", "state", "created_at")
    list_filter = ("state",)
    search_fields = ("group", "line")
    list_select_related = ("stock",)


@admin.register(StockThreshold)
class StockThresholdAdmin(admin.ModelAdmin):
    list_display = ("sku", "warehouse", "threshold")
    list_filter = ("warehouse",)
    search_fields = ("sku__code", "sku__barcode", "sku__product__name")
    list_select_related = ("sku__product", "warehouse")
    autocomplete_fields = ("sku",)


@admin.register(StockAlert)
class StockAlertAdmin(_ReadOnlyAdmin):
    list_display = (
        "sku",
        "warehouse",
        "kind",
        "available",
        "threshold",
        "raised_at",
        "cleared_at",
        "notified_at",
    )
    list_filter = ("kind", "warehouse")
    search_fields = ("sku__code", "sku__barcode")
    list_select_related = ("sku__product", "warehouse")


@admin.register(Backorder)
class BackorderAdmin(_ReadOnlyAdmin):
    list_display = (
        "group",
        "line",
        "sku",
        "quantity",
        "filled",
        "priority_at",
        "filled_at",
        "cancelled_at",
    )
    search_fields = ("group", "line", "sku__code")
    list_select_related = ("sku__product",)


@admin.register(StockImport)
class StockImportAdmin(_ReadOnlyAdmin):
    list_display = ("filename", "imported_at", "actor", "rows", "units")
    search_fields = ("filename",)
    list_select_related = ("actor",)
