"""Cash on delivery: fulfilled before payment, the cash recorded at delivery (ORD-4)."""

from decimal import Decimal

import pytest
from django.test import Client

from inventory.selectors import availability
from orders import services
from orders.models import OrderEventKind, OrderState, PaymentMethod
from tests.factories import UserFactory, make_order

pytestmark = pytest.mark.django_db

COD = PaymentMethod.CASH_ON_DELIVERY


@pytest.fixture
def agent(client):
    user = UserFactory(role="service")
    client.force_login(user)
    return user


def test_the_agent_records_the_couriers_cash_on_a_shipped_order(client, agent):
    order = make_order(payment_method=COD, state=OrderState.SHIPPED)
    page = client.get(f"/staff/orders/{order.number}/").content.decode()
    assert "Record the cash" in page and "cash not yet recorded" in page

    response = client.post(
        f"/staff/orders/{order.number}/cash/",
        {"amount": str(order.total_amount), "reference": "SF-REMIT-0042"},
        follow=True,
    )

    order.refresh_from_db()
    assert "is recorded" in response.content.decode()
    assert order.state == OrderState.SHIPPED  # the state says where the goods are
    assert order.paid_amount == order.total_amount and order.paid_at is not None
    assert not order.awaits_cash()
    event = order.events.get(kind=OrderEventKind.CASH_COLLECTED)
    assert event.actor == agent and event.details["reference"] == "SF-REMIT-0042"


@pytest.mark.parametrize(
    ("state", "amount_delta", "message"),
    [
        (OrderState.PAID, Decimal("0"), "has not been shipped"),
        (OrderState.SHIPPED, Decimal("-1.00"), "does not match the order total"),
    ],
)
def test_cash_before_shipment_or_of_another_amount_is_refused(
    client, agent, state, amount_delta, message
):
    order = make_order(payment_method=COD, state=state)

    response = client.post(
        f"/staff/orders/{order.number}/cash/",
        {"amount": str(order.total_amount + amount_delta)},
        follow=True,
    )

    order.refresh_from_db()
    assert message in response.content.decode()
    assert order.paid_at is None and order.paid_amount == Decimal("0.00")


def test_cash_is_recorded_once():
    order = make_order(payment_method=COD, state=OrderState.SHIPPED)
    agent = UserFactory(role="service")
    services.record_cash_on_delivery(order_id=order.pk, amount=order.total_amount, actor=agent)

    with pytest.raises(services.OrderActionNotAllowed, match="already recorded"):
        services.record_cash_on_delivery(order_id=order.pk, amount=order.total_amount, actor=agent)
    assert order.events.filter(kind=OrderEventKind.CASH_COLLECTED).count() == 1


def test_a_prepaid_order_has_no_cash_to_record():
    order = make_order(state=OrderState.SHIPPED)

    with pytest.raises(services.OrderActionNotAllowed, match="not a cash-on-delivery order"):
        services.record_cash_on_delivery(
            order_id=order.pk, amount=order.total_amount, actor=UserFactory(role="service")
        )


def test_only_service_may_record_cash():
    order = make_order(payment_method=COD, state=OrderState.SHIPPED)
    warehouse = Client()
    warehouse.force_login(UserFactory(role="warehouse"))

    response = warehouse.post(
        f"/staff/orders/{order.number}/cash/", {"amount": str(order.total_amount)}
    )

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.paid_at is None


def test_the_customer_may_cancel_a_cash_on_delivery_order_before_the_warehouse_starts(client):
    order = make_order(payment_method=COD, state=OrderState.PAID)
    client.force_login(order.customer)
    assert (
        "Yes, cancel the order" in client.get(f"/account/orders/{order.number}/").content.decode()
    )

    client.post(f"/account/orders/{order.number}/cancel/")

    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED
    sku_id = order.lines.get().sku_id
    assert availability(sku_ids=[sku_id]) == {sku_id: 1}  # the unit is back


def test_once_picked_a_cash_on_delivery_order_is_the_agents_to_cancel(client):
    order = make_order(payment_method=COD, state=OrderState.PICKED)

    with pytest.raises(services.OrderActionNotAllowed, match="customer service"):
        services.cancel_order(order_id=order.pk, actor=order.customer, reason="changed my mind")

    services.cancel_order(
        order_id=order.pk, actor=UserFactory(role="service"), reason="customer called"
    )
    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED
