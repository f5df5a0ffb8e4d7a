from django.urls import path

from . import views

app_name = "inventory"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("sku/<int:sku_id>/", views.sku_detail, name="sku"),
    path("sku/<int:sku_id>/transfer/", views.sku_transfer, name="sku_transfer"),
    path("sku/<int:sku_id>/adjust/", views.sku_adjust, name="sku_adjust"),
    path("sku/<int:sku_id>/write-off/", views.sku_write_off, name="sku_write_off"),
    path("receive/", views.receive, name="receive"),
    path("scan/", views.scan_lookup, name="scan_lookup"),
    path("count/", views.count_start, name="count"),
    path("count/bin/<int:bin_id>/", views.count_sheet, name="count_sheet"),
    path("count/done/", views.count_result, name="count_result"),
    path("export.csv", views.export_csv, name="export"),
    path("import/", views.import_stock, name="import"),
    path("alerts/", views.alerts, name="alerts"),
]
