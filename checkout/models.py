"""Carts and the shipping-fee rules checkout prices with (ORD-2, issue 5).

A cart belongs to a customer, or to a guest's browser session through an unguessable token kept
in the session; at login the guest's cart is merged into the customer's (`checkout.cart`).
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 12, "decimal_places": 2}
# Enough for any shop's single order line; more is a typing slip.
MAX_LINE_QUANTITY = 99
MAX_CART_LINES = 50


class Cart(models.Model):
    customer = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cart",
    )
    token = models.UUIDField(_("guest token"), default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")

    def __str__(self) -> str:
        return str(self.customer or self.token)


class CartLine(models.Model):
    cart = models.ForeignKey(
        Cart, verbose_name=_("cart"), on_delete=models.CASCADE, related_name="lines"
    )
    sku = models.ForeignKey(
        "catalog.SKU", verbose_name=_("SKU"), on_delete=models.CASCADE, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    # The price when the line was put in the cart, so that the cart can say it changed.
    price_when_added = models.DecimalField(_("price when added"), **MONEY)
    # The customer chose to order this line even though stock is short: what is there is
    # reserved, the rest waits for stock and is sent when it arrives (INV-5).
    wait_for_stock = models.BooleanField(_("wait for stock"), default=False)
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="cartline_unique_sku"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=MAX_LINE_QUANTITY),
                name="cartline_quantity_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id} × {self.quantity}"


class ShippingRule(models.Model):
    """The fee for a parcel to some provinces: a first weight and a fee per extra step, free
    from a goods amount on. A rule naming the province beats the rules that name none."""

    name = models.CharField(_("name"), max_length=100)
    provinces = models.JSONField(
        _("provinces"),
        default=list,
        blank=True,
        help_text=_("Province names as in addresses, e.g. 广东省. Empty: every other province."),
    )
    first_weight_grams = models.PositiveIntegerField(_("first weight (g)"), default=1000)
    first_fee = models.DecimalField(_("fee for the first weight"), **MONEY)
    step_grams = models.PositiveIntegerField(_("each further step (g)"), default=1000)
    step_fee = models.DecimalField(_("fee per further step"), **MONEY)
    free_over = models.DecimalField(
        _("free from"),
        null=True,
        blank=True,
        help_text=_("Goods amount after discounts from which shipping is free. Empty: never."),
        **MONEY,
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=100, help_text=_("Lower wins when several rules match.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("shipping rule")
        verbose_name_plural = _("shipping rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(first_fee__gte=0) & Q(step_fee__gte=0),
                name="shippingrule_fees_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(first_weight_grams__gt=0) & Q(step_grams__gt=0),
                name="shippingrule_weights_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def covers(self, province: str) -> bool:
        return not self.provinces or province in self.provinces

    def fee(self, *, weight_grams: int, goods_after_discount: Decimal) -> Decimal:
        if self.free_over is not None and goods_after_discount >= self.free_over:
            return Decimal("0.00")
        extra = max(weight_grams - self.first_weight_grams, 0)
        steps = -(-extra // self.step_grams)  # ceiling: a started step is a whole step
        return self.first_fee + self.step_fee * steps
