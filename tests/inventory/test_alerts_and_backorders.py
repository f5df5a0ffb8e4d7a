"""Low-stock alerts (INV-7) and backorders filled by arriving stock (INV-5)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import services
from inventory.ledger import ledger_differences
from inventory.models import Backorder, StockAlert, StockAlertKind, StockThreshold
from inventory.selectors import availability
from inventory.services import DemandLine, OutOfStock
from inventory.signals import backorder_filled
from tests.factories import BinFactory, SKUFactory, UserFactory, stock_sku

pytestmark = pytest.mark.django_db


def _buy(sku, units, group):
    return services.reserve(group=group, lines=[DemandLine(f"{group}:1", sku.pk, units)])


def test_crossing_the_threshold_tells_managers_once(mailoutbox, django_capture_on_commit_callbacks):
    manager = UserFactory(role="manager", email="boss@example.com")
    UserFactory(role="warehouse")
    sku = stock_sku(10)
    StockThreshold.objects.create(sku=sku, threshold=5)

    with django_capture_on_commit_callbacks(execute=True):
        _buy(sku, 4, "o1")  # 6 left: above
        _buy(sku, 2, "o2")  # 4 left: crosses
        _buy(sku, 1, "o3")  # 3 left: still below, no second message

    alert = StockAlert.objects.get()
    assert (alert.kind, alert.available, alert.cleared_at) == (StockAlertKind.LOW_STOCK, 4, None)
    assert [m.to for m in mailoutbox] == [[manager.email]]
    assert sku.code in mailoutbox[0].subject
    alert.refresh_from_db()
    assert alert.notified_at is not None


def test_alert_clears_when_stock_is_back_and_a_new_crossing_alerts_again(
    mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(role="manager")
    bin_ = BinFactory()
    sku = stock_sku(3, bin=bin_)
    StockThreshold.objects.create(sku=sku, threshold=5)

    # Each step commits on its own, as it would in the shop.
    with django_capture_on_commit_callbacks(execute=True):
        _buy(sku, 1, "o1")
    with django_capture_on_commit_callbacks(execute=True):
        services.receive(sku_id=sku.pk, bin_id=bin_.pk, quantity=10)
    with django_capture_on_commit_callbacks(execute=True):
        _buy(sku, 10, "o2")

    alerts = list(StockAlert.objects.order_by("id"))
    assert len(alerts) == 2
    assert alerts[0].cleared_at is not None
    assert alerts[1].cleared_at is None
    assert len(mailoutbox) == 2


def test_running_out_turns_the_alert_into_a_stock_out():
    sku = stock_sku(3)
    StockThreshold.objects.create(sku=sku, threshold=5)

    _buy(sku, 1, "o1")
    _buy(sku, 2, "o2")

    assert StockAlert.objects.get().kind == StockAlertKind.STOCK_OUT


def test_per_warehouse_threshold_watches_only_that_warehouse():
    here = BinFactory()
    there = BinFactory()
    sku = SKUFactory()
    StockThreshold.objects.create(sku=sku, warehouse=here.warehouse, threshold=3)
    stock_sku(4, bin=here, sku=sku)
    stock_sku(50, bin=there, sku=sku)

    services.write_off(sku_id=sku.pk, bin_id=there.pk, quantity=48, actor=None, reason="Broken")
    assert StockAlert.objects.count() == 0

    services.write_off(sku_id=sku.pk, bin_id=here.pk, quantity=2, actor=None, reason="Broken")
    alert = StockAlert.objects.get()
    assert alert.warehouse == here.warehouse


def test_out_of_stock_customer_may_wait_as_a_backorder():
    sku = stock_sku(2)

    with pytest.raises(OutOfStock):
        _buy(sku, 5, "refused")
    reservation = services.reserve(
        group="waits", lines=[DemandLine("waits:1", sku.pk, 5)], backorder_since=timezone.now()
    )

    (backorder,) = reservation.backorders
    assert (backorder.quantity, backorder.waiting) == (3, 3)
    assert availability(sku_ids=[sku.pk]) == {sku.pk: 0}


def test_arriving_stock_fills_backorders_oldest_paid_first():
    bin_ = BinFactory()
    sku = SKUFactory()
    now = timezone.now()
    late = services.reserve(
        group="late", lines=[DemandLine("late:1", sku.pk, 2)], backorder_since=now
    ).backorders[0]
    early = services.reserve(
        group="early",
        lines=[DemandLine("early:1", sku.pk, 2)],
        backorder_since=now - timedelta(hours=1),
    ).backorders[0]
    filled = []
    backorder_filled.connect(lambda sender, **kw: filled.append(kw), weak=False, dispatch_uid="t")

    try:
        services.receive(sku_id=sku.pk, bin_id=bin_.pk, quantity=3)
    finally:
        backorder_filled.disconnect(dispatch_uid="t")

    early.refresh_from_db()
    late.refresh_from_db()
    assert (early.filled, early.filled_at is not None) == (2, True)
    assert (late.filled, late.filled_at) == (1, None)
    assert availability(sku_ids=[sku.pk]) == {sku.pk: 0}
    assert ledger_differences() == []


def test_backorder_signal_waits_for_the_commit(django_capture_on_commit_callbacks):
    bin_ = BinFactory()
    sku = SKUFactory()
    services.reserve(
        group="g", lines=[DemandLine("g:1", sku.pk, 1)], backorder_since=timezone.now()
    )
    heard = []
    backorder_filled.connect(lambda sender, **kw: heard.append(kw), weak=False, dispatch_uid="t2")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.receive(sku_id=sku.pk, bin_id=bin_.pk, quantity=1)
        assert heard == []
        for callback in callbacks:
            callback()
    finally:
        backorder_filled.disconnect(dispatch_uid="t2")

    assert heard == [
        {
            "signal": backorder_filled,
            "group": "g",
            "line": "g:1",
            "sku_id": sku.pk,
            "units": 1,
            "complete": True,
        }
    ]


def test_releasing_an_order_cancels_its_backorders_and_feeds_others():
    bin_ = BinFactory()
    sku = stock_sku(2, bin=bin_)
    now = timezone.now()
    services.reserve(group="first", lines=[DemandLine("f", sku.pk, 2)])
    waiting = services.reserve(
        group="second", lines=[DemandLine("s", sku.pk, 2)], backorder_since=now
    ).backorders[0]
    cancelled = services.reserve(
        group="third",
        lines=[DemandLine("t", sku.pk, 1)],
        backorder_since=now + timedelta(minutes=1),
    ).backorders[0]

    services.release(group="third", reason="Customer cancelled")
    services.release(group="first", reason="Customer cancelled")

    waiting.refresh_from_db()
    cancelled.refresh_from_db()
    assert waiting.filled == 2
    assert cancelled.cancelled_at is not None and cancelled.filled == 0
    assert Backorder.objects.filter(filled_at__isnull=True, cancelled_at__isnull=True).count() == 0
    assert ledger_differences() == []


def test_alert_raised_while_the_broker_is_down_is_sent_by_the_dispatcher(
    mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from notifications import tasks
    from notifications.models import Notification, NotificationKind

    UserFactory(role="manager")
    sku = stock_sku(10)
    StockThreshold.objects.create(sku=sku, threshold=5)

    def broker_down(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(tasks.deliver_notification, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        _buy(sku, 6, "o1")  # the stock change still succeeds
    monkeypatch.undo()

    alert = StockAlert.objects.get()
    message = Notification.objects.get(kind=NotificationKind.LOW_STOCK)
    assert alert.notified_at is not None and message.status == "pending" and mailoutbox == []
    Notification.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())

    assert tasks.dispatch_notifications() == 1
    assert tasks.dispatch_notifications() == 0
    assert tasks.deliver_notification(message.pk) is False  # a late duplicate sends nothing
    assert len(mailoutbox) == 1


def test_a_short_line_that_may_not_wait_refuses_the_demand_even_with_backorders_allowed():
    waits, must_not = stock_sku(1), stock_sku(1)

    with pytest.raises(OutOfStock) as refused:
        services.reserve(
            group="mixed",
            lines=[
                DemandLine("mixed:1", waits.pk, 3, may_wait=True),
                DemandLine("mixed:2", must_not.pk, 2, may_wait=False),
            ],
            backorder_since=timezone.now(),
        )

    assert [shortage.sku_id for shortage in refused.value.shortages] == [must_not.pk]
    assert not Backorder.objects.exists()
    assert availability(sku_ids=[waits.pk, must_not.pk]) == {waits.pk: 1, must_not.pk: 1}
