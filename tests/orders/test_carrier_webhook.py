"""Carriers push tracking events to a signed webhook (FUL-6): POST /webhooks/carriers/<code>/
with X-Carrier-Signature; refusals are problem details (RFC 9457) and store nothing; a replay
stores nothing new; a delivered cash-on-delivery parcel records the cash once."""

import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.roles import Role
from orders.models import (
    Carrier,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderState,
    PaymentMethod,
    Shipment,
    TrackingEvent,
)
from orders.shipments import record_shipment
from orders.tracking_io import sign_carrier_payload, signature_header, verify_carrier_signature
from tests.factories import make_order, staff_user

pytestmark = pytest.mark.django_db

SECRET = "whsec_顺丰_test"
URL = "/webhooks/carriers/SF/"
NUMBER = "SF1234567890123"


@pytest.fixture(autouse=True)
def sf_secret():
    Carrier.objects.filter(code="SF").update(webhook_secret=SECRET)


def ship(order, number=NUMBER, carrier="SF"):
    return record_shipment(
        order_id=order.pk,
        carrier_code=carrier,
        tracking_number=number,
        actor=staff_user(Role.WAREHOUSE),
    )


@pytest.fixture
def parcel():
    return ship(make_order(state=OrderState.SHIPPED))


def when(hours_ago: float) -> str:
    return (timezone.now() - timedelta(hours=hours_ago)).astimezone().isoformat()


def body(*events, number=NUMBER) -> bytes:
    return json.dumps({"tracking_number": number, "events": list(events)}).encode()


def event(status="in_transit", at=None, **more) -> dict:
    return {"time": at or "2025-03-01T14:30:00+08:00", "status": status, **more}


def push(client, raw: bytes, *, secret=SECRET, sent_at=None, url=URL, header=None):
    sent_at = int(time.time()) if sent_at is None else sent_at
    return client.post(
        url,
        raw,
        content_type="application/json",
        headers={"X-Carrier-Signature": header or signature_header(secret, raw, sent_at)},
    )


def problem(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    data = response.json()
    assert data["status"] == response.status_code
    assert data["type"].startswith("urn:shop:problem:carrier-webhook:")
    assert data["title"] and data["detail"]
    return data


# --- accepted ---------------------------------------------------------------------------------
def test_a_signed_push_is_stored_and_a_replay_stores_nothing_new(parcel):
    client = Client(enforce_csrf_checks=True)  # no CSRF token: the signature stands for it
    raw = body(
        event("collected", "2025-03-01T10:00:00+08:00", location="杭州", description="已揽收"),
        event("in_transit", "2025-03-01T02:30:00Z"),
    )

    first = push(client, raw)
    again = push(client, raw)

    assert first.status_code == 200
    assert first.json() == {"created": 2, "duplicates": 0}
    assert again.json() == {"created": 0, "duplicates": 2}
    events = list(parcel.tracking_events.order_by("occurred_at"))
    assert [(e.status, e.location, e.description) for e in events] == [
        ("collected", "杭州", "已揽收"),
        ("in_transit", "", ""),
    ]


def test_the_tracking_number_is_read_as_people_write_it(parcel):
    response = push(Client(), body(event(), number="sf 1234-5678-90123"))

    assert response.json() == {"created": 1, "duplicates": 0}


def test_sign_and_verify_are_the_same_function_the_readme_shows():
    raw = b'{"tracking_number": "SF1", "events": []}'

    signature = sign_carrier_payload("secret", raw, 1_700_000_000)

    assert signature == sign_carrier_payload("secret", raw.decode(), "1700000000")
    assert len(signature) == 64
    header = f"t=1700000000,v1=0000,v1={signature}"  # a rotated secret's signature may come first
    verify_carrier_signature(secret="secret", body=raw, header=header, now=1_700_000_100)


# --- refused: signature -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "sign",
    [
        pytest.param(lambda raw, now: signature_header("wrong", raw, now), id="wrong secret"),
        pytest.param(lambda raw, now: signature_header(SECRET, raw + b" ", now), id="other body"),
        pytest.param(lambda raw, now: signature_header(SECRET, raw, now - 310), id="too old"),
        pytest.param(lambda raw, now: signature_header(SECRET, raw, now + 310), id="too new"),
        pytest.param(
            lambda raw, now: f"t={now - 5},v1={sign_carrier_payload(SECRET, raw, now)}",
            id="time changed",
        ),
        pytest.param(lambda raw, now: f"v1={sign_carrier_payload(SECRET, raw, now)}", id="no t"),
        pytest.param(lambda raw, now: "", id="no header"),
    ],
)
def test_a_push_without_a_valid_fresh_signature_is_refused_401(parcel, sign):
    raw = body(event())
    now = int(time.time())

    response = push(Client(), raw, header=sign(raw, now) or " ")

    assert response.status_code == 401
    data = problem(response)
    assert data["type"].endswith(":bad-signature")
    assert "WWW-Authenticate" in response
    assert not TrackingEvent.objects.exists()


def test_a_signature_within_300_seconds_either_way_is_accepted(parcel):
    raw = body(event())
    now = int(time.time())

    assert push(Client(), raw, sent_at=now - 290).status_code == 200
    assert push(Client(), raw, sent_at=now + 290).status_code == 200


# --- refused: carrier -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "change"),
    [
        ("/webhooks/carriers/UPS/", {}),
        (URL, {"is_active": False}),
        (URL, {"webhook_secret": ""}),
    ],
    ids=["unknown", "inactive", "without a secret"],
)
def test_unknown_inactive_or_secretless_carriers_are_answered_404(parcel, url, change):
    Carrier.objects.filter(code="SF").update(**change)

    response = push(Client(), body(event()), url=url)

    assert response.status_code == 404
    assert problem(response)["type"].endswith(":unknown-carrier")
    assert not TrackingEvent.objects.exists()


def test_another_carriers_secret_does_not_sign_for_this_one(parcel):
    Carrier.objects.filter(code="ZTO").update(webhook_secret="zto-secret")

    response = push(Client(), body(event()), secret="zto-secret")

    assert response.status_code == 401


# --- refused: body ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[]", b'{"tracking_number": "SF1234567890123"}', b"\xff\xfe"],
    ids=["not json", "a list", "no events", "not utf-8"],
)
def test_a_malformed_body_is_answered_400(parcel, raw):
    response = push(Client(), raw)

    assert response.status_code == 400
    assert problem(response)["type"].endswith(":invalid-body")
    assert not TrackingEvent.objects.exists()


def test_every_bad_event_is_named_and_none_of_the_push_is_stored(parcel):
    raw = body(
        event("collected"),  # 0: fine
        event("lost"),  # 1
        event(at="2025-03-01 14:30"),  # 2: no offset
        event(at=when(-2)),  # 3: two hours ahead
        event(description="x" * 301),  # 4
        "in_transit",  # 5
    )

    response = push(Client(), raw)

    assert response.status_code == 400
    data = problem(response)
    assert data["detail"] == "5 events are not valid; none was stored."
    assert [(error["index"], error["field"]) for error in data["errors"]] == [
        (1, "status"),
        (2, "time"),
        (3, "time"),
        (4, "description"),
        (5, ""),
    ]
    assert "offset" in data["errors"][1]["detail"]
    assert "future" in data["errors"][2]["detail"]
    assert not TrackingEvent.objects.exists()


def test_an_unknown_tracking_number_is_answered_422(parcel):
    response = push(Client(), body(event(), number="SF0000000000000"))

    assert response.status_code == 422
    assert problem(response)["type"].endswith(":unknown-shipment")
    assert not TrackingEvent.objects.exists()


def test_a_get_is_answered_405(parcel):
    response = Client().get(URL)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    problem(response)


# --- delivered cash-on-delivery ---------------------------------------------------------------
def test_a_delivered_push_records_the_cash_once_even_when_replayed():
    order = make_order(state=OrderState.SHIPPED, payment_method=PaymentMethod.CASH_ON_DELIVERY)
    ship(order)
    raw = body(event("out_for_delivery", when(3)), event("delivered", when(1)))

    assert push(Client(), raw).json() == {"created": 2, "duplicates": 0}
    assert push(Client(), raw).json() == {"created": 0, "duplicates": 2}

    order.refresh_from_db()
    assert order.paid_amount == order.total_amount
    cash = OrderEvent.objects.filter(order=order, kind=OrderEventKind.CASH_COLLECTED)
    assert [(e.actor, e.reason) for e in cash] == [(None, "Reported delivered by 顺丰速运")]


def test_a_refused_push_records_no_cash():
    order = make_order(state=OrderState.SHIPPED, payment_method=PaymentMethod.CASH_ON_DELIVERY)
    ship(order)

    response = push(Client(), body(event("delivered", when(1)), event("lost")))

    assert response.status_code == 400
    order.refresh_from_db()
    assert order.awaits_cash()


# --- concurrency (PostgreSQL) -----------------------------------------------------------------
def _at_once(*calls) -> list:
    """Run `calls` in threads released together; their results, or the errors they raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - returned to the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_record_the_cash_once():
    # A transactional test starts from an empty database: the carriers' data migration is gone.
    Carrier.objects.update_or_create(
        code="SF", defaults={"name": "SF Express", "webhook_secret": SECRET}
    )
    # Two carriers push the same delivery at once; and the two parcels of another order are
    # reported delivered at the same moment: each order's cash is recorded exactly once.
    same = make_order(state=OrderState.SHIPPED, payment_method=PaymentMethod.CASH_ON_DELIVERY)
    ship(same)
    delivered = event("delivered", when(1))
    pushes = [body(delivered), body(delivered)]
    orders = [same]
    for n in range(3):
        split = make_order(state=OrderState.SHIPPED, payment_method=PaymentMethod.CASH_ON_DELIVERY)
        for parcel in (1, 2):
            ship(split, number=f"SF20000000{n}{parcel}")
            pushes.append(body(delivered, number=f"SF20000000{n}{parcel}"))
        orders.append(split)

    results = _at_once(*[lambda raw=raw: push(Client(), raw) for raw in pushes])

    assert [r.status_code for r in results] == [200] * len(pushes), results
    assert sorted(r.json()["created"] for r in results[:2]) == [0, 1]
    assert TrackingEvent.objects.count() == 7
    assert Shipment.objects.filter(delivered_at__isnull=True).count() == 0
    for order in Order.objects.filter(pk__in=[order.pk for order in orders]):
        assert order.paid_amount == order.total_amount
        cash = OrderEvent.objects.filter(order=order, kind=OrderEventKind.CASH_COLLECTED)
        assert cash.count() == 1
