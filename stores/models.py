"""Sales channels beyond our own storefront (ORD-12): each marketplace store and each system
that places orders through the API is a `Store`. An order from one carries the store and the
id the store gave it (`Order.store`, `Order.external_id`), unique per store, so that the same
order imported or pushed twice is found instead of created again.

Orders from every channel are created by `orders.services.create_order` and then follow the
same audit, reservation, warehouse and after-sales paths as storefront orders.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StoreKind(models.TextChoices):
    MARKETPLACE = "marketplace", _("Marketplace store")
    API = "api", _("System connected through the API")


class Store(models.Model):
    code = models.SlugField(
        _("code"),
        max_length=30,
        unique=True,
        help_text=_("Short name used in files and the API, e.g. tmall-flagship."),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=StoreKind.choices)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive stores cannot send new orders.")
    )
    # Marketplace CSV exports: {our field: the export's column header} (stores.imports).
    column_mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("sales channel")
        verbose_name_plural = _("sales channels")
        permissions = [("import_orders", _("Can import marketplace orders"))]

    def __str__(self) -> str:
        return self.name
