from django.urls import path

from . import views

app_name = "workspace"

urlpatterns = [
    path("", views.index, name="index"),
    path("warehouse/", views.warehouse_home, name="warehouse"),
    path("service/", views.service_home, name="service"),
    path("manager/", views.manager_home, name="manager"),
    path("system/", views.system_home, name="system"),
    path("system/operations/", views.operations, name="operations"),
    path("system/operations/retry/", views.retry_notifications, name="retry_notifications"),
]
