"""The exception queue (ORD-6): who may see it, what it lists, its filters, and a constant
number of queries as it grows."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from orders import services as order_services
from orders.models import OrderState
from servicedesk import services
from tests.factories import UserFactory, make_address, make_order

from .helpers import exception_order

pytestmark = pytest.mark.django_db

URL = reverse("servicedesk:exceptions")


@pytest.fixture
def agent(client):
    user = UserFactory(role=Role.SERVICE)
    client.force_login(user)
    return user


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.WAREHOUSE])
def test_customers_and_warehouse_staff_are_refused(client, role):
    order = exception_order()
    client.force_login(UserFactory(role=role))
    assert client.get(URL).status_code == 403
    assert (
        client.get(reverse("servicedesk:exception_detail", args=[order.number])).status_code == 403
    )
    assert client.post(reverse("servicedesk:claim", args=[order.number])).status_code == 403
    assert client.get(reverse("servicedesk:home")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_queue_lists_held_orders_with_their_reasons_oldest_first(client, agent, time_machine):
    time_machine.move_to(timezone.now() - timedelta(hours=3))
    old = exception_order(address=make_address(recipient_phone="123"))
    time_machine.move_to(timezone.now() + timedelta(hours=3))
    new = exception_order()
    passing = make_order(state=OrderState.PAID)
    cancelled = exception_order()
    order_services.cancel_order(order_id=cancelled.pk, actor=agent, reason="Customer asked")

    response = client.get(URL)

    assert response.status_code == 200
    numbers = [order.number for order in response.context["page"].object_list]
    assert numbers == [old.number, new.number]
    assert passing.number not in numbers and cancelled.number not in numbers
    body = response.content.decode()
    assert "not a valid mainland mobile" in body and "请打电话联系我" in body

    newest_first = client.get(URL, {"sort": "newest"})
    assert [o.number for o in newest_first.context["page"].object_list] == [new.number, old.number]


def test_the_queue_filters_by_rule_claim_and_age(client, agent, time_machine):
    time_machine.move_to(timezone.now() - timedelta(hours=5))
    phone = exception_order(address=make_address(recipient_phone="123"), note="")
    time_machine.move_to(timezone.now() + timedelta(hours=5))
    note = exception_order()
    other = make_order(state=OrderState.PAID)
    order_services.flag_for_review(order_id=other.pk, reason="Short pick")
    services.claim_order(order_id=note.pk, agent=agent)
    services.claim_order(order_id=other.pk, agent=UserFactory(role=Role.SERVICE))

    def listed(**query):
        response = client.get(URL, query)
        assert response.status_code == 200
        return {order.number for order in response.context["page"].object_list}

    assert listed() == {phone.number, note.number, other.number}
    assert listed(rule="phone") == {phone.number}
    assert listed(rule="note") == {note.number}
    assert listed(rule="other") == {other.number}
    assert listed(claimed="mine") == {note.number}
    assert listed(claimed="unclaimed") == {phone.number}
    assert listed(claimed="others") == {other.number}
    assert listed(age="4") == {phone.number}
    assert listed(rule="nonsense") == {phone.number, note.number, other.number}  # ignored


def test_released_orders_leave_the_rule_filter(client, agent):
    order = exception_order()
    order_services.release_held_order(order_id=order.pk, actor=agent, reason="Called")
    order_services.flag_for_review(order_id=order.pk, reason="Short pick")
    response = client.get(URL, {"rule": "note"})
    assert list(response.context["page"].object_list) == []


def test_the_queue_makes_a_constant_number_of_queries(client, agent, django_assert_max_num_queries):
    def exceptions(n):
        for _ in range(n):
            order = exception_order()
            services.claim_order(order_id=order.pk, agent=UserFactory(role=Role.SERVICE))

    exceptions(2)
    with django_assert_max_num_queries(12) as few:
        assert client.get(URL).status_code == 200
    exceptions(20)
    with django_assert_max_num_queries(12) as many:
        response = client.get(URL)
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 22
    assert len(many) == len(few)
