from django.contrib import admin

from .models import Order, OrderEvent, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in OrderLine._meta.fields if f.name != "id"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "actor", "kind", "from_state", "to_state", "reason", "details")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Read-only: staff change orders only through the workspace's explicit actions (ORD-11)."""

    list_display = ("number", "state", "channel", "recipient_name", "total_amount", "created_at")
    list_filter = ("state", "channel", "payment_method")
    search_fields = ("number", "external_id", "recipient_phone", "contact_email")
    date_hierarchy = "created_at"
    list_select_related = ("customer",)
    inlines = [OrderLineInline, OrderEventInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Order._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
