"""Input of the floor screens. Scans are plain text fields a keyboard-wedge scanner types into;
what a scan means is decided by the services, which refuse it with a message."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Carrier, ShippingService

from .models import PackageType, ShortReason, SizeFilter
from .selectors import PickList

SCAN_ATTRS = {
    "class": "scan-input",
    "autocomplete": "off",
    "autocapitalize": "characters",
    "spellcheck": "false",
    "enterkeyhint": "go",
    "data-scan-field": "",
    "autofocus": True,
}


class ScanForm(forms.Form):
    scan = forms.CharField(max_length=64, widget=forms.TextInput(attrs=SCAN_ATTRS))

    def __init__(self, *args, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scan"].label = label or _("Scan")

    def clean_scan(self) -> str:
        return self.cleaned_data["scan"].strip()


def _active_carriers():
    return Carrier.objects.filter(is_active=True).order_by("-is_default", "code")


def floor_staff():
    """Users who may pick: members of a role holding `fulfillment.work_floor`."""
    perm = Q(groups__permissions__codename="work_floor") | Q(is_superuser=True)
    return get_user_model().objects.filter(perm, is_active=True).distinct().order_by("first_name")


class WaveForm(forms.Form):
    """Cut pick lists from the queue (FUL-1): which orders, how many per list."""

    carrier = forms.ModelChoiceField(
        label=_("Carrier"), queryset=Carrier.objects.none(), required=False, empty_label=_("Any")
    )
    cutoff = forms.DateTimeField(
        label=_("Reached the warehouse before"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("The carrier's cut-off: later orders wait for the next pick list."),
    )
    size = forms.ChoiceField(label=_("Orders"), choices=SizeFilter.choices, initial=SizeFilter.ANY)
    wave_size = forms.IntegerField(label=_("Orders per pick list"), min_value=1, max_value=500)
    max_waves = forms.IntegerField(label=_("Pick lists"), min_value=1, max_value=100, initial=1)
    picker = forms.ModelChoiceField(
        label=_("Picker"), queryset=None, required=False, empty_label=_("Whoever scans it")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].queryset = _active_carriers()
        self.fields["picker"].queryset = floor_staff()
        self.fields["wave_size"].initial = settings.WAVE_SIZE

    def clean_cutoff(self):
        cutoff = self.cleaned_data["cutoff"]
        if cutoff is not None and timezone.is_naive(cutoff):
            cutoff = timezone.make_aware(cutoff)
        return cutoff


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why."))
        return reason


class ShortPickForm(forms.Form):
    """Fewer units in the bin than the pick list asks for (FUL-2)."""

    line = forms.ChoiceField(label=_("Bin and item"))
    quantity = forms.IntegerField(label=_("Units missing"), min_value=1, initial=1)
    reason = forms.ChoiceField(label=_("Reason"), choices=ShortReason.choices)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, pick_list: PickList, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].choices = [
            (f"{line.bin_id}:{line.sku_id}", f"{line.bin_code} · {line.sku_code} {line.name}")
            for line in pick_list.lines
            if line.left
        ]

    def clean_line(self) -> tuple[int, int]:
        bin_id, _sep, sku_id = self.cleaned_data["line"].partition(":")
        return int(bin_id), int(sku_id)


class ParcelForm(forms.Form):
    """One parcel: package, weight from the scale, carrier and service, tracking number
    (FUL-3). Weights are typed in kilograms as scales show them."""

    package_type = forms.ChoiceField(label=_("Package"), choices=PackageType.choices)
    weight_kg = forms.DecimalField(
        label=_("Weight (kg)"),
        min_value=Decimal("0.01"),
        max_value=Decimal("999.99"),
        decimal_places=2,
        widget=forms.NumberInput(
            attrs={"step": "0.01", "inputmode": "decimal", "class": "qty-input"}
        ),
    )
    carrier = forms.ModelChoiceField(label=_("Carrier"), queryset=Carrier.objects.none())
    service = forms.ChoiceField(
        label=_("Service"), choices=ShippingService.choices, initial=ShippingService.EXPRESS
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "mono"}),
        help_text=_("Leave empty to get one from the carrier; type or scan it for waybills."),
    )
    more_to_come = forms.BooleanField(label=_("More parcels follow for this order"), required=False)
    weight_confirmed = forms.BooleanField(
        label=_("I checked the contents: the weight is right"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].queryset = _active_carriers()

    @property
    def weight_grams(self) -> int:
        return int(self.cleaned_data["weight_kg"] * 1000)
