"""The JSON API (API-1), mounted at /api/: the operations, /api/openapi.json and /api/docs.
Any other address under /api/ answers with a problem-details 404, not the site's HTML page."""

from django.urls import re_path

from .views import api, not_found_view

app_name = "api"

urlpatterns = [*api.urls[0], re_path(r"^(?P<path>.*)$", not_found_view, name="not_found")]
