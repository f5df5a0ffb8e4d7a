from django.urls import path

from . import views

app_name = "staff_orders"

urlpatterns = [
    path("", views.staff_order_list, name="list"),
    path("<str:number>/", views.staff_order_detail, name="detail"),
    path("<str:number>/cancel/", views.staff_order_cancel, name="cancel"),
    path("<str:number>/release/", views.staff_order_release, name="release"),
    path("<str:number>/cash/", views.staff_order_record_cash, name="record_cash"),
]
