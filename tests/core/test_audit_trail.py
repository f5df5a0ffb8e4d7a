"""The audit trail of staff actions (SEC-4): the recorder, the services that write to it, and
the managers' search screen."""

from decimal import Decimal

import pytest

from core.audit import changed_fields, record_staff_action
from core.models import StaffAction
from tests.factories import UserFactory, make_order

pytestmark = pytest.mark.django_db


def test_recorder_keeps_who_what_why_and_the_values_before_and_after():
    agent = UserFactory(role="service")
    order = make_order()

    entry = record_staff_action(
        actor=agent,
        action="order.test",
        target=order,
        reason="Customer called",
        before={"amount": Decimal("10.50"), "owner": agent},
        after={"amount": Decimal("12.00"), "tags": {"b", "a"}},
    )

    entry.refresh_from_db()
    assert entry.actor == agent
    assert entry.action == "order.test"
    assert (entry.target_type, entry.target_id) == ("orders.order", str(order.pk))
    assert entry.target_label == order.number
    assert entry.reason == "Customer called"
    assert entry.before == {"amount": "10.50", "owner": str(agent)}
    assert entry.after == {"amount": "12.00", "tags": ["a", "b"]}


def test_recorder_ignores_the_system_and_customers():
    order = make_order()

    assert record_staff_action(actor=None, action="order.test", target=order) is None
    assert record_staff_action(actor=order.customer, action="order.test", target=order) is None
    assert not StaffAction.objects.exists()


def test_changed_fields_lists_only_what_differs():
    assert changed_fields({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == [
        ("b", 2, 3),
        ("c", None, 4),
    ]
