from django.urls import path

from . import views, views_tracking

app_name = "staff_orders"

urlpatterns = [
    path("", views.staff_order_list, name="list"),
    path("tracking/import/", views_tracking.import_tracking, name="tracking_import"),
    path("<str:number>/", views.staff_order_detail, name="detail"),
    path("<str:number>/cancel/", views.staff_order_cancel, name="cancel"),
    path("<str:number>/release/", views.staff_order_release, name="release"),
    path("<str:number>/cash/", views.staff_order_record_cash, name="record_cash"),
    path(
        "<str:number>/parcels/<int:shipment_id>/tracking/",
        views_tracking.add_tracking_event,
        name="add_tracking_event",
    ),
]
