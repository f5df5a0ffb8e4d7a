"""Sales report (RPT-1): orders, items, gross merchandise value, discounts, shipping, refunds,
net and average order value for a day, week or month, beside the period before, with
breakdowns by day, channel, payment method, province, city, product and SKU.

Definitions (the same on every screen, export and e-mail):

- **Which orders.** An order counts in the period it was *placed* (`created_at` in
  [`starts_at`, `ends_at`), cut at midnight in the shop's time zone), whatever happened to it
  later, except orders cancelled while unpaid (state cancelled and `paid_at` empty: no money
  ever changed hands) and orders of the "replacement" channel (goods an after-sales exchange
  sends again: not a sale). Orders still awaiting payment do count.
- **Orders** the number of those orders; **items** the units on their lines.
- **Gross merchandise value (GMV)** Σ unit price × quantity of their lines (the orders' goods
  amount), before discounts.
- **Discounts** the promotions taken off; **shipping** the shipping charged.
- **Refunds** the money given back for those orders: succeeded refunds through the payment
  gateway (`payments.Refund`) plus the manual payouts after-sales recorded for cash-on-delivery
  orders. A refund is counted in the period of its *order*, not on the day it was paid out, so
  that each period's net belongs to one cohort of orders and the breakdowns add up to it (a
  late refund lowers the net of the month the order was placed in).
- **Net** GMV − discounts + shipping − refunds.
- **Average order value** (GMV − discounts + shipping) / orders: what an order was worth when
  placed, before refunds.

Filters: the channel narrows every figure. The warehouse filter is ignored by the sales
report: an order is sold before it is assigned to a warehouse (and may ship from several).

Refunds belong to an order, not to a line, so the product and SKU tables show GMV, discounts
and GMV after discounts but no refunds. Everything is aggregated in the database in a fixed
number of queries (`QUERIES`), whatever the number of orders.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DecimalField, F, Max, Q, Sum, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Channel, Order, OrderLine, PaymentMethod
from orders.selectors import sold
from payments.models import Refund, RefundStatus
from reports.periods import Period
from reports.registry import ReportFilters
from reports.tables import COUNT, DATE, MONEY, PERCENT, TEXT, Column, Table, change

KEY = "sales"
TITLE = _("Sales")

TOP = 50  # rows of the product and SKU tables
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
# build() makes this many queries, whatever the period and the number of orders.
QUERIES = 9


# --- which orders, and where their money is ---------------------------------------------------
def _orders_in(prefix: str, starts_at, ends_at, filters: ReportFilters) -> Q:
    condition = sold(prefix) & Q(
        **{f"{prefix}created_at__gte": starts_at, f"{prefix}created_at__lt": ends_at}
    )
    if filters.channel:
        condition &= Q(**{f"{prefix}channel": filters.channel})
    return condition


def _money(expression) -> Coalesce:
    return Coalesce(expression, Value(ZERO), output_field=MONEY_FIELD)


class _Sources:
    """The four querysets every figure comes from, restricted to the sold orders placed in
    [starts_at, ends_at) (both periods at once for the comparisons): orders, their lines,
    their succeeded gateway refunds and their manual (cash-on-delivery) payouts. Each exposes
    its path to the order."""

    def __init__(self, starts_at, ends_at, filters: ReportFilters):
        from aftersales.models import RequestEvent, RequestEventKind

        self.orders = Order.objects.filter(_orders_in("", starts_at, ends_at, filters))
        self.lines = OrderLine.objects.filter(_orders_in("order__", starts_at, ends_at, filters))
        self.refunds = Refund.objects.filter(
            _orders_in("payment__order__", starts_at, ends_at, filters),
            status=RefundStatus.SUCCEEDED,
        )
        self.payouts = RequestEvent.objects.filter(
            _orders_in("request__order__", starts_at, ends_at, filters),
            kind=RequestEventKind.REFUNDED,
            details__method="manual",
        )

    PATHS = {
        "orders": "",
        "lines": "order__",
        "refunds": "payment__order__",
        "payouts": "request__order__",
    }

    @staticmethod
    def payout_amount():
        return Cast(KeyTextTransform("amount", "details"), MONEY_FIELD)


def _refunds_by(sources: _Sources, group: dict, measures: dict) -> dict:
    """Refunds plus manual payouts per group key: two GROUP BY queries merged by key.
    `group` maps an output name to an order field; `measures` names → Q on the order fields
    (conditions per period), each summed separately."""
    totals: dict = {}
    for name, queryset, amount in (
        ("refunds", sources.refunds, F("amount")),
        ("payouts", sources.payouts, _Sources.payout_amount()),
    ):
        prefix = _Sources.PATHS[name]
        keys = {f"g_{out}": F(prefix + field) for out, field in group.items()}
        annotations = {
            measure: _money(Sum(amount, filter=_prefixed(condition, prefix)))
            for measure, condition in measures.items()
        }
        grouped = (
            queryset.values(**keys).annotate(**annotations).order_by()
            if keys
            else [queryset.aggregate(**annotations)]
        )
        for row in grouped:
            key = tuple(row[f"g_{out}"] for out in group)
            into = totals.setdefault(key, dict.fromkeys(measures, ZERO))
            for measure in measures:
                into[measure] += row[measure]
    return totals


def _prefixed(condition: Q | None, prefix: str) -> Q | None:
    """`condition` (on order fields) as seen from a model reaching the order via `prefix`."""
    if condition is None:
        return None
    copy = Q()
    copy.connector, copy.negated = condition.connector, condition.negated
    copy.children = [
        _prefixed(child, prefix) if isinstance(child, Q) else (prefix + child[0], child[1])
        for child in condition.children
    ]
    return copy


# --- drill-down to the staff order list ---------------------------------------------------------
def _list_filters() -> set[str]:
    from orders.forms import StaffOrderFilterForm

    return set(StaffOrderFilterForm.base_fields)


def _drill(period: Period, filters: ReportFilters, supported: set[str], **narrow) -> dict | None:
    """The staff order list's query for the orders behind a row, or None when the list cannot
    filter by what the row is about (then a link would show other orders too)."""
    query = {"placed_from": period.start.isoformat(), "placed_to": period.last_day.isoformat()}
    if filters.channel:
        query["channel"] = filters.channel
    if "sales_only" in supported:  # the list leaves out what the report leaves out
        query["sales_only"] = "1"
    for name, value in narrow.items():
        if name not in supported:
            return None
        query[name] = "" if value is None else str(value)
    if not {"placed_from", "placed_to"} <= supported:
        return None
    return query


# --- the tables ---------------------------------------------------------------------------------
def build(*, period: Period, filters: ReportFilters) -> list[Table]:
    previous = period.previous()
    both = _Sources(previous.starts_at, period.ends_at, filters)
    now = Q(created_at__gte=period.starts_at)
    before = Q(created_at__lt=period.starts_at)
    supported = _list_filters()
    cells = _cells(both, now, before)
    summary = _summary(cells)
    for row in summary.rows:  # every figure is about the orders placed in the period
        row["_drill"] = _drill(period, filters, supported)
    return [
        summary,
        _by_day(period, filters, supported),
        *[_breakdown(cells, period, filters, supported, spec) for spec in _BREAKDOWNS],
        *[_lines_table(both, now, before, period, filters, supported, spec) for spec in _LINES],
    ]


def _order_sums(condition: Q) -> dict:
    return {
        "orders": Count("pk", filter=condition),
        "goods": _money(Sum("goods_amount", filter=condition)),
        "discounts": _money(Sum("discount_amount", filter=condition)),
        "shipping": _money(Sum("shipping_amount", filter=condition)),
    }


def _suffixed(sums: dict, suffix: str) -> dict:
    return {name + suffix: value for name, value in sums.items()}


# The finest breakdown of the orders: every other one (and the summary) adds these up.
CELL = ("channel", "payment_method", "province", "city")
_MEASURES = ("orders", "items", "goods", "discounts", "shipping", "refunds")
_BLANK = {
    f"{measure}_{when}": 0 if measure in ("orders", "items") else ZERO
    for measure in _MEASURES
    for when in ("now", "old")
}


def _cells(both: _Sources, now: Q, before: Q) -> dict[tuple, dict]:
    """The figures of both periods per (channel, payment method, province, city): four
    GROUP BY queries (orders, their lines, refunds, manual payouts) over the two periods at
    once, merged by key. A few hundred groups, whatever the number of orders."""
    group = {name: name for name in CELL}
    cells: dict[tuple, dict] = {}

    def cell(row: dict) -> dict:
        key = tuple(row[f"g_{name}"] for name in CELL)
        return cells.setdefault(key, dict(_BLANK))

    orders = both.orders.values(**{f"g_{name}": F(name) for name in CELL}).annotate(
        **_suffixed(_order_sums(now), "_now"), **_suffixed(_order_sums(before), "_old")
    )
    for row in orders.order_by():
        cell(row).update({key: row[key] for key in _BLANK if key in row})
    lines = both.lines.values(**{f"g_{name}": F(f"order__{name}") for name in CELL}).annotate(
        items_now=Coalesce(Sum("quantity", filter=_prefixed(now, "order__")), 0),
        items_old=Coalesce(Sum("quantity", filter=_prefixed(before, "order__")), 0),
    )
    for row in lines.order_by():
        cell(row).update(items_now=row["items_now"], items_old=row["items_old"])
    refunds = _refunds_by(both, group, {"refunds_now": now, "refunds_old": before})
    for key, amounts in refunds.items():
        cells.setdefault(key, dict(_BLANK)).update(amounts)
    return cells


def _rollup(cells: dict[tuple, dict], dimensions: tuple[str, ...]) -> dict[tuple, dict]:
    """The cells' figures added up per value of `dimensions` (() for the grand total)."""
    positions = [CELL.index(name) for name in dimensions]
    totals: dict[tuple, dict] = {}
    for key, figures in cells.items():
        into = totals.setdefault(tuple(key[i] for i in positions), dict(_BLANK))
        for measure, value in figures.items():
            into[measure] += value
    return totals


def _net(figures: dict, when: str) -> Decimal:
    return (
        figures[f"goods_{when}"]
        - figures[f"discounts_{when}"]
        + figures[f"shipping_{when}"]
        - figures[f"refunds_{when}"]
    )


def _summary(cells: dict[tuple, dict]) -> Table:
    total = _rollup(cells, ()).get((), _BLANK)
    values = {}
    for when in ("now", "old"):
        orders = total[f"orders_{when}"]
        placed = total[f"goods_{when}"] - total[f"discounts_{when}"] + total[f"shipping_{when}"]
        values[when] = {
            "orders": orders,
            "items": total[f"items_{when}"],
            "gmv": total[f"goods_{when}"],
            "discounts": total[f"discounts_{when}"],
            "shipping": total[f"shipping_{when}"],
            "refunds": total[f"refunds_{when}"],
            "net": _net(total, when),
            "aov": (placed / orders).quantize(CENT, ROUND_HALF_UP) if orders else None,
        }
    labels = {
        "orders": (_("Orders"), COUNT),
        "items": (_("Items"), COUNT),
        "gmv": (_("Gross merchandise value"), MONEY),
        "discounts": (_("Discounts"), MONEY),
        "shipping": (_("Shipping"), MONEY),
        "refunds": (_("Refunds"), MONEY),
        "net": (_("Net"), MONEY),
        "aov": (_("Average order value"), MONEY),
    }
    rows = []
    for key, (label, kind) in labels.items():
        current, earlier = values["now"][key], values["old"][key]
        rows.append(
            {
                "key": key,
                "figure": str(label),
                "type": kind,
                "current": current,
                "previous": earlier,
                "change": change(current, earlier),
            }
        )
    return Table(
        key="summary",
        title=_("Summary"),
        columns=[
            Column("figure", _("Figure"), TEXT),
            Column("current", _("This period"), MONEY),
            Column("previous", _("Previous period"), MONEY),
            Column("change", _("Change"), PERCENT),
        ],
        rows=rows,
        note=_(
            "Orders placed in the period, without those cancelled before payment and "
            "after-sales replacements. Refunds are counted in the period the order was placed. "
            "Net = GMV − discounts + shipping − refunds; average order value = "
            "(GMV − discounts + shipping) / orders."
        ),
    )


def _by_day(period: Period, filters: ReportFilters, supported: set[str]) -> Table:
    sources = _Sources(period.starts_at, period.ends_at, filters)
    shop = timezone.get_default_timezone()
    per_day = {
        row["day"]: row
        for row in sources.orders.annotate(day=TruncDate("created_at", tzinfo=shop))
        .values("day")
        .annotate(**_order_sums(Q()))
        .order_by()
    }
    refunds: dict = {}
    for name, queryset, amount in (
        ("refunds", sources.refunds, F("amount")),
        ("payouts", sources.payouts, _Sources.payout_amount()),
    ):
        rows = (
            queryset.annotate(day=TruncDate(_Sources.PATHS[name] + "created_at", tzinfo=shop))
            .values("day")
            .annotate(amount=_money(Sum(amount)))
            .order_by()
        )
        for row in rows:
            refunds[row["day"]] = refunds.get(row["day"], ZERO) + row["amount"]
    rows = []
    for day in period.days():
        figures = per_day.get(day, {})
        goods = figures.get("goods", ZERO)
        placed = goods - figures.get("discounts", ZERO) + figures.get("shipping", ZERO)
        drill = _drill(period, filters, supported)
        if drill is not None:
            drill["placed_from"] = drill["placed_to"] = day.isoformat()
        rows.append(
            {
                "day": day,
                "orders": figures.get("orders", 0),
                "gmv": goods,
                "net": placed - refunds.get(day, ZERO),
                "_drill": drill,
            }
        )
    return Table(
        key="by_day",
        title=_("By day"),
        columns=[
            Column("day", _("Day"), DATE),
            Column("orders", _("Orders"), COUNT),
            Column("gmv", _("Gross merchandise value"), MONEY),
            Column("net", _("Net"), MONEY),
        ],
        rows=rows,
    )


# Breakdowns of the orders: key, title, [(output, order field, caption)], drill parameter of
# the staff order list per output (None: not filterable), display of a coded value.
_BREAKDOWNS = [
    (
        "by_channel",
        _("By channel"),
        [("channel", "channel", _("Channel"))],
        {"channel": "channel"},
        {"channel": dict(Channel.choices)},
    ),
    (
        "by_payment_method",
        _("By payment method"),
        [("payment_method", "payment_method", _("Payment method"))],
        {"payment_method": "payment_method"},
        {"payment_method": dict(PaymentMethod.choices)},
    ),
    (
        "by_province",
        _("By province"),
        [("province", "province", _("Province"))],
        {"province": "province"},
        {},
    ),
    (
        "by_city",
        _("By city"),
        [("province", "province", _("Province")), ("city", "city", _("City"))],
        {"province": "province", "city": "city"},
        {},
    ),
]


def _breakdown(cells, period, filters, supported, spec) -> Table:
    key, title, dimensions, drill_params, labels = spec
    group = tuple(field for _out, field, _caption in dimensions)
    rows = []
    for group_key, figures in _rollup(cells, group).items():
        if not figures["orders_now"] and not figures["orders_old"]:
            continue
        net, net_before = _net(figures, "now"), _net(figures, "old")
        values = dict(zip(group, group_key, strict=True))
        shown = dict(values)
        for out in labels:  # a coded value: its caption, and the code beside it
            shown[out] = str(labels[out].get(values[out], values[out]))
            shown[f"{out}_code"] = values[out]
        rows.append(
            {
                **shown,
                "orders": figures["orders_now"],
                "items": figures["items_now"],
                "gmv": figures["goods_now"],
                "discounts": figures["discounts_now"],
                "shipping": figures["shipping_now"],
                "refunds": figures["refunds_now"],
                "net": net,
                "net_previous": net_before,
                "net_change": change(net, net_before),
                "_drill": _drill(
                    period,
                    filters,
                    supported,
                    **{drill_params[out]: value for out, value in values.items()},
                ),
            }
        )
    rows.sort(key=lambda row: (-row["net"], *[str(row[out]) for out in group]))
    return Table(
        key=key,
        title=title,
        columns=[
            *[Column(out, caption, TEXT) for out, _field, caption in dimensions],
            Column("orders", _("Orders"), COUNT),
            Column("items", _("Items"), COUNT),
            Column("gmv", _("Gross merchandise value"), MONEY),
            Column("discounts", _("Discounts"), MONEY),
            Column("shipping", _("Shipping"), MONEY),
            Column("refunds", _("Refunds"), MONEY),
            Column("net", _("Net"), MONEY),
            Column("net_previous", _("Net, previous period"), MONEY),
            Column("net_change", _("Change"), PERCENT),
        ],
        rows=rows,
    )


# Line tables: key, title, [(output, line field, caption)] grouped by the first, the others
# shown (Max: a snapshot that may differ between orders), drill parameter.
_LINES = [
    (
        "by_product",
        _("By product (top 50 by GMV)"),
        [("product_id", "sku__product_id", None), ("product", "product_name", _("Product"))],
        "product",
    ),
    (
        "by_sku",
        _("By SKU (top 50 by GMV)"),
        [
            ("sku_id", "sku_id", None),
            ("sku", "sku_code", _("SKU")),
            ("product", "product_name", _("Product")),
            ("variant", "variant_label", _("Variant")),
        ],
        "sku",
    ),
]


def _lines_table(both, now, before, period, filters, supported, spec) -> Table:
    key, title, fields, drill_param = spec
    (group_out, group_field, _none), *shown = fields
    line_now, line_before = _prefixed(now, "order__"), _prefixed(before, "order__")
    value = F("unit_price") * F("quantity")
    rows = (
        both.lines.values(**{f"g_{group_out}": F(group_field)})
        .annotate(
            **{f"g_{out}": Max(field) for out, field, _caption in shown},
            orders=Count("order_id", distinct=True, filter=line_now),
            items=Coalesce(Sum("quantity", filter=line_now), 0),
            gmv=_money(Sum(value, filter=line_now, output_field=MONEY_FIELD)),
            discounts=_money(Sum("discount_amount", filter=line_now)),
            gmv_previous=_money(Sum(value, filter=line_before, output_field=MONEY_FIELD)),
        )
        .filter(items__gt=0)
        .order_by("-gmv", f"g_{group_out}")[:TOP]
    )
    result = []
    for row in rows:
        for out, *_rest in fields:
            row[out] = row.pop(f"g_{out}")
        row["net"] = row["gmv"] - row["discounts"]
        row["gmv_change"] = change(row["gmv"], row["gmv_previous"])
        row["_drill"] = _drill(period, filters, supported, **{drill_param: row[group_out]})
        result.append(row)
    return Table(
        key=key,
        title=title,
        columns=[
            *[Column(out, caption, TEXT) for out, _field, caption in shown],
            Column("orders", _("Orders"), COUNT),
            Column("items", _("Items"), COUNT),
            Column("gmv", _("Gross merchandise value"), MONEY),
            Column("discounts", _("Discounts"), MONEY),
            Column("net", _("After discounts"), MONEY),
            Column("gmv_previous", _("GMV, previous period"), MONEY),
            Column("gmv_change", _("Change"), PERCENT),
        ],
        rows=result,
        note=_("Refunds are given back per order, not per product: they are not shown here."),
    )
