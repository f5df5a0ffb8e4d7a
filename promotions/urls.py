from django.urls import path

from . import views

app_name = "promotions"

urlpatterns = [
    path("", views.promotion_list, name="list"),
    path("coupons/new/", views.coupon_create, name="coupon_create"),
    path("coupons/<int:coupon_id>/", views.coupon_edit, name="coupon_edit"),
    path("coupons/<int:coupon_id>/deactivate/", views.coupon_deactivate, name="coupon_deactivate"),
    path("thresholds/new/", views.threshold_create, name="threshold_create"),
    path("thresholds/<int:promotion_id>/", views.threshold_edit, name="threshold_edit"),
    path(
        "thresholds/<int:promotion_id>/deactivate/",
        views.threshold_deactivate,
        name="threshold_deactivate",
    ),
]
