from django.urls import path

from . import staff_views

app_name = "shipping"

urlpatterns = [
    path("", staff_views.rule_list, name="list"),
    path("new/", staff_views.rule_edit, name="create"),
    path("<int:rule_id>/", staff_views.rule_edit, name="edit"),
]
