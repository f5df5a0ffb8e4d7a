"""Fulfilment efficiency report (RPT-2) against a hand-computed fixture: every figure, the
period cut at midnight Asia/Shanghai, the same percentiles on SQLite and PostgreSQL, per-person
floor figures and a constant number of queries."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from fulfillment.models import ActivityKind, FloorActivity, Fulfillment, FulfillmentState, Wave
from inventory.models import Warehouse
from orders.models import (
    Carrier,
    Channel,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderState,
    PaymentMethod,
    Shipment,
)
from reports import fulfillment
from reports.percentiles import Seconds, duration_stats, percentile_cont
from reports.periods import PeriodKind, period_containing
from reports.registry import ReportFilters
from tests.factories import UserFactory, WarehouseFactory, make_order

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = period_containing(PeriodKind.DAY, date(2026, 11, 10))
T0 = datetime(2026, 11, 10, 9, 0, tzinfo=SHANGHAI)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def at(order: Order, kind: str, when: datetime) -> None:
    OrderEvent.objects.create(order=order, kind=kind, created_at=when)


def set_event(order: Order, kind: str, when: datetime) -> None:
    assert OrderEvent.objects.filter(order=order, kind=kind).update(created_at=when) == 1


def carrier() -> Carrier:
    return Carrier.objects.filter(code="RPT").first() or Carrier.objects.create(
        code="RPT", name="Report Express"
    )


def shipment(order: Order, number: str, shipped: datetime, delivered: datetime | None):
    Shipment.objects.create(
        order=order,
        carrier=carrier(),
        tracking_number=number,
        shipped_at=shipped,
        delivered_at=delivered,
    )


def online(state: str, paid: datetime, **kwargs) -> Order:
    order = make_order(state=state, **kwargs)
    Order.objects.filter(pk=order.pk).update(paid_at=paid)
    return order


@pytest.fixture
def stage_orders():
    """Durations from payment (seconds), by hand:
    A paid 09:00: flagged, released +10 min; picked +1 h; shipped +3 h; delivered +27 h (two
      parcels, +20 h and +27 h: the later counts); completed +51 h.
    B paid 11:00: flagged, released +30 min; picked +2 h; shipped +5 h; delivered +30 h.
    C paid 13:00 (marketplace): picked +30 min; shipped +4 h; not delivered.
    D cash on delivery, accepted 10:00 (cash collected two days later: not the start):
      picked +1 h 30; shipped +6 h.
    G paid at 00:00:00 local exactly: in the period, no stage reached.
    Outside: E paid 23:59:59 the day before, F paid 00:00:00 the day after, H cash on
    delivery accepted the day before but its cash collected in the period.
    """
    a = online(OrderState.COMPLETED, T0)
    at(a, OrderEventKind.FLAGGED, T0)
    at(a, OrderEventKind.RELEASED, T0 + 10 * M)
    at(a, OrderEventKind.RELEASED, T0 + 5 * H)  # a later release does not count
    set_event(a, OrderEventKind.PICKED, T0 + H)
    shipment(a, "A1", T0 + 3 * H, T0 + 20 * H)
    shipment(a, "A2", T0 + 3 * H, T0 + 27 * H)
    Order.objects.filter(pk=a.pk).update(shipped_at=T0 + 3 * H, completed_at=T0 + 51 * H)

    b_paid = T0 + 2 * H
    b = online(OrderState.SHIPPED, b_paid)
    at(b, OrderEventKind.FLAGGED, b_paid)
    at(b, OrderEventKind.RELEASED, b_paid + 30 * M)
    set_event(b, OrderEventKind.PICKED, b_paid + 2 * H)
    shipment(b, "B1", b_paid + 5 * H, b_paid + 30 * H)
    Order.objects.filter(pk=b.pk).update(shipped_at=b_paid + 5 * H)

    c_paid = T0 + 4 * H
    c = online(OrderState.SHIPPED, c_paid, channel=Channel.MARKETPLACE)
    set_event(c, OrderEventKind.PICKED, c_paid + 30 * M)
    shipment(c, "C1", c_paid + 4 * H, None)
    Order.objects.filter(pk=c.pk).update(shipped_at=c_paid + 4 * H)

    d_accepted = T0 + H
    d = make_order(state=OrderState.SHIPPED, payment_method=PaymentMethod.CASH_ON_DELIVERY)
    set_event(d, OrderEventKind.COD_ACCEPTED, d_accepted)
    set_event(d, OrderEventKind.PICKED, d_accepted + 90 * M)
    Order.objects.filter(pk=d.pk).update(shipped_at=d_accepted + 6 * H, paid_at=d_accepted + 50 * H)

    online(OrderState.PAID, datetime(2026, 11, 10, 0, 0, tzinfo=SHANGHAI))  # G
    for paid in (
        datetime(2026, 11, 9, 23, 59, 59, tzinfo=SHANGHAI),  # E
        datetime(2026, 11, 11, 0, 0, tzinfo=SHANGHAI),  # F
    ):
        late = online(OrderState.PICKED, paid)
        set_event(late, OrderEventKind.PICKED, paid + 10 * M)
    h = make_order(state=OrderState.PICKED, payment_method=PaymentMethod.CASH_ON_DELIVERY)
    set_event(h, OrderEventKind.COD_ACCEPTED, T0 - 12 * H)
    set_event(h, OrderEventKind.PICKED, T0)
    Order.objects.filter(pk=h.pk).update(paid_at=T0)
    return {"a": a, "b": b, "c": c, "d": d}


def table(tables, key):
    return next(t for t in tables if t.key == key)


def figures(tables, key="stages"):
    return {
        row["_drill"]["stage"]: (row["orders"], row["median"], row["p90"])
        for row in table(tables, key).rows
    }


def test_stage_durations_by_hand(stage_orders):
    tables = fulfillment.build(period=DAY, filters=ReportFilters())

    assert figures(tables) == {
        # [600, 1800]: median 1200, p90 600 + 0.9 × 1200
        "audit": (2, 1200.0, 1680.0),
        # [1800, 3600, 5400, 7200]: median 3600 + 0.5 × 1800, p90 5400 + 0.7 × 1800
        "picked": (4, 4500.0, 6660.0),
        # [10800, 14400, 18000, 21600]
        "shipped": (4, 16200.0, 20520.0),
        # [97200, 108000]
        "delivered": (2, 102600.0, 106920.0),
        "completed": (1, 183600.0, 183600.0),
    }
    row = table(tables, "stages").rows[0]
    assert row["_drill"] == {"paid_from": "2026-11-10", "paid_to": "2026-11-10", "stage": "audit"}


def test_stage_filters_by_channel_and_warehouse(stage_orders):
    marketplace = fulfillment.build(period=DAY, filters=ReportFilters(channel=Channel.MARKETPLACE))
    assert figures(marketplace) == {
        "audit": (0, None, None),
        "picked": (1, 1800.0, 1800.0),
        "shipped": (1, 14400.0, 14400.0),
        "delivered": (0, None, None),
        "completed": (0, None, None),
    }
    assert table(marketplace, "stages").rows[1]["_drill"]["channel"] == Channel.MARKETPLACE

    warehouse_id = Fulfillment.objects.filter(order=stage_orders["a"]).get().warehouse_id
    same = fulfillment.build(period=DAY, filters=ReportFilters(warehouse_id=warehouse_id))
    assert figures(same)["picked"] == (4, 4500.0, 6660.0)
    other = fulfillment.build(period=DAY, filters=ReportFilters(warehouse_id=WarehouseFactory().pk))
    assert {stage: row[0] for stage, row in figures(other).items()} == dict.fromkeys(
        ["audit", "picked", "shipped", "delivered", "completed"], 0
    )


@pytest.mark.parametrize(
    "values",
    [[600, 1800], [1800, 3600, 5400, 7200], [5], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [3, 3, 10]],
)
def test_sqlite_fallback_equals_percentile_cont(values):
    """The definition the SQLite path uses is PostgreSQL's, value for value."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            pytest.skip("compares with PostgreSQL's percentile_cont")
        cursor.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v), "
            "percentile_cont(0.9) WITHIN GROUP (ORDER BY v) FROM unnest(%s::bigint[]) AS v",
            [values],
        )
        median, p90 = cursor.fetchone()
    assert (percentile_cont(values, 0.5), percentile_cont(values, 0.9)) == (median, p90)


@pytest.mark.postgres
def test_fallback_gives_percentile_cont_figures_on_the_same_rows(stage_orders):
    for n in range(7):  # more values, uneven gaps
        more = online(OrderState.SHIPPED, T0 + n * 7 * M)
        Order.objects.filter(pk=more.pk).update(shipped_at=T0 + (n * n + 1) * 13 * M)
    orders = fulfillment.started_orders(DAY, ReportFilters())
    durations = {
        "shipped": Seconds(F("shipped_at"), F("started")),
        "paid": Seconds(F("started"), F("created_at")),
    }
    fractions = (0.5, 0.9, 0.25, 0.99)
    native = duration_stats(orders, durations, fractions, native=True)
    assert native == duration_stats(orders, durations, fractions, native=False)
    assert native["shipped"]["count"] == 11


def test_percentile_definition():
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([7], 0.9) == 7.0
    assert percentile_cont([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.9) == 10.0
    assert percentile_cont([0, 100], 0.9) == 90.0


def test_constant_number_of_queries(stage_orders, django_assert_max_num_queries):
    filters = ReportFilters()
    with CaptureQueriesContext(connection) as first:
        fulfillment.build(period=DAY, filters=filters)
    for n in range(3):
        more = online(OrderState.SHIPPED, T0 + n * M)
        Order.objects.filter(pk=more.pk).update(shipped_at=T0 + H)
    with django_assert_max_num_queries(len(first.captured_queries)):
        fulfillment.build(period=DAY, filters=filters)
    assert len(first.captured_queries) <= 14


def test_where_orders_wait_now():
    now = datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)
    for hours in (2, 1):
        pending = make_order()
        Order.objects.filter(pk=pending.pk).update(created_at=now - hours * H)

    def floor(order, **fields):
        assert Fulfillment.objects.filter(order=order).update(**fields) == 1

    held = online(OrderState.PAID, now - 3 * H)
    Order.objects.filter(pk=held.pk).update(needs_review=True, review_reason="Big order")
    floor(held, state=FulfillmentState.READY, wave=None, released_at=now - 4 * H)

    listed = online(OrderState.PAID, now - 2 * H)
    part = Fulfillment.objects.get(order=listed)
    wave = Wave.objects.create(
        warehouse_id=part.warehouse_id, created_at=now, created_by=UserFactory(role=Role.WAREHOUSE)
    )
    floor(listed, state=FulfillmentState.READY, wave=wave, released_at=now - 150 * M)
    floor(online(OrderState.PAID, now), state=FulfillmentState.PICKED, picked_at=now - 5 * H)
    floor(online(OrderState.PAID, now), state=FulfillmentState.PACKED, packed_at=now - 6 * H)

    on_road = online(OrderState.SHIPPED, now - 40 * H)
    Order.objects.filter(pk=on_road.pk).update(shipped_at=now - 30 * H)
    shipment(on_road, "R1", now - 30 * H, None)
    arrived = online(OrderState.SHIPPED, now - 40 * H)
    Order.objects.filter(pk=arrived.pk).update(shipped_at=now - 35 * H)
    shipment(arrived, "R2", now - 35 * H, now - 10 * H)
    done = online(OrderState.COMPLETED, now - 50 * H)  # waits nowhere
    Fulfillment.objects.filter(order__in=[on_road, arrived, done]).update(
        state=FulfillmentState.SHIPPED
    )

    tables = fulfillment.build(period=DAY, filters=ReportFilters(), now=now)
    waiting = {row["_drill"]["waiting"]: (row["orders"], row["oldest"]) for row in tables[1].rows}
    assert waiting == {
        "awaiting_payment": (2, 7200.0),
        "review": (1, 10800.0),
        "queue": (1, 14400.0),
        "pick_list": (1, 9000.0),
        "picked": (1, 18000.0),
        "packed": (1, 21600.0),
        "in_transit": (1, 108000.0),
        "delivered": (1, 36000.0),
    }


def test_pickers_and_packers_from_floor_scans():
    """Week 2026-W46 (Mon 9 – Sun 15 November, Shanghai). Ann picks 3 units on the 10th from
    09:00 to 11:00 with a short pick at 10:00, 2 units on the 11th 14:00–14:30, one at 23:50 on
    the 13th and one at 00:10 on the 14th (two local days: no span, though the same UTC day),
    and one at 23:59 on the 8th (the week before). Bob packs two orders in three parcels on the
    10th 13:00–14:00 and hands one over at 15:00."""
    week = period_containing(PeriodKind.WEEK, date(2026, 11, 10))
    order = make_order(state=OrderState.PAID)
    part = Fulfillment.objects.get(order=order)
    warehouse = Warehouse.objects.get(pk=part.warehouse_id)
    ann = UserFactory(role=Role.WAREHOUSE, first_name="Ann", last_name="Li")
    bob = UserFactory(role=Role.WAREHOUSE, first_name="Bob", last_name="")

    def scan(actor, kind, when, units=0):
        FloorActivity.objects.create(
            kind=kind, actor=actor, at=when, warehouse=warehouse, fulfillment=part, units=units
        )

    def local(day, hour, minute=0):
        return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)

    for when in (local(10, 9), local(10, 9, 30), local(10, 11)):
        scan(ann, ActivityKind.PICK, when, 1)
    scan(ann, ActivityKind.SHORT, local(10, 10), 2)
    for when in (local(11, 14), local(11, 14, 30), local(13, 23, 50), local(14, 0, 10)):
        scan(ann, ActivityKind.PICK, when, 1)
    scan(ann, ActivityKind.PICK, local(8, 23, 59), 1)
    scan(bob, ActivityKind.PACK, local(10, 13), 3)
    scan(bob, ActivityKind.PACK, local(10, 13, 5), 0)
    scan(bob, ActivityKind.PACK, local(10, 14), 2)
    scan(bob, ActivityKind.HAND_OVER, local(10, 15))

    tables = fulfillment.build(period=week, filters=ReportFilters())
    assert table(tables, "pickers").rows == [
        # 7 units over 2 h + 30 min = 9000 s: 2.8 an hour
        {"person": "Ann Li", "units": 7, "shorts": 1, "hours": 9000.0, "per_hour": Decimal("2.8")}
    ]
    assert table(tables, "packers").rows == [
        {
            "person": "Bob",
            "orders": 2,
            "parcels": 3,
            "handed_over": 1,
            "hours": 7200.0,
            "per_hour": Decimal("1.0"),
        }
    ]
    elsewhere = fulfillment.build(
        period=week, filters=ReportFilters(warehouse_id=WarehouseFactory().pk)
    )
    assert table(elsewhere, "pickers").rows == table(elsewhere, "packers").rows == []
