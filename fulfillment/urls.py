from django.urls import include, path

from . import views

app_name = "floor"

urlpatterns = [
    path("", views.home, name="home"),
    path("waves/", views.waves, name="waves"),
    path("waves/new/", views.create_waves, name="create_waves"),
    path("waves/<int:wave_id>/", views.wave, name="wave"),
    path("waves/<int:wave_id>/cancel/", views.cancel_wave, name="cancel_wave"),
    path("orders/<str:number>/", views.order_status, name="order_status"),
    path("hold/", views.hold_or_release, name="hold_or_release"),
    path("stopped/<int:fulfillment_id>/put-back/", views.put_back, name="put_back"),
    path("pick/", views.pick_start, name="pick"),
    path("pick/<int:wave_id>/", views.picking, name="picking"),
    path("pick/<int:wave_id>/short/", views.short_pick, name="short_pick"),
    path("pack/", views.pack_start, name="pack"),
    path("pack/<int:fulfillment_id>/", views.packing, name="packing"),
    path("pack/<int:fulfillment_id>/parcel/", views.add_parcel, name="add_parcel"),
    path("pack/<int:fulfillment_id>/relabelled/", views.relabelled, name="relabelled"),
    path("parcels/<int:parcel_id>/remove/", views.remove_parcel, name="remove_parcel"),
    path("hand-over/", views.hand_over, name="hand_over"),
    path("documents/", include("fulfillment.urls_documents")),
    path("promotion-day/", include("fulfillment.urls_bulk")),
]
