from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("dev/mail/", views.sent_mail_list, name="sent_mail_list"),
    path("dev/mail/<int:pk>/", views.sent_mail_detail, name="sent_mail_detail"),
]
