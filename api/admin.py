from django.contrib import admin

from .models import ApiKey, IdempotencyRecord


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are issued and revoked on /staff/api-keys/, which audits both."""

    list_display = ("name", "prefix", "store", "created_at", "last_used_at", "revoked_at")
    list_filter = ("store",)
    search_fields = ("name", "prefix")
    list_select_related = ("store",)
    exclude = ("secret_hash",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("api_key", "key", "status_code", "created_at")
    list_select_related = ("api_key",)
    search_fields = ("key",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
