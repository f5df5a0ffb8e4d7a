"""The service desk's home (queues with counts and ages) and the audit rules screen."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import Role
from servicedesk.models import AuditRule, AuditRuleChange
from tests.factories import UserFactory

from .helpers import exception_order

pytestmark = pytest.mark.django_db


def test_the_desk_home_counts_exception_orders_and_is_the_agents_home(client):
    client.force_login(UserFactory(role=Role.SERVICE))
    exception_order()
    exception_order()
    for url in (reverse("servicedesk:home"), reverse("workspace:service")):
        response = client.get(url)
        assert response.status_code == 200
        exceptions, label, link = response.context["cards"][0]
        assert exceptions.count == 2 and exceptions.oldest is not None
        assert link == reverse("servicedesk:exceptions")
        assert "Exception orders" in response.content.decode()


def test_the_desk_home_makes_a_constant_number_of_queries(client, django_assert_max_num_queries):
    client.force_login(UserFactory(role=Role.SERVICE))
    exception_order()
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("servicedesk:home"))
    for _ in range(10):
        exception_order()
    with django_assert_max_num_queries(10) as many:
        client.get(reverse("servicedesk:home"))
    assert len(many) == len(few)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_edit_a_rule_with_a_reason(client, role):
    user = UserFactory(role=role)
    client.force_login(user)
    assert client.get(reverse("servicedesk:audit_rules")).status_code == 200
    url = reverse("servicedesk:audit_rule_edit", args=["max_value"])
    assert client.get(url).status_code == 200

    response = client.post(url, {"enabled": "on", "amount": "8000.00", "reason": "Big sale"})

    assert response.status_code == 302
    rule = AuditRule.objects.get(code="max_value")
    assert rule.params == {"amount": "8000.00"} and rule.updated_by == user
    assert AuditRuleChange.objects.get().reason == "Big sale"


def test_the_rule_form_refuses_bad_values_and_a_missing_reason(client):
    client.force_login(UserFactory(role=Role.MANAGER))
    url = reverse("servicedesk:audit_rule_edit", args=["duplicate"])
    for data in (
        {"window_minutes": "0", "reason": "x"},
        {"window_minutes": "abc", "reason": "x"},
        {"window_minutes": "45", "reason": ""},
    ):
        assert client.post(url, data).status_code == 400
    assert not AuditRuleChange.objects.exists()

    client.post(url, {"window_minutes": "45", "reason": "Slower buyers", "enabled": "on"})
    assert AuditRule.objects.get(code="duplicate").params == {
        "window_minutes": 45,
        "same_items_only": False,
    }


def test_keywords_are_edited_one_a_line(client):
    client.force_login(UserFactory(role=Role.ADMIN))
    url = reverse("servicedesk:audit_rule_edit", args=["note"])
    client.post(url, {"enabled": "on", "keywords": "加急\n  \n改地址 ", "reason": "Shorter"})
    assert AuditRule.objects.get(code="note").params == {
        "keywords": ["加急", "改地址"],
        "any_note": False,
    }


def test_agents_see_the_rules_but_cannot_edit_them(client):
    client.force_login(UserFactory(role=Role.SERVICE))
    assert client.get(reverse("servicedesk:audit_rules")).status_code == 200
    url = reverse("servicedesk:audit_rule_edit", args=["max_value"])
    assert client.get(url).status_code == 403
    assert client.post(url, {"amount": "1.00", "reason": "x"}).status_code == 403
    assert AuditRule.objects.get(code="max_value").params == {"amount": "20000.00"}


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.CUSTOMER])
def test_warehouse_staff_and_customers_see_no_rules(client, role):
    client.force_login(UserFactory(role=role))
    assert client.get(reverse("servicedesk:audit_rules")).status_code == 403


def test_an_unknown_rule_is_not_found(client):
    client.force_login(UserFactory(role=Role.MANAGER))
    assert client.get(reverse("servicedesk:audit_rule_edit", args=["nope"])).status_code == 404


def test_a_decimal_threshold_keeps_two_places(client):
    client.force_login(UserFactory(role=Role.MANAGER))
    url = reverse("servicedesk:audit_rule_edit", args=["first_order_value"])
    assert client.post(url, {"amount": "10.555", "reason": "x", "enabled": "on"}).status_code == 400
    client.post(url, {"amount": "10.5", "reason": "x", "enabled": "on"})
    assert Decimal(AuditRule.objects.get(code="first_order_value").params["amount"]) == Decimal(
        "10.50"
    )


def test_the_after_sales_queues_are_counted():
    from datetime import timedelta

    from django.utils import timezone

    from aftersales.models import AfterSalesRequest, RequestKind, RequestReason, RequestState
    from orders.models import OrderState
    from servicedesk import selectors
    from tests.factories import make_order

    order = make_order(state=OrderState.COMPLETED)
    now = timezone.now()

    def request(kind, state, **fields):
        created = AfterSalesRequest.objects.create(
            order=order,
            customer=order.customer,
            kind=kind,
            reason=RequestReason.values[0],
            created_at=now - timedelta(hours=2),
            **fields,
        )
        AfterSalesRequest.objects.filter(pk=created.pk).update(state=state)

    request(RequestKind.REFUND_ONLY, RequestState.SUBMITTED)
    request(RequestKind.RETURN_REFUND, RequestState.RETURN_SHIPPED, return_shipped_at=now)
    request(RequestKind.REFUND_ONLY, RequestState.APPROVED, decided_at=now)
    request(RequestKind.RETURN_REFUND, RequestState.RECEIVED, decided_at=now)
    request(RequestKind.RETURN_REFUND, RequestState.APPROVED, decided_at=now)  # goods not back
    request(RequestKind.EXCHANGE, RequestState.RECEIVED, decided_at=now)  # no refund
    request(RequestKind.REFUND_ONLY, RequestState.CLOSED)

    queues = selectors.desk_queues()
    assert queues["new_requests"].count == 1
    assert queues["returns"].count == 1
    assert queues["refunds"].count == 2
    assert queues["new_requests"].oldest == now - timedelta(hours=2)
