"""Warehouses, bins, stock per SKU per bin, and the stock ledger (INV-2, INV-4).

Stock rows change only through `inventory.services`, which lock them, check them and write one
`StockMovement` per change, so that on-hand (and reserved) always equal the sums of the ledger.
The database refuses negative stock and over-reservation whatever the code does.

This app knows nothing of orders: what caused a movement or a reservation is kept as an opaque
reference (`reference_type`, `reference_id`), e.g. ("order_line", "42").
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Warehouse(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    province = models.CharField(_("province"), max_length=30)
    city = models.CharField(_("city"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RegionPriority(models.Model):
    """Which warehouses serve a delivery province, best first (INV-6)."""

    province = models.CharField(_("delivery province"), max_length=30)
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.CASCADE, related_name="regions"
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=1, help_text=_("1 is tried first.")
    )

    class Meta:
        ordering = ["province", "priority"]
        verbose_name = _("region priority")
        verbose_name_plural = _("region priorities")
        constraints = [
            models.UniqueConstraint(
                fields=["province", "warehouse"], name="regionpriority_unique_province_warehouse"
            )
        ]

    def __str__(self) -> str:
        return f"{self.province} → {self.warehouse.code} ({self.priority})"


class Bin(models.Model):
    """A bin location (货位) such as A-01-03. Pick lists follow `walk_order`.

    Each warehouse also has one staging bin: picked goods wait there until they ship."""

    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="bins"
    )
    code = models.CharField(_("bin"), max_length=30)
    walk_order = models.PositiveIntegerField(_("walking order"), default=0)
    is_staging = models.BooleanField(_("packing area"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["warehouse_id", "walk_order", "code"]
        verbose_name = _("bin")
        verbose_name_plural = _("bins")
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "code"], name="bin_unique_code"),
            models.UniqueConstraint(
                fields=["warehouse"],
                condition=Q(is_staging=True),
                name="bin_one_staging_per_warehouse",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Stock(models.Model):
    """How many units of one SKU lie in one bin, and how many of them are promised."""

    sku = models.ForeignKey(
        "catalog.SKU", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="stock"
    )
    bin = models.ForeignKey(
        Bin, verbose_name=_("bin"), on_delete=models.PROTECT, related_name="stock"
    )
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)

    class Meta:
        verbose_name = _("stock")
        verbose_name_plural = _("stock")
        constraints = [
            models.UniqueConstraint(fields=["sku", "bin"], name="stock_unique_sku_bin"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0) & Q(reserved__lte=F("on_hand")),
                name="stock_reserved_within_on_hand",
            ),
        ]
        indexes = [models.Index(fields=["bin", "sku"], name="stock_bin_sku")]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.bin_id}: {self.on_hand}/{self.reserved}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


# Stock that can be sold: in an active bin of an active warehouse, not in a packing area.
# Availability, reservation, alerts and the stock-out list all count with this one filter.
SELLABLE_STOCK = Q(bin__is_staging=False, bin__is_active=True, bin__warehouse__is_active=True)


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    RESERVATION = "reservation", _("Reservation")
    RELEASE = "release", _("Release")
    PICK = "pick", _("Pick")
    SHIPMENT = "shipment", _("Shipment")
    RETURN = "return", _("Return to stock")
    WRITE_OFF = "write_off", _("Write-off")
    ADJUSTMENT = "adjustment", _("Adjustment")
    STOCK_TAKE = "stock_take", _("Stock-take")
    TRANSFER = "transfer", _("Transfer")


class StockMovement(models.Model):
    """One row of the stock ledger (INV-4): a change of on-hand and/or reserved in one bin."""

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("movement"), max_length=20, choices=MovementKind.choices)
    sku = models.ForeignKey(
        "catalog.SKU", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+"
    )
    bin = models.ForeignKey(Bin, verbose_name=_("bin"), on_delete=models.PROTECT, related_name="+")
    on_hand_change = models.IntegerField(_("on-hand change"), default=0)
    reserved_change = models.IntegerField(_("reserved change"), default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    reference_type = models.CharField(_("caused by"), max_length=30, blank=True)
    reference_id = models.CharField(_("reference"), max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        indexes = [
            models.Index(fields=["sku", "created_at"], name="movement_sku_time"),
            models.Index(fields=["reference_type", "reference_id"], name="movement_reference"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(on_hand_change=0, reserved_change=0), name="movement_changes_something"
            )
        ]

    def __str__(self) -> str:
        changes = f"{self.on_hand_change:+}/{self.reserved_change:+}"
        return f"{self.kind} {self.sku_id}@{self.bin_id} {changes}"


class AllocationState(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    PICKED = "picked", _("Picked")
    SHIPPED = "shipped", _("Shipped")
    RELEASED = "released", _("Released")


class Allocation(models.Model):
    """Units of one demand line (e.g. an order line) promised from one stock row.

    `group` ties the lines of one demand together (e.g. an order) so that they can be released
    or shipped together. Picked units wait in the warehouse's staging bin (`staged_in`).
    """

    group = models.CharField(_("demand"), max_length=64, db_index=True)
    line = models.CharField(_("demand line"), max_length=64)
    stock = models.ForeignKey(
        Stock, verbose_name=_("stock"), on_delete=models.PROTECT, related_name="allocations"
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    picked = models.PositiveIntegerField(_("picked"), default=0)
    state = models.CharField(
        _("state"), max_length=10, choices=AllocationState.choices, default=AllocationState.RESERVED
    )
    # Which part of the demand takes these units out (the caller's reference, e.g. the
    # warehouse's fulfillment of an order): an order shipped in parts (INV-5) ships each part's
    # units by themselves. Blank until the caller assigns them.
    part = models.CharField(_("shipment part"), max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("reserved at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        indexes = [
            models.Index(fields=["line"], name="allocation_line"),
            models.Index(fields=["part"], name="allocation_part", condition=~Q(part="")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="allocation_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(picked__lte=F("quantity")), name="allocation_picked_within_quantity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line} × {self.quantity} ({self.state})"


class StockThreshold(models.Model):
    """Below this many available units a SKU counts as low on stock (INV-7), in one warehouse
    or, without a warehouse, over all of them."""

    sku = models.ForeignKey(
        "catalog.SKU", verbose_name=_("SKU"), on_delete=models.CASCADE, related_name="+"
    )
    warehouse = models.ForeignKey(
        Warehouse,
        verbose_name=_("warehouse"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Empty: the threshold applies to the stock of all warehouses together."),
    )
    threshold = models.PositiveIntegerField(_("low-stock threshold"))

    class Meta:
        verbose_name = _("low-stock threshold")
        verbose_name_plural = _("low-stock thresholds")
        constraints = [
            models.UniqueConstraint(
                fields=["sku", "warehouse"], name="threshold_unique_sku_warehouse"
            ),
            models.UniqueConstraint(
                fields=["sku"],
                condition=Q(warehouse__isnull=True),
                name="threshold_unique_sku_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id} < {self.threshold}"


class StockAlertKind(models.TextChoices):
    LOW_STOCK = "low_stock", _("Low stock")
    STOCK_OUT = "stock_out", _("Out of stock")


class StockAlert(models.Model):
    """Raised once when a SKU's available stock crosses below its threshold, cleared when it
    is back at or above it. At most one open alert per SKU and scope (a database constraint),
    so concurrent crossings raise one alert and managers are told once."""

    sku = models.ForeignKey(
        "catalog.SKU", verbose_name=_("SKU"), on_delete=models.CASCADE, related_name="+"
    )
    warehouse = models.ForeignKey(
        Warehouse,
        verbose_name=_("warehouse"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    scope = models.CharField(max_length=20, editable=False)
    kind = models.CharField(_("alert"), max_length=10, choices=StockAlertKind.choices)
    available = models.IntegerField(_("available when raised"))
    threshold = models.PositiveIntegerField(_("threshold"))
    raised_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    notified_at = models.DateTimeField(_("managers told at"), null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("stock alert")
        verbose_name_plural = _("stock alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["sku", "scope"],
                condition=Q(cleared_at__isnull=True),
                name="stockalert_one_open_per_scope",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.sku_id} ({self.scope})"

    @staticmethod
    def scope_for(warehouse_id: int | None) -> str:
        return f"warehouse:{warehouse_id}" if warehouse_id else "all"


class Backorder(models.Model):
    """Units of a demand line that could not be reserved and wait for stock (INV-5).

    Arriving stock fills open backorders first, by `priority_at` (when the order was paid),
    oldest first."""

    group = models.CharField(_("demand"), max_length=64, db_index=True)
    line = models.CharField(_("demand line"), max_length=64)
    sku = models.ForeignKey(
        "catalog.SKU", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("units ordered"))
    filled = models.PositiveIntegerField(_("units reserved since"), default=0)
    province = models.CharField(_("delivery province"), max_length=30, blank=True)
    priority_at = models.DateTimeField(_("waiting since"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    filled_at = models.DateTimeField(_("filled at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        ordering = ["priority_at", "id"]
        verbose_name = _("backorder")
        verbose_name_plural = _("backorders")
        indexes = [
            models.Index(
                fields=["sku", "priority_at"],
                condition=Q(filled_at__isnull=True, cancelled_at__isnull=True),
                name="backorder_open_by_sku",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="backorder_quantity_positive"),
            models.CheckConstraint(
                condition=Q(filled__lte=F("quantity")), name="backorder_filled_within_quantity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line} waits for {self.waiting} × {self.sku_id}"

    @property
    def waiting(self) -> int:
        return self.quantity - self.filled


class StockImport(models.Model):
    """One opening-stock file imported (INV-7). The unique file name makes a second upload of
    the same file — a double click, a retry — import nothing, even when both run at once."""

    filename = models.CharField(_("file"), max_length=64, unique=True)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rows = models.PositiveIntegerField(_("rows"))
    units = models.PositiveIntegerField(_("units"))

    class Meta:
        ordering = ["-imported_at"]
        verbose_name = _("stock import")
        verbose_name_plural = _("stock imports")

    def __str__(self) -> str:
        return self.filename
