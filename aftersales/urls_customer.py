"""Customers' after-sales pages (AFS-2, AFS-3)."""

app_name = "my_aftersales"

urlpatterns: list = []
