"""The sales report (RPT-1) against a hand-computed fixture: every figure of every table, to the
cent, beside the previous period, with the period cut at midnight Asia/Shanghai.

October 2026 (the period) and September 2026 (the previous period). SKUs: A 100.00 and C 50.00
of product PA, B 30.00 of product PB.

    October                          lines        disc ship  refunds     where
    O1 storefront online paid   A×2, B×1  disc 20 ship 10  refund 15 (+ pending 5, failed 7)
                                            广东省 深圳市  10-05 12:00
    O2 marketplace online paid  C×1       disc 0  ship 0   广东省 广州市  10-31 23:59:59
    O3 storefront cod shipped   B×3       disc 0  ship 8   manual payout 12 (+ a gateway
                                after-sales event, not counted)  浙江省 杭州市  10-01 00:00:30
    O7 storefront online unpaid B×1       disc 0  ship 0   浙江省 杭州市  10-20 09:00
    -- not counted: cancelled unpaid A×1 (10-10), replacement A×1 (10-11), A×1 placed 11-01 00:00
    September
    P1 storefront online paid   A×1       disc 0  ship 10  refund 10 (paid back in October)
                                            广东省 深圳市  09-15 10:00
    P2 marketplace online paid  B×2       disc 0  ship 0   广东省 广州市  09-30 23:59:30

Summary, October: orders 4, items 8, GMV 400.00, discounts 20.00, shipping 18.00, refunds
27.00, net 371.00, AOV 398 / 4 = 99.50. September: 2, 3, 160.00, 0.00, 10.00, 10.00, 160.00,
85.00.
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from aftersales.models import RequestEvent, RequestEventKind, RequestState
from orders.forms import StaffOrderFilterForm
from orders.models import Channel, Order, OrderLine, OrderState, PaymentMethod
from payments.models import Payment, PaymentStatus, Refund, RefundStatus
from reports import sales
from reports.periods import PeriodKind, period_containing
from reports.registry import ReportFilters, report
from tests.aftersales.returns_kit import make_request
from tests.factories import ProductFactory, SKUFactory, make_address, make_order

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = period_containing(PeriodKind.MONTH, date(2026, 10, 15))
D = Decimal


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def place(when: datetime, *, province="广东省", city="深圳市", **kwargs) -> Order:
    order = make_order(address=make_address(province=province, city=city), **kwargs)
    Order.objects.filter(pk=order.pk).update(created_at=when)
    return Order.objects.get(pk=order.pk)


def refund(order: Order, amount: str, status=RefundStatus.SUCCEEDED) -> Refund:
    payment = Payment.objects.filter(order=order).first() or Payment.objects.create(
        order=order,
        gateway="sandbox",
        amount=order.total_amount,
        captured_amount=order.total_amount,
        status=PaymentStatus.SUCCEEDED,
    )
    return Refund.objects.create(payment=payment, amount=D(amount), reason="test", status=status)


@pytest.fixture
def shop():
    pa, pb = ProductFactory(name="PA"), ProductFactory(name="PB")
    a = SKUFactory(product=pa, code="A", price=D("100.00"))
    b = SKUFactory(product=pb, code="B", price=D("30.00"))
    c = SKUFactory(product=pa, code="C", price=D("50.00"))
    paid = {"state": OrderState.PAID}

    o1 = place(at(2026, 10, 5, 12), skus=[a, b], quantities=[2, 1], shipping_amount=D("10"), **paid)
    line_a = o1.lines.get(sku=a)
    OrderLine.objects.filter(pk=line_a.pk).update(discount_amount=D("20.00"))
    Order.objects.filter(pk=o1.pk).update(discount_amount=D("20.00"), total_amount=D("220.00"))
    refund(o1, "15.00")
    refund(o1, "5.00", RefundStatus.PENDING)
    refund(o1, "7.00", RefundStatus.FAILED)

    o2 = place(
        at(2026, 10, 31, 23, 59, 59), skus=[c], channel=Channel.MARKETPLACE, city="广州市", **paid
    )
    o3 = place(
        at(2026, 10, 1, 0, 0, 30),
        skus=[b],
        quantities=[3],
        shipping_amount=D("8"),
        payment_method=PaymentMethod.CASH_ON_DELIVERY,
        state=OrderState.SHIPPED,
        province="浙江省",
        city="杭州市",
    )
    request = make_request(order=o3, state=RequestState.SUBMITTED)
    for details in ({"method": "manual", "amount": "12.00"}, {"amount": "99.00", "refunds": []}):
        RequestEvent.objects.create(
            request=request,
            created_at=at(2026, 10, 3),
            kind=RequestEventKind.REFUNDED,
            details=details,
        )
    o7 = place(at(2026, 10, 20, 9), skus=[b], province="浙江省", city="杭州市")

    # Not sales, or not in the period: none of these may show anywhere.
    elsewhere = {"province": "江苏省", "city": "南京市"}
    place(at(2026, 10, 10), skus=[a], state=OrderState.CANCELLED, **elsewhere)
    replacement = place(at(2026, 10, 11), skus=[a], **paid, **elsewhere)
    Order.objects.filter(pk=replacement.pk).update(channel=Channel.REPLACEMENT)
    place(at(2026, 11, 1), skus=[a], **paid, **elsewhere)
    place(at(2026, 8, 31, 23, 59), skus=[a], **paid, **elsewhere)

    p1 = place(at(2026, 9, 15, 10), skus=[a], shipping_amount=D("10"), **paid)
    refund(p1, "10.00")  # paid back in October, counted with September's order
    p2 = place(
        at(2026, 9, 30, 23, 59, 30),
        skus=[b],
        quantities=[2],
        channel=Channel.MARKETPLACE,
        city="广州市",
        **paid,
    )
    return {"o1": o1, "o2": o2, "o3": o3, "o7": o7, "p1": p1, "p2": p2, "a": a, "b": b, "c": c}


def tables(period=OCTOBER, filters=None) -> dict:
    filters = filters or ReportFilters()
    return {table.key: table for table in sales.build(period=period, filters=filters)}


def supports(*names) -> bool:
    return set(names) <= set(StaffOrderFilterForm.base_fields)


def drill(**narrow):
    query = {"placed_from": "2026-10-01", "placed_to": "2026-10-31"}
    if supports("sales_only"):
        query["sales_only"] = "1"
    if not supports(*narrow):
        return None
    return {**query, **{k: str(v) for k, v in narrow.items()}}


def test_the_registry_offers_the_sales_report():
    assert report("sales") is sales
    assert sales.KEY == "sales"
    assert str(sales.TITLE)


def test_summary_every_figure_beside_the_previous_period(shop):
    summary = tables()["summary"]
    got = {row["key"]: (row["current"], row["previous"], row["change"]) for row in summary.rows}
    assert got == {
        "orders": (4, 2, D(100)),
        "items": (8, 3, D(500) / D(3)),
        "gmv": (D("400.00"), D("160.00"), D(150)),
        "discounts": (D("20.00"), D("0.00"), None),
        "shipping": (D("18.00"), D("10.00"), D(80)),
        "refunds": (D("27.00"), D("10.00"), D(170)),
        "net": (D("371.00"), D("160.00"), D("131.875")),
        "aov": (D("99.50"), D("85.00"), (D("99.50") - D("85.00")) * 100 / D("85.00")),
    }
    assert summary.rows[0]["_drill"] == drill()
    assert [row["key"] for row in summary.rows] == [
        "orders", "items", "gmv", "discounts", "shipping", "refunds", "net", "aov",
    ]  # fmt: skip


def test_by_day_cuts_at_midnight_in_shanghai(shop):
    by_day = tables()["by_day"]
    assert [row["day"] for row in by_day.rows] == OCTOBER.days()
    busy = {row["day"]: (row["orders"], row["gmv"], row["net"]) for row in by_day.rows}
    assert busy.pop(date(2026, 10, 1)) == (1, D("90.00"), D("86.00"))  # 00:00:30 local
    assert busy.pop(date(2026, 10, 5)) == (1, D("230.00"), D("205.00"))
    assert busy.pop(date(2026, 10, 20)) == (1, D("30.00"), D("30.00"))
    assert busy.pop(date(2026, 10, 31)) == (1, D("50.00"), D("50.00"))  # 23:59:59 local
    assert set(busy.values()) == {(0, D("0.00"), D("0.00"))}
    first = by_day.rows[0]["_drill"]
    if supports("placed_from", "placed_to"):
        assert first == {**drill(), "placed_from": "2026-10-01", "placed_to": "2026-10-01"}


def test_the_period_boundary_is_local_midnight_not_utc(shop):
    # 2026-10-01 00:00:30 in Shanghai is 2026-09-30 16:00:30 UTC: October's, not September's.
    assert OCTOBER.starts_at == at(2026, 10, 1)
    september = tables(OCTOBER.previous())["summary"]
    orders = next(row for row in september.rows if row["key"] == "orders")
    # P1 and P2 (23:59:30 on the 30th); the order of 08-31 23:59 local is August's.
    assert (orders["current"], orders["previous"]) == (2, 1)
    day = period_containing(PeriodKind.DAY, date(2026, 10, 31))
    gmv = next(row for row in tables(day)["summary"].rows if row["key"] == "gmv")
    assert (gmv["current"], gmv["previous"]) == (D("50.00"), D("0.00"))


def test_by_channel(shop):
    rows = tables()["by_channel"].rows
    assert [(row["channel_code"], str(row["channel"])) for row in rows] == [
        ("storefront", str(Channel.STOREFRONT.label)),
        ("marketplace", str(Channel.MARKETPLACE.label)),
    ]
    figures = [
        (r["orders"], r["items"], r["gmv"], r["discounts"], r["shipping"], r["refunds"], r["net"])
        for r in rows
    ]
    assert figures == [
        (3, 7, D("350.00"), D("20.00"), D("18.00"), D("27.00"), D("321.00")),
        (1, 1, D("50.00"), D("0.00"), D("0.00"), D("0.00"), D("50.00")),
    ]
    assert [(r["net_previous"], r["net_change"]) for r in rows] == [
        (D("100.00"), D(221)),
        (D("60.00"), D(-10) * 100 / D(60)),
    ]
    assert [r["_drill"] for r in rows] == [
        drill(channel="storefront"),
        drill(channel="marketplace"),
    ]


def test_by_payment_method(shop):
    rows = tables()["by_payment_method"].rows
    assert [
        (r["payment_method_code"], r["orders"], r["items"], r["gmv"], r["discounts"],
         r["shipping"], r["refunds"], r["net"], r["net_previous"], r["net_change"])
        for r in rows
    ] == [
        ("online", 3, 5, D("310.00"), D("20.00"), D("10.00"), D("15.00"), D("285.00"),
         D("160.00"), D("78.125")),
        ("cod", 1, 3, D("90.00"), D("0.00"), D("8.00"), D("12.00"), D("86.00"), D("0.00"), None),
    ]  # fmt: skip
    assert rows[1]["_drill"] == drill(payment_method="cod")


def test_by_province_and_city(shop):
    report_tables = tables()
    provinces = [
        (r["province"], r["orders"], r["items"], r["gmv"], r["discounts"], r["shipping"],
         r["refunds"], r["net"], r["net_previous"], r["net_change"])
        for r in report_tables["by_province"].rows
    ]  # fmt: skip
    assert provinces == [
        ("广东省", 2, 4, D("280.00"), D("20.00"), D("10.00"), D("15.00"), D("255.00"),
         D("160.00"), D("59.375")),
        ("浙江省", 2, 4, D("120.00"), D("0.00"), D("8.00"), D("12.00"), D("116.00"), D("0.00"),
         None),
    ]  # fmt: skip
    cities = [
        (r["province"], r["city"], r["orders"], r["items"], r["gmv"], r["discounts"],
         r["shipping"], r["refunds"], r["net"], r["net_previous"], r["net_change"])
        for r in report_tables["by_city"].rows
    ]  # fmt: skip
    assert cities == [
        ("广东省", "深圳市", 1, 3, D("230.00"), D("20.00"), D("10.00"), D("15.00"), D("205.00"),
         D("100.00"), D(105)),
        ("浙江省", "杭州市", 2, 4, D("120.00"), D("0.00"), D("8.00"), D("12.00"), D("116.00"),
         D("0.00"), None),
        ("广东省", "广州市", 1, 1, D("50.00"), D("0.00"), D("0.00"), D("0.00"), D("50.00"),
         D("60.00"), D(-10) * 100 / D(60)),
    ]  # fmt: skip
    assert report_tables["by_city"].rows[0]["_drill"] == drill(province="广东省", city="深圳市")


def test_by_product_and_sku(shop):
    report_tables = tables()
    products = [
        (r["product"], r["orders"], r["items"], r["gmv"], r["discounts"], r["net"],
         r["gmv_previous"], r["gmv_change"])
        for r in report_tables["by_product"].rows
    ]  # fmt: skip
    assert products == [
        ("PA", 2, 3, D("250.00"), D("20.00"), D("230.00"), D("100.00"), D(150)),
        ("PB", 3, 5, D("150.00"), D("0.00"), D("150.00"), D("60.00"), D(150)),
    ]
    skus = [
        (r["sku"], r["product"], r["orders"], r["items"], r["gmv"], r["discounts"], r["net"],
         r["gmv_previous"], r["gmv_change"])
        for r in report_tables["by_sku"].rows
    ]  # fmt: skip
    assert skus == [
        ("A", "PA", 1, 2, D("200.00"), D("20.00"), D("180.00"), D("100.00"), D(100)),
        ("B", "PB", 3, 5, D("150.00"), D("0.00"), D("150.00"), D("60.00"), D(150)),
        ("C", "PA", 1, 1, D("50.00"), D("0.00"), D("50.00"), D("0.00"), None),
    ]
    assert report_tables["by_sku"].rows[0]["_drill"] == drill(sku=shop["a"].pk)


def test_the_channel_filter_narrows_every_table(shop):
    report_tables = tables(filters=ReportFilters(channel=Channel.MARKETPLACE))
    summary = {r["key"]: (r["current"], r["previous"]) for r in report_tables["summary"].rows}
    assert summary == {
        "orders": (1, 1),
        "items": (1, 2),
        "gmv": (D("50.00"), D("60.00")),
        "discounts": (D("0.00"), D("0.00")),
        "shipping": (D("0.00"), D("0.00")),
        "refunds": (D("0.00"), D("0.00")),
        "net": (D("50.00"), D("60.00")),
        "aov": (D("50.00"), D("60.00")),
    }
    assert [r["province"] for r in report_tables["by_province"].rows] == ["广东省"]
    assert [r["sku"] for r in report_tables["by_sku"].rows] == ["C"]
    assert sum(r["orders"] for r in report_tables["by_day"].rows) == 1
    assert [r["channel_code"] for r in report_tables["by_channel"].rows] == ["marketplace"]
    if supports("placed_from", "placed_to", "channel"):
        assert report_tables["by_channel"].rows[0]["_drill"] == drill(channel="marketplace")
    # The warehouse filter means nothing to sales: the same figures.
    same = tables(filters=ReportFilters(warehouse_id=12345))["summary"].rows
    assert same == tables()["summary"].rows


def test_breakdowns_add_up_to_the_summary(shop):
    report_tables = tables()
    net = next(r["current"] for r in report_tables["summary"].rows if r["key"] == "net")
    for key in ("by_day", "by_channel", "by_payment_method", "by_province", "by_city"):
        assert sum(r["net"] for r in report_tables[key].rows) == net, key


def test_an_empty_period_has_zeros_and_no_change(db):
    report_tables = tables()
    summary = {r["key"]: (r["current"], r["change"]) for r in report_tables["summary"].rows}
    assert summary["orders"] == (0, None)
    assert summary["net"] == (D("0.00"), None)
    assert summary["aov"] == (None, None)
    assert report_tables["by_channel"].rows == []
    assert len(report_tables["by_day"].rows) == 31


def test_a_drill_lists_exactly_the_orders_behind_the_row(shop):
    """Through the staff order list's own filters: the orders of a row, and only those."""
    from orders.selectors import staff_order_list

    if not supports("sales_only", "province", "city", "sku"):
        pytest.skip("the staff order list cannot filter this finely yet")
    report_tables = tables()
    checks = [
        (report_tables["summary"].rows[0], {shop[k].pk for k in ("o1", "o2", "o3", "o7")}),
        (report_tables["by_city"].rows[1], {shop["o3"].pk, shop["o7"].pk}),
        (report_tables["by_sku"].rows[1], {shop[k].pk for k in ("o1", "o3", "o7")}),
    ]
    for row, expected in checks:
        form = StaffOrderFilterForm(row["_drill"])
        assert form.is_valid(), form.errors
        listed = staff_order_list(**{k: v for k, v in form.cleaned_data.items() if v})
        assert set(listed.values_list("pk", flat=True)) == expected, row


def test_a_fixed_number_of_queries(shop, django_assert_num_queries):
    with django_assert_num_queries(sales.QUERIES):
        sales.build(period=OCTOBER, filters=ReportFilters())
    for n in range(3):
        place(at(2026, 10, 2 + n), skus=[shop["b"]], state=OrderState.PAID, province=f"省{n}")
    with django_assert_num_queries(sales.QUERIES):
        sales.build(period=OCTOBER, filters=ReportFilters(channel=Channel.STOREFRONT))


def test_snapshots_serialise_to_the_cent(shop):
    as_json = [table.to_json() for table in sales.build(period=OCTOBER, filters=ReportFilters())]
    summary = next(t for t in as_json if t["key"] == "summary")
    net = next(r for r in summary["rows"] if r["key"] == "net")
    assert (net["current"], net["previous"]) == ("371.00", "160.00")
