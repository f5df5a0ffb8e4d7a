from django.urls import path

from . import views

app_name = "addresses"

urlpatterns = [
    path("account/addresses/", views.address_list, name="list"),
    path("account/addresses/new/", views.address_create, name="create"),
    path("account/addresses/<int:pk>/edit/", views.address_edit, name="edit"),
    path("account/addresses/<int:pk>/delete/", views.address_delete, name="delete"),
    path("account/addresses/<int:pk>/default/", views.address_make_default, name="make_default"),
    path("addresses/divisions/", views.division_options, name="division_options"),
]
