from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("orders/", views.my_orders, name="my_orders"),
    path("orders/<str:number>/", views.my_order_detail, name="my_order_detail"),
    path(
        "orders/<str:number>/address/",
        views.my_order_change_address,
        name="my_order_change_address",
    ),
    path("orders/<str:number>/cancel/", views.my_order_cancel, name="my_order_cancel"),
    path(
        "orders/<str:number>/confirm-receipt/",
        views.my_order_confirm_receipt,
        name="my_order_confirm_receipt",
    ),
]
