from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from orders.signals import order_cancelled

        from .receivers import on_order_cancelled

        # A cancelled order's money goes back (AFS-1).
        order_cancelled.connect(on_order_cancelled, dispatch_uid="payments.refund_cancelled")
