from django.urls import path

from . import views

app_name = "tracking"

urlpatterns = [
    path("track/", views.guest_lookup, name="lookup"),
    path("track/<str:number>/", views.guest_order, name="guest_order"),
]
