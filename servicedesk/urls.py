"""URLs of the service desk (issue 8), under /staff/desk/."""

from django.urls import path

from . import views

app_name = "servicedesk"

urlpatterns = [
    path("", views.home, name="home"),
    path("exceptions/", views.exceptions, name="exceptions"),
    path("exceptions/<str:number>/", views.exception_detail, name="exception_detail"),
    path("exceptions/<str:number>/claim/", views.claim, name="claim"),
    path("exceptions/<str:number>/unclaim/", views.unclaim, name="unclaim"),
    path("exceptions/<str:number>/release/", views.release, name="release"),
    path("exceptions/<str:number>/cancel/", views.cancel, name="cancel"),
    path("orders/<str:number>/address/", views.change_address, name="change_address"),
    path("orders/<str:number>/waiting/", views.waiting_choice, name="waiting_choice"),
    path(
        "orders/<str:number>/waiting/<int:line_id>/drop/",
        views.waiting_drop,
        name="waiting_drop",
    ),
    path(
        "orders/<str:number>/waiting/<int:line_id>/substitute/",
        views.waiting_substitute,
        name="waiting_substitute",
    ),
    path("audit-rules/", views.audit_rules, name="audit_rules"),
    path("audit-rules/<slug:code>/", views.audit_rule_edit, name="audit_rule_edit"),
]
