"""After-sales (RPT-3): the requests created in the period by reason and by product (with the
request rate against the units sold), the refunds paid, and how long requests took to resolve.

- "by_reason": requests created in the period per reason, with each reason's share.
- "by_product": per product, the requests and units asked about, and the request rate: units
  asked about / units sold in orders placed in the period (not awaiting payment, not cancelled,
  not after-sales replacements). A request can be about an order of an earlier period, so the
  rate can exceed 100 %.
- "refunds": issued in the period — gateway refunds of after-sales requests (payments.Refund
  succeeded, reference "AS<request>-P<payment>-<n>", see aftersales.services) by the time they
  were made, and manual payouts (cash on delivery: the request's "refunded" event with method
  "manual" and an amount above 0) — count and amount, to the cent.
- "resolution": requests created in the period and resolved (closed or rejected; withdrawn
  ones are the customer's doing and left out), median and 90th percentile from created_at to
  closed_at per kind (reports.percentiles: percentile_cont, the same on SQLite).
All computed in the database with a constant number of queries."""

from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    Sum,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from aftersales.models import (
    AfterSalesRequest,
    RequestEvent,
    RequestEventKind,
    RequestKind,
    RequestLine,
    RequestReason,
    RequestState,
)
from fulfillment.models import Fulfillment
from orders.models import Channel, OrderLine, OrderState
from payments.models import Refund, RefundStatus
from reports.percentiles import MEDIAN, P90, Seconds, duration_stats
from reports.periods import Period
from reports.registry import ReportFilters
from reports.tables import COUNT, DURATION, MONEY, PERCENT, TEXT, Column, Table

KEY = "aftersales"
TITLE = _("After-sales")

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)


def _order_filter(filters: ReportFilters, prefix: str) -> Q:
    """The filters as a condition on the order reached through `prefix` ("order", …)."""
    condition = Q()
    if filters.channel:
        condition &= Q(**{f"{prefix}__channel": filters.channel})
    if filters.warehouse_id:
        condition &= Q(
            Exists(
                Fulfillment.objects.filter(
                    order=OuterRef(prefix),
                    warehouse_id=filters.warehouse_id,
                )
            )
        )
    return condition


def _in_period(period: Period, field: str) -> Q:
    return Q(**{f"{field}__gte": period.starts_at, f"{field}__lt": period.ends_at})


def _requests(period: Period, filters: ReportFilters):
    return AfterSalesRequest.objects.filter(
        _in_period(period, "created_at"), _order_filter(filters, "order")
    )


def _drill(period: Period, filters: ReportFilters, **extra) -> dict:
    return {
        "aftersales_from": period.start.isoformat(),
        "aftersales_to": period.last_day.isoformat(),
        **extra,
        **filters.as_query(),
    }


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH)


def _by_reason(period: Period, filters: ReportFilters) -> Table:
    counts = list(
        _requests(period, filters)
        .order_by()
        .values("reason")
        .annotate(requests=Count("pk"))
        .order_by("-requests", "reason")
    )
    total = sum(row["requests"] for row in counts)
    labels = dict(RequestReason.choices)
    return Table(
        key="by_reason",
        title=_("Requests by reason"),
        columns=[
            Column("reason", _("Reason"), TEXT),
            Column("requests", _("Requests"), COUNT),
            Column("share", _("Share"), PERCENT),
        ],
        rows=[
            {
                "reason": labels.get(row["reason"], row["reason"]),
                "requests": row["requests"],
                "share": _share(row["requests"], total),
                "_drill": _drill(period, filters, aftersales_reason=row["reason"]),
            }
            for row in counts
        ],
    )


def _by_product(period: Period, filters: ReportFilters) -> Table:
    asked = list(
        RequestLine.objects.filter(
            _in_period(period, "request__created_at"), _order_filter(filters, "request__order")
        )
        .order_by()
        .values(product=F("order_line__sku__product_id"), name=F("order_line__sku__product__name"))
        .annotate(requests=Count("request", distinct=True), units=Sum("quantity"))
        .order_by("-units", "name", "product")
    )
    sold = dict(
        OrderLine.objects.filter(
            _in_period(period, "order__created_at"),
            _order_filter(filters, "order"),
            sku__product_id__in=[row["product"] for row in asked],
        )
        .exclude(order__state__in=[OrderState.PENDING_PAYMENT, OrderState.CANCELLED])
        .exclude(order__channel=Channel.REPLACEMENT)
        .order_by()
        .values("sku__product_id")
        .annotate(units=Sum("quantity"))
        .values_list("sku__product_id", "units")
    )
    return Table(
        key="by_product",
        title=_("Requests by product"),
        columns=[
            Column("product", _("Product"), TEXT),
            Column("requests", _("Requests"), COUNT),
            Column("units", _("Units"), COUNT),
            Column("sold", _("Units sold"), COUNT),
            Column("rate", _("Request rate"), PERCENT),
        ],
        rows=[
            {
                "product": row["name"],
                "requests": row["requests"],
                "units": row["units"],
                "sold": sold.get(row["product"], 0),
                "rate": _share(row["units"], sold.get(row["product"], 0)),
                "_drill": _drill(period, filters, product=str(row["product"])),
            }
            for row in asked
        ],
        note=_(
            "Request rate: units asked about / units sold in the orders placed in the period "
            "(a request can be about an earlier order)."
        ),
    )


def _refunds(period: Period, filters: ReportFilters) -> Table:
    gateway = (
        Refund.objects.filter(
            _in_period(period, "created_at"),
            _order_filter(filters, "payment__order"),
            status=RefundStatus.SUCCEEDED,
            reference__startswith=AfterSalesRequest.NUMBER_PREFIX,
        )
        .order_by()
        .aggregate(refunds=Count("pk"), amount=Sum("amount", default=Decimal("0.00")))
    )
    manual = (
        RequestEvent.objects.filter(
            _in_period(period, "created_at"),
            _order_filter(filters, "request__order"),
            kind=RequestEventKind.REFUNDED,
            details__method="manual",
        )
        .annotate(paid=Cast(KeyTextTransform("amount", "details"), MONEY_FIELD))
        .filter(paid__gt=0)
        .order_by()
        .aggregate(
            refunds=Count("pk"),
            amount=Sum("paid", default=Decimal("0.00"), output_field=MONEY_FIELD),
        )
    )
    rows = []
    for source, label, figures in (
        ("gateway", _("Refunds through the payment gateway"), gateway),
        ("manual", _("Manual payouts (cash on delivery)"), manual),
    ):
        rows.append(
            {
                "source": label,
                "refunds": figures["refunds"],
                "amount": Decimal(figures["amount"]).quantize(CENT),
                "_drill": {
                    "refunded_from": period.start.isoformat(),
                    "refunded_to": period.last_day.isoformat(),
                    "refund_source": source,
                    **filters.as_query(),
                },
            }
        )
    rows.append(
        {
            "source": _("Total"),
            "refunds": rows[0]["refunds"] + rows[1]["refunds"],
            "amount": rows[0]["amount"] + rows[1]["amount"],
        }
    )
    return Table(
        key="refunds",
        title=_("Refunds paid"),
        columns=[
            Column("source", _("Paid as"), TEXT),
            Column("refunds", _("Refunds"), COUNT),
            Column("amount", _("Amount"), MONEY),
        ],
        rows=rows,
    )


def _resolution(period: Period, filters: ReportFilters) -> Table:
    resolved = _requests(period, filters).filter(
        state__in=[RequestState.CLOSED, RequestState.REJECTED], closed_at__isnull=False
    )
    durations = {
        kind: Case(When(kind=kind, then=Seconds(F("closed_at"), F("created_at"))))
        for kind in RequestKind.values
    }
    stats = duration_stats(resolved, durations)
    return Table(
        key="resolution",
        title=_("Time to resolve"),
        columns=[
            Column("kind", _("Kind"), TEXT),
            Column("requests", _("Resolved"), COUNT),
            Column("median", _("Median"), DURATION),
            Column("p90", _("90th percentile"), DURATION),
        ],
        rows=[
            {
                "kind": label,
                "requests": stats[kind]["count"],
                "median": _rounded(stats[kind][MEDIAN]),
                "p90": _rounded(stats[kind][P90]),
                "_drill": _drill(period, filters, aftersales_kind=kind),
            }
            for kind, label in RequestKind.choices
        ],
        note=_("Requests created in the period and closed or rejected, from submission."),
    )


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


def build(*, period: Period, filters: ReportFilters) -> list[Table]:
    return [
        _by_reason(period, filters),
        _by_product(period, filters),
        _refunds(period, filters),
        _resolution(period, filters),
    ]
