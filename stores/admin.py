from django.contrib import admin

from .models import Store, StoreImport


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]


@admin.register(StoreImport)
class StoreImportAdmin(admin.ModelAdmin):
    """Read only: imports are made on the staff screen and run by the worker."""

    list_display = ["pk", "store", "filename", "state", "orders_created", "created_at"]
    list_filter = ["state", "store"]
    list_select_related = ["store"]
    exclude = ["content"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
