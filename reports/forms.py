"""Input of the report screens: which report, period and filters (RPT-6)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.models import Warehouse
from orders.models import Channel

from . import registry
from .models import SubscriptionKind
from .periods import PeriodKind, current_period, parse_period

FORMATS = [("csv", "CSV"), ("xlsx", "XLSX")]


def report_choices() -> list[tuple[str, str]]:
    return [(key, module.TITLE) for key, module in registry.available()]


class ReportForm(forms.Form):
    """A report for a period (its key, e.g. 2026-11, 2026-W48, 2026-11-25; empty: the current
    one), narrowed to a channel and a warehouse."""

    report = forms.ChoiceField(label=_("Report"), choices=())
    kind = forms.ChoiceField(
        label=_("Period"), choices=PeriodKind.choices, initial=PeriodKind.MONTH
    )
    period = forms.CharField(
        label=_("Which period"),
        required=False,
        max_length=12,
        help_text=_("For example 2026-11-25, 2026-W48 or 2026-11; empty means the current one."),
    )
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["report"].choices = report_choices()

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind:
            key = (data.get("period") or "").strip()
            period = parse_period(kind, key) if key else current_period(kind)
            if period is None:
                self.add_error("period", _("This is not a period of the chosen kind."))
            data["period_obj"] = period
        return data

    def filters(self) -> registry.ReportFilters:
        warehouse = self.cleaned_data.get("warehouse")
        return registry.ReportFilters(
            channel=self.cleaned_data.get("channel") or "",
            warehouse_id=warehouse.pk if warehouse else None,
        )


class ExportForm(ReportForm):
    format = forms.ChoiceField(label=_("File"), choices=FORMATS, initial="xlsx")


class SubscriptionsForm(forms.Form):
    """One checkbox per report and period kind; the checked ones are the subscriptions."""

    def __init__(self, *args, active: set[tuple[str, str]] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for key, module in registry.available():
            cells = []
            for kind, label in SubscriptionKind.choices:
                name = f"{key}__{kind}"
                self.fields[name] = forms.BooleanField(
                    label=label, required=False, initial=(key, kind) in active
                )
                cells.append(self[name])
            self.rows.append((module.TITLE, cells))

    def wanted(self) -> set[tuple[str, str]]:
        return {
            tuple(name.split("__", 1))
            for name, checked in self.cleaned_data.items()
            if checked and "__" in name
        }
