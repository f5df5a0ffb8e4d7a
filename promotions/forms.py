"""Forms of the promotions staff screens. Cross-field rules live in the models' `clean()`, so
the admin and these screens refuse the same things with the same messages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Coupon, ThresholdDiscount, normalize_code

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class PromotionFilterForm(forms.Form):
    STATUS_CHOICES = [
        ("", _("All")),
        ("current", _("Running now")),
        ("upcoming", _("Not started")),
        ("ended", _("Ended")),
        ("inactive", _("Switched off")),
    ]

    search = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)


class ReasonMixin(forms.Form):
    """An optional note kept with the change in the audit trail (ORD-11)."""

    reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=500,
        help_text=_("Optional. Kept in the promotion's history with the change."),
    )


class CouponForm(ReasonMixin, forms.ModelForm):
    class Meta:
        model = Coupon
        fields = [
            "code",
            "name",
            "kind",
            "value",
            "max_discount",
            "min_spend",
            "starts_at",
            "ends_at",
            "usage_limit",
            "per_customer_limit",
            "stacks_with_threshold",
            "is_active",
        ]
        widgets = {"starts_at": DATETIME_WIDGET, "ends_at": DATETIME_WIDGET}

    def clean_code(self) -> str:
        return normalize_code(self.cleaned_data["code"])


class ThresholdDiscountForm(ReasonMixin, forms.ModelForm):
    class Meta:
        model = ThresholdDiscount
        fields = [
            "name",
            "threshold",
            "amount_off",
            "repeat",
            "max_times",
            "starts_at",
            "ends_at",
            "is_active",
        ]
        widgets = {"starts_at": DATETIME_WIDGET, "ends_at": DATETIME_WIDGET}
