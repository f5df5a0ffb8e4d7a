"""What every report returns: named tables of typed columns, so that the screens, the CSV and
XLSX exports, the e-mails and the stored snapshots all read the same figures (RPT-6)."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

MONEY = "money"  # Decimal, two places
COUNT = "count"  # int
PERCENT = "percent"  # Decimal: 12.5 means 12.5 %
DURATION = "duration"  # seconds (float), shown as hours/minutes
TEXT = "text"
DATE = "date"

# The types a row of a summary may give its figures in a money column (see `cell_type`).
NUMERIC = frozenset({MONEY, COUNT, PERCENT, DURATION})


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # translated (gettext_lazy) caption
    type: str = TEXT


@dataclass
class Table:
    """One table of a report: `rows` are dicts keyed by the columns' keys. `drill` optionally
    maps a row to the staff order list's query string for the orders behind it."""

    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    def values(self, row: dict) -> list:
        return [row.get(column.key) for column in self.columns]

    def to_json(self) -> dict:
        """For a snapshot: plain JSON (money and percents as strings, to the cent)."""

        def plain(value):
            if isinstance(value, Decimal):
                return str(value)
            if hasattr(value, "isoformat"):
                return value.isoformat()
            return value

        return {
            "key": self.key,
            "title": str(self.title),
            "columns": [[c.key, str(c.label), c.type] for c in self.columns],
            "rows": [{k: plain(v) for k, v in row.items()} for row in self.rows],
            "note": str(self.note),
        }


def change(current, previous) -> Decimal | None:
    """Percentage change from `previous` to `current`, one decimal; None when there is no
    previous figure to compare with."""
    if previous in (None, 0) or current is None:
        return None
    return (Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)


def cell_type(row: dict, column: Column) -> str:
    """The type of one cell. A row of figures of different kinds (a summary: orders, then
    money) says its own "type", which stands for its money columns' declared one."""
    if column.type == MONEY and row.get("type") in NUMERIC:
        return row["type"]
    return column.type
