"""The automated audit (ORD-6): every rule passing and failing, thresholds staff configure, and
the audit running by itself when an order is paid or accepted for cash on delivery."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import Role
from fulfillment.models import Fulfillment
from orders.models import Order, OrderEvent, OrderEventKind, OrderState, PaymentMethod
from servicedesk import audit, services
from servicedesk.models import AuditFinding, AuditRule, AuditRuleChange
from tests.factories import SKUFactory, UserFactory, make_address, make_order

pytestmark = pytest.mark.django_db


def codes(order: Order) -> list[str]:
    return [finding.code for finding in audit.findings_for(Order.objects.get(pk=order.pk))]


def failing(order: Order, code: str) -> str:
    found = {f.code: f.reason for f in audit.findings_for(Order.objects.get(pk=order.pk))}
    assert code in found, found
    return found[code]


def set_rule(code: str, *, enabled: bool = True, **params) -> None:
    spec = audit.REGISTRY[code]
    values = {**spec.defaults(), **params}
    services.update_audit_rule(
        code=code,
        enabled=enabled,
        params=values,
        actor=UserFactory(role=Role.MANAGER),
        reason="test",
    )


def test_a_normal_order_passes_every_rule():
    assert codes(make_order()) == []


def test_the_default_rules_are_created_by_the_migration():
    assert set(AuditRule.objects.values_list("code", flat=True)) == set(audit.REGISTRY)
    assert AuditRule.objects.get(code="orders_per_address").enabled is False


# --- address ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"district": "火星区"}, "not a known province"),
        ({"city": "广州市"}, "not a known province"),  # 西湖区 is not in 广州市
        ({"address_line": "  "}, "missing or too short"),
        ({"address_line": "1号"}, "missing or too short"),
        ({"recipient_name": " "}, "no recipient"),
    ],
)
def test_an_incomplete_or_unknown_address_fails(overrides, words):
    order = make_order(address=make_address(**overrides))
    assert words in failing(order, "address")


def test_a_municipality_address_passes():
    order = make_order(address=make_address(province="上海市", city="上海市", district="浦东新区"))
    assert "address" not in codes(order)


def test_the_shortest_street_address_is_configurable():
    order = make_order(address=make_address(address_line="文三路 8 号"))
    assert "address" not in codes(order)
    set_rule("address", min_line_length=20)
    assert "too short" in failing(order, "address")


# --- phone ------------------------------------------------------------------------------------
@pytest.mark.parametrize("phone", ["12345", "02112345678", "+1 415 555 0100", ""])
def test_a_phone_that_is_not_a_mainland_mobile_fails(phone):
    order = make_order(address=make_address(recipient_phone=phone))
    assert "not a valid mainland mobile" in failing(order, "phone")


@pytest.mark.parametrize("phone", ["13812345678", "+86 138 1234 5678", "0086-139-0000-1111"])
def test_a_mainland_mobile_passes(phone):
    assert "phone" not in codes(make_order(address=make_address(recipient_phone=phone)))


# --- amounts ----------------------------------------------------------------------------------
def test_amounts_of_a_placed_order_add_up():
    order = make_order(
        skus=[SKUFactory(price=Decimal("10.50")), SKUFactory()],
        quantities=[3, 1],
        shipping_amount=Decimal("8.00"),
        state=OrderState.PAID,
    )
    assert "amounts" not in codes(order)


def test_goods_amount_not_matching_the_lines_fails():
    order = make_order()
    Order.objects.filter(pk=order.pk).update(
        goods_amount=Decimal("1.00"), total_amount=Decimal("1.00")
    )
    assert "the lines come to 99.00" in failing(order, "amounts")


def test_discount_not_matching_the_lines_fails():
    order = make_order()
    Order.objects.filter(pk=order.pk).update(
        discount_amount=Decimal("5.00"), total_amount=Decimal("94.00")
    )
    assert "discounts come to 0.00" in failing(order, "amounts")


def test_paid_amount_other_than_the_total_fails_for_a_prepaid_order():
    order = make_order(state=OrderState.PAID)
    Order.objects.filter(pk=order.pk).update(paid_amount=Decimal("9.90"))
    assert "paid 9.90" in failing(order, "amounts")


def test_a_cash_on_delivery_order_is_not_expected_to_be_paid_yet():
    order = make_order(state=OrderState.PAID, payment_method=PaymentMethod.CASH_ON_DELIVERY)
    assert "amounts" not in codes(order)


# --- near-duplicates --------------------------------------------------------------------------
def test_the_same_basket_again_to_the_same_address_within_the_window_fails():
    customer = UserFactory(role=Role.CUSTOMER)
    sku = SKUFactory()
    first = make_order(customer=customer, skus=[sku])
    second = make_order(customer=customer, skus=[sku])
    assert first.number in failing(second, "duplicate")


def test_a_guests_duplicate_is_found_by_contact_email():
    sku = SKUFactory()
    make_order(customer=None, contact_email="guest@example.com", skus=[sku])
    second = make_order(customer=None, contact_email="GUEST@example.com", skus=[sku])
    assert "duplicate" in codes(second)


def test_not_a_duplicate_when_another_buyer_address_or_basket_or_cancelled():
    customer = UserFactory(role=Role.CUSTOMER)
    sku = SKUFactory()
    make_order(skus=[sku])  # another buyer
    make_order(customer=customer, skus=[sku], address=make_address(address_line="莫干山路 1 号"))
    make_order(customer=customer, skus=[SKUFactory()])  # another basket
    make_order(customer=customer, skus=[sku], state=OrderState.CANCELLED)
    order = make_order(customer=customer, skus=[sku])
    assert "duplicate" not in codes(order)


def test_an_order_outside_the_window_is_not_a_duplicate(time_machine):
    customer = UserFactory(role=Role.CUSTOMER)
    sku = SKUFactory()
    time_machine.move_to(timezone.now() - timedelta(minutes=45))
    make_order(customer=customer, skus=[sku])
    time_machine.move_to(timezone.now() + timedelta(minutes=45))
    order = make_order(customer=customer, skus=[sku])
    assert "duplicate" not in codes(order)
    set_rule("duplicate", window_minutes=60)
    assert "duplicate" in codes(order)


def test_any_basket_counts_when_same_items_only_is_off():
    customer = UserFactory(role=Role.CUSTOMER)
    make_order(customer=customer)
    order = make_order(customer=customer)
    assert "duplicate" not in codes(order)
    set_rule("duplicate", same_items_only=False)
    assert "duplicate" in codes(order)


# --- buyer note -------------------------------------------------------------------------------
def test_a_note_with_a_keyword_fails_and_a_plain_note_passes():
    assert "改地址" in failing(make_order(customer_note="要改地址，谢谢"), "note")
    assert "note" not in codes(make_order(customer_note="请开具电子发票。"))
    assert "“call me”" in failing(make_order(customer_note="Please CALL ME first"), "note")
    assert "note" not in codes(make_order(customer_note="放门口即可"))


def test_note_keywords_and_any_note_are_configurable():
    order = make_order(customer_note="放门口即可")
    set_rule("note", keywords=["门口"])
    assert "门口" in failing(order, "note")
    other = make_order(customer_note="谢谢")
    assert "note" not in codes(other)
    set_rule("note", any_note=True)
    assert "谢谢" in failing(other, "note")
    assert "note" not in codes(make_order())  # no note at all


# --- value and risk ---------------------------------------------------------------------------
def test_an_order_above_the_value_limit_fails():
    order = make_order()
    assert "max_value" not in codes(order)
    set_rule("max_value", amount=Decimal("50.00"))
    assert "above the limit of 50.00" in failing(order, "max_value")


def test_a_new_buyers_large_first_order_fails_but_not_a_returning_buyers():
    customer = UserFactory(role=Role.CUSTOMER)
    big = SKUFactory(price=Decimal("6000.00"))
    first = make_order(customer=customer, skus=[big])
    assert "First order of a new buyer" in failing(first, "first_order_value")

    returning = UserFactory(role=Role.CUSTOMER)
    make_order(customer=returning, state=OrderState.PAID)
    assert "first_order_value" not in codes(make_order(customer=returning, skus=[big]))


def test_the_first_order_amount_is_configurable():
    order = make_order()
    set_rule("first_order_value", amount=Decimal("50.00"))
    assert "first_order_value" in codes(order)


def test_many_orders_to_one_address_in_a_day_fails_when_enabled():
    for _ in range(3):
        make_order()
    order = make_order()
    assert "orders_per_address" not in codes(order)  # off by default
    set_rule("orders_per_address", max_orders=3)
    assert "4 orders to this address" in failing(order, "orders_per_address")


def test_a_disabled_rule_does_not_run():
    order = make_order(address=make_address(recipient_phone="123"))
    set_rule("phone", enabled=False)
    assert "phone" not in codes(order)


def test_a_broken_rule_holds_the_order_instead_of_letting_it_through(monkeypatch):
    def broken(audited, params):
        raise RuntimeError("bug")

    spec = audit.REGISTRY["phone"]
    monkeypatch.setitem(
        audit.REGISTRY, "phone", audit.RuleSpec(spec.code, spec.label, spec.description, broken)
    )
    assert "could not run" in failing(make_order(), "phone")


def test_a_bad_stored_threshold_falls_back_to_the_default():
    AuditRule.objects.filter(code="max_value").update(params={"amount": "lots"})
    assert "max_value" not in codes(make_order())


# --- configuration ----------------------------------------------------------------------------
def test_changing_a_rule_is_logged_with_its_reason_and_values():
    manager = UserFactory(role=Role.MANAGER)
    services.update_audit_rule(
        code="max_value",
        enabled=True,
        params={"amount": Decimal("800.00")},
        actor=manager,
        reason="Promotion week",
    )
    change = AuditRuleChange.objects.get()
    assert change.actor == manager and change.reason == "Promotion week"
    assert change.before == {"enabled": True, "params": {"amount": "20000.00"}}
    assert change.after == {"enabled": True, "params": {"amount": "800.00"}}
    from core.models import StaffAction

    trail = StaffAction.objects.get(action="audit_rule.change")
    assert trail.actor == manager and trail.reason == "Promotion week"


@pytest.mark.parametrize("role", [Role.SERVICE, Role.WAREHOUSE, Role.CUSTOMER])
def test_only_managers_and_admins_change_rules(role):
    with pytest.raises(services.DeskActionNotAllowed):
        services.update_audit_rule(
            code="max_value",
            enabled=False,
            params={"amount": Decimal("1.00")},
            actor=UserFactory(role=role),
            reason="x",
        )
    assert not AuditRuleChange.objects.exists()


def test_a_rule_change_needs_a_reason():
    with pytest.raises(services.DeskActionNotAllowed):
        services.update_audit_rule(
            code="max_value",
            enabled=False,
            params={"amount": Decimal("1.00")},
            actor=UserFactory(role=Role.ADMIN),
            reason=" ",
        )


# --- the receiver -----------------------------------------------------------------------------
def test_a_paid_order_that_passes_goes_to_the_warehouse_by_itself():
    order = make_order(state=OrderState.PAID)
    assert not order.needs_review
    assert Fulfillment.objects.filter(order=order).exists()
    assert not OrderEvent.objects.filter(order=order, kind=OrderEventKind.FLAGGED).exists()


def test_payment_of_a_failing_order_flags_it_with_every_reason():
    order = make_order(
        address=make_address(recipient_phone="123", district="火星区"),
        customer_note="请打电话",
        state=OrderState.PAID,
    )
    assert order.state == OrderState.PAID and order.needs_review
    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.FLAGGED)
    assert [rule["code"] for rule in event.details["rules"]] == ["address", "phone", "note"]
    for part in ("Address:", "Phone:", "Buyer note"):
        assert part in order.review_reason and part in event.reason
    assert set(AuditFinding.objects.filter(order=order).values_list("code", flat=True)) == {
        "address",
        "phone",
        "note",
    }


def test_cash_on_delivery_acceptance_is_audited_too():
    order = make_order(
        payment_method=PaymentMethod.CASH_ON_DELIVERY,
        address=make_address(recipient_phone="123"),
        state=OrderState.PAID,
    )
    assert order.needs_review
    assert "Phone:" in order.review_reason


def test_a_flagged_order_cannot_be_picked_until_released():
    from orders import services as order_services

    order = make_order(customer_note="加急", state=OrderState.PAID)
    with pytest.raises(order_services.OrderActionNotAllowed):
        order_services.mark_picked(order_id=order.pk, actor=UserFactory(role=Role.WAREHOUSE))
