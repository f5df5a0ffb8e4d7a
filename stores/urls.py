"""Sales channels and the marketplace order import (ORD-12), mounted at /staff/channels/."""

from django.urls import path

from . import views

app_name = "stores"

urlpatterns = [
    path("", views.store_list, name="list"),
    path("new/", views.store_create, name="create"),
    path("<int:store_id>/", views.store_edit, name="edit"),
    path("<int:store_id>/mapping/", views.store_mapping, name="mapping"),
    path("<int:store_id>/template.csv", views.mapping_template, name="template"),
    path("imports/", views.import_list, name="imports"),
    path("imports/<int:import_id>/", views.import_detail, name="import"),
    path("imports/<int:import_id>/errors.csv", views.import_errors_csv, name="import_errors"),
]
