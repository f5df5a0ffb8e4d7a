from django.contrib import admin

from .models import OrderFeedback


@admin.register(OrderFeedback)
class OrderFeedbackAdmin(admin.ModelAdmin):
    list_display = ["order", "rating", "created_at"]
    list_filter = ["rating"]
    raw_id_fields = ["order", "customer"]
