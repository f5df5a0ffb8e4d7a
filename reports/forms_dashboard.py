"""The manager dashboard's filters (issue 9 item 7): a period (its kind and which one), a
sales channel and a warehouse, as a GET form whose every value is optional."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import Warehouse
from orders.models import Channel

from .periods import Period, PeriodKind, current_period, parse_period, period_containing
from .registry import ReportFilters


def period_from_key(key: str) -> Period | None:
    """The period a key names, whatever its kind (2026-11-25, 2026-W48, 2026-11)."""
    key = (key or "").strip()
    if "-W" in key:
        return parse_period(PeriodKind.WEEK, key)
    if key.count("-") == 2:
        return parse_period(PeriodKind.DAY, key)
    if key.count("-") == 1:
        return parse_period(PeriodKind.MONTH, key)
    return None


class DashboardForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Period"), required=False, choices=PeriodKind.choices, initial=PeriodKind.MONTH
    )
    period = forms.CharField(required=False, max_length=12, widget=forms.HiddenInput)
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("All channels"))]
        + [c for c in Channel.choices if c[0] != Channel.REPLACEMENT],
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        required=False,
        queryset=Warehouse.objects.filter(is_active=True).order_by("code"),
        empty_label=_("All warehouses"),
    )

    def period_and_filters(self) -> tuple[Period, ReportFilters]:
        """The chosen period (default: the current month) and filters; values that do not
        validate fall back to their default rather than failing the page. A period of another
        kind (the kind was just changed) becomes the period of the chosen kind that contains
        it, or today when it contains today."""
        data = self.cleaned_data if self.is_valid() else {}
        kind = data.get("kind") or PeriodKind.MONTH
        named = period_from_key(data.get("period", ""))
        if named is None:
            period = current_period(kind)
        elif named.kind == kind:
            period = named
        elif named.start <= timezone.localdate() < named.end:
            period = current_period(kind)
        else:
            period = period_containing(kind, named.start)
        warehouse = data.get("warehouse")
        filters = ReportFilters(
            channel=data.get("channel") or "", warehouse_id=warehouse.pk if warehouse else None
        )
        return period, filters
