"""The Django admin shows the endpoints and the delivery log read-only: changes go through the
staff screens at /staff/webhooks/, which keep the audit trail and generate the secrets."""

from django.contrib import admin

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(_ReadOnly):
    list_display = ("url", "description", "is_active", "created_at")
    list_filter = ("is_active",)
    exclude = ("secret", "previous_secret")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "started_at", "duration_ms", "status_code", "error")
    exclude = ("response_excerpt",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnly):
    list_display = ("event_type", "event_id", "endpoint", "state", "attempts", "created_at")
    list_filter = ("state", "event_type")
    list_select_related = ("endpoint",)
    search_fields = ("=event_id",)
    raw_id_fields = ("endpoint", "replay_of")
    inlines = [WebhookAttemptInline]
