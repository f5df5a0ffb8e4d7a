"""After-sales report (RPT-3) against a hand-computed fixture: every figure, the period cut at
midnight Asia/Shanghai, refunds to the cent, the same percentiles on SQLite and PostgreSQL,
and a constant number of queries."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from aftersales.models import (
    AfterSalesRequest,
    RequestEvent,
    RequestEventKind,
    RequestKind,
    RequestLine,
    RequestReason,
    RequestState,
)
from orders.models import Channel, Order, OrderLine, OrderState
from payments.models import Payment, PaymentStatus, Refund, RefundStatus
from reports import aftersales
from reports.periods import PeriodKind, period_containing
from reports.registry import ReportFilters
from tests.factories import SKUFactory, make_order

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = period_containing(PeriodKind.DAY, date(2026, 11, 10))
H = timedelta(hours=1)


def local(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=SHANGHAI)


def placed(when: datetime, *, state=OrderState.SHIPPED, **kwargs) -> Order:
    order = make_order(state=state, **kwargs)
    Order.objects.filter(pk=order.pk).update(created_at=when)
    return order


def request(order, kind, reason, created, *, state=RequestState.SUBMITTED, resolved=None, lines=()):
    made = AfterSalesRequest.objects.create(
        order=order, customer=order.customer, kind=kind, reason=reason, created_at=created
    )
    AfterSalesRequest.objects.filter(pk=made.pk).update(state=state, closed_at=resolved)
    for sku, quantity in lines:
        RequestLine.objects.create(
            request=made, order_line=OrderLine.objects.get(order=order, sku=sku), quantity=quantity
        )
    return made


def refund(payment, reference, amount, when, status=RefundStatus.SUCCEEDED):
    Refund.objects.create(
        payment=payment,
        reference=reference,
        amount=Decimal(amount),
        reason="test",
        status=status,
        created_at=when,
    )


def payout(req, amount, when, method="manual"):
    RequestEvent.objects.create(
        request=req,
        kind=RequestEventKind.REFUNDED,
        created_at=when,
        details={"amount": amount, "method": method},
    )


@pytest.fixture
def fixture():
    """Products P1 (sku1) and P2 (sku2). Orders placed on 10 November (Shanghai): O1 sku1 × 3 +
    sku2 × 1, O2 sku1 × 2 (marketplace); not sales: O3 sku1 × 5 cancelled, O5 sku2 × 7 awaiting
    payment; O4 sku1 × 4 placed at 23:59 the day before. Sold: P1 5, P2 1.

    Requests created on the 10th: R1 O1 return, damaged, sku1 × 2 + sku2 × 1, closed after 2 h;
    R2 O2 refund only, damaged, sku1 × 1, closed after 4 h; R3 O4 return, quality, sku1 × 1,
    created 23:59:59, rejected after 1 h; R5 O1 withdrawn, other, sku1 × 2; R6 O1 refund only,
    wrong item, no lines, closed after 1 h. Outside: R4 O4 exchange at 00:00 on the 11th."""
    sku1 = SKUFactory(product__name="P1")
    sku2 = SKUFactory(product__name="P2")
    o1 = placed(local(10, 10), skus=[sku1, sku2], quantities=[3, 1])
    o2 = placed(local(10, 12), skus=[sku1], quantities=[2], channel=Channel.MARKETPLACE)
    placed(
        local(10, 12),
        skus=[sku1],
        quantities=[5],
        state=OrderState.CANCELLED,
        cancel_from=OrderState.PAID,
    )
    placed(local(10, 14), skus=[sku2], quantities=[7], state=OrderState.PENDING_PAYMENT)
    o4 = placed(local(9, 23, 59), skus=[sku1], quantities=[4])

    closed, rejected = RequestState.CLOSED, RequestState.REJECTED
    r1 = request(
        o1, RequestKind.RETURN_REFUND, RequestReason.DAMAGED, local(10, 11),
        state=closed, resolved=local(10, 13), lines=[(sku1, 2), (sku2, 1)],
    )  # fmt: skip
    r2 = request(
        o2, RequestKind.REFUND_ONLY, RequestReason.DAMAGED, local(10, 13),
        state=closed, resolved=local(10, 17), lines=[(sku1, 1)],
    )  # fmt: skip
    request(
        o4, RequestKind.RETURN_REFUND, RequestReason.QUALITY, local(10, 23, 59, 59),
        state=rejected, resolved=local(10, 23, 59, 59) + H, lines=[(sku1, 1)],
    )  # fmt: skip
    request(
        o4, RequestKind.EXCHANGE, RequestReason.CHANGED_MIND, local(11, 0),
        state=closed, resolved=local(11, 1), lines=[(sku1, 1)],
    )  # fmt: skip
    request(
        o1, RequestKind.RETURN_REFUND, RequestReason.OTHER, local(10, 15),
        state=RequestState.WITHDRAWN, resolved=local(10, 16), lines=[(sku1, 2)],
    )  # fmt: skip
    r6 = request(
        o1, RequestKind.REFUND_ONLY, RequestReason.WRONG_ITEM, local(10, 8),
        state=closed, resolved=local(10, 9),
    )  # fmt: skip

    pay1 = Payment.objects.create(
        order=o1, gateway="sandbox", amount=o1.total_amount, status=PaymentStatus.SUCCEEDED
    )
    pay2 = Payment.objects.create(
        order=o2, gateway="sandbox", amount=o2.total_amount, status=PaymentStatus.SUCCEEDED
    )
    refund(pay1, f"AS{r1.pk}-P{pay1.pk}-1", "30.00", local(10, 13))
    refund(pay2, f"AS{r2.pk}-P{pay2.pk}-1", "12.34", local(10, 17))
    refund(pay2, f"AS{r2.pk}-P{pay2.pk}-2", "10.00", local(10, 16), RefundStatus.FAILED)
    refund(pay1, "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "50.00", local(10, 12))  # a cancellation
    refund(pay1, f"AS{r6.pk}-P{pay1.pk}-1", "20.00", local(11, 0))  # the next day
    payout(r6, "15.50", local(10, 9))
    payout(r6, "4.51", local(10, 23, 59, 59))
    payout(r6, "0.00", local(10, 9))  # nothing to pay
    payout(r1, "99.00", local(10, 13), method="gateway")  # already counted as Refund rows
    payout(r6, "7.00", local(9, 23, 59, 59))  # the day before
    return {"sku1": sku1, "sku2": sku2}


def rows(tables, key):
    table = next(t for t in tables if t.key == key)
    return [{k: v for k, v in row.items() if k != "_drill"} for row in table.rows], table


def test_every_figure_by_hand(fixture):
    tables = aftersales.build(period=DAY, filters=ReportFilters())

    by_reason, table = rows(tables, "by_reason")
    assert by_reason == [
        {"reason": "Arrived damaged", "requests": 2, "share": Decimal("40.0")},
        {"reason": "Other", "requests": 1, "share": Decimal("20.0")},
        {"reason": "Quality problem", "requests": 1, "share": Decimal("20.0")},
        {"reason": "Wrong item sent", "requests": 1, "share": Decimal("20.0")},
    ]
    assert table.rows[0]["_drill"] == {
        "aftersales_from": "2026-11-10",
        "aftersales_to": "2026-11-10",
        "aftersales_reason": "damaged",
    }

    by_product, table = rows(tables, "by_product")
    assert by_product == [
        # R1 2 + R2 1 + R3 1 + R5 2 = 6 units of 5 sold
        {"product": "P1", "requests": 4, "units": 6, "sold": 5, "rate": Decimal("120.0")},
        {"product": "P2", "requests": 1, "units": 1, "sold": 1, "rate": Decimal("100.0")},
    ]
    assert table.rows[0]["_drill"]["product"] == str(fixture["sku1"].product_id)

    refunds, _table = rows(tables, "refunds")
    assert [(r["refunds"], r["amount"]) for r in refunds] == [
        (2, Decimal("42.34")),
        (2, Decimal("20.01")),
        (4, Decimal("62.35")),
    ]

    resolution, _table = rows(tables, "resolution")
    assert {r["kind"]: (r["requests"], r["median"], r["p90"]) for r in resolution} == {
        # R1 7200, R3 3600: median 5400, p90 3600 + 0.9 × 3600
        "Return and refund": (2, 5400.0, 6840.0),
        # R6 3600, R2 14400: median 9000, p90 3600 + 0.9 × 10800
        "Refund only": (2, 9000.0, 13320.0),
        "Exchange": (0, None, None),
        "Re-ship missing or damaged items": (0, None, None),
        "Change of information": (0, None, None),
    }


def test_channel_filter(fixture):
    tables = aftersales.build(period=DAY, filters=ReportFilters(channel=Channel.MARKETPLACE))
    assert rows(tables, "by_reason")[0] == [
        {"reason": "Arrived damaged", "requests": 1, "share": Decimal("100.0")}
    ]
    assert rows(tables, "by_product")[0] == [
        {"product": "P1", "requests": 1, "units": 1, "sold": 2, "rate": Decimal("50.0")}
    ]
    assert [(r["refunds"], r["amount"]) for r in rows(tables, "refunds")[0]] == [
        (1, Decimal("12.34")),
        (0, Decimal("0.00")),
        (1, Decimal("12.34")),
    ]


def test_an_empty_period():
    tables = aftersales.build(period=DAY, filters=ReportFilters())
    assert rows(tables, "by_reason")[0] == rows(tables, "by_product")[0] == []
    assert rows(tables, "refunds")[0][2] == {
        "source": "Total",
        "refunds": 0,
        "amount": Decimal("0.00"),
    }


def test_constant_number_of_queries(fixture, django_assert_max_num_queries):
    """Whatever the number of requests: 6 queries on PostgreSQL; on SQLite at most 5 more per
    kind (two percentiles, two values read each), 16 in all."""
    bound = 6 if connection.vendor == "postgresql" else 16
    with django_assert_max_num_queries(bound):
        aftersales.build(period=DAY, filters=ReportFilters())
    more = placed(local(10, 10), skus=[SKUFactory(), SKUFactory()])
    kinds = [RequestKind.RESHIP, RequestKind.EXCHANGE]
    for kind, line in zip(kinds, OrderLine.objects.filter(order=more), strict=True):
        request(
            more, kind, RequestReason.MISSING, local(10, 20),
            state=RequestState.CLOSED, resolved=local(10, 21), lines=[(line.sku, 1)],
        )  # fmt: skip
    with django_assert_max_num_queries(bound):
        aftersales.build(period=DAY, filters=ReportFilters())
