"""After-sales requests in the admin: to look at, never to change (changes go through
`aftersales.services`, which lock, check, record and notify)."""

from django.contrib import admin

from .models import AfterSalesRequest, RequestEvent, RequestLine, RequestPhoto


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class RequestLineInline(_ReadOnlyInline):
    model = RequestLine
    fields = readonly_fields = (
        "order_line",
        "quantity",
        "received_sellable",
        "received_damaged",
        "refund_amount",
    )


class RequestPhotoInline(_ReadOnlyInline):
    model = RequestPhoto
    fields = readonly_fields = ("content_type", "size", "uploaded_at")


class RequestEventInline(_ReadOnlyInline):
    model = RequestEvent
    fields = readonly_fields = (
        "created_at",
        "actor",
        "kind",
        "from_state",
        "to_state",
        "reason",
        "details",
    )


@admin.register(AfterSalesRequest)
class AfterSalesRequestAdmin(admin.ModelAdmin):
    list_display = ("number", "order", "kind", "state", "approved_refund", "created_at")
    list_filter = ("state", "kind", "reason")
    search_fields = ("order__number", "return_tracking_number")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
    inlines = [RequestLineInline, RequestPhotoInline, RequestEventInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in AfterSalesRequest._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
