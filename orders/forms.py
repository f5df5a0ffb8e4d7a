import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.csv_upload import too_big_message

from . import tracking_io
from .models import Channel, OrderState, PaymentMethod, TrackingStatus
from .shipments import DESCRIPTION_MAX, LOCATION_MAX


class StaffOrderFilterForm(forms.Form):
    search = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"placeholder": _("Order number, phone, e-mail or external id")}
        ),
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *OrderState.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All channels")), *Channel.choices]
    )
    placed_from = forms.DateField(
        label=_("Placed from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    placed_to = forms.DateField(
        label=_("Placed to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    # What a report's figure narrows to when it drills down to its orders (RPT-1, issue 9).
    payment_method = forms.ChoiceField(
        label=_("Payment method"),
        required=False,
        choices=[("", _("All payment methods")), *PaymentMethod.choices],
    )
    province = forms.CharField(label=_("Province"), required=False, max_length=30)
    city = forms.CharField(label=_("City"), required=False, max_length=30)
    product = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    sku = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    sales_only = forms.BooleanField(
        label=_("Sales only"),
        required=False,
        help_text=_("Leaves out orders cancelled before payment and after-sales replacements."),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("placed_from"), data.get("placed_to")
        if start and end and start > end:
            raise forms.ValidationError(_("“Placed from” must not be after “Placed to”."))
        return data


class CancelOrderForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("Why is the order cancelled?")}),
    )


class ConfirmReceiptForm(forms.Form):
    """No fields: the POST and its CSRF token are the confirmation."""


MY_ORDER_TABS = [
    ("", _("All")),
    ("awaiting_payment", _("Awaiting payment")),
    ("to_ship", _("To be shipped")),
    ("shipped", _("Shipped")),
    ("completed", _("Completed")),
    ("cancelled", _("Cancelled")),
]


class MyOrdersFilterForm(forms.Form):
    tab = forms.ChoiceField(label=_("Show"), required=False, choices=MY_ORDER_TABS)


def normalize_phone(raw: str) -> str:
    """Digits only, without China's country code: "+86 138 1234 5678" → "13812345678"."""
    digits = re.sub(r"\D", "", raw or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix) :]
    return digits


class PhoneInputNotEchoed(forms.TextInput):
    """A phone field that comes back empty after a failed try: the page does not repeat a
    phone number, and a wrong number and a wrong phone render alike."""

    def format_value(self, value):
        return None


class GuestLookupForm(forms.Form):
    """Order number and the mobile phone number the order is sent to (ORD-9)."""

    number = forms.CharField(
        label=_("Order number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    phone = forms.CharField(
        label=_("Mobile phone number on the order"),
        max_length=30,
        widget=PhoneInputNotEchoed(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        help_text=_("The recipient's number given at checkout, e.g. 138 1234 5678."),
    )

    def clean_number(self) -> str:
        return re.sub(r"\s+", "", self.cleaned_data["number"])

    def clean_phone(self) -> str:
        phone = normalize_phone(self.cleaned_data["phone"])
        if not phone:
            raise forms.ValidationError(_("Enter the mobile phone number."))
        return phone


class CashCollectedForm(forms.Form):
    """The courier's cash for a cash-on-delivery order (ORD-4)."""

    amount = forms.DecimalField(
        label=_("Amount collected"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    reference = forms.CharField(
        label=_("Receipt or remittance number"), max_length=64, required=False
    )


class ReleaseHeldOrderForm(forms.Form):
    reason = forms.CharField(
        label=_("What was checked"),
        max_length=500,
        widget=forms.TextInput(
            attrs={"placeholder": _("e.g. called the customer, amount confirmed")}
        ),
    )


class TrackingEventForm(forms.Form):
    """A carrier's scan typed in by staff (FUL-6), for one parcel. The time is the shop's
    local time."""

    status = forms.ChoiceField(label=_("Status"), choices=TrackingStatus.choices)
    occurred_at = forms.DateTimeField(
        label=_("Time (local)"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    location = forms.CharField(label=_("Location"), max_length=LOCATION_MAX, required=False)
    description = forms.CharField(
        label=_("Description"), max_length=DESCRIPTION_MAX, required=False
    )

    def clean_occurred_at(self):
        at = self.cleaned_data["occurred_at"]
        problem = tracking_io.time_problem(at, now=timezone.now())
        if problem:
            raise forms.ValidationError(problem)
        return at

    def problems(self) -> str:
        """Every error, each with its field's label, in one line for a message."""
        return "; ".join(
            f"{self.fields[name].label}: {' '.join(errors)}"
            if name in self.fields
            else " ".join(errors)
            for name, errors in self.errors.items()
        )


class TrackingImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 (with or without BOM) or GB18030, comma-separated, with a header row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size > tracking_io.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                too_big_message(uploaded.size, tracking_io.IMPORT_MAX_BYTES)
            )
        return uploaded
