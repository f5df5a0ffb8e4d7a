from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts.urls import auth_urlpatterns
from core.views import healthz

admin.site.site_header = _("Shop administration")
admin.site.site_title = _("Shop administration")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include(auth_urlpatterns)),
    path("accounts/", include("accounts.urls")),
    path("account/", include("orders.urls_customer")),
    path("", include("addresses.urls")),
    path("", include("checkout.urls")),
    path("", include("payments.urls")),
    path("", include("orders.urls_public")),
    path("", include("notifications.urls")),
    path("webhooks/carriers/", include("orders.urls_webhooks")),
    path("staff/orders/", include("orders.urls_staff")),
    path("staff/stock/", include("inventory.urls")),
    path("staff/floor/", include("fulfillment.urls")),
    path("staff/desk/", include("servicedesk.urls")),
    path("staff/aftersales/", include("aftersales.urls")),
    path("staff/returns/", include("aftersales.urls_warehouse")),
    path("staff/tickets/", include("tickets.urls")),
    path("account/aftersales/", include("aftersales.urls_customer")),
    path("account/tickets/", include("tickets.urls_customer")),
    path("account/feedback/", include("feedback.urls")),
    path("staff/promotions/", include("promotions.urls")),
    path("staff/shipping/", include("checkout.urls_staff")),
    path("staff/audit/", include("core.urls_audit")),
    path("staff/reports/", include("reports.urls")),
    path("staff/channels/", include("stores.urls")),
    path("staff/api-keys/", include("api.urls_staff")),
    path("staff/webhooks/", include("webhooks.urls")),
    path("api/", include("api.urls")),
    path("staff/", include("workspace.urls")),
    path("admin/", admin.site.urls),
    path("", include("core.urls")),
    path("", include("catalog.urls")),
]
