from django.contrib import admin

from .models import ReportDelivery, ReportRun, ReportSnapshot, ReportSubscription


@admin.register(ReportSnapshot)
class ReportSnapshotAdmin(admin.ModelAdmin):
    list_display = ["report", "period_kind", "period_key", "filters", "created_at", "made_by"]
    list_filter = ["report", "period_kind"]
    exclude = ["tables"]
    readonly_fields = ["report", "period_kind", "period_key", "filters", "made_by"]


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = ["report", "period_key", "requested_by", "state", "progress", "created_at"]
    list_filter = ["state", "report"]
    raw_id_fields = ["requested_by", "snapshot"]


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "report", "period_kind", "active", "created_at"]
    list_filter = ["report", "period_kind", "active"]
    raw_id_fields = ["user"]


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(admin.ModelAdmin):
    list_display = ["subscription", "period_key", "sent_at"]
    raw_id_fields = ["subscription", "snapshot"]
