from django.contrib import admin

from .models import SKU, Category, Product


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "parent", "position")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name",)


class SKUInline(admin.TabularInline):
    model = SKU
    extra = 0
    fields = (
        "code",
        "barcode",
        "color",
        "size",
        "price",
        "weight_grams",
        "is_fragile",
        "is_active",
    )


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "is_active", "created_at")
    list_filter = ("is_active", "category")
    search_fields = ("name", "skus__code", "skus__barcode")
    prepopulated_fields = {"slug": ("name",)}
    list_select_related = ("category",)
    inlines = [SKUInline]


@admin.register(SKU)
class SKUAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "product",
        "color",
        "size",
        "price",
        "weight_grams",
        "is_fragile",
        "is_active",
    )
    list_filter = ("is_active", "is_fragile", "product__category")
    search_fields = ("code", "barcode", "product__name")
    list_select_related = ("product",)
    autocomplete_fields = ("product",)
