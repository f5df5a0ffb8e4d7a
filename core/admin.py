from django.contrib import admin

from .models import SentMail, WorkerHeartbeat


@admin.register(SentMail)
class SentMailAdmin(admin.ModelAdmin):
    list_display = ("sent_at", "to", "subject")
    search_fields = ("to", "subject")
    readonly_fields = ("sent_at", "from_email", "to", "subject", "body", "html_body")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("hostname", "seen_at")
