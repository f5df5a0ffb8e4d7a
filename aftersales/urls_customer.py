"""Customers' after-sales pages (AFS-2, AFS-3), under /account/aftersales/."""

from django.urls import path

from . import views

app_name = "my_aftersales"

urlpatterns = [
    path("", views.my_requests, name="list"),
    path("photos/<int:pk>/", views.my_request_photo, name="photo"),
    path("new/<str:number>/", views.my_request_new, name="new"),
    path("<str:number>/", views.my_request_detail, name="detail"),
    path("<str:number>/withdraw/", views.my_request_withdraw, name="withdraw"),
    path("<str:number>/return-shipment/", views.my_request_return_shipment, name="return_shipment"),
]
