from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["kind", "address", "order", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "kind", "channel"]
    search_fields = ["address", "dedup_key", "order__number"]
    date_hierarchy = "created_at"
    raw_id_fields = ["recipient", "order"]
    readonly_fields = [field.name for field in Notification._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Send the failed notifications again"))
    def retry(self, request, queryset):
        count = services.retry_failed(
            notification_ids=queryset.values_list("pk", flat=True), actor=request.user
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d notification will be sent again.",
                "%(count)d notifications will be sent again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
