"""URLs of the servicedesk app (issue 8)."""

app_name = "servicedesk"

urlpatterns: list = []
