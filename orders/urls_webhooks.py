"""Carriers' tracking pushes (FUL-6), mounted at /webhooks/carriers/."""

from django.urls import path

from . import views_tracking

app_name = "carrier_webhooks"

urlpatterns = [
    path("<str:code>/", views_tracking.carrier_webhook, name="push"),
]
