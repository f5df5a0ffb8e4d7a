from django.urls import path

from . import views, views_dashboard

app_name = "reports"

urlpatterns = [
    path("", views_dashboard.dashboard, name="dashboard"),
    path("export/", views.export, name="export"),
    path("runs/", views.run, name="run"),
    path("runs/<int:run_id>/", views.run_status, name="run_status"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("snapshots/", views.snapshots, name="snapshots"),
    path(
        "snapshots/<int:snapshot_id>.<str:file_format>",
        views.snapshot_download,
        name="snapshot_download",
    ),
]
