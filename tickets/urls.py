"""Agents' pages of complaints and inquiries (AFS-5), under /staff/tickets/."""

from django.urls import path

from . import views

app_name = "tickets"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/reply/", views.reply, name="reply"),
    path("<int:pk>/take/", views.take, name="take"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("<int:pk>/status/", views.change_status, name="status"),
]
