from django.contrib import admin

from .models import Ticket, TicketMessage


class TicketMessageInline(admin.TabularInline):
    model = TicketMessage
    extra = 0
    fields = ("created_at", "author", "is_internal", "from_status", "to_status", "body")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-only: tickets change through the agents' screens, which keep the thread and the
    audit trail."""

    list_display = ("number", "subject", "kind", "status", "order", "customer", "assignee")
    list_filter = ("status", "kind")
    search_fields = ("subject", "order__number", "customer__email")
    list_select_related = ("order", "customer", "assignee")
    readonly_fields = [field.name for field in Ticket._meta.fields]
    inlines = [TicketMessageInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
