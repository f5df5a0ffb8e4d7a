"""Order events and after-sales decisions become deliveries (the outbox) in the change's own
transaction, only for active endpoints subscribed to the event (API-2)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from aftersales import services as aftersales_services
from aftersales.models import RequestKind, RequestReason
from orders import services as order_services
from orders.models import OrderState, PaymentMethod
from tests.factories import SKUFactory, UserFactory, make_address, make_order, stock_sku
from webhooks.models import DeliveryState, WebhookDelivery, WebhookEvent

from .conftest import make_endpoint

pytestmark = pytest.mark.django_db


def deliveries(**filters):
    return list(WebhookDelivery.objects.filter(**filters).order_by("pk"))


def test_a_paid_order_is_recorded_for_each_subscribed_active_endpoint_only(admin, receiver):
    paid_only = make_endpoint(admin, receiver.url, events=[WebhookEvent.ORDER_PAID])
    everything = make_endpoint(admin, receiver.url)
    make_endpoint(admin, receiver.url, is_active=False)  # switched off: told nothing
    make_endpoint(admin, receiver.url, events=[WebhookEvent.ORDER_SHIPPED])

    order = make_order(state=OrderState.PAID)

    created = deliveries(event_type=WebhookEvent.ORDER_CREATED)
    paid = deliveries(event_type=WebhookEvent.ORDER_PAID)
    assert [d.endpoint_id for d in created] == [everything.pk]
    assert sorted(d.endpoint_id for d in paid) == sorted([paid_only.pk, everything.pk])
    # One event, one id, whichever endpoint hears of it.
    assert len({d.event_id for d in paid}) == 1
    assert all(d.state == DeliveryState.PENDING for d in paid)
    payload = paid[0].payload
    assert payload["id"] == str(paid[0].event_id)
    assert payload["type"] == "order.paid"
    assert payload["data"]["order_number"] == order.number
    assert payload["data"]["state"] == "paid"
    assert payload["data"]["total_amount"] == f"{order.total_amount:.2f}"
    assert payload["data"]["paid_amount"] == f"{order.total_amount:.2f}"
    assert payload["data"]["lines"][0]["quantity"] == 1
    assert "recipient_phone" not in payload["data"]  # no personal data in webhooks


def test_a_rolled_back_order_leaves_no_delivery(admin, receiver):
    make_endpoint(admin, receiver.url)
    sku = stock_sku(5)
    customer = UserFactory(role=Role.CUSTOMER)

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), transaction.atomic():
        order_services.create_order(
            customer=customer,
            lines=[order_services.LineRequest(sku_id=sku.pk, quantity=1)],
            address=make_address(),
        )
        assert deliveries(event_type=WebhookEvent.ORDER_CREATED)  # written inside…
        raise Abandon

    assert deliveries() == []  # …and gone with the order


def test_deliveries_are_handed_to_the_workers_only_after_the_commit(
    admin, receiver, django_capture_on_commit_callbacks
):
    make_endpoint(admin, receiver.url, events=[WebhookEvent.ORDER_CREATED])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_order()
    assert receiver.requests == []  # nothing sent before the commit
    assert len(deliveries()) == 1

    for callback in callbacks:
        callback()
    assert len(receiver.requests) == 1
    assert deliveries()[0].state == DeliveryState.DELIVERED


def test_without_subscribers_an_order_writes_nothing_for_webhooks(admin, receiver):
    make_endpoint(admin, receiver.url, events=[WebhookEvent.AFTERSALES_CLOSED])
    sku = SKUFactory()
    stock_sku(3, sku=sku)
    customer = UserFactory(role=Role.CUSTOMER)
    order_services.create_order(  # warms the cached subscriptions
        customer=customer,
        lines=[order_services.LineRequest(sku_id=sku.pk, quantity=1)],
        address=make_address(),
    )
    with CaptureQueriesContext(connection) as queries:
        order_services.create_order(
            customer=customer,
            lines=[order_services.LineRequest(sku_id=sku.pk, quantity=1)],
            address=make_address(),
        )
    assert not [q for q in queries.captured_queries if "webhooks_" in q["sql"]]
    assert deliveries() == []


def test_cash_on_delivery_acceptance_is_told_as_paid_with_nothing_paid(admin, receiver):
    make_endpoint(admin, receiver.url, events=[WebhookEvent.ORDER_PAID])
    order = make_order(state=OrderState.PAID, payment_method=PaymentMethod.CASH_ON_DELIVERY)
    (paid,) = deliveries()
    assert paid.payload["data"]["order_number"] == order.number
    assert paid.payload["data"]["payment_method"] == "cod"
    assert paid.payload["data"]["paid_amount"] == "0.00"


def test_shipped_completed_and_cancelled_orders_are_told(admin, receiver):
    make_endpoint(
        admin,
        receiver.url,
        events=[
            WebhookEvent.ORDER_SHIPPED,
            WebhookEvent.ORDER_COMPLETED,
            WebhookEvent.ORDER_CANCELLED,
        ],
    )
    completed = make_order(state=OrderState.COMPLETED)
    cancelled = make_order(state=OrderState.CANCELLED)

    by_type = {d.event_type: d.payload["data"] for d in deliveries()}
    assert set(by_type) == {"order.shipped", "order.completed", "order.cancelled"}
    assert by_type["order.shipped"]["order_number"] == completed.number
    assert by_type["order.shipped"]["state"] == "shipped"
    assert by_type["order.completed"]["state"] == "completed"
    assert by_type["order.cancelled"]["order_number"] == cancelled.number
    assert by_type["order.cancelled"]["reason"] == "Changed my mind"


def test_after_sales_decisions_are_told(admin, receiver):
    make_endpoint(
        admin,
        receiver.url,
        events=[WebhookEvent.AFTERSALES_APPROVED, WebhookEvent.AFTERSALES_REJECTED],
    )
    agent = UserFactory(role=Role.SERVICE)
    approved_order = make_order(state=OrderState.SHIPPED)
    rejected_order = make_order(state=OrderState.SHIPPED)
    requests = [
        aftersales_services.submit_request(
            order_id=order.pk,
            kind=RequestKind.RETURN_REFUND,
            reason=RequestReason.DAMAGED,
            description="The lid is cracked",
            lines=[(order.lines.get().pk, 1)],
            actor=order.customer,
        )
        for order in (approved_order, rejected_order)
    ]
    aftersales_services.approve_request(request_id=requests[0].pk, actor=agent, reason="OK")
    aftersales_services.reject_request(
        request_id=requests[1].pk, actor=agent, reason="No damage in the photos"
    )

    by_type = {d.event_type: d.payload["data"] for d in deliveries()}
    assert set(by_type) == {"aftersales.approved", "aftersales.rejected"}
    assert by_type["aftersales.approved"]["request_number"] == requests[0].number
    assert by_type["aftersales.approved"]["order_number"] == approved_order.number
    assert by_type["aftersales.approved"]["state"] == "approved"
    assert by_type["aftersales.approved"]["approved_refund"] == f"{approved_order.total_amount:.2f}"
    assert by_type["aftersales.rejected"]["reason"] == "No damage in the photos"
    assert by_type["aftersales.rejected"]["state"] == "rejected"
