"""Payments in the Django admin: read-only, since rows change only through payments.services."""

from django.contrib import admin

from .models import Payment, PaymentNotification, Refund, SandboxCharge, SandboxRefund


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "order",
        "gateway",
        "amount",
        "captured_amount",
        "status",
        "created_at",
    ]
    list_filter = ["status", "gateway"]
    search_fields = ["reference", "gateway_txn_id", "order__number"]
    list_select_related = ["order"]


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "gateway", "gateway_txn_id", "outcome", "signature_valid"]
    list_filter = ["outcome", "gateway", "signature_valid"]
    search_fields = ["gateway_txn_id", "payment__reference"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["reference", "payment", "amount", "status", "actor", "created_at"]
    list_filter = ["status"]
    list_select_related = ["payment", "actor"]


@admin.register(SandboxCharge)
class SandboxChargeAdmin(ReadOnlyAdmin):
    list_display = ["txn_id", "reference", "amount", "status", "created_at"]
    list_filter = ["status"]


@admin.register(SandboxRefund)
class SandboxRefundAdmin(ReadOnlyAdmin):
    list_display = ["refund_id", "charge", "amount", "created_at"]
