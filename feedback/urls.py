"""Customers rate their completed orders (RPT-5), under /account/feedback/."""

from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("<str:number>/", views.leave, name="leave"),
]
