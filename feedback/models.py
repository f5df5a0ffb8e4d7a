"""Customers' ratings of their completed orders (RPT-5): one rating (1–5 stars) and an
optional comment per order, left by the order's customer."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

COMMENT_MAX_LENGTH = 1000


class OrderFeedback(models.Model):
    order = models.OneToOneField(
        "orders.Order",
        verbose_name=_("order"),
        on_delete=models.CASCADE,
        related_name="feedback",
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), max_length=COMMENT_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(_("left at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order feedback")
        verbose_name_plural = _("order feedback")
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="orderfeedback_rating_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.rating}"
