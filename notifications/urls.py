from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("account/messages/", views.message_list, name="list"),
    path("account/messages/<int:pk>/", views.message_detail, name="detail"),
]
