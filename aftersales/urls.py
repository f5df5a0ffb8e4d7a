"""URLs of the aftersales app (issue 8)."""

app_name = "aftersales"

urlpatterns: list = []
