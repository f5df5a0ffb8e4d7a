"""Customers' pages of the tickets app (AFS-5)."""

app_name = "my_tickets"

urlpatterns: list = []
