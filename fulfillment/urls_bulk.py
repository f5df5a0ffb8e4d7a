"""Promotion-day work (FUL-7): bulk release, bulk pick lists, bulk labels, the stock check.

Mounted at /staff/floor/promotion-day/ in the "floor" namespace (fulfillment/urls.py).
"""

from django.urls import path

from . import views_bulk as views

urlpatterns = [
    path("", views.release_screen, name="bulk"),
    path("release/", views.release, name="bulk_release"),
    path("hold/", views.hold, name="bulk_hold"),
    path("pick-lists/", views.waves, name="bulk_waves"),
    path("labels/", views.labels, name="bulk_labels"),
    path("stock-check/", views.readiness_screen, name="readiness"),
    path("stock-check/csv/", views.readiness_csv, name="readiness_csv"),
]
