"""Managers set the shipping rules in the workspace; the next quote uses them."""

from decimal import Decimal

import pytest
from django.test import Client

from checkout.models import ShippingRule
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RULE = {
    "name": "偏远地区",
    "provinces": ["新疆维吾尔自治区", "西藏自治区"],
    "first_weight_grams": "1000",
    "first_fee": "20.00",
    "step_grams": "500",
    "step_fee": "8.00",
    "free_over": "",
    "priority": "10",
    "is_active": "on",
}


@pytest.fixture
def manager(client):
    client.force_login(UserFactory(role="manager"))


def test_a_manager_adds_a_rule_and_sees_it_listed(client, manager):
    response = client.post("/staff/shipping/new/", RULE, follow=True)

    rule = ShippingRule.objects.get()
    assert rule.provinces == ["新疆维吾尔自治区", "西藏自治区"]
    assert rule.fee(weight_grams=1600, goods_after_discount=Decimal("50")) == Decimal("36.00")
    assert "偏远地区" in response.content.decode()


def test_a_province_that_does_not_exist_is_refused(client, manager):
    response = client.post("/staff/shipping/new/", {**RULE, "provinces": ["火星省"]})

    assert response.status_code == 400
    assert not ShippingRule.objects.exists()


def test_editing_changes_the_rule(client, manager):
    client.post("/staff/shipping/new/", RULE)
    rule = ShippingRule.objects.get()

    client.post(f"/staff/shipping/{rule.pk}/", {**RULE, "free_over": "299.00"})

    rule.refresh_from_db()
    assert rule.free_over == Decimal("299.00")


@pytest.mark.parametrize("role", ["customer", "warehouse", "service"])
def test_only_managers_may_see_or_change_rules(role):
    client = Client()
    client.force_login(UserFactory(role=role))

    assert client.get("/staff/shipping/").status_code == 403
    assert client.post("/staff/shipping/new/", RULE).status_code == 403
    assert not ShippingRule.objects.exists()
