"""Stock as CSV: the export (one row per SKU per bin, streamed) and the opening-stock import.

The import checks every row before anything is written and reports each bad row by its line
number in the file; a clean file is then received in one transaction through
`services.receive_many`, so the ledger balances and a failure leaves nothing half-imported.
"""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.models import SKU
from core.csv_upload import ImportRefused, header_positions, read_rows, spreadsheet_safe

from . import selectors, services
from .models import Bin, StockImport, Warehouse

EXPORT_HEADER = [
    "sku_code",
    "barcode",
    "product",
    "warehouse",
    "bin",
    "on_hand",
    "reserved",
    "available",
]
BOM = "\ufeff"

# A clean file is received with batched writes (`services.receive_many`); the limits keep one
# request well within the web server's timeout.
IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_MAX_ROWS = 50_000
IMPORT_REFERENCE = "opening_stock"

# Accepted header names for each column (lower-cased, spaces and dashes read as "_").
_COLUMNS = {
    "sku_code": {"sku_code", "sku", "code"},
    "barcode": {"barcode", "ean", "ean13"},
    "warehouse": {"warehouse", "warehouse_code"},
    "bin": {"bin", "bin_code"},
    "quantity": {"quantity", "qty"},
}


# --- export -----------------------------------------------------------------------------------
class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def export_lines(*, warehouse_id: int | None = None) -> Iterator[str]:
    """The stock export as CSV lines, starting with a UTF-8 BOM so that Excel reads Chinese
    names correctly. Rows come from one query read in chunks."""
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(EXPORT_HEADER)
    for (
        sku_code,
        barcode,
        product,
        color,
        size,
        warehouse,
        bin_code,
        on_hand,
        reserved,
    ) in selectors.stock_rows_for_export(warehouse_id=warehouse_id):
        variant = " / ".join(part for part in (color, size) if part)
        name = f"{product} {variant}".strip()
        yield writer.writerow(
            [
                spreadsheet_safe(sku_code),
                spreadsheet_safe(barcode),
                spreadsheet_safe(name),
                spreadsheet_safe(warehouse),
                spreadsheet_safe(bin_code),
                on_hand,
                reserved,
                on_hand - reserved,
            ]
        )


# --- import -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass(frozen=True)
class ImportRow:
    line: int
    sku_id: int
    sku_code: str
    bin_id: int
    quantity: int


@dataclass
class ImportCheck:
    """The outcome of checking a file: rows ready to import, or errors (file-level ones have
    line 0)."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def is_clean(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def units(self) -> int:
        return sum(row.quantity for row in self.rows)


def _header_map(header: list[str]) -> dict[str, int]:
    positions = header_positions(header, _COLUMNS)
    missing = [c for c in ("warehouse", "bin", "quantity") if c not in positions]
    if "sku_code" not in positions and "barcode" not in positions:
        missing.insert(0, "sku_code / barcode")
    if missing:
        raise ImportRefused(
            _("The header row lacks the column(s): %(columns)s. Expected: %(expected)s.")
            % {
                "columns": ", ".join(missing),
                "expected": "sku_code (or barcode), warehouse, bin, quantity",
            }
        )
    return positions


def read_file(uploaded) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: text}) for each non-blank row of an uploaded CSV file."""
    return read_rows(
        uploaded, header_map=_header_map, max_bytes=IMPORT_MAX_BYTES, max_rows=IMPORT_MAX_ROWS
    )


def check_rows(rows: Iterable[tuple[int, dict[str, str]]]) -> ImportCheck:
    """Check every row (SKU, warehouse, bin, quantity, duplicates) with a fixed number of
    queries, however long the file."""
    rows = list(rows)
    codes = {v.get("sku_code", "").lower() for _line, v in rows} - {""}
    barcodes = {v.get("barcode", "") for _line, v in rows} - {""}
    by_code, by_barcode = {}, {}
    if codes or barcodes:
        skus = SKU.objects.annotate(code_lower=Lower("code")).filter(
            Q(code_lower__in=codes) | Q(barcode__in=barcodes)
        )
        for sku_id, code, barcode in skus.values_list("pk", "code", "barcode"):
            by_code[code.lower()] = (sku_id, code)
            by_barcode[barcode] = (sku_id, code)

    warehouse_codes = {v["warehouse"].lower() for _line, v in rows} - {""}
    warehouses = {
        w.code.lower(): w
        for w in Warehouse.objects.annotate(code_lower=Lower("code")).filter(
            code_lower__in=warehouse_codes
        )
    }
    bin_codes = {v["bin"].lower() for _line, v in rows} - {""}
    bins = {
        (b.warehouse_id, b.code.lower()): b
        for b in Bin.objects.annotate(code_lower=Lower("code")).filter(
            warehouse__in=list(warehouses.values()), code_lower__in=bin_codes
        )
    }

    check = ImportCheck()
    first_seen: dict[tuple[int, int], int] = {}
    for line, values in rows:
        problems = []
        sku = None
        code, barcode = values.get("sku_code", ""), values.get("barcode", "")
        if code:
            sku = by_code.get(code.lower())
            if sku is None:
                problems.append(_("unknown SKU code “%(code)s”") % {"code": code})
            elif barcode and by_barcode.get(barcode) != sku:
                problems.append(
                    _("barcode “%(barcode)s” is not the barcode of SKU %(code)s")
                    % {"barcode": barcode, "code": sku[1]}
                )
        elif barcode:
            sku = by_barcode.get(barcode)
            if sku is None:
                problems.append(_("unknown barcode “%(barcode)s”") % {"barcode": barcode})
        else:
            problems.append(_("no SKU code or barcode"))

        bin_ = None
        warehouse = warehouses.get(values["warehouse"].lower()) if values["warehouse"] else None
        if not values["warehouse"]:
            problems.append(_("no warehouse"))
        elif warehouse is None:
            problems.append(_("unknown warehouse “%(code)s”") % {"code": values["warehouse"]})
        elif not warehouse.is_active:
            problems.append(_("warehouse %(code)s is not active") % {"code": warehouse.code})
        if not values["bin"]:
            problems.append(_("no bin"))
        elif warehouse is not None:
            bin_ = bins.get((warehouse.pk, values["bin"].lower()))
            if bin_ is None:
                problems.append(
                    _("unknown bin “%(bin)s” in warehouse %(warehouse)s")
                    % {"bin": values["bin"], "warehouse": warehouse.code}
                )
            elif bin_.is_staging:
                problems.append(
                    _("%(bin)s is the packing area, not a storage bin") % {"bin": bin_.code}
                )
                bin_ = None
            elif not bin_.is_active:
                problems.append(_("bin %(bin)s is not in use") % {"bin": bin_.code})
                bin_ = None

        quantity = _positive_int(values["quantity"])
        if quantity is None:
            problems.append(
                _("quantity “%(quantity)s” is not a whole number above 0")
                % {"quantity": values["quantity"]}
            )

        if sku is not None and bin_ is not None:
            key = (sku[0], bin_.pk)
            if key in first_seen:
                problems.append(
                    _("duplicate of line %(line)d (same SKU and bin)") % {"line": first_seen[key]}
                )
            else:
                first_seen[key] = line

        if problems:
            check.errors.append(RowError(line, "; ".join(problems)))
        elif sku is not None and bin_ is not None and quantity is not None:
            check.rows.append(ImportRow(line, sku[0], sku[1], bin_.pk, quantity))
    return check


def _positive_int(text: str) -> int | None:
    text = text.strip().replace(",", "")
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit():
        return None
    value = int(text)
    return value if 0 < value <= 1_000_000 else None


def already_imported(filename: str) -> StockImport | None:
    return StockImport.objects.filter(filename=filename).first()


def _refuse_repeat(previous: StockImport) -> ImportRefused:
    return ImportRefused(
        _(
            "A file named %(name)s was already imported on %(when)s. "
            "If this is other stock, rename the file and upload it again."
        )
        % {
            "name": previous.filename,
            "when": timezone.localtime(previous.imported_at).strftime("%Y-%m-%d %H:%M"),
        }
    )


def refuse_if_imported(filename: str) -> None:
    """Refuse early, before the file is read, when a file of that name was imported."""
    previous = already_imported(filename)
    if previous is not None:
        raise _refuse_repeat(previous)


def import_opening_stock(*, check: ImportCheck, filename: str, actor) -> int:
    """Receive every row of a clean file in one transaction; returns the units received.
    A `StockError` from any row undoes the whole import; a file of the same name imported
    meanwhile (a double submit) is refused by the unique file name."""
    if not check.is_clean:
        raise ImportRefused(_("The file has errors; nothing was imported."))
    try:
        with transaction.atomic():
            StockImport.objects.create(
                filename=filename, actor=actor, rows=len(check.rows), units=check.units
            )
            return services.receive_many(
                lines=[(row.sku_id, row.bin_id, row.quantity) for row in check.rows],
                actor=actor,
                reference=(IMPORT_REFERENCE, filename),
            )
    except IntegrityError:
        raise _refuse_repeat(already_imported(filename)) from None


def summary(check: ImportCheck) -> str:
    rows = ngettext("%(count)d row", "%(count)d rows", len(check.rows)) % {"count": len(check.rows)}
    units = ngettext("%(count)d unit", "%(count)d units", check.units) % {"count": check.units}
    return _("%(rows)s, %(units)s") % {"rows": rows, "units": units}
