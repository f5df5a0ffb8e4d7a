"""Tracking events typed in by staff on the order's page (FUL-6), and what a "delivered" event
does to a cash-on-delivery order (ORD-4): the cash is recorded once, when every parcel is
delivered."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from orders.models import (
    OrderEvent,
    OrderEventKind,
    OrderState,
    PaymentMethod,
    TrackingEvent,
    TrackingStatus,
)
from orders.shipments import add_tracking_event, record_shipment
from tests.factories import UserFactory, make_order, staff_user

pytestmark = pytest.mark.django_db


def ship(order, number="SF1234567890123", carrier="SF"):
    return record_shipment(
        order_id=order.pk,
        carrier_code=carrier,
        tracking_number=number,
        actor=staff_user(Role.WAREHOUSE),
    )


def add_url(order, shipment) -> str:
    return reverse("staff_orders:add_tracking_event", args=[order.number, shipment.pk])


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def form_data(**overrides) -> dict:
    data = {
        "status": TrackingStatus.IN_TRANSIT,
        "occurred_at": "2025-03-01T14:30",
        "location": "杭州转运中心",
        "description": "快件已到达杭州转运中心",
    }
    data.update(overrides)
    return data


# --- permissions ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.SERVICE])
def test_warehouse_and_service_staff_add_an_event_in_local_time(client, role):
    order = make_order(state=OrderState.SHIPPED)
    shipment = ship(order)
    client.force_login(UserFactory(role=role))

    response = client.post(add_url(order, shipment), form_data())

    assert response.status_code == 302
    assert response["Location"].endswith(f"/staff/orders/{order.number}/#parcel-{shipment.pk}")
    event = TrackingEvent.objects.get(shipment=shipment)
    assert event.status == TrackingStatus.IN_TRANSIT
    # 14:30 in Shanghai is 06:30 UTC.
    assert event.occurred_at == datetime(2025, 3, 1, 6, 30, tzinfo=UTC)
    assert event.location == "杭州转运中心"
    assert texts(response) == ["“In transit” added to the tracking of parcel SF1234567890123."]


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.MANAGER])
def test_customers_and_staff_without_the_permission_are_refused(client, role):
    order = make_order(state=OrderState.SHIPPED)
    shipment = ship(order)
    client.force_login(order.customer if role == Role.CUSTOMER else UserFactory(role=role))

    response = client.post(add_url(order, shipment), form_data())

    assert response.status_code == 403
    assert not TrackingEvent.objects.exists()


def test_a_visitor_is_sent_to_log_in(client):
    order = make_order(state=OrderState.SHIPPED)
    shipment = ship(order)

    response = client.post(add_url(order, shipment), form_data())

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert not TrackingEvent.objects.exists()


def test_a_parcel_of_another_order_is_not_found(client):
    order, other = make_order(state=OrderState.SHIPPED), make_order(state=OrderState.SHIPPED)
    shipment = ship(other)
    client.force_login(UserFactory(role=Role.WAREHOUSE))

    response = client.post(add_url(order, shipment), form_data())

    assert response.status_code == 404
    assert not TrackingEvent.objects.exists()


# --- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"status": "lost"}, "Status: Select a valid choice."),
        ({"occurred_at": ""}, "Time (local): This field is required."),
        ({"occurred_at": "yesterday"}, "Time (local): Enter a valid date/time."),
        ({"location": "x" * 101}, "Location: Ensure this value has at most 100 characters"),
    ],
)
def test_bad_input_is_explained_and_changes_nothing(client, overrides, says):
    order = make_order(state=OrderState.SHIPPED)
    shipment = ship(order)
    client.force_login(UserFactory(role=Role.WAREHOUSE))

    response = client.post(add_url(order, shipment), form_data(**overrides))

    assert response.status_code == 302
    (message,) = texts(response)
    assert message.startswith("No tracking event was added to parcel SF1234567890123: ")
    assert says in message
    assert not TrackingEvent.objects.exists()


def test_a_time_in_the_future_is_refused(client):
    order = make_order(state=OrderState.SHIPPED)
    shipment = ship(order)
    client.force_login(UserFactory(role=Role.WAREHOUSE))
    tomorrow = timezone.localtime() + timedelta(days=1)

    response = client.post(
        add_url(order, shipment), form_data(occurred_at=tomorrow.strftime("%Y-%m-%dT%H:%M"))
    )

    assert "is in the future" in texts(response)[0]
    assert not TrackingEvent.objects.exists()


def test_the_same_event_sent_twice_is_stored_once_and_said_so(client):
    order = make_order(state=OrderState.SHIPPED)
    shipment = ship(order)
    client.force_login(UserFactory(role=Role.WAREHOUSE))

    client.post(add_url(order, shipment), form_data())
    response = client.post(add_url(order, shipment), form_data())

    assert TrackingEvent.objects.filter(shipment=shipment).count() == 1
    # The first answer's message is still waiting to be shown: no page was opened between.
    assert texts(response)[-1] == (
        "Parcel SF1234567890123 already has this “In transit” event; nothing changed."
    )


# --- the order page ---------------------------------------------------------------------------
def test_order_page_shows_each_parcels_events_and_a_form_to_add_one(client):
    order = make_order(state=OrderState.SHIPPED)
    first, second = ship(order), ship(order, number="7731000012345678", carrier="ZTO")
    at = timezone.now() - timedelta(hours=5)
    add_tracking_event(
        shipment_id=first.pk, occurred_at=at, status="collected", description="顺丰已揽收"
    )
    add_tracking_event(
        shipment_id=second.pk, occurred_at=at, status="in_transit", description="中通运输中"
    )
    client.force_login(UserFactory(role=Role.WAREHOUSE))

    html = client.get(reverse("staff_orders:detail", args=[order.number])).content.decode()

    assert "顺丰已揽收" in html and "中通运输中" in html
    assert html.index("顺丰已揽收") < html.index("中通运输中")
    assert add_url(order, first) in html and add_url(order, second) in html
    assert f'id="id_track{first.pk}_status"' in html
    assert 'type="datetime-local"' in html


def test_order_page_offers_no_form_without_the_permission(client):
    order = make_order(state=OrderState.SHIPPED)
    shipment = ship(order)
    client.force_login(UserFactory(role=Role.MANAGER))

    html = client.get(reverse("staff_orders:detail", args=[order.number])).content.decode()

    assert "SF1234567890123" in html
    assert add_url(order, shipment) not in html


def test_order_page_query_count_does_not_grow_with_parcels_and_events(
    client, django_assert_max_num_queries
):
    client.force_login(UserFactory(role=Role.WAREHOUSE))
    small = make_order(state=OrderState.SHIPPED)
    ship(small)
    large = make_order(state=OrderState.SHIPPED)
    start = timezone.now() - timedelta(days=2)
    for n in range(3):
        shipment = ship(large, number=f"SF99999999990{n}")
        for hour in range(5):
            add_tracking_event(
                shipment_id=shipment.pk,
                occurred_at=start + timedelta(hours=hour),
                status=TrackingStatus.IN_TRANSIT,
            )

    counts = []
    for order in (small, large):
        with django_assert_max_num_queries(14) as captured:
            response = client.get(reverse("staff_orders:detail", args=[order.number]))
        assert response.status_code == 200
        counts.append(len(captured))

    assert counts[0] == counts[1]


# --- delivered → cash for cash-on-delivery orders ---------------------------------------------
def cod_order(**kwargs):
    return make_order(
        state=OrderState.SHIPPED, payment_method=PaymentMethod.CASH_ON_DELIVERY, **kwargs
    )


def cash_events(order):
    return OrderEvent.objects.filter(order=order, kind=OrderEventKind.CASH_COLLECTED)


def test_delivered_cash_on_delivery_order_has_its_cash_recorded_once():
    order = cod_order()
    shipment = ship(order)
    at = timezone.now() - timedelta(hours=1)

    add_tracking_event(shipment_id=shipment.pk, occurred_at=at, status=TrackingStatus.DELIVERED)
    add_tracking_event(shipment_id=shipment.pk, occurred_at=at, status=TrackingStatus.DELIVERED)
    # The carrier reports the delivery once more, in other words: still once.
    add_tracking_event(
        shipment_id=shipment.pk,
        occurred_at=at + timedelta(minutes=3),
        status=TrackingStatus.DELIVERED,
        description="本人签收",
    )

    order.refresh_from_db()
    assert order.paid_at is not None
    assert order.paid_amount == order.total_amount
    assert not order.awaits_cash()
    (event,) = cash_events(order)
    assert event.actor is None
    assert event.reason == "Reported delivered by 顺丰速运"
    assert event.details == {
        "amount": str(order.total_amount),
        "reference": "SF SF1234567890123",
    }
    shipment.refresh_from_db()
    assert shipment.delivered_at == at


def test_cash_waits_for_the_last_parcel_of_the_order():
    order = cod_order()
    first, second = ship(order), ship(order, number="SF5555555555555")
    at = timezone.now() - timedelta(hours=1)

    add_tracking_event(shipment_id=first.pk, occurred_at=at, status=TrackingStatus.DELIVERED)
    order.refresh_from_db()
    assert order.awaits_cash()
    assert not cash_events(order).exists()

    add_tracking_event(shipment_id=second.pk, occurred_at=at, status=TrackingStatus.DELIVERED)
    order.refresh_from_db()
    assert not order.awaits_cash()
    assert cash_events(order).count() == 1


def test_cash_already_recorded_by_the_desk_is_not_recorded_again():
    from orders import services

    order = cod_order()
    shipment = ship(order)
    services.record_cash_on_delivery(
        order_id=order.pk, amount=order.total_amount, actor=staff_user(Role.SERVICE)
    )

    add_tracking_event(
        shipment_id=shipment.pk, occurred_at=timezone.now(), status=TrackingStatus.DELIVERED
    )

    assert cash_events(order).count() == 1
    assert cash_events(order).get().actor == staff_user(Role.SERVICE)


def test_prepaid_orders_and_other_statuses_record_no_cash():
    prepaid = make_order(state=OrderState.SHIPPED)
    cod = cod_order()
    paid_at_before = prepaid.paid_at
    add_tracking_event(
        shipment_id=ship(prepaid).pk, occurred_at=timezone.now(), status=TrackingStatus.DELIVERED
    )
    add_tracking_event(
        shipment_id=ship(cod, number="SF7777777777777").pk,
        occurred_at=timezone.now(),
        status=TrackingStatus.OUT_FOR_DELIVERY,
    )

    prepaid.refresh_from_db()
    cod.refresh_from_db()
    assert prepaid.paid_at == paid_at_before
    assert cod.awaits_cash()
    assert not OrderEvent.objects.filter(kind=OrderEventKind.CASH_COLLECTED).exists()


def test_delivered_typed_in_on_the_page_records_the_cash(client):
    order = cod_order(shipping_amount=Decimal("8.00"))
    shipment = ship(order)
    client.force_login(UserFactory(role=Role.WAREHOUSE))
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")

    client.post(add_url(order, shipment), form_data(status="delivered", occurred_at=now))

    order.refresh_from_db()
    assert order.paid_amount == order.total_amount
    html = client.get(reverse("staff_orders:detail", args=[order.number])).content.decode()
    assert "Reported delivered by 顺丰速运" in html
    assert "cash not yet recorded" not in html
