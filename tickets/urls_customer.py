"""Customers' pages of complaints and inquiries (AFS-5), under /account/tickets/."""

from django.urls import path

from . import views

app_name = "my_tickets"

urlpatterns = [
    path("", views.my_tickets, name="list"),
    path("new/<str:number>/", views.my_ticket_new, name="new"),
    path("<int:pk>/", views.my_ticket_detail, name="detail"),
]
