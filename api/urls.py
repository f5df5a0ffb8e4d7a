"""The JSON API (API-1), mounted at /api/."""

urlpatterns: list = []
