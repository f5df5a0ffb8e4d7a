"""Input for the stock screens: filters, receiving, stock-take and corrections.

Forms check what a person typed or scanned (is it a known barcode, a bin of this warehouse, a
positive quantity) and turn it into ids; whether the stock allows the change is the services'
business, which answer with a `StockError`.
"""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.csv_upload import too_big_message

from . import selectors
from .models import MovementKind, Warehouse

MAX_QUANTITY = 1_000_000

_SCAN_ATTRS = {
    "autocomplete": "off",
    "autocapitalize": "off",
    "spellcheck": "false",
    "enterkeyhint": "next",
}


def warehouse_choices(warehouses, *, blank_label=None) -> list[tuple[str, str]]:
    choices = [("", blank_label)] if blank_label is not None else []
    for warehouse in warehouses:
        label = str(warehouse)
        if not warehouse.is_active:
            label = _("%(warehouse)s (inactive)") % {"warehouse": label}
        choices.append((str(warehouse.pk), label))
    return choices


class _WarehouseField(forms.TypedChoiceField):
    def __init__(self, *, warehouses, blank_label=None, **kwargs):
        super().__init__(
            choices=warehouse_choices(warehouses, blank_label=blank_label),
            coerce=int,
            empty_value=None,
            **kwargs,
        )


class StockFilterForm(forms.Form):
    search = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("SKU code, product name or scan a barcode"),
                "type": "search",
                "autofocus": True,
                **_SCAN_ATTRS,
                "enterkeyhint": "search",
            }
        ),
    )

    def __init__(self, *args, warehouses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"] = _WarehouseField(
            label=_("Warehouse"),
            required=False,
            warehouses=warehouses,
            blank_label=_("All warehouses"),
        )


class MovementFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Movement"),
        required=False,
        choices=[("", _("All movements")), *MovementKind.choices],
    )
    date_from = forms.DateField(
        label=pgettext_lazy("date range", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=pgettext_lazy("date range", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, warehouses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"] = _WarehouseField(
            label=_("Warehouse"),
            required=False,
            warehouses=warehouses,
            blank_label=_("All warehouses"),
        )
        self.order_fields(["kind", "warehouse", "date_from", "date_to"])

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("“From” must not be after “To”."))
        return data


class WarehousePickForm(forms.Form):
    """The warehouse a member of staff works in on the receiving and stock-take screens."""

    def __init__(self, *args, warehouses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"] = _WarehouseField(
            label=_("Warehouse"), warehouses=[w for w in warehouses if w.is_active]
        )


class _ScannedBinMixin:
    """Turns a scanned or typed bin code into a storage bin of `self.warehouse_id`."""

    warehouse_id: int
    scan_error = False

    def clean_bin(self):
        code = self.cleaned_data["bin"].strip()
        if not code:
            return None
        found = selectors.bin_by_code(warehouse_id=self.warehouse_id, code=code)
        if found is None:
            self.scan_error = True
            raise forms.ValidationError(
                _("There is no bin %(code)s in this warehouse."), params={"code": code}
            )
        if not found.is_active:
            self.scan_error = True
            raise forms.ValidationError(
                _("Bin %(code)s is not in use."), params={"code": found.code}
            )
        return found


class ReceiveForm(_ScannedBinMixin, forms.Form):
    """Goods in: barcode, quantity, bin — in the order a scanner gun fills them in."""

    barcode = forms.CharField(
        label=_("Barcode"),
        max_length=48,
        error_messages={"required": _("Scan the item's barcode.")},
        widget=forms.TextInput(
            attrs={
                **_SCAN_ATTRS,
                "autofocus": True,
                "class": "scan-input",
                "data-scan-field": "",
                "data-step": "",
                "placeholder": _("Scan or type the barcode"),
            }
        ),
    )
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=MAX_QUANTITY,
        error_messages={"required": _("Enter how many arrived.")},
        widget=forms.NumberInput(
            attrs={
                "inputmode": "numeric",
                "min": 1,
                "class": "qty-input",
                "enterkeyhint": "next",
                "data-step": "",
            }
        ),
    )
    bin = forms.CharField(
        label=_("Bin"),
        max_length=30,
        error_messages={"required": _("Scan or choose the bin.")},
        widget=forms.TextInput(
            attrs={
                **_SCAN_ATTRS,
                "class": "scan-input",
                "list": "bin-codes",
                "placeholder": _("Scan the bin label or choose"),
                "enterkeyhint": "done",
                "autocapitalize": "characters",
                "data-step": "",
            }
        ),
    )
    delivery_note = forms.CharField(
        label=_("Delivery note"),
        required=False,
        max_length=64,
        help_text=_("Optional: the supplier's delivery note number."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, warehouse_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.warehouse_id = warehouse_id

    def clean_barcode(self):
        code = self.cleaned_data["barcode"].strip()
        sku = selectors.sku_by_scan(code)
        if sku is None:
            self.scan_error = True
            raise forms.ValidationError(
                _("Unknown barcode %(code)s: no SKU has it."), params={"code": code}
            )
        return sku

    def focus_first_error(self) -> None:
        """Put the focus on the first field to fix (the next one to scan or type) instead of
        the barcode field."""
        first = next((name for name in self.fields if name in self.errors), "barcode")
        if first != "barcode":
            self.fields["barcode"].widget.attrs.pop("autofocus", None)
            self.fields[first].widget.attrs.update({"autofocus": True, "data-focus-first": ""})


class BinScanForm(_ScannedBinMixin, forms.Form):
    """Start a stock-take: which bin is counted."""

    bin = forms.CharField(
        label=_("Bin"),
        max_length=30,
        error_messages={"required": _("Scan or choose the bin.")},
        widget=forms.TextInput(
            attrs={
                **_SCAN_ATTRS,
                "autofocus": True,
                "class": "scan-input",
                "data-scan-field": "",
                "list": "bin-codes",
                "placeholder": _("Scan the bin label"),
                "enterkeyhint": "go",
            }
        ),
    )

    def __init__(self, *args, warehouse_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.warehouse_id = warehouse_id

    def clean_bin(self):
        found = super().clean_bin()
        if found is None:
            raise forms.ValidationError(self.fields["bin"].error_messages["required"])
        return found


COUNT_PREFIX = "count-"


class StockTakeSheet:
    """The counting sheet of one bin, carried in the form itself (no server-side draft):
    `count-<sku id>` inputs, the scan field and the reason. A scan adds one to its SKU's
    count; a typed count replaces it."""

    def __init__(self, data=None):
        self.data = data
        self.counts: dict[int, int] = {}
        self.errors: dict[int, str] = {}
        self.reason = ""
        # The bin's last ledger row when counting began: posting refuses a bin that moved since.
        self.since: int | None = None
        if data is None:
            return
        self.reason = data.get("reason", "").strip()[:300]
        since = data.get("since", "")
        self.since = int(since) if since.isdigit() else None
        for key, value in data.items():
            if not key.startswith(COUNT_PREFIX):
                continue
            try:
                sku_id = int(key.removeprefix(COUNT_PREFIX))
            except ValueError:
                continue
            value = value.strip()
            if value == "":
                self.counts[sku_id] = 0
                continue
            try:
                count = int(value)
            except ValueError:
                self.counts[sku_id] = 0
                self.errors[sku_id] = _("Enter a whole number.")
                continue
            if count < 0 or count > MAX_QUANTITY:
                self.errors[sku_id] = _("Enter a number between 0 and %(max)d.") % {
                    "max": MAX_QUANTITY
                }
            self.counts[sku_id] = count

    @property
    def scanned(self) -> str:
        return (self.data or {}).get("scan", "").strip()[:48]

    def add_scan(self, sku_id: int) -> int:
        self.counts[sku_id] = self.counts.get(sku_id, 0) + 1
        return self.counts[sku_id]

    def keep_only(self, sku_ids) -> None:
        """Drop counts for SKUs that do not exist (a tampered or stale form)."""
        self.counts = {k: v for k, v in self.counts.items() if k in sku_ids}
        self.errors = {k: v for k, v in self.errors.items() if k in sku_ids}


class TransferForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY)
    to_bin = forms.CharField(
        label=_("To bin"),
        max_length=30,
        widget=forms.TextInput(attrs={**_SCAN_ATTRS, "placeholder": _("Scan or type the bin")}),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)

    def __init__(self, *args, bins, warehouses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_bin"] = forms.TypedChoiceField(
            label=_("From bin"), coerce=int, choices=_bin_choices(bins)
        )
        self.fields["to_warehouse"] = _WarehouseField(
            label=_("To warehouse"), warehouses=[w for w in warehouses if w.is_active]
        )
        self.order_fields(["from_bin", "quantity", "to_warehouse", "to_bin", "reason"])

    def clean(self):
        data = super().clean()
        warehouse_id, code = data.get("to_warehouse"), data.get("to_bin")
        if warehouse_id and code:
            target = selectors.bin_by_code(warehouse_id=warehouse_id, code=code)
            if target is None:
                self.add_error(
                    "to_bin",
                    _("There is no bin %(code)s in this warehouse.") % {"code": code.strip()},
                )
            else:
                data["to_bin_id"] = target.pk
                data["to_bin_code"] = target.code
        return data


class AdjustForm(forms.Form):
    change = forms.IntegerField(
        label=_("Change"),
        min_value=-MAX_QUANTITY,
        max_value=MAX_QUANTITY,
        help_text=_("Units to add (positive) or take away (negative)."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        error_messages={"required": _("Say why the stock is changed.")},
    )

    def __init__(self, *args, bins, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bin"] = forms.TypedChoiceField(
            label=_("Bin"), coerce=int, choices=_bin_choices(bins)
        )
        self.order_fields(["bin", "change", "reason"])

    def clean_change(self):
        change = self.cleaned_data["change"]
        if change == 0:
            raise forms.ValidationError(_("An adjustment must change the quantity."))
        return change


class WriteOffForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        error_messages={"required": _("Say why the goods are written off.")},
        widget=forms.TextInput(attrs={"placeholder": _("e.g. damaged in storage")}),
    )

    def __init__(self, *args, bins, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bin"] = forms.TypedChoiceField(
            label=_("Bin"), coerce=int, choices=_bin_choices(bins)
        )
        self.order_fields(["bin", "quantity", "reason"])


def _bin_choices(rows) -> list[tuple[int, str]]:
    """Storage bins holding the SKU, labelled with what is free to move."""
    return [
        (
            row.bin_id,
            _("%(warehouse)s · %(bin)s (%(available)d free)")
            % {
                "warehouse": row.bin.warehouse.code,
                "bin": row.bin.code,
                "available": row.available,
            },
        )
        for row in rows
        if not row.bin.is_staging
    ]


class StockImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 (with or without BOM) or GB18030, comma-separated, with a header row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, max_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size > self.max_bytes:
            raise forms.ValidationError(too_big_message(uploaded.size, self.max_bytes))
        return uploaded


class ThresholdForm(forms.Form):
    """A manager sets a SKU's low-stock threshold (INV-7); 0 removes it."""

    sku = forms.CharField(
        label=_("SKU code or barcode"),
        max_length=48,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        queryset=Warehouse.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label=_("All warehouses together"),
    )
    threshold = forms.IntegerField(
        label=_("Alert below"),
        min_value=0,
        max_value=1_000_000,
        help_text=_("Available units; 0 removes the threshold."),
    )

    def clean_sku(self):
        sku = selectors.sku_by_scan(self.cleaned_data["sku"])
        if sku is None:
            raise forms.ValidationError(_("No SKU has this code or barcode."))
        return sku
