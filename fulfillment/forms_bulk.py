"""Input of the promotion-day screens (FUL-7). Each form names its warehouse (a hidden field on
the screens, set by the warehouse switch at the top) and refuses anything it cannot act on
with a message; a refused form changes nothing."""

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import Warehouse
from orders.models import Carrier

from .models import SizeFilter
from .readiness import DEFAULT_SORT, SORTS

DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MAX_ORDERS = 1_000_000


class _WarehouseForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        queryset=Warehouse.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Choose an active warehouse.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = Warehouse.objects.filter(is_active=True)


def _aware(value):
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


class ReleaseForm(_WarehouseForm):
    """Let held orders into the queue: the oldest N, or all of them."""

    count = forms.IntegerField(
        label=_("How many orders"),
        required=False,
        min_value=1,
        max_value=MAX_ORDERS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "qty-input"}),
        help_text=_("The oldest held orders are released first."),
    )
    everything = forms.BooleanField(label=_("Release all held orders"), required=False)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if cleaned.get("everything") and cleaned.get("count"):
            raise forms.ValidationError(
                _("Give a number of orders or tick “all held orders”, not both.")
            )
        if not cleaned.get("everything") and not cleaned.get("count"):
            raise forms.ValidationError(
                _("Say how many held orders to release, or tick “all held orders”.")
            )
        return cleaned

    @property
    def limit(self) -> int | None:
        return None if self.cleaned_data["everything"] else self.cleaned_data["count"]


class HoldQueueForm(_WarehouseForm):
    """Hold the warehouse's queue (or its oldest N orders) with a reason."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Shown on every held order, e.g. “Promotion: released at 20:00”."),
    )
    count = forms.IntegerField(
        label=_("Only the oldest"),
        required=False,
        min_value=1,
        max_value=MAX_ORDERS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "qty-input"}),
        help_text=_("Leave empty to hold the whole queue."),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the orders are held."))
        return reason


class BulkWaveForm(_WarehouseForm):
    """Many pick lists at once from the queue (FUL-1, FUL-7)."""

    carrier = forms.ModelChoiceField(
        label=_("Carrier"), queryset=Carrier.objects.none(), required=False, empty_label=_("Any")
    )
    cutoff = forms.DateTimeField(
        label=_("Reached the warehouse before"),
        required=False,
        widget=DATETIME_LOCAL,
        help_text=_("The carrier's cut-off: later orders wait for the next pick lists."),
    )
    size = forms.ChoiceField(label=_("Orders"), choices=SizeFilter.choices, initial=SizeFilter.ANY)
    wave_size = forms.IntegerField(
        label=_("Orders per pick list"),
        min_value=1,
        max_value=1_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "qty-input"}),
    )
    max_waves = forms.IntegerField(
        label=_("At most this many pick lists"),
        min_value=1,
        max_value=200,
        initial=10,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "qty-input"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].queryset = Carrier.objects.filter(is_active=True).order_by(
            "-is_default", "code"
        )
        self.fields["wave_size"].initial = settings.WAVE_SIZE

    def clean_cutoff(self):
        return _aware(self.cleaned_data["cutoff"])


class BulkLabelsForm(_WarehouseForm):
    """Labels of every packed parcel not yet handed over (FUL-4, FUL-7)."""

    packed_since = forms.DateTimeField(
        label=_("Only parcels packed since"),
        required=False,
        widget=DATETIME_LOCAL,
        help_text=_("Leave empty for every parcel waiting for hand-over."),
    )

    def clean_packed_since(self):
        since = _aware(self.cleaned_data["packed_since"])
        if since is not None and since > timezone.now():
            raise forms.ValidationError(_("This time is still to come: no parcel is packed yet."))
        return since


class ReadinessFilterForm(forms.Form):
    """The stock check's scope and sort (a GET form). Warehouses are given by the view, which
    has read them already: the form adds no query."""

    warehouse = forms.TypedChoiceField(
        label=_("Warehouse"), required=False, coerce=int, empty_value=None
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("shortfall", _("Shortfall")),
            ("if_all_pay", _("Shortfall if the unpaid orders pay")),
            ("demanded", _("Units demanded")),
            ("free", _("Free stock")),
            ("sku", _("SKU code")),
        ],
    )

    def __init__(self, *args, warehouses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].choices = [("", _("All warehouses"))] + [
            (w.pk, str(w)) for w in warehouses
        ]

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] if self.cleaned_data["sort"] in SORTS else DEFAULT_SORT
