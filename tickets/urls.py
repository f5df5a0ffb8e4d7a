"""URLs of the tickets app (issue 8)."""

app_name = "tickets"

urlpatterns: list = []
