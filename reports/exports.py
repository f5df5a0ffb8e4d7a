"""CSV and XLSX files of report tables (RPT-6, issue 9 §7): what the export buttons download
and what the subscription e-mails attach. Both files hold the same figures as the screen: money
to the cent, percents and durations (in hours) as numbers, so that a spreadsheet can sum them.

`tables_from_json` turns a stored snapshot back into tables, so that a past period's file is
made from the snapshot the managers were e-mailed, not recomputed.
"""

import contextlib
import csv
import io
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from core.csv_upload import spreadsheet_safe

from .tables import COUNT, DATE, DURATION, MONEY, PERCENT, Column, Table, cell_type

CENT = Decimal("0.01")
HOUR = Decimal(3600)
MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = '0.0"%"'
HOURS_FORMAT = "0.00"
COUNT_FORMAT = "#,##0"
MAX_WIDTH = 60
# Excel forbids these in sheet names; a sheet name holds at most 31 characters.
SHEET_NAME_FORBIDDEN = str.maketrans({char: " " for char in "[]:*?/\\"})


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def cell_value(column: Column, value, kind: str | None = None):
    """The figure of one cell as the files hold it: money as a Decimal to the cent, percents
    one decimal, durations as hours (two decimals), counts as integers, anything else as is.
    `kind` is the cell's own type when its row says one (see `tables.cell_type`)."""
    if value is None:
        return None
    column = Column(column.key, column.label, kind or column.type)
    if column.type == MONEY:
        number = _decimal(value)
        return None if number is None else number.quantize(CENT)
    if column.type == PERCENT:
        number = _decimal(value)
        return None if number is None else number.quantize(Decimal("0.1"))
    if column.type == DURATION:
        number = _decimal(value)
        return None if number is None else (number / HOUR).quantize(CENT)
    if column.type == COUNT:
        number = _decimal(value)
        return None if number is None else int(number)
    if column.type == DATE and isinstance(value, (date, datetime)):
        return value
    return value


def _header(column: Column) -> str:
    label = str(column.label)
    if column.type == DURATION:
        return _("%(label)s (hours)") % {"label": label}
    if column.type == PERCENT:
        return _("%(label)s (%%)") % {"label": label}
    return label


def to_csv(tables: list[Table]) -> bytes:
    """One section per table: its title, a header row, the rows, then a blank line. UTF-8 with
    a byte-order mark, which Excel needs to read Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        writer.writerow([str(table.title)])
        writer.writerow([_header(column) for column in table.columns])
        for row in table.rows:
            cells = []
            for column in table.columns:
                value = cell_value(column, row.get(column.key), cell_type(row, column))
                if value is None:
                    cells.append("")
                elif isinstance(value, (date, datetime)):
                    cells.append(value.isoformat())
                else:
                    cells.append(spreadsheet_safe(value) if isinstance(value, str) else str(value))
            writer.writerow(cells)
        if table.note:
            writer.writerow([str(table.note)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _sheet_title(title: str, taken: set[str]) -> str:
    base = (title.translate(SHEET_NAME_FORBIDDEN).strip() or "Sheet")[:31]
    name, number = base, 2
    while name.lower() in taken:
        suffix = f" ({number})"
        name = base[: 31 - len(suffix)] + suffix
        number += 1
    taken.add(name.lower())
    return name


NUMBER_FORMATS = {
    MONEY: MONEY_FORMAT,
    PERCENT: PERCENT_FORMAT,
    DURATION: HOURS_FORMAT,
    COUNT: COUNT_FORMAT,
    DATE: "yyyy-mm-dd",
}


def to_xlsx(tables: list[Table]) -> bytes:
    """One sheet per table: a bold header row, the figures as numbers (money with two
    decimals, percents as 12.5 shown "12.5%", durations in hours), columns wide enough to
    read. A report with no table still makes a valid workbook with one empty sheet."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    for table in tables or [Table(key="empty", title=_("Report"), columns=[])]:
        sheet = workbook.create_sheet(_sheet_title(str(table.title), taken))
        widths = []
        for index, column in enumerate(table.columns, start=1):
            header = _header(column)
            cell = sheet.cell(row=1, column=index, value=header)
            cell.font = bold
            widths.append(len(header))
        for row_number, row in enumerate(table.rows, start=2):
            for index, column in enumerate(table.columns, start=1):
                kind = cell_type(row, column)
                value = cell_value(column, row.get(column.key), kind)
                if isinstance(value, Decimal):
                    # openpyxl stores numbers as floats: two decimals read back exactly.
                    value = float(value)
                if column.type == DATE and isinstance(value, str):
                    with contextlib.suppress(ValueError):
                        value = date.fromisoformat(value)
                cell = sheet.cell(row=row_number, column=index, value=value)
                if kind in NUMBER_FORMATS and value is not None:
                    cell.number_format = NUMBER_FORMATS[kind]
                shown = len(str(value)) if value is not None else 0
                widths[index - 1] = max(widths[index - 1], shown + 2)
        if table.note:
            sheet.cell(row=len(table.rows) + 3, column=1, value=str(table.note))
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = min(MAX_WIDTH, width + 2)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def tables_from_json(data: list[dict]) -> list[Table]:
    """The tables of a snapshot (`Table.to_json()` each), with money and percents Decimal
    again."""
    tables = []
    for item in data:
        columns = [Column(key, label, kind) for key, label, kind in item["columns"]]
        decimal_keys = {c.key for c in columns if c.type in (MONEY, PERCENT)}
        rows = [
            {
                key: (_decimal(value) if key in decimal_keys and value is not None else value)
                for key, value in row.items()
            }
            for row in item["rows"]
        ]
        tables.append(
            Table(
                key=item["key"],
                title=item["title"],
                columns=columns,
                rows=rows,
                note=item.get("note", ""),
            )
        )
    return tables
