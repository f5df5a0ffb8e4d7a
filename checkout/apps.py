from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckoutConfig(AppConfig):
    name = "checkout"
    verbose_name = _("Cart and checkout")

    def ready(self) -> None:
        from . import cart  # noqa: F401  (connects the login merge)
