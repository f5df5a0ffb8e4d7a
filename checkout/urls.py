from django.urls import path

from . import views

app_name = "checkout"

urlpatterns = [
    path("cart/", views.cart, name="cart"),
    path("cart/add/", views.add, name="add"),
    path("cart/lines/<int:sku_id>/", views.update_line, name="update_line"),
    path("cart/lines/<int:sku_id>/wait/", views.wait_for_stock, name="wait_for_stock"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/placed/<str:number>/", views.placed, name="placed"),
]
