"""A customer's address book (ORD-3).

Each address keeps both the division codes (to prefill the cascading selects) and the names
(the same names an order's address snapshot keeps). Writes go through `addresses.services`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.services import ShippingAddress

from .validators import validate_mainland_mobile, validate_postcode


class Address(models.Model):
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="addresses",
    )
    label = models.CharField(
        _("label"), max_length=20, blank=True, help_text=_("For example Home or Office.")
    )
    recipient_name = models.CharField(_("recipient"), max_length=50)
    recipient_phone = models.CharField(
        _("mobile phone"), max_length=20, validators=[validate_mainland_mobile]
    )
    province_code = models.CharField(_("province code"), max_length=12)
    city_code = models.CharField(_("city code"), max_length=12)
    district_code = models.CharField(_("district code"), max_length=12)
    province = models.CharField(_("province"), max_length=30)
    city = models.CharField(_("city"), max_length=30)
    district = models.CharField(_("district"), max_length=30)
    address_line = models.CharField(_("street address"), max_length=200)
    postcode = models.CharField(
        _("postcode"), max_length=6, blank=True, validators=[validate_postcode]
    )
    is_default = models.BooleanField(_("default address"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-is_default", "-updated_at", "-id"]
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_default=True),
                name="address_one_default_per_customer",
            ),
        ]
        indexes = [
            models.Index(
                fields=["customer", "-is_default", "-updated_at"], name="address_customer_list"
            ),
        ]

    def __str__(self) -> str:
        parts = [f"{self.label}:" if self.label else "", self.recipient_name, self.recipient_phone]
        head = " ".join(part for part in parts if part)
        return f"{head}, {self.region_display} {self.address_line}"

    @property
    def region_display(self) -> str:
        """ "浙江省杭州市西湖区"; a municipality's name once: "上海市浦东新区"."""
        city = "" if self.city == self.province else self.city
        return f"{self.province}{city}{self.district}"

    def as_shipping_address(self) -> ShippingAddress:
        return ShippingAddress(
            recipient_name=self.recipient_name,
            recipient_phone=self.recipient_phone,
            province=self.province,
            city=self.city,
            district=self.district,
            address_line=self.address_line,
            postcode=self.postcode,
        )
