from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("payments/pay/<str:number>/", views.pay, name="pay"),
    path("payments/notify/<str:gateway>/", views.notify, name="notify"),
    path("payments/return/<str:gateway>/", views.payment_return, name="return"),
    path("sandbox-gateway/pay/<str:txn_id>/", views.sandbox_pay, name="sandbox_pay"),
]
