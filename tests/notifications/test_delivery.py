"""Delivery of the outbox: each message sent once, retried with backoff, given up after the
last attempt, taken over from a worker that died, and never lost to a broker outage (§5)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

from notifications import services, tasks
from notifications.models import Notification, NotificationKind, NotificationStatus
from tests.factories import UserFactory, make_order

from . import channels as test_channels

pytestmark = pytest.mark.django_db

FAILING = {"email": "tests.notifications.channels.FailingChannel"}


def record(order, key="test:1", **fields) -> Notification:
    fields.setdefault("kind", NotificationKind.ORDER_PLACED)
    return services.notify(key=key, order=order, recipient=order.customer, **fields)


def test_notifying_twice_with_one_key_records_one_message(django_capture_on_commit_callbacks):
    order = make_order()

    with django_capture_on_commit_callbacks() as handed_over:
        first = record(order, key="same")
        second = record(order, key="same")

    assert first is not None and second is None
    assert Notification.objects.filter(dedup_key="same").count() == 1
    assert len(handed_over) == 1  # one delivery queued, and only after the commit
    assert mail.outbox == []


def test_a_message_is_sent_once_however_often_its_delivery_runs(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order()
    note = order.notifications.get()

    assert tasks.deliver_notification.apply(args=[note.pk]).get() is False
    assert tasks.deliver_notification(note.pk) is False

    assert len(mail.outbox) == 1
    note.refresh_from_db()
    assert (note.status, note.attempts) == (NotificationStatus.SENT, 1)
    assert note.sent_at is not None and note.claimed_at is not None


def test_a_message_another_worker_is_sending_is_left_to_it():
    note = record(make_order())
    Notification.objects.filter(pk=note.pk).update(
        status=NotificationStatus.SENDING, claimed_at=timezone.now(), attempts=1
    )

    assert tasks.deliver_notification(note.pk) is False
    assert tasks.dispatch_notifications() == 0

    assert mail.outbox == []


def test_a_claim_older_than_the_lease_is_sent_again(settings):
    settings.NOTIFICATION_LEASE_SECONDS = 300
    note = record(make_order())
    died_at = timezone.now() - timedelta(seconds=301)
    Notification.objects.filter(pk=note.pk).update(
        status=NotificationStatus.SENDING,
        claimed_at=died_at,
        attempts=1,
        next_attempt_at=died_at,
    )

    assert tasks.dispatch_notifications() == 1
    assert tasks.dispatch_notifications() == 0

    assert len(mail.outbox) == 1
    note.refresh_from_db()
    assert (note.status, note.attempts) == (NotificationStatus.SENT, 2)


def test_a_failed_attempt_is_kept_and_retried_later_with_a_growing_delay(settings):
    settings.NOTIFICATION_CHANNELS = FAILING
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 60
    note = record(make_order())

    with pytest.raises(ConnectionRefusedError):
        services.deliver(note.pk)

    note.refresh_from_db()
    assert (note.status, note.attempts) == (NotificationStatus.PENDING, 1)
    assert "ConnectionRefusedError: mail server refused" in note.last_error
    wait = (note.next_attempt_at - timezone.now()).total_seconds()
    assert 55 < wait <= 60
    assert tasks.dispatch_notifications() == 0  # not due yet
    assert [services.retry_delay(n) for n in (1, 2, 3, 8)] == [60, 120, 240, 3600]

    Notification.objects.filter(pk=note.pk).update(next_attempt_at=timezone.now())
    with pytest.raises(ConnectionRefusedError):
        services.deliver(note.pk)
    note.refresh_from_db()
    assert note.attempts == 2
    assert 115 < (note.next_attempt_at - timezone.now()).total_seconds() <= 120


def test_a_message_is_given_up_after_the_last_attempt_and_an_admin_can_send_it_again(
    settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_CHANNELS = FAILING
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order()  # the first attempt fails
    note = order.notifications.get()
    for attempt in (2, 3):  # each retry when it is due
        note.refresh_from_db()
        assert (note.status, note.attempts) == (NotificationStatus.PENDING, attempt - 1)
        Notification.objects.filter(pk=note.pk).update(next_attempt_at=timezone.now())
        tasks.dispatch_notifications()

    note.refresh_from_db()
    assert (note.status, note.attempts) == (NotificationStatus.FAILED, 3)
    assert "ConnectionRefusedError" in note.last_error
    Notification.objects.filter(pk=note.pk).update(next_attempt_at=timezone.now())
    assert tasks.dispatch_notifications() == 0
    assert tasks.deliver_notification(note.pk) is False

    settings.NOTIFICATION_CHANNELS = None  # the mail server is back
    admin = UserFactory(role="admin")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.retry_failed(notification_ids=[note.pk], actor=admin) == 1

    note.refresh_from_db()
    assert (note.status, note.attempts, note.last_error) == (NotificationStatus.SENT, 1, "")
    assert len(mail.outbox) == 1


def test_a_message_that_cannot_be_sent_is_given_up_at_once():
    note = record(make_order(), channel="pigeon")

    assert tasks.deliver_notification(note.pk) is False

    note.refresh_from_db()
    assert (note.status, note.attempts) == (NotificationStatus.FAILED, 1)
    assert "pigeon" in note.last_error


def test_a_message_whose_hand_over_failed_is_sent_by_the_dispatcher(
    monkeypatch, settings, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    monkeypatch.setattr(tasks.deliver_notification, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order()  # the order is placed all the same
    monkeypatch.undo()
    note = order.notifications.get()
    assert note.status == NotificationStatus.PENDING and mail.outbox == []

    assert tasks.dispatch_notifications() == 0  # still within the direct hand-over's time
    Notification.objects.filter(pk=note.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert tasks.dispatch_notifications() == 1
    assert tasks.dispatch_notifications() == 0

    assert len(mail.outbox) == 1
    assert order.number in mail.outbox[0].subject


def test_the_dispatcher_does_not_hand_over_a_row_twice_within_a_lease(settings):
    settings.NOTIFICATION_DISPATCH_AFTER_SECONDS = 0
    order = make_order()
    record(order)
    due = list(order.notifications.order_by("pk").values_list("pk", flat=True))

    assert services.due_for_dispatch() == due
    assert services.due_for_dispatch() == []


def test_a_new_channel_needs_no_change_in_the_callers(settings):
    settings.NOTIFICATION_CHANNELS = {
        "email": "notifications.channels.EmailChannel",
        "sms": "tests.notifications.channels.RecordingChannel",
    }
    order = make_order()
    note = record(order, channel="sms", address="13812345678")

    assert services.deliver(note.pk) is True

    assert test_channels.SENT[-1][0] == note.pk
    assert order.number in test_channels.SENT[-1][1]
    assert mail.outbox == []


def test_the_message_is_rendered_in_the_recipients_language():
    for language in ("zh-hans", "en"):
        customer = UserFactory(role="customer", language=language)
        order = make_order(customer=customer)
        services.deliver(order.notifications.get().pk)

    chinese, english = mail.outbox
    assert "已收到订单" in chinese.subject and "received" not in chinese.subject
    assert "received" in english.subject
    assert "感谢您的订购" in chinese.body
    assert "Thank you for your order" in english.body
    html, mime = english.alternatives[0]
    assert mime == "text/html" and '<html lang="en">' in html
    assert '<html lang="zh-hans">' in chinese.alternatives[0][0]


def test_the_message_shows_amounts_as_money_and_links_to_the_order(settings):
    settings.SITE_URL = "https://shop.example.com/"
    customer = UserFactory(role="customer", language="en")
    order = make_order(customer=customer)

    services.deliver(order.notifications.get().pk)

    body = mail.outbox[0].body
    assert f"Total: ¥{order.total_amount:,.2f}" in body
    assert f"https://shop.example.com/account/orders/{order.number}/" in body
    assert (
        f'href="https://shop.example.com/account/orders/{order.number}/"'
        in (mail.outbox[0].alternatives[0][0])
    )


def test_a_guests_message_links_to_the_order_lookup():
    order = make_order(contact_email="guest@example.com")

    services.deliver(order.notifications.get().pk)

    assert mail.outbox[0].to == ["guest@example.com"]
    assert "/track/" in mail.outbox[0].body


@pytest.mark.parametrize("kind", [kind.value for kind in NotificationKind])
def test_every_kind_renders_in_both_languages(kind):
    from notifications.rendering import render

    order = make_order(state="shipped")
    context = {
        "reason": "Address incomplete",
        "amount": "99.00",
        "shipments": [{"carrier": "SF", "tracking_number": "SF1", "tracking_url": ""}],
    }
    if kind == NotificationKind.LOW_STOCK:
        from inventory.models import StockAlert

        alert = StockAlert.objects.create(
            sku=order.lines.get().sku, scope="all", kind="low_stock", available=1, threshold=5
        )
        context = {"alert_id": alert.pk}
    for language in ("zh-hans", "en"):
        note = Notification(
            kind=kind,
            address="x@example.com",
            language=language,
            order=None if kind == NotificationKind.LOW_STOCK else order,
            recipient=order.customer,
            context=context,
            dedup_key=f"{kind}:{language}",
        )
        rendered = render(note)
        assert rendered.subject and "\n" not in rendered.subject
        assert rendered.text.strip() and "{" not in rendered.text
        assert rendered.html.startswith("<!DOCTYPE html>")


def test_managers_are_told_of_a_stock_alert_through_the_outbox(
    django_capture_on_commit_callbacks,
):
    from inventory.models import StockAlert

    manager = UserFactory(role="manager", language="en")
    sku = make_order().lines.get().sku
    alert = StockAlert.objects.create(
        sku=sku, scope="all", kind="stock_out", available=0, threshold=5
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert services.alert_managers_of_stock(alert=alert) == 1
        assert services.alert_managers_of_stock(alert=alert) == 0

    alerts = [message for message in mail.outbox if message.to == [manager.email]]
    assert len(alerts) == 1 and alerts[0].subject == f"Out of stock: {sku.code}"


def test_past_events_are_recorded_as_sent_and_never_delivered(django_capture_on_commit_callbacks):
    from notifications.services import recorded_as_history

    with django_capture_on_commit_callbacks() as callbacks, recorded_as_history():
        order = make_order()

    message = Notification.objects.get(order=order, kind=NotificationKind.ORDER_PLACED)
    assert message.status == NotificationStatus.SENT
    assert not [c for c in callbacks if "deliver_notification" in getattr(c, "__qualname__", "")]
    # Outside the block, messages go out again.
    assert services.notify(kind=NotificationKind.ORDER_PLACED, key="live", address="a@example.com")


def test_a_reminder_due_after_the_order_was_paid_is_skipped(mailoutbox):
    from orders.models import OrderState

    order = make_order(state=OrderState.PAID)
    message = services.notify(
        kind=NotificationKind.PAYMENT_REMINDER,
        key="late-reminder",
        order=order,
        address="late@example.com",
    )

    tasks.deliver_notification(message.pk)

    message.refresh_from_db()
    assert message.status == NotificationStatus.SKIPPED
    assert not [m for m in mailoutbox if m.to == ["late@example.com"]]
