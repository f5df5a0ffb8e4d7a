from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .barcodes import validate_barcode


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:category", args=[self.slug])


class Product(models.Model):
    """What a customer browses; it is bought as one of its SKUs (INV-1)."""

    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="products"
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("on sale"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [models.Index(fields=["category", "is_active", "name"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:product", args=[self.slug])


class SKU(models.Model):
    """A stock-keeping unit (规格): one sellable variant of a product, with its own barcode."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="skus"
    )
    code = models.CharField(_("SKU code"), max_length=40, unique=True)
    barcode = models.CharField(
        _("barcode"),
        max_length=48,
        unique=True,
        validators=[validate_barcode],
        help_text=_("EAN-13 (13 digits with a valid check digit) or Code 128 text."),
    )
    color = models.CharField(_("colour"), max_length=40, blank=True)
    size = models.CharField(_("size"), max_length=40, blank=True)
    price = models.DecimalField(
        _("price"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    weight_grams = models.PositiveIntegerField(_("weight (g)"))
    is_fragile = models.BooleanField(_("fragile"), default=False)
    is_active = models.BooleanField(_("on sale"), default=True)

    class Meta:
        ordering = ["product_id", "code"]
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="sku_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} {self.variant_label}".strip()

    @property
    def variant_label(self) -> str:
        return " / ".join(part for part in (self.color, self.size) if part)
