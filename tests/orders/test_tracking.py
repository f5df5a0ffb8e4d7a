"""Shipments and carrier tracking events (ORD-9, FUL-5, FUL-6): recording a parcel, storing
pushed events once, and what the customer's order page shows of them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from orders.models import Carrier, OrderState, Shipment, TrackingEvent, TrackingStatus
from orders.shipments import ShipmentRefused, add_tracking_event, record_shipment
from tests.factories import UserFactory, make_order, staff_user

pytestmark = pytest.mark.django_db


def _ship(order, *, carrier="SF", number="SF1234567890123"):
    return record_shipment(
        order_id=order.pk,
        carrier_code=carrier,
        tracking_number=number,
        actor=staff_user(Role.WAREHOUSE),
    )


def test_common_chinese_carriers_are_there_with_tracking_pages():
    codes = set(Carrier.objects.values_list("code", flat=True))

    assert {"SF", "ZTO", "YTO", "YD", "STO", "EMS", "JD"} <= codes
    sf = Carrier.objects.get(code="SF")
    assert sf.name == "顺丰速运"
    assert sf.tracking_url("SF1234567890123").startswith("https://")
    assert "SF1234567890123" in sf.tracking_url("SF1234567890123")


def test_record_shipment_stores_normalized_number_and_who_handed_it_over():
    order = make_order(state=OrderState.PICKED)

    shipment = _ship(order, number=" sf 1234-5678-90123 ")

    assert shipment.order_id == order.pk
    assert shipment.tracking_number == "SF1234567890123"
    assert shipment.carrier.code == "SF"
    assert shipment.created_by == staff_user(Role.WAREHOUSE)
    assert shipment.shipped_at is not None


@pytest.mark.parametrize("number", ["1234567", "SF12345678901234567890123456789", "SF12345/678"])
def test_malformed_tracking_number_is_refused(number):
    order = make_order(state=OrderState.PICKED)

    with pytest.raises(ShipmentRefused, match="8 to 30"):
        _ship(order, number=number)

    assert not Shipment.objects.exists()


def test_same_tracking_number_for_another_order_is_refused():
    first = make_order(state=OrderState.PICKED)
    second = make_order(state=OrderState.PICKED)
    _ship(first, number="773012345678901", carrier="ZTO")

    with pytest.raises(ShipmentRefused, match="already used"):
        _ship(second, number="773012345678901", carrier="ZTO")

    assert Shipment.objects.filter(order=second).count() == 0


def test_same_number_with_another_carrier_is_a_different_parcel():
    first = make_order(state=OrderState.PICKED)
    second = make_order(state=OrderState.PICKED)

    _ship(first, number="1234567890123", carrier="ZTO")
    _ship(second, number="1234567890123", carrier="YTO")

    assert Shipment.objects.count() == 2


def test_recording_the_same_parcel_twice_for_its_order_returns_the_first():
    order = make_order(state=OrderState.PICKED)

    first = _ship(order)
    again = _ship(order)

    assert again.pk == first.pk
    assert Shipment.objects.count() == 1


@pytest.mark.parametrize("state", [OrderState.PENDING_PAYMENT, OrderState.PAID])
def test_an_order_not_yet_picked_cannot_be_shipped(state):
    order = make_order(state=state)

    with pytest.raises(ShipmentRefused):
        _ship(order)


def test_unknown_or_inactive_carrier_is_refused():
    order = make_order(state=OrderState.PICKED)
    Carrier.objects.filter(code="EMS").update(is_active=False)

    with pytest.raises(ShipmentRefused, match="Unknown carrier"):
        _ship(order, carrier="NOPE")
    with pytest.raises(ShipmentRefused, match="Unknown carrier"):
        _ship(order, carrier="EMS", number="EA123456789CN")


def test_a_customer_cannot_record_a_shipment():
    order = make_order(state=OrderState.PICKED)

    with pytest.raises(ShipmentRefused, match="not allowed"):
        record_shipment(
            order_id=order.pk,
            carrier_code="SF",
            tracking_number="SF1234567890123",
            actor=order.customer,
        )


def test_a_tracking_event_pushed_twice_is_stored_once():
    shipment = _ship(make_order(state=OrderState.SHIPPED))
    at = timezone.now() - timedelta(hours=3)
    event = {
        "shipment_id": shipment.pk,
        "occurred_at": at,
        "status": TrackingStatus.IN_TRANSIT,
        "location": "杭州转运中心",
        "description": "快件已到达杭州转运中心",
    }

    first, created = add_tracking_event(**event)
    again, created_again = add_tracking_event(**event)

    assert created is True
    assert created_again is False
    assert again.pk == first.pk
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 1


def test_a_new_tracking_event_counts_as_a_change_of_the_order_and_a_repeat_does_not():
    """The API's changed-since feed (API-1) lists an order whose parcel moved."""
    from orders.models import Order

    shipment = _ship(make_order(state=OrderState.SHIPPED))
    before = Order.objects.get(pk=shipment.order_id).updated_at
    event = {
        "shipment_id": shipment.pk,
        "occurred_at": timezone.now() - timedelta(hours=1),
        "status": TrackingStatus.IN_TRANSIT,
    }

    add_tracking_event(**event)
    moved = Order.objects.get(pk=shipment.order_id).updated_at
    add_tracking_event(**event)

    assert moved > before
    assert Order.objects.get(pk=shipment.order_id).updated_at == moved


def test_delivered_event_stamps_the_shipment_delivered_at():
    shipment = _ship(make_order(state=OrderState.SHIPPED))
    at = timezone.now() - timedelta(hours=1)

    add_tracking_event(shipment_id=shipment.pk, occurred_at=at, status=TrackingStatus.IN_TRANSIT)
    shipment.refresh_from_db()
    assert shipment.delivered_at is None

    add_tracking_event(shipment_id=shipment.pk, occurred_at=at, status=TrackingStatus.DELIVERED)
    shipment.refresh_from_db()
    assert shipment.delivered_at == at


def test_unknown_status_and_naive_time_are_refused():
    shipment = _ship(make_order(state=OrderState.SHIPPED))

    with pytest.raises(ShipmentRefused):
        add_tracking_event(shipment_id=shipment.pk, occurred_at=timezone.now(), status="lost")
    with pytest.raises(ShipmentRefused):
        add_tracking_event(
            shipment_id=shipment.pk,
            occurred_at=timezone.now().replace(tzinfo=None),
            status=TrackingStatus.COLLECTED,
        )
    assert not TrackingEvent.objects.exists()


def test_order_page_shows_shipment_tracking_link_and_events_newest_first(client):
    order = make_order(state=OrderState.SHIPPED)
    shipment = _ship(order)
    now = timezone.now()
    add_tracking_event(
        shipment_id=shipment.pk,
        occurred_at=now - timedelta(days=1),
        status=TrackingStatus.COLLECTED,
        location="杭州西湖区营业部",
        description="顺丰速运 已收取快件",
    )
    add_tracking_event(
        shipment_id=shipment.pk,
        occurred_at=now - timedelta(hours=2),
        status=TrackingStatus.OUT_FOR_DELIVERY,
        location="杭州文三路营业点",
        description="快件交给派送员,正在派送途中",
    )
    client.force_login(order.customer)

    html = client.get(reverse("orders:my_order_detail", args=[order.number])).content.decode()

    assert "顺丰速运" in html
    assert shipment.tracking_url() in html.replace("&amp;", "&")
    assert "SF1234567890123" in html
    assert html.index("正在派送途中") < html.index("已收取快件")
    assert "Out for delivery" in html


def test_order_page_timeline_hides_staff_names_and_review_reasons(client):
    from orders import services

    packer = UserFactory(role=Role.WAREHOUSE, first_name="Packer Wang")
    order = make_order(state=OrderState.SHIPPED, warehouse=packer)
    services.flag_for_review(order_id=order.pk, reason="Suspicious: same card as fraud ring")
    client.force_login(order.customer)

    html = client.get(reverse("orders:my_order_detail", args=[order.number])).content.decode()

    assert "Order placed" in html
    assert "Payment received" in html
    assert "Handed to the carrier" in html
    assert "by the shop" in html
    assert "Packer Wang" not in html
    assert packer.email not in html
    assert "fraud ring" not in html
    assert "Flagged for review" not in html
