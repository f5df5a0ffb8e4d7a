"""Every order event of SPEC §5 records exactly the messages it owes, in the transaction of the
change (ORD-2, ORD-5, ORD-6, ORD-10, FUL-5, FUL-6)."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications.models import Notification, NotificationKind
from orders import services, signals
from orders.models import Carrier, Order
from orders.shipments import record_shipment
from tests.factories import UserFactory, make_order, staff_user

pytestmark = pytest.mark.django_db


def kinds(order) -> list[str]:
    return list(order.notifications.order_by("pk").values_list("kind", flat=True))


def test_placing_an_order_records_one_confirmation_to_its_customer():
    customer = UserFactory(role="customer", email="buyer@example.com", language="en")

    order = make_order(customer=customer)

    note = Notification.objects.get()
    assert note.kind == NotificationKind.ORDER_PLACED
    assert (note.recipient, note.address, note.language) == (customer, "buyer@example.com", "en")
    assert note.order == order and note.status == "pending"
    assert note.dedup_key == f"order_placed:{order.pk}"


def test_a_guest_is_told_at_the_order_address_in_the_language_of_the_first_message():
    order = make_order(contact_email="guest@example.com", state="paid")

    rows = list(order.notifications.order_by("pk"))
    assert [row.kind for row in rows] == ["order_placed", "payment_received"]
    assert {(row.recipient_id, row.address) for row in rows} == {(None, "guest@example.com")}
    assert rows[1].language == rows[0].language
    assert rows[1].context == {"amount": str(order.total_amount)}


def test_the_main_path_tells_the_customer_each_step_once():
    order = make_order(state="completed")

    assert kinds(order) == [
        "order_placed",
        "payment_received",
        "order_shipped",
        "order_completed",
    ]


def test_shipping_tells_the_carrier_and_tracking_number_of_each_parcel():
    Carrier.objects.update_or_create(
        code="SF",
        defaults={
            "name": "SF Express",
            "tracking_url_template": "https://sf.example.com/t/{number}",
        },
    )
    order = make_order(state="picked")
    warehouse = staff_user("warehouse")

    record_shipment(
        order_id=order.pk, carrier_code="SF", tracking_number="SF1234567890", actor=warehouse
    )
    services.mark_shipped(order_id=order.pk, actor=warehouse)

    shipped = order.notifications.get(kind=NotificationKind.ORDER_SHIPPED)
    assert shipped.context == {
        "shipments": [
            {
                "carrier": "SF Express",
                "tracking_number": "SF1234567890",
                "tracking_url": "https://sf.example.com/t/SF1234567890",
                "expected_delivery": str(timezone.localdate() + timedelta(days=2)),
            }
        ]
    }


def test_a_cancelled_order_tells_the_customer_who_cancelled_and_why():
    order = make_order(state="cancelled")

    cancelled = order.notifications.get(kind=NotificationKind.ORDER_CANCELLED)
    assert cancelled.context["by_customer"] is True
    assert cancelled.context["by_system"] is False
    assert cancelled.context["refund"] == ""


def test_an_exception_order_alerts_every_active_service_agent_once_per_flag():
    agents = [UserFactory(role="service"), UserFactory(role="service")]
    UserFactory(role="service", is_active=False)
    UserFactory(role="warehouse")
    order = make_order()

    services.flag_for_review(order_id=order.pk, reason="Amount does not match")
    services.flag_for_review(order_id=order.pk, reason="Amount does not match")

    alerts = Notification.objects.filter(kind=NotificationKind.EXCEPTION_ORDER)
    assert Counter(alerts.values_list("recipient_id", flat=True)) == {
        agents[0].pk: 2,
        agents[1].pk: 2,
    }
    assert {alert.context["reason"] for alert in alerts} == {"Amount does not match"}


def test_a_payment_reminder_is_recorded_once_however_often_it_is_due():
    order = make_order()

    for _ in range(3):
        signals.payment_reminder_due.send(sender=Order, order_id=order.pk)

    assert kinds(order) == ["order_placed", "payment_reminder"]


def test_a_delayed_shipment_tells_the_customer_and_the_agents_once_per_stall():
    Carrier.objects.update_or_create(code="YTO", defaults={"name": "YTO Express"})
    agent = UserFactory(role="service")
    order = make_order(state="picked")
    shipment = record_shipment(
        order_id=order.pk,
        carrier_code="YTO",
        tracking_number="YT0000000001",
        actor=staff_user("warehouse"),
    )

    for _ in range(2):
        signals.shipment_delayed.send(sender=Order, order_id=order.pk, shipment_id=shipment.pk)

    delayed = Notification.objects.filter(kind__startswith="shipment_delayed")
    assert sorted(delayed.values_list("kind", "recipient_id")) == [
        ("shipment_delayed", order.customer_id),
        ("shipment_delayed_staff", agent.pk),
    ]


def test_messages_roll_back_with_the_change_they_tell_about():
    customer = UserFactory(role="customer")

    with pytest.raises(RuntimeError), transaction.atomic():
        make_order(customer=customer)
        raise RuntimeError("the order is not placed after all")

    assert not Notification.objects.exists()


def test_the_reminder_tells_the_deadline_in_the_customers_time_zone(
    django_capture_on_commit_callbacks,
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.core import mail

    customer = UserFactory(role="customer", language="en")
    order = make_order(customer=customer)
    deadline = datetime(2026, 11, 25, 4, 30, tzinfo=ZoneInfo("UTC"))

    with django_capture_on_commit_callbacks(execute=True):
        signals.payment_reminder_due.send(sender=Order, order_id=order.pk, deadline=deadline)

    reminder = mail.outbox[-1]
    assert "waiting for your payment" in reminder.subject
    assert "12:30" in reminder.body  # Asia/Shanghai
