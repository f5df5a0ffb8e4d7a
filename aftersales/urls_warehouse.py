"""The warehouse's returns screens (AFS-3), mounted at /staff/returns/ (namespace "returns")."""

from django.urls import path

from . import views_warehouse

app_name = "returns"

urlpatterns = [
    path("", views_warehouse.start, name="start"),
    path("<int:pk>/", views_warehouse.inspect, name="inspect"),
    path("<int:pk>/replacement/", views_warehouse.send_replacement, name="send_replacement"),
]
