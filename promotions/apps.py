from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionsConfig(AppConfig):
    name = "promotions"
    verbose_name = _("Promotions")

    def ready(self) -> None:
        from orders.signals import order_cancelled

        from .services import on_order_cancelled

        # A cancelled order gives its coupon use back (ORD-8).
        order_cancelled.connect(on_order_cancelled, dispatch_uid="promotions.release_coupon")
