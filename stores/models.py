"""Sales channels beyond our own storefront (ORD-12): each marketplace store and each system
that places orders through the API is a `Store`. An order from one carries the store and the
id the store gave it (`Order.store`, `Order.external_id`), unique per store, so that the same
order imported or pushed twice is found instead of created again.

Orders from every channel are created by `orders.services.create_order` and then follow the
same audit, reservation, warehouse and after-sales paths as storefront orders.
"""

from django.conf import settings
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


class ImportState(models.TextChoices):
    QUEUED = "queued", _("Waiting for the worker")
    VALIDATING = "validating", _("Checking the rows")
    IMPORTING = "importing", _("Creating the orders")
    DONE = "done", _("Done")
    REFUSED = "refused", _("Refused: nothing imported")
    FAILED = "failed", _("Failed")


RUNNING_IMPORT_STATES = (ImportState.QUEUED, ImportState.VALIDATING, ImportState.IMPORTING)


class StoreImport(models.Model):
    """One uploaded marketplace export (ORD-12) and what became of it: checked as a whole by a
    worker, then each of its orders placed through `stores.services.place_channel_order`."""

    store = models.ForeignKey(
        Store, verbose_name=_("sales channel"), on_delete=models.PROTECT, related_name="imports"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    filename = models.CharField(_("file name"), max_length=200)
    # The file as uploaded (bounded by stores.imports.IMPORT_MAX_BYTES), read by the worker.
    content = models.BinaryField(_("file"))
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    state = models.CharField(
        _("state"), max_length=12, choices=ImportState.choices, default=ImportState.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    orders_total = models.PositiveIntegerField(_("orders in the file"), default=0)
    orders_created = models.PositiveIntegerField(_("orders created"), default=0)
    orders_known = models.PositiveIntegerField(_("orders already imported"), default=0)
    orders_failed = models.PositiveIntegerField(_("orders not imported"), default=0)
    # [{"line": file line (the header is line 1; 0 for the whole file), "message": text}]
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    # Set by the worker at each step: an import running with no change for long lost its worker.
    updated_at = models.DateTimeField(_("last progress"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("marketplace import")
        verbose_name_plural = _("marketplace imports")
        indexes = [models.Index(fields=["store", "sha256"], name="storeimport_store_sha256")]
        constraints = [
            # The same file of a store cannot run twice at once: the second upload finds the
            # first (stores.imports.request_import).
            models.UniqueConstraint(
                fields=["store", "sha256"],
                condition=models.Q(state__in=[state.value for state in RUNNING_IMPORT_STATES]),
                name="storeimport_one_running_per_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store.code} #{self.pk} {self.filename}"

    @property
    def is_finished(self) -> bool:
        return self.state not in RUNNING_IMPORT_STATES

    @property
    def percent(self) -> int:
        if self.state == ImportState.DONE:
            return 100
        return 0 if not self.rows_total else min(100, self.rows_done * 100 // self.rows_total)


class ImportedOrder(models.Model):
    """An order an import placed (`created`) or found already imported."""

    store_import = models.ForeignKey(
        StoreImport, on_delete=models.CASCADE, related_name="imported_orders"
    )
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    created = models.BooleanField(_("created by this import"))
    first_line = models.PositiveIntegerField(_("line"))

    class Meta:
        ordering = ["first_line", "id"]
        verbose_name = _("imported order")
        verbose_name_plural = _("imported orders")
        constraints = [
            models.UniqueConstraint(
                fields=["store_import", "order"], name="importedorder_once_per_import"
            )
        ]

    def __str__(self) -> str:
        return f"{self.store_import_id}: {self.order_id}"
