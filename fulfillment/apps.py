from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = _("Fulfilment")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the orders and inventory signals)
