from django.contrib import admin

from .models import SentMail, StaffAction, WorkerHeartbeat


@admin.register(SentMail)
class SentMailAdmin(admin.ModelAdmin):
    list_display = ("sent_at", "to", "subject")
    search_fields = ("to", "subject")
    readonly_fields = ("sent_at", "from_email", "to", "subject", "body", "html_body")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("hostname", "seen_at")


@admin.register(StaffAction)
class StaffActionAdmin(admin.ModelAdmin):
    """The audit trail, read-only (SEC-4): entries are written by the services only."""

    list_display = ("at", "actor", "action", "target_label", "reason")
    list_filter = ("action",)
    search_fields = ("action", "target_label", "reason", "actor__email")
    date_hierarchy = "at"
    list_select_related = ("actor",)
    readonly_fields = [field.name for field in StaffAction._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
