"""The "changed since" feed (API-1): cursor pagination over (updated_at, id), stable, without
gaps or duplicates, at a fixed number of queries; and an order's detail at a fixed number."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from api.selectors import Cursor
from orders import services as order_services
from orders.models import Order
from orders.shipments import add_tracking_event, record_shipment
from stores.services import place_channel_order
from tests.factories import make_address, staff_user, stock_sku

from .conftest import order_payload

pytestmark = pytest.mark.django_db


def place(store, sku, external_id):
    return place_channel_order(
        store=store,
        external_id=external_id,
        lines=[order_services.LineRequest(sku_id=sku.pk, quantity=1, unit_price=Decimal("9.00"))],
        address=make_address(),
        contact_email="buyer@example.com",
    ).order


def ship(order, numbers, *, events):
    order_services.mark_picked(order_id=order.pk, actor=staff_user("warehouse"))
    for number in numbers:
        parcel = record_shipment(
            order_id=order.pk, carrier_code="SF", tracking_number=number, actor=None
        )
        for hours in range(events, 0, -1):
            add_tracking_event(
                shipment_id=parcel.pk,
                occurred_at=timezone.now() - timedelta(hours=hours),
                status="in_transit",
            )


def read_all(api, **params):
    seen, cursor, pages = [], None, 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = api.get("/api/orders", query)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["external_id"] for row in body["results"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages


def test_pages_list_every_changed_order_once_in_change_order_even_with_equal_times(api, store):
    sku = stock_sku(50)
    orders = [place(store, sku, f"E-{i}") for i in range(7)]
    base = timezone.now() - timedelta(hours=1)
    # Three orders changed at the very same instant: the id breaks the tie.
    for order, offset in zip(orders, [5, 1, 1, 1, 3, 0, 4], strict=True):
        Order.objects.filter(pk=order.pk).update(updated_at=base + timedelta(seconds=offset))

    seen, pages = read_all(api, limit=2)

    by_time = sorted(
        Order.objects.filter(pk__in=[o.pk for o in orders]), key=lambda o: (o.updated_at, o.pk)
    )
    assert seen == [o.external_id for o in by_time]
    assert len(set(seen)) == 7 and pages == 4


def test_changed_since_leaves_out_older_changes(api, store):
    sku = stock_sku(5)
    old, new = place(store, sku, "OLD"), place(store, sku, "NEW")
    now = timezone.now()
    Order.objects.filter(pk=old.pk).update(updated_at=now - timedelta(days=2))
    Order.objects.filter(pk=new.pk).update(updated_at=now - timedelta(hours=1))

    since = timezone.localtime(now - timedelta(days=1)).isoformat()
    seen, _pages = read_all(api, changed_since=since)
    # The "+" of "+08:00" sent without URL-encoding arrives as a space.
    unencoded = api.client.get(f"/api/orders?changed_since={since}", headers=api.headers).json()[
        "results"
    ]

    assert seen == ["NEW"]
    assert [row["external_id"] for row in unencoded] == ["NEW"]


def test_an_order_changed_while_paging_comes_again_at_the_end(api, store):
    sku = stock_sku(10)
    orders = [place(store, sku, f"E-{i}") for i in range(4)]
    first = api.get("/api/orders", {"limit": 2}).json()
    order_services.mark_picked(order_id=orders[0].pk, actor=staff_user("warehouse"))

    rest = []
    cursor = first["next_cursor"]
    while cursor:
        body = api.get("/api/orders", {"limit": 2, "cursor": cursor}).json()
        rest += [row["external_id"] for row in body["results"]]
        cursor = body["next_cursor"]

    assert [row["external_id"] for row in first["results"]] == ["E-0", "E-1"]
    assert rest == ["E-2", "E-3", "E-0"]


def test_the_cursor_is_opaque_and_a_forged_one_is_a_problem(api, store):
    sku = stock_sku(5)
    for i in range(3):
        place(store, sku, f"E-{i}")
    cursor = api.get("/api/orders", {"limit": 1}).json()["next_cursor"]

    assert Cursor.decode(cursor) is not None
    for bad in ("nope", "eyJ1IjoxfQ", "!!!"):
        response = api.get("/api/orders", {"cursor": bad})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "cursor"
    bad_time = api.get("/api/orders", {"changed_since": "yesterday"})
    assert bad_time.status_code == 422
    assert bad_time.json()["errors"][0]["field"] == "changed_since"


def test_the_list_costs_the_same_queries_for_3_or_30_orders(
    api, store, django_assert_max_num_queries
):
    sku = stock_sku(40)
    for i in range(3):
        place(store, sku, f"A-{i}")
    api.get("/api/orders")  # last use recorded

    with django_assert_max_num_queries(2) as few:
        assert len(api.get("/api/orders").json()["results"]) == 3
    for i in range(27):
        place(store, sku, f"B-{i}")
    with django_assert_max_num_queries(2) as many:
        assert len(api.get("/api/orders").json()["results"]) == 30

    assert len(few.captured_queries) == len(many.captured_queries)


def test_the_detail_costs_the_same_queries_however_many_lines_events_and_parcels(
    api, store, django_assert_max_num_queries
):
    small_sku = stock_sku(5)
    small = api.post("/api/orders", order_payload(small_sku, external_id="S")).json()["number"]
    ship(Order.objects.get(number=small), ["SF1000000009"], events=1)
    skus = [stock_sku(5) for _ in range(5)]
    payload = order_payload(skus[0], external_id="B")
    payload["lines"] = [{"sku": s.code, "quantity": 1, "unit_price": "5.00"} for s in skus]
    big = api.post("/api/orders", payload).json()["number"]
    ship(Order.objects.get(number=big), ["SF1000000001", "SF1000000002"], events=3)
    api.get(f"/api/orders/{small}")

    with django_assert_max_num_queries(6) as one:
        api.get(f"/api/orders/{small}")
    with django_assert_max_num_queries(6) as many:
        body = api.get(f"/api/orders/{big}").json()

    assert len(one.captured_queries) == len(many.captured_queries)
    assert len(body["lines"]) == 5
    assert [len(s["events"]) for s in body["shipments"]] == [3, 3]
