"""Input of the warehouse's returns screens: the scan that finds a return, and the inspection
sheet (units sellable and damaged per request line, the bin, a note) carried in the form
itself, as the stock-take's counting sheet is: each item scan adds one unit to its line."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inventory import selectors as inventory_selectors

from .returns import MAX_UNITS, Inspected

SELLABLE_PREFIX = "sellable-"
DAMAGED_PREFIX = "damaged-"
SCAN_ATTRS = {
    "autocomplete": "off",
    "autocapitalize": "off",
    "spellcheck": "false",
    "class": "scan-input",
    "data-scan-field": "",
    "autofocus": True,
    "enterkeyhint": "go",
}


class FindReturnForm(forms.Form):
    scan = forms.CharField(
        label=gettext_lazy("Scan the return parcel or the request number"),
        max_length=64,
        widget=forms.TextInput(
            attrs={**SCAN_ATTRS, "placeholder": gettext_lazy("Tracking number or AS00000012")}
        ),
    )

    def clean_scan(self) -> str:
        return self.cleaned_data["scan"].strip()


class InspectionSheet:
    """Counts per request line (`sellable-<id>`, `damaged-<id>`), the bin code, the note, and
    the item just scanned. `scan_as` says whether a scan counts as sellable or damaged."""

    def __init__(self, data, *, lines, warehouse_id: int):
        self.lines = list(lines)
        self.warehouse_id = warehouse_id
        self.counts: dict[int, dict[str, int]] = {
            line.pk: {"sellable": 0, "damaged": 0} for line in self.lines
        }
        self.errors: dict[int, str] = {}
        self.data = data or {}
        self.bin_code = self.data.get("bin", "").strip()[:30]
        self.note = self.data.get("note", "").strip()[:500]
        self.scan_as = "damaged" if self.data.get("scan_as") == "damaged" else "sellable"
        for line in self.lines:
            for kind, prefix in (("sellable", SELLABLE_PREFIX), ("damaged", DAMAGED_PREFIX)):
                raw = str(self.data.get(f"{prefix}{line.pk}", "")).strip()
                if raw == "":
                    continue
                if not raw.isdigit() or int(raw) > MAX_UNITS:
                    self.errors[line.pk] = _("Enter a whole number between 0 and %(max)d.") % {
                        "max": MAX_UNITS
                    }
                    continue
                self.counts[line.pk][kind] = int(raw)

    @property
    def scanned(self) -> str:
        return str(self.data.get("scan", "")).strip()[:64]

    def add_scan(self, code: str):
        """Count one unit of the scanned item on its line (the first of its lines still short,
        else its first line). Returns the line, or None when the item is not in this return."""
        code = code.strip()
        matching = [
            line
            for line in self.lines
            if code
            and (
                line.order_line.sku.barcode == code
                or line.order_line.sku_code.upper() == code.upper()
            )
        ]
        if not matching:
            return None
        short = [line for line in matching if sum(self.counts[line.pk].values()) < line.quantity]
        line = (short or matching)[0]
        self.counts[line.pk][self.scan_as] += 1
        return line

    def found(self) -> dict[int, Inspected]:
        return {
            line_id: Inspected(sellable=c["sellable"], damaged=c["damaged"])
            for line_id, c in self.counts.items()
        }

    def bin(self):
        """The storage bin typed or scanned, in the working warehouse: (bin, error)."""
        if not self.bin_code:
            return None, ""
        found = inventory_selectors.bin_by_code(warehouse_id=self.warehouse_id, code=self.bin_code)
        if found is None:
            return None, _("There is no bin %(code)s in this warehouse.") % {"code": self.bin_code}
        if not found.is_active:
            return None, _("Bin %(code)s is not in use.") % {"code": found.code}
        return found, ""

    def rows(self) -> list[dict]:
        """The lines for the sheet: expected, counted, and how far from expected."""
        rows = []
        for line in self.lines:
            counted = self.counts[line.pk]
            received = counted["sellable"] + counted["damaged"]
            rows.append(
                {
                    "line": line,
                    "sku": line.order_line.sku,
                    "sellable": counted["sellable"],
                    "damaged": counted["damaged"],
                    "received": received,
                    "difference": received - line.quantity,
                    "error": self.errors.get(line.pk, ""),
                    "sellable_field": f"{SELLABLE_PREFIX}{line.pk}",
                    "damaged_field": f"{DAMAGED_PREFIX}{line.pk}",
                }
            )
        return rows
