"""Creating and reading orders through the JSON API (API-1, ORD-12): an API order takes the
storefront's paths (audit, reservation, warehouse); retries make one order; errors are problem
details naming the fields."""

import pytest

from fulfillment.models import Fulfillment
from orders.models import Channel, Order, OrderState
from servicedesk.models import AuditFinding
from tests.factories import stock_sku

from .conftest import ApiClient, order_payload

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def test_an_api_order_is_paid_audited_and_reaches_the_warehouse(api, store):
    sku = stock_sku(5)

    response = api.post("/api/orders", order_payload(sku, quantity=2))

    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get(number=body["number"])
    assert (order.store, order.channel, order.external_id) == (store, Channel.API, "ERP-1")
    assert order.state == OrderState.PAID and not order.needs_review
    assert order.recipient_phone == "13812345678"
    assert Fulfillment.objects.filter(order=order).count() == 1
    assert body["state"] == "paid"
    assert body["amounts"] == {
        "goods": "198.00",
        "discount": "0.00",
        "shipping": "8.00",
        "total": "206.00",
        "paid": "206.00",
    }
    assert body["lines"] == [
        {
            "sku": sku.code,
            "product_name": sku.product.name,
            "variant": order.lines.get().variant_label,
            "quantity": 2,
            "unit_price": "99.00",
            "discount": "0.00",
            "amount": "198.00",
        }
    ]
    assert [entry["kind"] for entry in body["timeline"]] == ["placed", "paid"]
    assert body["store"] == "erp"
    assert body["shipments"] == []


def test_an_order_to_an_unknown_district_is_held_by_the_audit(api):
    sku = stock_sku(5)
    payload = order_payload(sku)
    payload["address"]["district"] = "不存在区"

    response = api.post("/api/orders", payload)

    assert response.status_code == 201
    order = Order.objects.get(number=response.json()["number"])
    assert order.needs_review and response.json()["held_for_review"] is True
    assert AuditFinding.objects.filter(order=order, code="address").exists()


def test_a_big_order_is_held_by_the_audit(api):
    sku = stock_sku(5)

    response = api.post("/api/orders", order_payload(sku, price="25000.00"))

    assert response.status_code == 201
    order = Order.objects.get(number=response.json()["number"])
    assert order.needs_review
    assert AuditFinding.objects.filter(order=order, code="max_value").exists()


def test_a_cash_on_delivery_order_is_accepted_for_delivery(api):
    sku = stock_sku(1)

    response = api.post("/api/orders", order_payload(sku, payment_method="cod"))

    assert response.status_code == 201
    assert response.json()["state"] == "paid" and response.json()["amounts"]["paid"] == "0.00"
    assert response.json()["payment_method"] == "cod"


def test_the_same_external_id_again_returns_the_first_order_with_200(api):
    sku = stock_sku(5)
    first = api.post("/api/orders", order_payload(sku))

    again = api.post("/api/orders", order_payload(sku, quantity=3))

    assert again.status_code == 200
    assert again.json()["number"] == first.json()["number"]
    assert Order.objects.count() == 1


def test_an_idempotent_retry_returns_the_first_answer_and_makes_one_order(api):
    sku = stock_sku(5)
    payload = order_payload(sku)

    first = api.post("/api/orders", payload, **{"Idempotency-Key": "k-1"})
    Order.objects.filter(number=first.json()["number"])  # the order moves on meanwhile
    retry = api.post("/api/orders", payload, **{"Idempotency-Key": "k-1"})

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_the_same_idempotency_key_with_another_body_is_refused(api):
    sku = stock_sku(5)
    api.post("/api/orders", order_payload(sku), **{"Idempotency-Key": "k-1"})

    other = api.post(
        "/api/orders", order_payload(sku, external_id="ERP-2"), **{"Idempotency-Key": "k-1"}
    )

    assert other.status_code == 422
    assert other["Content-Type"] == PROBLEM
    assert other.json()["type"] == "urn:shop:problem:api:idempotency-key-reused"
    assert Order.objects.count() == 1


def test_a_refused_create_is_not_kept_for_its_idempotency_key(api):
    sku = stock_sku(1)
    payload = order_payload(sku, quantity=2)

    short = api.post("/api/orders", payload, **{"Idempotency-Key": "k-1"})
    stock_sku(1, sku=sku)
    retried = api.post("/api/orders", payload, **{"Idempotency-Key": "k-1"})

    assert short.status_code == 409
    assert retried.status_code == 201


def test_idempotency_keys_are_per_api_key(api, issue, store):
    sku = stock_sku(5)
    other = ApiClient(issue(store, name="second"))

    api.post("/api/orders", order_payload(sku), **{"Idempotency-Key": "k-1"})
    second = other.post(
        "/api/orders", order_payload(sku, external_id="ERP-2"), **{"Idempotency-Key": "k-1"}
    )

    assert second.status_code == 201
    assert Order.objects.count() == 2


def test_short_stock_is_a_409_problem_naming_the_line(api):
    sku = stock_sku(1)

    response = api.post("/api/orders", order_payload(sku, quantity=3))

    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:shop:problem:api:out-of-stock"
    assert problem["status"] == 409
    assert problem["errors"] == [
        {"field": "lines[0].quantity", "message": "1 available, 3 wanted."}
    ]
    assert not Order.objects.exists()


def test_unknown_and_inactive_skus_are_named_by_line(api):
    sku = stock_sku(5)
    retired = stock_sku(5)
    retired.is_active = False
    retired.save()
    payload = order_payload(sku)
    payload["lines"] += [
        {"sku": "NOPE", "quantity": 1, "unit_price": "1.00"},
        {"sku": retired.code, "quantity": 1, "unit_price": "1.00"},
    ]

    response = api.post("/api/orders", payload)

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [error["field"] for error in errors] == ["lines[1].sku", "lines[2].sku"]
    assert "NOPE" in errors[0]["message"]
    assert "no longer on sale" in errors[1]["message"]
    assert not Order.objects.exists()


def test_invalid_fields_are_a_problem_with_one_message_per_field(api):
    sku = stock_sku(5)
    payload = order_payload(sku)
    payload["address"]["recipient_phone"] = "010-12345678"
    payload["address"]["address_line"] = "   "
    payload["lines"][0]["quantity"] = 0
    payload["lines"][0]["unit_price"] = "9.999"
    payload["contact_email"] = "not-an-email"
    del payload["external_id"]

    response = api.post("/api/orders", payload)

    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert set(problem) == {"type", "title", "status", "detail", "instance", "errors"}
    assert problem["type"] == "urn:shop:problem:api:validation"
    assert problem["instance"] == "/api/orders"
    fields = {error["field"]: error["message"] for error in problem["errors"]}
    assert fields == {
        "external_id": "This field is required.",
        "contact_email": "Enter a valid e-mail address.",
        "address.recipient_phone": (
            "Enter a valid mainland China mobile number, e.g. 138 1234 5678."
        ),
        "address.address_line": "This field cannot be empty.",
        "lines[0].quantity": "Must be 1 or more.",
        "lines[0].unit_price": "At most 2 decimal places.",
    }
    assert not Order.objects.exists()


def test_a_body_that_is_not_json_is_a_problem(api):
    response = api.client.post(
        "/api/orders", "{not json", content_type="application/json", headers=api.headers
    )

    assert response.status_code in (400, 422)
    assert response["Content-Type"] == PROBLEM


def test_problems_speak_the_clients_language(token):
    sku = stock_sku(1)
    chinese = ApiClient(token, language="zh-hans")

    response = chinese.post("/api/orders", order_payload(sku, quantity=3))

    assert response.status_code == 409
    assert response["Content-Language"] == "zh-hans"


def test_reading_an_order_gives_its_timeline_and_shipments(api):
    sku = stock_sku(5)
    number = api.post("/api/orders", order_payload(sku)).json()["number"]

    response = api.get(f"/api/orders/{number}")

    assert response.status_code == 200
    body = response.json()
    assert body["number"] == number and body["external_id"] == "ERP-1"
    assert body["timeline"][0]["label"] == "Order placed"


def test_another_channels_order_is_not_found(api, issue):
    from stores.models import Store, StoreKind

    sku = stock_sku(5)
    other_store = Store.objects.create(code="tmall", name="Tmall", kind=StoreKind.MARKETPLACE)
    other = ApiClient(issue(other_store))
    number = other.post("/api/orders", order_payload(sku)).json()["number"]

    response = api.get(f"/api/orders/{number}")

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "urn:shop:problem:api:not-found"
    listed = api.get("/api/orders").json()["results"]
    assert listed == []


def test_a_storefront_order_is_not_readable_either(api):
    from tests.factories import make_order

    order = make_order()

    assert api.get(f"/api/orders/{order.number}").status_code == 404


def test_an_unknown_api_address_is_a_problem(api):
    response = api.get("/api/nothing-here")

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


def test_a_wrong_method_is_a_problem(api):
    response = api.client.delete("/api/orders", headers=api.headers)

    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    assert "GET" in response["Allow"] and "POST" in response["Allow"]
