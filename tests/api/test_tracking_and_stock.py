"""Tracking pushes and stock reads through the JSON API (API-1, FUL-6, INV-2)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders import services as order_services
from orders.models import Order, Shipment, TrackingEvent
from orders.shipments import record_shipment
from stores.models import Store, StoreKind
from tests.factories import make_order, staff_user, stock_sku

from .conftest import ApiClient, order_payload

pytestmark = pytest.mark.django_db

NUMBER = "SF1234567890123"


def at(hours_ago: float) -> str:
    return (timezone.now() - timedelta(hours=hours_ago)).isoformat()


@pytest.fixture
def parcel(api):
    sku = stock_sku(5)
    order = Order.objects.get(number=api.post("/api/orders", order_payload(sku)).json()["number"])
    order_services.mark_picked(order_id=order.pk, actor=staff_user("warehouse"))
    return record_shipment(order_id=order.pk, carrier_code="SF", tracking_number=NUMBER, actor=None)


def push(api, *events, number=NUMBER, **extra):
    return api.post(f"/api/shipments/{number}/events", {"events": list(events), **extra})


def test_pushed_events_are_stored_once_and_shown_on_the_order(api, parcel):
    events = [
        {"time": at(5), "status": "collected", "location": "杭州"},
        {"time": at(2), "status": "in_transit", "location": "上海", "description": "到达分拨中心"},
    ]

    first = push(api, *events)
    again = push(api, *events)

    assert first.status_code == 200
    assert first.json() == {"tracking_number": NUMBER, "created": 2, "duplicates": 0}
    assert again.json() == {"tracking_number": NUMBER, "created": 0, "duplicates": 2}
    assert TrackingEvent.objects.filter(shipment=parcel).count() == 2
    detail = api.get(f"/api/orders/{parcel.order.number}").json()
    shipment = detail["shipments"][0]
    assert shipment["carrier"] == "SF" and shipment["tracking_number"] == NUMBER
    assert [event["status"] for event in shipment["events"]] == ["collected", "in_transit"]


def test_a_delivered_event_marks_the_parcel_delivered(api, parcel):
    response = push(api, {"time": at(1), "status": "delivered"}, number="sf-1234 5678 90123")

    assert response.status_code == 200
    assert Shipment.objects.get(pk=parcel.pk).delivered_at is not None


def test_another_channels_parcel_is_not_found(api):
    order = make_order(state="picked")
    record_shipment(order_id=order.pk, carrier_code="SF", tracking_number=NUMBER, actor=None)

    response = push(api, {"time": at(1), "status": "in_transit"})

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert not TrackingEvent.objects.exists()


def test_bad_events_store_nothing_and_are_named_by_index(api, parcel):
    response = push(
        api,
        {"time": at(1), "status": "in_transit"},
        {"time": "2025-03-01 14:30", "status": "teleported"},
        {"time": (timezone.now() + timedelta(days=2)).isoformat(), "status": "in_transit"},
    )

    assert response.status_code == 422
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields == ["events[1].time", "events[1].status"]
    future = push(
        api, {"time": (timezone.now() + timedelta(days=2)).isoformat(), "status": "in_transit"}
    )
    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "events[0].time"
    assert not TrackingEvent.objects.exists()


def test_stock_is_read_per_sku_code(api):
    plenty = stock_sku(7)
    retired = stock_sku(2)
    retired.is_active = False
    retired.save()
    make_order(skus=[plenty], quantities=[3], stock=False)

    response = api.get("/api/stock", {"sku": [plenty.code, "NOPE", retired.code]})

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {"sku": plenty.code, "known": True, "on_sale": True, "available": 4},
            {"sku": "NOPE", "known": False, "on_sale": False, "available": 0},
            {"sku": retired.code, "known": True, "on_sale": False, "available": 2},
        ]
    }


def test_stock_needs_at_least_one_sku(api):
    response = api.get("/api/stock")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sku"


def test_stock_is_the_same_for_every_channel(issue, api):
    sku = stock_sku(3)
    marketplace = Store.objects.create(code="jd", name="JD", kind=StoreKind.MARKETPLACE)

    other = ApiClient(issue(marketplace)).get("/api/stock", {"sku": sku.code})

    assert other.json() == api.get("/api/stock", {"sku": sku.code}).json()
