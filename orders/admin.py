from django.contrib import admin

from .models import Carrier, Order, OrderEvent, OrderLine, Shipment, TrackingEvent


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


class ShipmentInline(admin.TabularInline):
    model = Shipment
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "carrier",
        "tracking_number",
        "shipped_at",
        "delivered_at",
        "created_by",
    )
    show_change_link = True

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
    inlines = [OrderLineInline, OrderEventInline, ShipmentInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Order._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "tracking_url_template", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")


class TrackingEventInline(admin.TabularInline):
    model = TrackingEvent
    extra = 0
    can_delete = False
    readonly_fields = ("occurred_at", "status", "location", "description", "created_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    """Read-only: shipments are recorded by the warehouse and tracked by the carriers'
    events (orders.shipments), never typed in here."""

    list_display = ("tracking_number", "carrier", "order", "shipped_at", "delivered_at")
    list_filter = ("carrier",)
    search_fields = ("tracking_number", "order__number")
    date_hierarchy = "shipped_at"
    list_select_related = ("carrier", "order")
    inlines = [TrackingEventInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Shipment._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
