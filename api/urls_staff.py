"""Administrators' screens for API keys, mounted at /staff/api-keys/ (API-1)."""

from django.urls import path

from . import staff_views

app_name = "api_keys"

urlpatterns = [
    path("", staff_views.key_list, name="list"),
    path("new/", staff_views.issue_key, name="issue"),
    path("<int:key_id>/revoke/", staff_views.revoke_key, name="revoke"),
    path("channels/new/", staff_views.create_store, name="create_store"),
]
