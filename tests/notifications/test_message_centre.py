"""The message centre in the customer's account (SPEC §5, SEC-2)."""

import pytest
from django.test import Client

from notifications import services
from notifications.models import Notification
from orders import signals
from orders.models import Order
from tests.factories import UserFactory, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(client):
    user = UserFactory(role="customer", language="en")
    client.force_login(user)
    return user


def test_the_message_centre_needs_a_login():
    response = Client().get("/account/messages/")

    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_a_customer_sees_their_own_messages_newest_first(client, customer):
    mine = make_order(customer=customer, state="paid")
    make_order()  # someone else's

    html = client.get("/account/messages/").content.decode()

    assert html.index("Payment received") < html.index("Order placed")
    assert html.count(f"Order {mine.number}") == 2
    assert Notification.objects.count() == 3
    assert "2 messages" in html
    assert f'href="/account/orders/{mine.number}/"' in html


def test_the_list_makes_a_constant_number_of_queries(
    client, customer, django_assert_max_num_queries
):
    make_order(customer=customer)
    with django_assert_max_num_queries(12) as one_message:
        client.get("/account/messages/")
    for _ in range(12):
        order = make_order(customer=customer)
        signals.payment_reminder_due.send(sender=Order, order_id=order.pk)

    with django_assert_max_num_queries(len(one_message.captured_queries)):
        response = client.get("/account/messages/")

    html = response.content.decode()
    assert html.count('class="card order-card"') == 20
    assert "Page 1 of 2" in html


def test_a_message_opens_with_its_text_and_a_link_to_the_order(client, customer):
    order = make_order(customer=customer)
    note = order.notifications.get()
    services.deliver(note.pk)

    html = client.get(f"/account/messages/{note.pk}/").content.decode()

    assert f"order {order.number} received" in html
    assert f"Thank you for your order {order.number}." in html
    assert f'href="/account/orders/{order.number}/"' in html


def test_someone_elses_message_is_not_found(client, customer):
    note = make_order().notifications.get()

    assert client.get(f"/account/messages/{note.pk}/").status_code == 404
    assert client.get("/account/messages/999999/").status_code == 404
