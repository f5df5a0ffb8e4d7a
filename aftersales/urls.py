"""The agents' after-sales desk (AFS-3, AFS-4), under /staff/aftersales/."""

from django.urls import path

from . import views

app_name = "aftersales"

urlpatterns = [
    path("", views.staff_list, name="list"),
    path("photos/<int:pk>/", views.staff_photo, name="photo"),
    path("new/<str:number>/", views.staff_new, name="new"),
    path("<str:number>/", views.staff_detail, name="detail"),
    path("<str:number>/approve/", views.staff_approve, name="approve"),
    path("<str:number>/reject/", views.staff_reject, name="reject"),
    path("<str:number>/refund/", views.staff_refund, name="refund"),
    path("<str:number>/apply-change/", views.staff_apply_info, name="apply_info"),
    path("<str:number>/close/", views.staff_close, name="close"),
]
