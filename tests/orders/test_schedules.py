"""Order deadlines kept by beat (ORD-5, ORD-10, FUL-6): payment reminders, cancellation at the
payment deadline, automatic confirmation of receipt and delayed-parcel flags. The clock is
moved with time-machine, never slept on."""

from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.roles import Role
from inventory.ledger import ledger_differences
from inventory.selectors import availability
from orders import schedules, signals, tasks
from orders.models import (
    Order,
    OrderEvent,
    OrderEventKind,
    OrderState,
    PaymentMethod,
    Shipment,
    TrackingStatus,
)
from orders.services import flag_for_review
from orders.shipments import add_tracking_event, record_shipment
from tests.factories import make_order, staff_user, stock_sku

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(datetime(2026, 3, 2, 10, 0))


@pytest.fixture(autouse=True)
def deadlines(settings):
    settings.PAYMENT_DEADLINE_MINUTES = 30
    settings.PAYMENT_REMINDER_MINUTES_BEFORE = 10
    settings.AUTO_CONFIRM_DAYS = 10
    settings.SHIPMENT_DELAY_HOURS = 48
    settings.SCHEDULE_BATCH_SIZE = 2  # several batches with a handful of rows


@contextmanager
def at(moment: datetime):
    with time_machine.travel(moment, tick=False):
        yield


@contextmanager
def received(signal):
    """The keyword arguments of every `signal` sent inside the block."""
    calls: list[dict] = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    signal.connect(receiver, weak=False)
    try:
        yield calls
    finally:
        signal.disconnect(receiver)


def placed_at(moment: datetime, **kwargs) -> Order:
    with at(moment):
        return make_order(**kwargs)


# --- payment reminders (ORD-5) -------------------------------------------------------------------
def test_reminder_is_sent_once_and_only_inside_the_window():
    order = placed_at(T0)

    with received(signals.payment_reminder_due) as calls:
        with at(T0 + timedelta(minutes=19, seconds=59)):
            assert schedules.send_payment_reminders() == 0
        with at(T0 + timedelta(minutes=20)):
            assert schedules.send_payment_reminders() == 1
        with at(T0 + timedelta(minutes=25)):
            assert schedules.send_payment_reminders() == 0

    assert calls == [{"signal": signals.payment_reminder_due, "order_id": order.pk,
                      "deadline": T0 + timedelta(minutes=30)}]  # fmt: skip
    order.refresh_from_db()
    assert order.payment_reminded_at == T0 + timedelta(minutes=20)
    assert order.state == OrderState.PENDING_PAYMENT


def test_an_order_whose_window_was_missed_is_cancelled_not_reminded():
    placed_at(T0)

    with received(signals.payment_reminder_due) as calls, at(T0 + timedelta(minutes=30)):
        assert schedules.send_payment_reminders() == 0

    assert calls == []


def test_a_failing_reminder_rolls_back_alone_and_is_sent_by_the_next_run():
    first, second = placed_at(T0), placed_at(T0 + timedelta(seconds=1))

    def refuse_first(sender, order_id, **kwargs):
        if order_id == first.pk:
            raise RuntimeError("outbox unavailable")

    signals.payment_reminder_due.connect(refuse_first, weak=False)
    try:
        with at(T0 + timedelta(minutes=21)):
            assert schedules.send_payment_reminders() == 1
    finally:
        signals.payment_reminder_due.disconnect(refuse_first)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.payment_reminded_at is None  # the stamp rolled back with the signal
    assert second.payment_reminded_at is not None

    with at(T0 + timedelta(minutes=22)):
        assert schedules.send_payment_reminders() == 1
    first.refresh_from_db()
    assert first.payment_reminded_at == T0 + timedelta(minutes=22)


# --- cancellation at the deadline (ORD-5) -------------------------------------------------------
def test_cancel_at_the_deadline_releases_stock_and_records_the_system_as_actor():
    sku = stock_sku(5)
    order = placed_at(T0, skus=[sku], quantities=[2])
    assert availability(sku_ids=[sku.pk]) == {sku.pk: 3}

    with at(T0 + timedelta(minutes=29, seconds=59)):
        assert schedules.cancel_expired_orders() == 0
    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT

    with received(signals.order_cancelled) as cancelled, at(T0 + timedelta(minutes=30)):
        assert schedules.cancel_expired_orders() == 1

    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED
    assert order.cancelled_at == T0 + timedelta(minutes=30)
    event = order.events.get(kind=OrderEventKind.CANCELLED)
    assert event.actor is None
    assert event.reason == "Not paid by the deadline"
    assert (event.from_state, event.to_state) == (OrderState.PENDING_PAYMENT, OrderState.CANCELLED)
    assert [call["order_id"] for call in cancelled] == [order.pk]
    assert availability(sku_ids=[sku.pk]) == {sku.pk: 5}
    assert ledger_differences() == []


def test_running_the_cancellation_again_changes_nothing():
    orders = [placed_at(T0 + timedelta(seconds=i)) for i in range(5)]

    with at(T0 + timedelta(hours=1)):
        assert schedules.cancel_expired_orders() == 5  # in batches of two
        assert schedules.cancel_expired_orders() == 0

    events = OrderEvent.objects.filter(order__in=orders, kind=OrderEventKind.CANCELLED)
    assert events.count() == 5


def test_paid_cash_on_delivery_and_held_orders_are_left_alone():
    paid = placed_at(T0, state=OrderState.PAID)
    cod = placed_at(T0, payment_method=PaymentMethod.CASH_ON_DELIVERY)
    held = placed_at(T0)
    with at(T0 + timedelta(minutes=1)):
        flag_for_review(order_id=held.pk, reason="Payment of 1.00 does not match the total")

    with received(signals.payment_reminder_due) as reminders, at(T0 + timedelta(hours=2)):
        assert schedules.send_payment_reminders() == 0
        assert schedules.cancel_expired_orders() == 0

    assert reminders == []
    states = dict(Order.objects.values_list("pk", "state"))
    assert states == {
        paid.pk: OrderState.PAID,
        cod.pk: OrderState.PENDING_PAYMENT,
        held.pk: OrderState.PENDING_PAYMENT,
    }


def test_a_run_does_at_most_its_limit_and_the_next_run_goes_on():
    for i in range(3):
        placed_at(T0 + timedelta(seconds=i))

    with at(T0 + timedelta(hours=1)):
        assert schedules.cancel_expired_orders(limit=2) == 2
        assert schedules.cancel_expired_orders(limit=2) == 1

    assert not Order.objects.filter(state=OrderState.PENDING_PAYMENT).exists()


def test_an_order_that_cannot_be_cancelled_is_logged_and_the_others_go_on(caplog):
    first, second = placed_at(T0), placed_at(T0 + timedelta(seconds=1))

    def refuse_first(sender, order_id, **kwargs):
        if order_id == first.pk:
            raise RuntimeError("coupon row unavailable")

    signals.order_cancelled.connect(refuse_first, weak=False)
    try:
        with at(T0 + timedelta(hours=1)):
            assert schedules.cancel_expired_orders() == 1
    finally:
        signals.order_cancelled.disconnect(refuse_first)

    states = dict(Order.objects.values_list("pk", "state"))
    assert states == {first.pk: OrderState.PENDING_PAYMENT, second.pk: OrderState.CANCELLED}
    assert f"Could not cancel expired order id={first.pk}" in caplog.text
    assert ledger_differences() == []


# --- automatic confirmation of receipt (ORD-10) --------------------------------------------------
def _ship(order: Order, moment: datetime, number: str = "SF1234567890123") -> Shipment:
    with at(moment):
        return record_shipment(
            order_id=order.pk,
            carrier_code="SF",
            tracking_number=number,
            actor=staff_user(Role.WAREHOUSE),
        )


def test_shipped_order_with_no_delivery_is_confirmed_n_days_after_shipment():
    order = placed_at(T0, state=OrderState.SHIPPED)  # shipped at T0

    with received(signals.order_completed) as completed:
        with at(T0 + timedelta(days=10) - timedelta(minutes=1)):
            assert schedules.confirm_delivered_orders() == 0
        with at(T0 + timedelta(days=10)):
            assert schedules.confirm_delivered_orders() == 1
            assert schedules.confirm_delivered_orders() == 0

    order.refresh_from_db()
    assert order.state == OrderState.COMPLETED
    event = order.events.get(kind=OrderEventKind.COMPLETED)
    assert event.actor is None
    assert "10 days" in event.reason
    assert [call["order_id"] for call in completed] == [order.pk]


def test_a_cash_on_delivery_order_waits_for_its_cash_before_it_is_confirmed():
    from orders import services as order_services
    from orders.models import PaymentMethod

    order = placed_at(T0, state=OrderState.SHIPPED, payment_method=PaymentMethod.CASH_ON_DELIVERY)

    with at(T0 + timedelta(days=11)):
        assert schedules.confirm_delivered_orders() == 0  # refused at the door? the desk's
        order_services.record_cash_on_delivery(
            order_id=order.pk, amount=order.total_amount, actor=None
        )
        assert schedules.confirm_delivered_orders() == 1

    order.refresh_from_db()
    assert order.state == OrderState.COMPLETED


def test_a_delivered_parcel_is_confirmed_n_days_after_its_delivery():
    order = placed_at(T0, state=OrderState.SHIPPED)
    shipment = _ship(order, T0)
    add_tracking_event(
        shipment_id=shipment.pk, occurred_at=T0 + timedelta(days=3), status=TrackingStatus.DELIVERED
    )

    with at(T0 + timedelta(days=12)):
        assert schedules.confirm_delivered_orders() == 0
    with at(T0 + timedelta(days=13)):
        assert schedules.confirm_delivered_orders() == 1


def test_an_order_waits_for_its_last_parcel():
    order = placed_at(T0, state=OrderState.SHIPPED)
    _ship(order, T0)
    _ship(order, T0 + timedelta(days=4), number="SF9999999999999")  # a re-shipment

    with at(T0 + timedelta(days=11)):
        assert schedules.confirm_delivered_orders() == 0
    with at(T0 + timedelta(days=14)):
        assert schedules.confirm_delivered_orders() == 1


# --- delayed parcels (FUL-6) ---------------------------------------------------------------------
def test_a_parcel_without_movement_is_flagged_once():
    order = placed_at(T0, state=OrderState.SHIPPED)
    shipment = _ship(order, T0)
    last_scan = T0 + timedelta(hours=10)
    add_tracking_event(
        shipment_id=shipment.pk, occurred_at=last_scan, status=TrackingStatus.IN_TRANSIT
    )

    with received(signals.shipment_delayed) as delayed:
        with at(last_scan + timedelta(hours=47, minutes=59)):
            assert schedules.flag_delayed_shipments() == 0
        with at(last_scan + timedelta(hours=48)):
            assert schedules.flag_delayed_shipments() == 1
        with at(last_scan + timedelta(hours=96)):
            assert schedules.flag_delayed_shipments() == 0

    assert delayed == [
        {"signal": signals.shipment_delayed, "order_id": order.pk, "shipment_id": shipment.pk}
    ]
    shipment.refresh_from_db()
    assert shipment.delay_flagged_at == last_scan + timedelta(hours=48)


def test_a_parcel_never_scanned_counts_from_its_hand_over():
    order = placed_at(T0, state=OrderState.SHIPPED)
    _ship(order, T0)

    with at(T0 + timedelta(hours=48)):
        assert schedules.flag_delayed_shipments() == 1


def test_delivered_parcels_and_completed_orders_are_not_flagged():
    delivered = placed_at(T0, state=OrderState.SHIPPED)
    shipment = _ship(delivered, T0)
    add_tracking_event(
        shipment_id=shipment.pk, occurred_at=T0 + timedelta(hours=1), status="delivered"
    )
    completed = placed_at(T0, state=OrderState.SHIPPED)
    _ship(completed, T0, number="SF2222222222222")
    with at(T0 + timedelta(hours=2)):
        from orders.services import complete_order

        complete_order(order_id=completed.pk, actor=completed.customer)

    with at(T0 + timedelta(days=5)):
        assert schedules.flag_delayed_shipments() == 0


# --- the tasks beat runs --------------------------------------------------------------------------
def test_tasks_run_the_schedules_and_say_how_many_rows_they_changed():
    placed_at(T0)
    placed_at(T0 - timedelta(minutes=25))

    with at(T0 + timedelta(minutes=21)):
        assert tasks.send_payment_reminders.delay().get() == 1
        assert tasks.cancel_expired_orders.delay().get() == 1
        assert tasks.confirm_delivered_orders.delay().get() == 0
        assert tasks.flag_delayed_shipments.delay().get() == 0


def test_beat_runs_every_schedule_with_late_acknowledgement(settings):
    from config.celery import app

    app.loader.import_default_modules()  # what a worker does at start: find every tasks.py
    entries = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in (
        "orders.tasks.send_payment_reminders",
        "orders.tasks.cancel_expired_orders",
        "orders.tasks.confirm_delivered_orders",
        "orders.tasks.flag_delayed_shipments",
        "inventory.tasks.check_stock_ledger",
    ):
        assert name in entries
        task = app.tasks[name]
        assert task.acks_late and task.reject_on_worker_lost
        assert task.soft_time_limit < task.time_limit
    assert entries["orders.tasks.cancel_expired_orders"]["schedule"] == timedelta(minutes=1)
    assert entries["orders.tasks.confirm_delivered_orders"]["schedule"] == timedelta(hours=1)
