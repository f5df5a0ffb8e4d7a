"""Orders, their lines and their timeline (SPEC §2, ORD-1, ORD-11).

The state field is a protected django-fsm field: it changes only through the `@transition`
methods below, and those are called only from `orders.services`, which lock the row, check the
actor's permission and write the `OrderEvent`.
"""

from decimal import Decimal
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


class OrderState(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    PAID = "paid", _("Paid, to be processed")
    PICKED = "picked", _("Picked")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


# The stand-in contact of an order from another channel that gave no buyer e-mail
# (stores.imports): the reserved .invalid domain (RFC 2606) never delivers, and the customer
# notifications skip it — the channel talks to its buyers.
NO_CONTACT_EMAIL_DOMAIN = "marketplace.invalid"


class Channel(models.TextChoices):
    STOREFRONT = "storefront", _("Storefront")
    MARKETPLACE = "marketplace", _("Marketplace")
    API = "api", _("API")
    # The goods an after-sales exchange or re-shipment sends again: not a sale (AFS-2).
    REPLACEMENT = "replacement", _("After-sales replacement")


class PaymentMethod(models.TextChoices):
    ONLINE = "online", _("Online payment")
    CASH_ON_DELIVERY = "cod", _("Cash on delivery")


def _is_customer_or_has(perm: str):
    """Transition permission: the order's own customer, or staff holding `perm`."""

    def check(order: "Order", user) -> bool:
        if order.customer_id is not None and order.customer_id == user.pk:
            return True
        return user.has_perm(perm)

    return check


def _system_only(order: "Order", user) -> bool:
    """Transitions that only the system performs (gateway callback, scheduled jobs)."""
    return False


MONEY = {"max_digits": 12, "decimal_places": 2}


class Order(ConcurrentTransitionMixin, models.Model):
    number = models.CharField(_("order number"), max_length=20, unique=True)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.STOREFRONT
    )
    # The marketplace store or connected system the order came from (ORD-12); none for our
    # storefront and after-sales replacements. `external_id` is the id it gave the order.
    store = models.ForeignKey(
        "stores.Store",
        verbose_name=_("sales channel"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    external_id = models.CharField(_("external id"), max_length=64, blank=True)

    # Snapshot of the shipping address at the time of the order (ORD-3).
    recipient_name = models.CharField(_("recipient"), max_length=50)
    recipient_phone = models.CharField(_("mobile phone"), max_length=20)
    province = models.CharField(_("province"), max_length=30)
    city = models.CharField(_("city"), max_length=30)
    district = models.CharField(_("district"), max_length=30)
    address_line = models.CharField(_("address"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=6, blank=True)
    customer_note = models.CharField(_("note from the customer"), max_length=500, blank=True)
    # The checkout page's one-time token: a second submit of the same page finds this order
    # instead of placing another (ORD-2).
    checkout_token = models.UUIDField(_("checkout token"), null=True, blank=True, unique=True)
    # Set when something needs a person before the order may go on (a payment that does not
    # match, a payment for a cancelled order); the service desk clears it (ORD-4, ORD-6).
    needs_review = models.BooleanField(_("needs review"), default=False)
    review_reason = models.CharField(_("why it needs review"), max_length=500, blank=True)

    payment_method = models.CharField(
        _("payment method"),
        max_length=10,
        choices=PaymentMethod.choices,
        default=PaymentMethod.ONLINE,
    )
    goods_amount = models.DecimalField(_("goods"), **MONEY)
    discount_amount = models.DecimalField(_("discount"), default=Decimal("0.00"), **MONEY)
    shipping_amount = models.DecimalField(_("shipping"), default=Decimal("0.00"), **MONEY)
    total_amount = models.DecimalField(_("total"), **MONEY)
    paid_amount = models.DecimalField(_("paid"), default=Decimal("0.00"), **MONEY)

    state = FSMField(
        _("state"),
        default=OrderState.PENDING_PAYMENT,
        choices=OrderState.choices,
        protected=True,
        db_index=True,
    )
    created_at = models.DateTimeField(_("placed at"), db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # When the customer was reminded of the payment deadline (ORD-5): once per order.
    payment_reminded_at = models.DateTimeField(_("payment reminder sent at"), null=True, blank=True)
    # Lines waiting for stock (INV-5): ship what is there now and the rest as it arrives, in
    # several parcels (the customer's choice at checkout, or an agent's later), instead of
    # sending everything together once complete.
    ship_partial = models.BooleanField(_("ship what is in stock now"), default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        permissions = [
            ("pick_order", _("Can mark an order picked")),
            ("ship_order", _("Can mark an order shipped")),
            ("cancel_order", _("Can cancel any customer's order")),
            ("complete_order", _("Can confirm receipt for a customer")),
            ("view_sales_figures", _("Can see sales figures")),
            ("change_order_address", _("Can change the shipping address of any order")),
            ("record_cash_payment", _("Can record cash collected on delivery")),
            ("release_held_order", _("Can release an order held for review")),
            (
                "resolve_waiting_lines",
                _("Can split, drop or substitute order lines waiting for stock"),
            ),
        ]
        indexes = [
            models.Index(fields=["state", "created_at"], name="order_state_created"),
            models.Index(fields=["customer", "created_at"], name="order_customer_created"),
            models.Index(fields=["channel", "created_at"], name="order_channel_created"),
            # The API's "changed since" feed, per store, in a stable order (API-1).
            models.Index(fields=["store", "updated_at", "id"], name="order_store_updated"),
            # Staff search looks orders up by each of these (orders.selectors._search_filter).
            models.Index(fields=["recipient_phone"], name="order_recipient_phone"),
            models.Index(fields=["contact_email"], name="order_contact_email"),
            models.Index(fields=["external_id"], name="order_external_id"),
            models.Index(
                fields=["created_at"],
                condition=Q(needs_review=True),
                name="order_needs_review",
            ),
            # The payment-deadline scans (orders.schedules): unpaid online orders by age.
            models.Index(
                fields=["created_at"],
                condition=Q(state="pending_payment", payment_method="online"),
                name="order_awaiting_online_payment",
            ),
            # Reports by payment time (RPT-2: the period's paid orders).
            models.Index(fields=["paid_at"], name="order_paid_at"),
            # The automatic confirmation of receipt: shipped orders by hand-over time.
            models.Index(
                fields=["shipped_at"], condition=Q(state="shipped"), name="order_shipped_since"
            ),
        ]
        constraints = [
            # The same marketplace order imported twice, or an API create retried without its
            # Idempotency-Key, finds the first order instead of making a second (ORD-12).
            models.UniqueConstraint(
                fields=["store", "external_id"],
                condition=~Q(external_id="") & Q(store__isnull=False),
                name="order_unique_external_id_per_store",
            ),
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id="") & Q(store__isnull=True),
                name="order_unique_external_id_per_channel",
            ),
            models.CheckConstraint(
                condition=Q(goods_amount__gte=0)
                & Q(discount_amount__gte=0)
                & Q(shipping_amount__gte=0)
                & Q(paid_amount__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                # Rounded because SQLite keeps decimals as floating point.
                condition=Q(
                    total_amount=Round(
                        F("goods_amount") - F("discount_amount") + F("shipping_amount"), 2
                    )
                ),
                name="order_total_adds_up",
            ),
            models.CheckConstraint(
                condition=~Q(customer__isnull=True, contact_email=""),
                name="order_has_customer_or_contact",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    # --- conditions ---------------------------------------------------------------------------
    def is_prepaid(self) -> bool:
        return self.payment_method == PaymentMethod.ONLINE

    def is_cash_on_delivery(self) -> bool:
        return self.payment_method == PaymentMethod.CASH_ON_DELIVERY

    def refunded_by_hand(self) -> bool:
        """No payment of ours to refund through a gateway: cash on delivery, or an order
        another sales channel was paid for (it refunds there, ORD-12)."""
        return self.is_cash_on_delivery() or self.store_id is not None

    def warehouse_started(self) -> bool:
        """Once the warehouse has started, only an agent may change or stop the order (ORD-7)."""
        return (
            self.state not in (OrderState.PENDING_PAYMENT, OrderState.PAID)
            or not self.nothing_shipped()
        )

    def awaits_online_payment(self) -> bool:
        """Whether paying online makes sense now: a prepaid order waiting for its money and
        not held for review (ORD-4). The payment services still decide."""
        return (
            self.is_prepaid() and self.state == OrderState.PENDING_PAYMENT and not self.needs_review
        )

    def is_not_held(self) -> bool:
        return not self.needs_review

    def nothing_paid(self) -> bool:
        return self.paid_at is None

    def nothing_shipped(self) -> bool:
        """No parcel of it has left: an order split across warehouses or shipping what was in
        stock first (INV-5, INV-6) stays paid after its first part ships, but may no longer be
        cancelled as a whole."""
        return not self.shipments.exists()

    def costs_nothing(self) -> bool:
        """A zero-amount order: an after-sales replacement (exchange or re-shipment)."""
        return self.total_amount == 0

    def awaits_cash(self) -> bool:
        """A cash-on-delivery order whose cash has not been recorded yet."""
        return (
            self.is_cash_on_delivery()
            and self.paid_at is None
            and self.state != OrderState.CANCELLED
        )

    # --- transitions (called only from orders.services) ---------------------------------------
    @transition(
        field=state,
        source=OrderState.PENDING_PAYMENT,
        target=OrderState.PAID,
        conditions=[is_prepaid],
        permission=_system_only,
    )
    def pay(self) -> None:
        """The payment gateway confirmed the payment."""

    @transition(
        field=state,
        source=OrderState.PENDING_PAYMENT,
        target=OrderState.PAID,
        conditions=[is_cash_on_delivery],
        permission=_system_only,
    )
    def accept_cash_on_delivery(self) -> None:
        """A cash-on-delivery order goes to fulfilment before payment (ORD-4)."""

    @transition(
        field=state,
        source=OrderState.PENDING_PAYMENT,
        target=OrderState.PAID,
        conditions=[costs_nothing],
        permission=_system_only,
    )
    def accept_replacement(self) -> None:
        """An after-sales replacement costs the customer nothing: it goes to fulfilment as
        paid, without any money (AFS-3)."""

    @transition(
        field=state,
        source=OrderState.PAID,
        target=OrderState.PICKED,
        conditions=[is_not_held],
        permission="orders.pick_order",
    )
    def pick(self) -> None:
        """Every line has been picked in the warehouse."""

    @transition(
        field=state,
        source=OrderState.PICKED,
        target=OrderState.SHIPPED,
        permission="orders.ship_order",
    )
    def ship(self) -> None:
        """The parcel was handed to the carrier."""

    @transition(
        field=state,
        source=OrderState.SHIPPED,
        target=OrderState.COMPLETED,
        permission=_is_customer_or_has("orders.complete_order"),
    )
    def complete(self) -> None:
        """Receipt confirmed by the customer, by an agent, or automatically (ORD-10)."""

    @transition(
        field=state,
        source=OrderState.PENDING_PAYMENT,
        target=OrderState.CANCELLED,
        permission=_is_customer_or_has("orders.cancel_order"),
    )
    def cancel(self) -> None:
        """Cancelled before payment: by the customer, an agent, or the payment deadline."""

    @transition(
        field=state,
        source=OrderState.PAID,
        target=OrderState.CANCELLED,
        conditions=[is_cash_on_delivery, nothing_paid, nothing_shipped],
        permission=_is_customer_or_has("orders.cancel_order"),
    )
    def cancel_cash_on_delivery(self) -> None:
        """A cash-on-delivery order the warehouse has not started: nothing was paid, so its
        customer may still cancel it, as an unpaid online order (ORD-7)."""

    @transition(
        field=state,
        source=[OrderState.PAID, OrderState.PICKED],
        target=OrderState.CANCELLED,
        conditions=[nothing_shipped],
        permission="orders.cancel_order",
    )
    def cancel_after_payment(self) -> None:
        """Cancelled by an agent before shipment; the payment is refunded (ORD-7, AFS-1)."""


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    sku = models.ForeignKey(
        "catalog.SKU", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="+"
    )
    # Snapshots: the order keeps what was sold even if the catalogue changes later.
    product_name = models.CharField(_("product"), max_length=200)
    sku_code = models.CharField(_("SKU code"), max_length=40)
    variant_label = models.CharField(_("variant"), max_length=100, blank=True)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    quantity = models.PositiveIntegerField(_("quantity"))
    discount_amount = models.DecimalField(_("discount"), default=Decimal("0.00"), **MONEY)
    # Units no longer sent: an agent dropped them while they waited for stock, or sent another
    # SKU instead (INV-5). `quantity` is what is sent; the amounts follow it.
    dropped_quantity = models.PositiveIntegerField(_("units dropped"), default=0)
    # Set on a line an agent added to send another SKU for a line's missing units (INV-5).
    substitute_for = models.ForeignKey(
        "self",
        verbose_name=_("instead of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="substitutes",
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            # Zero only once every unit was dropped or substituted (INV-5).
            models.CheckConstraint(
                condition=Q(quantity__gt=0) | Q(dropped_quantity__gt=0),
                name="orderline_quantity_positive",
            ),
            models.CheckConstraint(
                condition=Q(discount_amount__gte=0), name="orderline_discount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_name} × {self.quantity}"

    @property
    def gross_amount(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def net_amount(self) -> Decimal:
        return self.gross_amount - self.discount_amount


class OrderEventKind(models.TextChoices):
    PLACED = "placed", _("Order placed")
    PAID = "paid", _("Payment received")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    COD_ACCEPTED = "cod_accepted", _("Cash on delivery accepted")
    CASH_COLLECTED = "cash_collected", _("Cash collected on delivery")
    ADDRESS_CHANGED = "address_changed", _("Shipping address changed")
    FLAGGED = "flagged", _("Flagged for review")
    RELEASED = "released", _("Released after review")
    REFUNDED = "refunded", _("Refunded")
    WAREHOUSE_HELD = "warehouse_held", _("Held in the warehouse")
    WAREHOUSE_RELEASED = "warehouse_released", _("Released to the warehouse")
    SHORT_PICK = "short_pick", _("Short pick reported")
    PICKED = "picked", _("Picked")
    PART_SHIPPED = "part_shipped", _("Part of the order shipped")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    INTERCEPTED = "intercepted", _("Stopped in the warehouse")
    SHIPPING_CHOICE = "shipping_choice", _("Delivery of waiting items changed")
    LINE_DROPPED = "line_dropped", _("Waiting items dropped")
    LINE_SUBSTITUTED = "line_substituted", _("Waiting items substituted")


class OrderEvent(models.Model):
    """One entry of an order's timeline and audit trail (ORD-11, SEC-4)."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="events"
    )
    created_at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the system acted."),
    )
    kind = models.CharField(_("event"), max_length=30, choices=OrderEventKind.choices)
    from_state = models.CharField(
        _("from state"), max_length=20, choices=OrderState.choices, blank=True
    )
    to_state = models.CharField(
        _("to state"), max_length=20, choices=OrderState.choices, blank=True
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        indexes = [
            models.Index(fields=["order", "created_at"], name="orderevent_order_time"),
            # Reports read events of one kind in a period (RPT-2: flagged, picked, …).
            models.Index(fields=["kind", "created_at"], name="orderevent_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class OrderNumberCounter(models.Model):
    """The last order number handed out per day (ORD-1). See `orders.numbers`."""

    day = models.DateField(primary_key=True)
    last = models.PositiveBigIntegerField()

    class Meta:
        verbose_name = _("order number counter")
        verbose_name_plural = _("order number counters")

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


# --- Shipments and tracking (ORD-9, FUL-5, FUL-6) ---------------------------------------------
class CarrierIntegration(models.TextChoices):
    # Tracking numbers come from the carrier's interface (fulfillment.carriers); the built-in
    # sandbox makes them up, for demos and tests.
    SANDBOX = "sandbox", _("Sandbox (numbers generated here)")
    # The carrier's own waybills: the packer types or scans the number printed on them.
    MANUAL = "manual", _("Manual (number typed or scanned)")


class ShippingService(models.TextChoices):
    """The carrier's service chosen at packing (FUL-3, 002 §4.2)."""

    EXPRESS = "express", _("Express")
    FREIGHT = "freight", _("Freight")


class Carrier(models.Model):
    """A courier company the shop hands parcels to (configured in the Django admin)."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=50)
    integration = models.CharField(
        _("tracking numbers"),
        max_length=10,
        choices=CarrierIntegration.choices,
        default=CarrierIntegration.MANUAL,
    )
    is_default = models.BooleanField(
        _("default carrier"),
        default=False,
        help_text=_("Orders reaching the warehouse are planned with this carrier."),
    )
    express_days = models.PositiveSmallIntegerField(
        _("express delivery (days)"), default=2, help_text=_("Days from hand-over to delivery.")
    )
    freight_days = models.PositiveSmallIntegerField(
        _("freight delivery (days)"), default=5, help_text=_("Days from hand-over to delivery.")
    )
    # Shared with the carrier: its tracking pushes to /webhooks/carriers/<code>/ are signed
    # with it (HMAC-SHA256). Empty: the carrier cannot push.
    webhook_secret = models.CharField(_("webhook secret"), max_length=100, blank=True)
    # The carrier's public tracking page for one parcel; "{number}" is replaced by the
    # tracking number.
    tracking_url_template = models.CharField(
        _("tracking page address"),
        max_length=300,
        blank=True,
        help_text=_("Use {number} where the tracking number goes."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="carrier_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        template = self.tracking_url_template
        if template and "{number}" not in template:
            raise ValidationError(
                {"tracking_url_template": _("The address must contain {number}.")}
            )
        if template and not template.startswith("https://"):
            raise ValidationError(
                {"tracking_url_template": _("The address must start with https://.")}
            )

    def delivery_days(self, service: str) -> int:
        return self.freight_days if service == ShippingService.FREIGHT else self.express_days

    def tracking_url(self, tracking_number: str) -> str:
        """The public page that tracks `tracking_number`, or "" if the carrier has none."""
        if "{number}" not in self.tracking_url_template:
            return ""
        return self.tracking_url_template.replace("{number}", quote(tracking_number, safe=""))


class Shipment(models.Model):
    """One parcel of an order, handed to a carrier under a tracking number (FUL-5).

    An order usually has one; a split order (INV-5) or a re-shipment has several."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="shipments"
    )
    carrier = models.ForeignKey(
        Carrier, verbose_name=_("carrier"), on_delete=models.PROTECT, related_name="shipments"
    )
    tracking_number = models.CharField(_("tracking number"), max_length=30)
    service = models.CharField(
        _("service"),
        max_length=10,
        choices=ShippingService.choices,
        default=ShippingService.EXPRESS,
    )
    weight_grams = models.PositiveIntegerField(_("weight (g)"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("handed over at"))
    # What the customer is told at hand-over (FUL-5): hand-over day + the carrier's days.
    expected_delivery = models.DateField(_("expected delivery"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    # When the parcel was found without movement for too long (FUL-6): flagged once.
    delay_flagged_at = models.DateTimeField(_("flagged as delayed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the system recorded it."),
    )

    class Meta:
        ordering = ["shipped_at", "id"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"], name="shipment_unique_tracking_number"
            ),
        ]
        indexes = [
            models.Index(fields=["order", "shipped_at"], name="shipment_order_shipped"),
            # The delay scan (orders.schedules): parcels on their way and not yet flagged.
            models.Index(
                fields=["shipped_at"],
                condition=Q(delivered_at__isnull=True, delay_flagged_at__isnull=True),
                name="shipment_in_transit_unflagged",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier.code} {self.tracking_number}"

    def tracking_url(self) -> str:
        return self.carrier.tracking_url(self.tracking_number)


class TrackingStatus(models.TextChoices):
    COLLECTED = "collected", _("Collected by the carrier")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Delivery problem")


class TrackingEvent(models.Model):
    """One scan or status the carrier reported for a shipment (FUL-6). The same event pushed
    twice is stored once: see `orders.shipments.add_tracking_event`."""

    shipment = models.ForeignKey(
        Shipment,
        verbose_name=_("shipment"),
        on_delete=models.CASCADE,
        related_name="tracking_events",
    )
    occurred_at = models.DateTimeField(_("time"))
    status = models.CharField(_("status"), max_length=20, choices=TrackingStatus.choices)
    location = models.CharField(_("location"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "occurred_at", "status", "description"],
                name="trackingevent_unique_per_shipment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.status} {self.occurred_at:%Y-%m-%d %H:%M}"
