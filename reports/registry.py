"""The reports the shop makes (RPT-1 to RPT-5). Each is a module with `KEY`, `TITLE` and
`build(*, period, filters) -> list[Table]`; the dashboard, exports, snapshots and e-mails find
them here. A report whose module is not there (yet) is simply not offered."""

from dataclasses import dataclass
from importlib import import_module
from types import ModuleType

from django.db import models

MODULES = {
    "sales": "reports.sales",
    "fulfillment": "reports.fulfillment",
    "aftersales": "reports.aftersales",
    "inventory": "reports.inventory",
    "feedback": "reports.feedback",
}


@dataclass(frozen=True)
class ReportFilters:
    """Narrow a report: one sales channel, one warehouse (for the reports where it means
    something; others ignore it)."""

    channel: str = ""
    warehouse_id: int | None = None

    def as_query(self) -> dict:
        query = {}
        if self.channel:
            query["channel"] = self.channel
        if self.warehouse_id:
            query["warehouse"] = str(self.warehouse_id)
        return query


def report(key: str) -> ModuleType | None:
    """The report module of `key`, or None when there is no such report."""
    path = MODULES.get(key)
    if path is None:
        return None
    try:
        return import_module(path)
    except ModuleNotFoundError as error:
        if error.name == path:
            return None
        raise


def available() -> list[tuple[str, ModuleType]]:
    return [(key, module) for key in MODULES if (module := report(key)) is not None]


class ReportKey(models.TextChoices):
    SALES = "sales", "sales"
    FULFILLMENT = "fulfillment", "fulfillment"
    AFTERSALES = "aftersales", "aftersales"
    INVENTORY = "inventory", "inventory"
    FEEDBACK = "feedback", "feedback"
