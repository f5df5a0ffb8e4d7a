"""The manager dashboard (RPT-6, issue 9 item 7): the sales key figures beside the previous
period, charts drawn on the server, and every report's tables, each figure leading to the
orders behind it; filtered by period, channel and warehouse.

Reports are found through the registry only, so the page shows whichever exist. The sales
report is always computed (its figures head the page); of the others only the one whose tab
is open, so the page costs the queries of at most two reports, whatever the data size.
"""

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.access import permission_required
from orders.forms import StaffOrderFilterForm

from . import charts, registry
from .forms_dashboard import DashboardForm
from .periods import Period, PeriodKind
from .tables import COUNT, DATE, MONEY, NUMERIC, PERCENT, Table, cell_type

REPORTS_PERMISSION = "orders.view_sales_figures"
SALES = "sales"
# Figures that are better when they fall: their rise is shown as bad news.
LOWER_IS_BETTER = {"refunds", "discounts", "low_share", "low_share_change"}
BAR_LIMIT = 10


@dataclass
class Change:
    """A change against the previous period, for arrows that do not rely on colour."""

    percent: object
    direction: str  # "up", "down" or "flat"
    tone: str  # "good", "bad" or "neutral"
    text: str  # "12.5%"

    @classmethod
    def of(cls, percent, *, lower_is_better: bool = False) -> "Change | None":
        if percent is None or percent == "":
            return None
        value = charts._decimal(percent)
        direction = "up" if value > 0 else "down" if value < 0 else "flat"
        if direction == "flat":
            tone = "neutral"
        else:
            tone = "good" if (direction == "up") != lower_is_better else "bad"
        return cls(value, direction, tone, charts.format_value(abs(value), PERCENT))


@dataclass
class Cell:
    text: str
    href: str = ""
    numeric: bool = False
    change: Change | None = None
    label: str = ""  # an accessible name for a link that is only a number


@dataclass
class ShownTable:
    table: Table
    rows: list[list[Cell]]
    chart: SafeString | None = None


@dataclass
class ShownReport:
    key: str
    title: str
    tables: list[ShownTable] = field(default_factory=list)
    export_query: str = ""


def drill_url(drill: dict | None) -> str:
    """The staff order list showing the orders behind a row; no link when the list cannot
    narrow to them (a drill naming a filter the list does not have would show other orders)."""
    if not drill or not set(drill) <= _ORDER_LIST_FILTERS:
        return ""
    return f"{reverse('staff_orders:list')}?{urlencode(drill)}"


# The filters the staff order list understands (its form's fields, and the page number).
_ORDER_LIST_FILTERS = frozenset(StaffOrderFilterForm.base_fields) | {"page"}


def period_label(period: Period) -> str:
    if period.kind == PeriodKind.DAY:
        return formats.date_format(period.start, "DATE_FORMAT")
    if period.kind == PeriodKind.MONTH:
        return formats.date_format(period.start, "YEAR_MONTH_FORMAT")
    return _("Week %(key)s: %(first)s – %(last)s") % {
        "key": period.key,
        "first": formats.date_format(period.start, "SHORT_DATE_FORMAT"),
        "last": formats.date_format(period.last_day, "SHORT_DATE_FORMAT"),
    }


def _day_label(day) -> str:
    return formats.date_format(day, "n/j") if hasattr(day, "month") else str(day)


def _rows(table: Table) -> list[list[Cell]]:
    """Each row's cells as shown. In a row that carries "_drill", its first count (the
    orders, usually) links to the orders behind it, or its first cell when it has none."""
    linked = next((c.key for c in table.columns if c.type == COUNT), None)
    if linked is None and table.columns:
        linked = table.columns[0].key
    shown = []
    for row in table.rows:
        href = drill_url(row.get("_drill"))
        label = str(row.get(table.columns[0].key, "")) if table.columns else ""
        cells = []
        for column in table.columns:
            value = row.get(column.key)
            kind = cell_type(row, column)
            if kind == DATE and value:
                label = formats.date_format(value, "SHORT_DATE_FORMAT")
            cell = Cell(text=charts.format_value(value, kind), numeric=kind in NUMERIC)
            if column.type == PERCENT and column.key.endswith("change"):
                cell.change = Change.of(value, lower_is_better=column.key in LOWER_IS_BETTER)
            if href and column.key == linked:
                cell.href = href
                cell.label = _("%(figure)s %(caption)s of %(row)s: show the orders") % {
                    "figure": cell.text,
                    "caption": column.label,
                    "row": label,
                }
            cells.append(cell)
        shown.append(cells)
    return shown


def _daily_chart(key: str, table: Table, title: str = "") -> SafeString | None:
    """A line chart of a table of days (its first column a date): its first figure column
    as the area, its second (if any) as the line beside it."""
    if not table.columns or table.columns[0].type != DATE or len(table.rows) < 2:
        return None
    figures = [c for c in table.columns[1:] if c.type in NUMERIC]
    if not figures:
        return None
    # Money as the area, a count (the orders) as the line beside it, when there are both.
    money = [c for c in figures if c.type == MONEY]
    counts = [c for c in figures if c.type == COUNT]
    if money and counts:
        figures = [money[0], counts[0]]
    labels = [_day_label(row.get(table.columns[0].key)) for row in table.rows]

    today = timezone.localdate()
    days = [row.get(table.columns[0].key) for row in table.rows]

    def series(column) -> charts.Series:
        # Days still to come have no figure yet (not a fall to zero).
        values = [
            None if isinstance(day, date) and day > today else row.get(column.key)
            for day, row in zip(days, table.rows, strict=True)
        ]
        return charts.Series(str(column.label), values, column.type)

    return charts.line_chart(
        key=key,
        title=title or str(table.title),
        labels=labels,
        primary=series(figures[0]),
        secondary=series(figures[1]) if len(figures) > 1 else None,
        label_heading=str(table.columns[0].label),
        width=960,
        height=300,
    )


def _bars(key: str, table: Table | None, value: str, title: str) -> SafeString | None:
    if table is None or not table.rows:
        return None
    column = next((c for c in table.columns if c.key == value), None)
    if column is None:
        return None
    label = table.columns[0]
    return charts.bar_chart(
        key=key,
        title=title,
        bars=charts.bars_from_table(
            table, label=label.key, value=value, href=lambda row: drill_url(row.get("_drill"))
        ),
        kind=column.type,
        label_heading=str(label.label),
        value_heading=str(column.label),
        limit=BAR_LIMIT,
    )


def _key_figures(summary: Table | None) -> list[dict]:
    """The sales summary as cards: this period, the previous one and the change."""
    if summary is None:
        return []
    cards = []
    for row in summary.rows:
        kind = row.get("type", MONEY)
        cards.append(
            {
                "key": row.get("key", ""),
                "label": row.get("figure", ""),
                "value": charts.format_value(row.get("current"), kind),
                "previous": charts.format_value(row.get("previous"), kind),
                "change": Change.of(
                    row.get("change"), lower_is_better=row.get("key") in LOWER_IS_BETTER
                ),
                "href": drill_url(row.get("_drill")),
            }
        )
    return cards


def _show(key: str, module, tables: list[Table], export_query: dict) -> ShownReport:
    shown = ShownReport(
        key=key, title=str(module.TITLE), export_query=urlencode({"report": key, **export_query})
    )
    for table in tables:
        shown.tables.append(
            ShownTable(
                table=table, rows=_rows(table), chart=_daily_chart(f"{key}-{table.key}", table)
            )
        )
    return shown


@permission_required(REPORTS_PERMISSION)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    form = DashboardForm(request.GET or None)
    period, filters = form.period_and_filters()
    reports = registry.available()
    keys = [key for key, _module in reports]
    tab = request.GET.get("report") or (SALES if SALES in keys else (keys[0] if keys else ""))
    if tab not in keys:
        tab = keys[0] if keys else ""

    base = {"kind": period.kind, **filters.as_query()}
    export_query = {**base, "period": period.key}

    def link(**changes) -> str:
        return "?" + urlencode({**base, "period": period.key, "report": tab, **changes})

    sales_tables: dict[str, Table] = {}
    current = None
    for key, module in reports:
        if key != SALES and key != tab:
            continue
        tables = module.build(period=period, filters=filters)
        if key == SALES:
            sales_tables = {table.key: table for table in tables}
        if key == tab:
            current = _show(key, module, tables, export_query)

    following = period.next()
    context = {
        "form": form,
        "period": period,
        "period_label": period_label(period),
        "previous_link": link(period=period.previous().key),
        "next_link": link(period=following.key) if following.start <= timezone.localdate() else "",
        "previous_label": period_label(period.previous()),
        "next_label": period_label(following),
        "figures": _key_figures(sales_tables.get("summary")),
        "sales_chart": _daily_chart("sales-by-day", sales_tables["by_day"], _("Sales by day"))
        if "by_day" in sales_tables
        else None,
        "province_chart": _bars(
            "sales-by-province",
            sales_tables.get("by_province"),
            "net",
            _("Net sales by province (top %(count)d)") % {"count": BAR_LIMIT},
        ),
        "product_chart": _bars(
            "sales-by-product",
            sales_tables.get("by_product"),
            "gmv",
            _("Gross merchandise value by product (top %(count)d)") % {"count": BAR_LIMIT},
        ),
        "tabs": [
            {"key": key, "title": module.TITLE, "href": link(report=key), "current": key == tab}
            for key, module in reports
        ],
        "report": current,
        "tab": tab,
    }
    return render(request, "reports/dashboard.html", context)
