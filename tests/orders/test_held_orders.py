"""Orders held for review go nowhere until an agent releases or cancels them (ORD-4, ORD-6)."""

import pytest
from django.test import Client

from orders import services
from orders.models import OrderEventKind, OrderState
from tests.factories import UserFactory, make_order

pytestmark = pytest.mark.django_db


def held_order():
    order = make_order(state=OrderState.PAID)
    services.flag_for_review(order_id=order.pk, reason="Paid twice: refund needed")
    return order


def test_the_warehouse_cannot_pick_a_held_order():
    order = held_order()

    with pytest.raises(services.OrderActionNotAllowed, match="held for review: Paid twice"):
        services.mark_picked(order_id=order.pk, actor=UserFactory(role="warehouse"))

    order.refresh_from_db()
    assert order.state == OrderState.PAID


def test_an_agent_releases_it_with_what_was_checked_and_then_it_can_be_picked(client):
    order = held_order()
    agent = UserFactory(role="service")
    client.force_login(agent)
    page = client.get(f"/staff/orders/{order.number}/").content.decode()
    assert "Held for review:" in page and "Release the order" in page

    response = client.post(
        f"/staff/orders/{order.number}/release/", {"reason": "second payment refunded"}, follow=True
    )

    assert "is released" in response.content.decode()
    order.refresh_from_db()
    assert not order.needs_review and order.review_reason == ""
    event = order.events.get(kind=OrderEventKind.RELEASED)
    assert event.actor == agent and event.details == {"held_for": "Paid twice: refund needed"}
    services.mark_picked(order_id=order.pk, actor=UserFactory(role="warehouse"))


def test_releasing_needs_a_reason_and_the_service_role(client):
    order = held_order()
    warehouse = Client()
    warehouse.force_login(UserFactory(role="warehouse"))
    assert (
        warehouse.post(f"/staff/orders/{order.number}/release/", {"reason": "x"}).status_code == 403
    )

    client.force_login(UserFactory(role="service"))
    client.post(f"/staff/orders/{order.number}/release/", {"reason": ""})

    order.refresh_from_db()
    assert order.needs_review
