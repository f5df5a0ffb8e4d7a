"""CSV for people: cells written so that a spreadsheet never runs them (`spreadsheet_safe`),
and uploaded files read for the imports (opening stock, tracking events, marketplace orders):
size and row limits, UTF-8 or GB18030, comma, semicolon or tab, a header row naming the
columns, and every refusal as a message for people."""

import csv
import io
from collections.abc import Callable, Collection, Mapping

from django.utils.translation import gettext as _


def spreadsheet_safe(value):
    """A cell for a CSV file people open in Excel or WPS: text that a spreadsheet would take
    for a formula (=, +, -, @, tab, CR first) gets an apostrophe in front, so that an uploaded
    or typed value can never run as one. Other values pass unchanged."""
    if isinstance(value, str) and value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


class ImportRefused(Exception):
    """The file as a whole cannot be read; nothing was imported."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def too_big_message(size: int, limit: int) -> str:
    return _("The file is %(size)d KB; the limit is %(limit)d KB. Split it into smaller files.") % {
        "size": -(-size // 1024),
        "limit": limit // 1024,
    }


def decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(_("The file is not text in UTF-8 or GB18030: save it as CSV (UTF-8)."))


def header_positions(header: list[str], columns: Mapping[str, Collection[str]]) -> dict[str, int]:
    """{column: index} for the header cells that name one of `columns` (by any of its
    accepted names, in any case, with spaces or dashes for underscores); the first wins."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_")
        for column, aliases in columns.items():
            if key in aliases and column not in positions:
                positions[column] = index
    return positions


def read_rows(
    uploaded,
    *,
    header_map: Callable[[list[str]], dict[str, int]],
    max_bytes: int,
    max_rows: int,
) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: text}) for each non-blank row of an uploaded CSV file with a
    header row; `header_map` turns the header into column positions (and refuses a header
    that lacks a required column). Refused whole if too big, not CSV, or without rows."""
    if uploaded.size > max_bytes:
        raise ImportRefused(too_big_message(uploaded.size, max_bytes))
    text = decode(uploaded.read(max_bytes + 1))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused(_("The file is empty.")) from None
    except csv.Error as error:
        raise ImportRefused(_("The file is not valid CSV: %(error)s") % {"error": error}) from None
    positions = header_map(header)
    rows = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == max_rows:
                raise ImportRefused(
                    _("The file has more than %(limit)d rows. Split it into smaller files.")
                    % {"limit": max_rows}
                )
            values = {
                column: (cells[index].strip() if index < len(cells) else "")
                for column, index in positions.items()
            }
            rows.append((reader.line_num, values))
    except csv.Error as error:
        raise ImportRefused(
            _("Line %(line)d is not valid CSV: %(error)s")
            % {"line": reader.line_num, "error": error}
        ) from None
    if not rows:
        raise ImportRefused(_("The file has a header but no rows."))
    return rows
