"""The warehouse floor: what each warehouse has to ship, pick lists, parcels (FUL-1 to FUL-7).

An order reaches the floor as one `Fulfillment` per warehouse it was reserved in (INV-6: one
warehouse when one can serve it all, otherwise one per warehouse, one shipment each), and an
order shipped as its stock arrives (INV-5) gets another one for the units that came later. Its
units are the order's stock allocations tagged with its `part` (`inventory.Allocation.part`):
picking moves them out of their bins, hand-over consumes them, both through the stock ledger.

A fulfillment waits in its warehouse's queue until a `Wave` (a pick list of one or many orders)
takes it; its picker scans the items, the packer puts them into one or more `Parcel`s, and the
hand-over scan of the last parcel ships it. Every scan that counts is a `FloorActivity` row,
which the reports turn into per-picker and per-packer figures.

State fields are django-fsm fields changed only by the transitions below, called from
`fulfillment.services`. The bulk operations of a promotion day (release, wave creation) change
only `held` and `wave`, never a state, so they can run as a few set-based UPDATEs.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition


class FulfillmentState(models.TextChoices):
    READY = "ready", _("To pick")
    PICKED = "picked", _("Picked, to pack")
    PACKED = "packed", _("Packed, to hand over")
    SHIPPED = "shipped", _("Handed over")
    SHORT = "short", _("Short pick, with customer service")
    CANCELLED = "cancelled", _("Stopped")


# Work not finished on the floor: a cancelled order found in one of these is intercepted.
OPEN_STATES = (
    FulfillmentState.READY,
    FulfillmentState.PICKED,
    FulfillmentState.PACKED,
    FulfillmentState.SHORT,
)


def part_reference(fulfillment_id: int) -> str:
    return f"fulfillment:{fulfillment_id}"


class Fulfillment(FSMModelMixin, models.Model):
    """The part of one order that one warehouse picks, packs and ships: all of the order's
    units there, or, for an order shipped as its stock arrives (`Order.ship_partial`, INV-5),
    what was there when it reached the queue; units arriving later make another part."""

    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        on_delete=models.CASCADE,
        related_name="fulfillments",
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        verbose_name=_("warehouse"),
        on_delete=models.PROTECT,
        related_name="fulfillments",
    )
    state = FSMField(
        _("state"),
        default=FulfillmentState.READY,
        choices=FulfillmentState.choices,
        protected=True,
    )
    # Held by warehouse staff (a promotion day's staged release, a question about the order):
    # a held fulfillment stays out of new waves until it is released.
    held = models.BooleanField(_("held"), default=False)
    hold_reason = models.CharField(_("why it is held"), max_length=200, blank=True)
    wave = models.ForeignKey(
        "Wave",
        verbose_name=_("pick list"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fulfillments",
    )
    carrier = models.ForeignKey(
        "orders.Carrier",
        verbose_name=_("planned carrier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Copied from the allocations when it reaches the floor, for the wave filters and the
    # packing check (sums of the SKUs' weights; any fragile SKU).
    units = models.PositiveIntegerField(_("units"), default=0)
    expected_weight_grams = models.PositiveIntegerField(_("expected weight (g)"), default=0)
    is_fragile = models.BooleanField(_("fragile goods"), default=False)
    # What the packer has confirmed by scanning: {sku_id: units}.
    packed_counts = models.JSONField(_("units confirmed at packing"), default=dict, blank=True)

    released_at = models.DateTimeField(_("reached the warehouse at"), db_index=True)
    picked_at = models.DateTimeField(_("picked at"), null=True, blank=True)
    packed_at = models.DateTimeField(_("packed at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    # Interception: the state it was stopped in. Stopped once picked, its goods are out of
    # their bins (the ledger has already put them back); the floor confirms it put them back.
    stopped_from = models.CharField(
        _("stopped when"), max_length=10, choices=FulfillmentState.choices, blank=True
    )
    put_back_at = models.DateTimeField(_("goods put back at"), null=True, blank=True)
    # The address changed after its parcels were labelled (ORD-7): hand-over is refused until
    # the packer has stuck new labels on and said so.
    relabel_since = models.DateTimeField(_("labels to print again since"), null=True, blank=True)

    class Meta:
        ordering = ["released_at", "id"]
        verbose_name = _("fulfillment")
        verbose_name_plural = _("fulfillments")
        indexes = [
            # The queue a wave is cut from: ready, not held, not in a wave, oldest first.
            models.Index(
                fields=["warehouse", "released_at"],
                condition=Q(state="ready", held=False, wave__isnull=True),
                name="fulfillment_queue",
            ),
            models.Index(fields=["warehouse", "state"], name="fulfillment_warehouse_state"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}@{self.warehouse_id}"

    @property
    def part(self) -> str:
        """The reference its units carry in inventory (`Allocation.part`)."""
        return part_reference(self.pk)

    # --- transitions (called only from fulfillment.services) ----------------------------------
    @transition(field=state, source=FulfillmentState.READY, target=FulfillmentState.PICKED)
    def finish_picking(self) -> None:
        """Every unit of it is in the packing area."""

    @transition(field=state, source=FulfillmentState.READY, target=FulfillmentState.SHORT)
    def report_short(self) -> None:
        """The picker found fewer units than the ledger says; customer service decides."""

    @transition(field=state, source=FulfillmentState.SHORT, target=FulfillmentState.READY)
    def resume(self) -> None:
        """Customer service has dealt with the short pick: picking goes on."""

    @transition(field=state, source=FulfillmentState.PICKED, target=FulfillmentState.PACKED)
    def finish_packing(self) -> None:
        """Every unit is in a parcel with its tracking number."""

    @transition(field=state, source=FulfillmentState.PACKED, target=FulfillmentState.SHIPPED)
    def hand_over(self) -> None:
        """The last parcel was handed to the carrier."""

    @transition(field=state, source=list(OPEN_STATES), target=FulfillmentState.CANCELLED)
    def stop(self) -> None:
        """The order was cancelled: the floor stops (interception) and the goods go back."""

    @transition(
        field=state,
        source=[FulfillmentState.READY, FulfillmentState.SHORT],
        target=FulfillmentState.CANCELLED,
    )
    def close_empty(self) -> None:
        """Nothing of the order is left to pick here: after a short pick its units were
        reserved in another warehouse or wait for stock, or an agent dropped them (INV-5)."""


class WaveState(models.TextChoices):
    OPEN = "open", _("Not started")
    PICKING = "picking", _("Being picked")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class SizeFilter(models.TextChoices):
    ANY = "any", _("Any orders")
    SINGLE = "single", _("Single-item orders")
    MULTI = "multi", _("Multi-item orders")


class Wave(FSMModelMixin, models.Model):
    """A pick list (拣货单): the orders of one warehouse picked in one walk. A wave of one
    order is the single-order pick list. Its number, printed as a barcode, is what the picker
    scans to start."""

    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        verbose_name=_("warehouse"),
        on_delete=models.PROTECT,
        related_name="waves",
    )
    state = FSMField(_("state"), default=WaveState.OPEN, choices=WaveState.choices, protected=True)
    picker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("picker"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # How it was chosen, for the screens: the carrier, cut-off and size filters.
    carrier = models.ForeignKey(
        "orders.Carrier",
        verbose_name=_("carrier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cutoff = models.DateTimeField(_("reached the warehouse before"), null=True, blank=True)
    size = models.CharField(
        _("orders"), max_length=10, choices=SizeFilter.choices, default=SizeFilter.ANY
    )
    order_count = models.PositiveIntegerField(_("orders"), default=0)
    unit_count = models.PositiveIntegerField(_("units"), default=0)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    NUMBER_PREFIX = "W"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("pick list")
        verbose_name_plural = _("pick lists")
        indexes = [models.Index(fields=["warehouse", "state"], name="wave_warehouse_state")]
        permissions = [
            ("work_floor", _("Can pick, pack and hand over parcels")),
            ("plan_waves", _("Can release orders and create pick lists")),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        """What the pick list's barcode carries: W and eight digits."""
        return f"{self.NUMBER_PREFIX}{self.pk:08d}"

    @classmethod
    def pk_from_number(cls, number: str) -> int | None:
        number = (number or "").strip().upper()
        if number.startswith(cls.NUMBER_PREFIX) and number[1:].isdigit():
            return int(number[1:])
        return None

    @transition(field=state, source=WaveState.OPEN, target=WaveState.PICKING)
    def start(self) -> None:
        """The picker scanned the pick list."""

    @transition(field=state, source=[WaveState.OPEN, WaveState.PICKING], target=WaveState.DONE)
    def finish(self) -> None:
        """No order of it is left to pick."""

    @transition(field=state, source=WaveState.OPEN, target=WaveState.CANCELLED)
    def cancel(self) -> None:
        """Dissolved before picking started: its orders go back to the queue."""


class ShortReason(models.TextChoices):
    NOT_IN_BIN = "not_in_bin", _("Not in the bin")
    DAMAGED = "damaged", _("Damaged")
    WRONG_ITEM_IN_BIN = "wrong_item", _("Another item in the bin")
    OTHER = "other", _("Other")


class ShortPick(models.Model):
    """Units a picker could not find (FUL-2): the fulfillment waits for customer service,
    and the bin is due for a count."""

    fulfillment = models.ForeignKey(
        Fulfillment,
        verbose_name=_("fulfillment"),
        on_delete=models.CASCADE,
        related_name="short_picks",
    )
    wave = models.ForeignKey(
        Wave, verbose_name=_("pick list"), on_delete=models.CASCADE, related_name="short_picks"
    )
    sku = models.ForeignKey(
        "catalog.SKU", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+"
    )
    bin = models.ForeignKey(
        "inventory.Bin", verbose_name=_("bin"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("units missing"))
    reason = models.CharField(_("reason"), max_length=20, choices=ShortReason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reported_at = models.DateTimeField(_("reported at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = _("short pick")
        verbose_name_plural = _("short picks")
        indexes = [
            models.Index(
                fields=["reported_at"],
                condition=Q(resolved_at__isnull=True),
                name="shortpick_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.bin_id} −{self.quantity}"


class PackageType(models.TextChoices):
    ENVELOPE = "envelope", _("Envelope")
    BAG = "bag", _("Poly bag")
    BOX_S = "box_s", _("Box S")
    BOX_M = "box_m", _("Box M")
    BOX_L = "box_l", _("Box L")
    PALLET = "pallet", _("Pallet")


class Parcel(models.Model):
    """One package of a fulfillment (FUL-3): weighed, labelled with its carrier's tracking
    number, and handed over by a scan of that number (FUL-5)."""

    fulfillment = models.ForeignKey(
        Fulfillment, verbose_name=_("fulfillment"), on_delete=models.CASCADE, related_name="parcels"
    )
    package_type = models.CharField(_("package"), max_length=10, choices=PackageType.choices)
    weight_grams = models.PositiveIntegerField(_("weight (g)"))
    carrier = models.ForeignKey(
        "orders.Carrier", verbose_name=_("carrier"), on_delete=models.PROTECT, related_name="+"
    )
    service = models.CharField(_("service"), max_length=10)
    tracking_number = models.CharField(_("tracking number"), max_length=30)
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("packed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    packed_at = models.DateTimeField(_("packed at"))
    # Set by the hand-over scan: the order's shipment this parcel became.
    shipment = models.OneToOneField(
        "orders.Shipment",
        verbose_name=_("shipment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="parcel",
    )
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handed over by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)

    class Meta:
        ordering = ["packed_at", "id"]
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"], name="parcel_unique_tracking_number"
            )
        ]
        indexes = [models.Index(fields=["tracking_number"], name="parcel_tracking_number")]

    def __str__(self) -> str:
        return self.tracking_number


class ActivityKind(models.TextChoices):
    PICK = "pick", _("Picked")
    SHORT = "short", _("Short pick")
    PACK = "pack", _("Packed")
    HAND_OVER = "hand_over", _("Handed over")


class FloorActivity(models.Model):
    """Who did what on the floor and when (issue 7 §9): one row per accepted pick scan,
    short pick, packed parcel and hand-over scan. The reports count these per person."""

    kind = models.CharField(_("activity"), max_length=10, choices=ActivityKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("time"))
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        verbose_name=_("warehouse"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    fulfillment = models.ForeignKey(
        Fulfillment, verbose_name=_("fulfillment"), on_delete=models.CASCADE, related_name="+"
    )
    wave = models.ForeignKey(
        Wave,
        verbose_name=_("pick list"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    units = models.PositiveIntegerField(_("units"), default=0)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("floor activity")
        verbose_name_plural = _("floor activity")
        indexes = [
            models.Index(fields=["kind", "at"], name="activity_kind_time"),
            models.Index(fields=["actor", "at"], name="activity_actor_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.actor_id} {self.at:%Y-%m-%d %H:%M}"


class DocumentKind(models.TextChoices):
    LABELS = "labels", _("Shipping labels")
    PICK_LISTS = "pick_lists", _("Pick lists")
    PACKING_SLIPS = "packing_slips", _("Packing slips")


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being made")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class DocumentJob(models.Model):
    """A batch of documents rendered to one PDF by a worker (FUL-4), with its progress."""

    kind = models.CharField(_("documents"), max_length=20, choices=DocumentKind.choices)
    # The ids of the parcels (labels), waves (pick lists) or fulfillments (packing slips).
    object_ids = models.JSONField(_("what to print"), default=list)
    state = models.CharField(
        _("state"), max_length=10, choices=JobState.choices, default=JobState.QUEUED
    )
    total = models.PositiveIntegerField(_("documents"), default=0)
    done = models.PositiveIntegerField(_("made so far"), default=0)
    filename = models.CharField(_("file"), max_length=100, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("document batch")
        verbose_name_plural = _("document batches")

    def __str__(self) -> str:
        return f"{self.kind} × {self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)
