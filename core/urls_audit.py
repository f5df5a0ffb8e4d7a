"""The audit trail of staff actions for managers (SEC-4), under /staff/audit/."""

from django.urls import path

from . import views_audit

app_name = "audit"

urlpatterns = [
    path("", views_audit.audit_trail, name="trail"),
]
