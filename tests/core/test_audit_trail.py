"""The audit trail of staff actions (SEC-4): the recorder, the services that write to it, and
the managers' search screen."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from checkout import services as checkout_services
from core.audit import changed_fields, record_staff_action
from core.models import StaffAction
from fulfillment import services as floor_services
from fulfillment.models import ShortReason
from inventory import services as inventory_services
from orders import services as order_services
from orders.models import PaymentMethod
from payments import services as payment_services
from payments.gateways.sandbox import settle_charge
from payments.models import Payment, SandboxCharge
from promotions import services as promotion_services
from promotions.models import CouponKind
from tests.factories import (
    BinFactory,
    SKUFactory,
    UserFactory,
    make_address,
    make_order,
    shared_test_bin,
)
from tests.fulfillment.kit import (
    fulfillment_of,
    make_floor,
    paid_order,
    pick_everything,
    pick_list_for,
    stocked,
)
from tests.payments.helpers import amount_str, post_notification, signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_payment(client) -> Payment:
    """A payment taken through the sandbox gateway, which can then refund it."""
    order = make_order(skus=[SKUFactory(price=Decimal("100.00"))])
    payment, _url = payment_services.start_payment(
        order_id=order.pk, actor=order.customer, build_url=lambda path: f"http://testserver{path}"
    )
    charge = SandboxCharge.objects.get(reference=payment.reference)
    settle_charge(txn_id=charge.txn_id, succeed=True)
    body, headers = signed(
        reference=payment.reference, txn_id=charge.txn_id, amount=amount_str(payment.amount)
    )
    assert post_notification(client, body, headers).status_code == 200
    payment.refresh_from_db()
    return payment


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


# --- each family of staff services writes its entry --------------------------------------------
def actions(**filters) -> list[tuple[str, str]]:
    return list(StaffAction.objects.filter(**filters).values_list("action", "target_label"))


def test_order_actions_of_agents_are_kept_with_their_reason_and_values():
    agent = UserFactory(role="service")
    order = make_order(state="paid")
    old_city = order.city

    order_services.change_address(
        order_id=order.pk,
        address=make_address(city="宁波市"),
        actor=agent,
        reason="Customer moved",
    )
    order_services.flag_for_review(order_id=order.pk, reason="Check the phone", actor=agent)
    order_services.release_held_order(order_id=order.pk, actor=agent, reason="Phone checked")
    order_services.cancel_order(order_id=order.pk, actor=agent, reason="Customer asked")

    assert actions(target_label=order.number) == [
        ("order.cancel", order.number),
        ("order.release_review", order.number),
        ("order.flag", order.number),
        ("order.change_address", order.number),
    ]
    moved = StaffAction.objects.get(action="order.change_address")
    assert (moved.actor, moved.reason) == (agent, "Customer moved")
    assert (moved.before["city"], moved.after["city"]) == (old_city, "宁波市")
    cancelled = StaffAction.objects.get(action="order.cancel")
    assert (cancelled.before, cancelled.after) == ({"state": "paid"}, {"state": "cancelled"})


def test_customers_own_order_actions_are_not_staff_actions():
    order = make_order(state="cancelled")  # cancelled by its customer

    assert order.state == "cancelled"
    assert not StaffAction.objects.exists()


def test_agent_completion_and_cash_collection_are_kept():
    agent = UserFactory(role="service")
    order = make_order(contact_email="guest@example.com", state="completed", service=agent)
    cod = make_order(state="shipped", payment_method=PaymentMethod.CASH_ON_DELIVERY)

    order_services.record_cash_on_delivery(
        order_id=cod.pk, amount=cod.total_amount, actor=agent, reference="C-1"
    )

    assert actions(actor=agent) == [
        ("order.record_cash", cod.number),
        ("order.complete", order.number),
    ]
    cash = StaffAction.objects.get(action="order.record_cash")
    assert cash.after == {"paid_amount": str(cod.total_amount), "reference": "C-1"}


def test_stock_actions_with_a_person_are_kept_those_of_the_system_are_not():
    keeper = UserFactory(role="warehouse")
    manager = UserFactory(role="manager")
    sku = SKUFactory()
    bin = shared_test_bin()
    other = BinFactory(warehouse=bin.warehouse)

    inventory_services.receive(sku_id=sku.pk, bin_id=bin.pk, quantity=5)  # the system
    inventory_services.receive(sku_id=sku.pk, bin_id=bin.pk, quantity=3, actor=keeper)
    inventory_services.adjust(
        sku_id=sku.pk, bin_id=bin.pk, change=-1, actor=keeper, reason="Miscount"
    )
    inventory_services.write_off(
        sku_id=sku.pk, bin_id=bin.pk, quantity=1, actor=keeper, reason="Broken"
    )
    inventory_services.transfer(
        sku_id=sku.pk, from_bin_id=bin.pk, to_bin_id=other.pk, quantity=2, actor=keeper
    )
    inventory_services.post_stock_take(
        bin_id=other.pk, counts={sku.pk: 1}, actor=keeper, reason="Monthly count"
    )
    inventory_services.set_threshold(sku_id=sku.pk, warehouse_id=None, threshold=4, actor=manager)

    assert [action for action, _label in actions()] == [
        "stock.set_threshold",
        "stock.stock_take",
        "stock.transfer",
        "stock.write_off",
        "stock.adjust",
        "stock.receipt",
    ]
    received = StaffAction.objects.get(action="stock.receipt")
    assert received.target_label == f"{sku.code} @ {bin.code}"
    assert (received.before, received.after) == ({"on_hand": 5}, {"on_hand": 8})
    counted = StaffAction.objects.get(action="stock.stock_take")
    assert (counted.target_label, counted.after) == (other.code, {"changes": {str(sku.pk): -1}})
    assert StaffAction.objects.get(action="stock.set_threshold").target_label == sku.code


def test_promotion_changes_are_kept_beside_their_own_history():
    manager = UserFactory(role="manager")
    now = timezone.now()
    coupon = promotion_services.create_coupon(
        actor=manager,
        data={
            "code": "audit-10",
            "name": "Ten off",
            "kind": CouponKind.FIXED,
            "value": Decimal("10"),
            "min_spend": Decimal("50.00"),
            "starts_at": now - timedelta(days=1),
            "ends_at": now + timedelta(days=30),
            "is_active": True,
        },
        reason="Autumn",
    )
    promotion_services.update_coupon(
        coupon_id=coupon.pk, actor=manager, data={"name": "Ten yuan off"}, reason="Wording"
    )
    promotion_services.deactivate_coupon(coupon_id=coupon.pk, actor=manager, reason="Over")

    assert actions() == [
        ("coupon.deactivated", "AUDIT-10"),
        ("coupon.changed", "AUDIT-10"),
        ("coupon.created", "AUDIT-10"),
    ]
    changed = StaffAction.objects.get(action="coupon.changed")
    assert (changed.before, changed.after, changed.reason) == (
        {"name": "Ten off"},
        {"name": "Ten yuan off"},
        "Wording",
    )


def test_a_refund_by_an_agent_is_kept_against_its_order(paid_payment):
    agent = UserFactory(role="service")

    payment_services.refund_payment(
        payment_id=paid_payment.pk, amount=Decimal("30.00"), actor=agent, reason="Late delivery"
    )

    entry = StaffAction.objects.get()
    assert (entry.action, entry.target_label, entry.reason) == (
        "payment.refund",
        paid_payment.order.number,
        "Late delivery",
    )
    assert entry.after["amount"] == "30.00"


def test_a_shipping_rule_change_is_kept_with_its_old_values():
    manager = UserFactory(role="manager")
    data = {
        "name": "Remote provinces",
        "provinces": ["新疆维吾尔自治区"],
        "first_fee": Decimal("20.00"),
        "step_fee": Decimal("10.00"),
    }
    rule = checkout_services.save_shipping_rule(actor=manager, data=data)
    checkout_services.save_shipping_rule(
        actor=manager, data={**data, "first_fee": Decimal("25.00")}, rule_id=rule.pk
    )

    assert actions() == [
        ("shipping_rule.change", "Remote provinces"),
        ("shipping_rule.create", "Remote provinces"),
    ]
    change = StaffAction.objects.get(action="shipping_rule.change")
    assert changed_fields(change.before, change.after) == [("first_fee", "20.00", "25.00")]


def test_floor_planning_actions_are_kept_but_not_each_scan():
    floor = make_floor()
    planner = UserFactory(role="warehouse")
    sku = stocked(floor, 5)
    first, second = paid_order([sku]), paid_order([sku], [2])
    ids = [fulfillment_of(first).pk, fulfillment_of(second).pk]

    assert floor_services.hold(fulfillment_ids=ids, actor=planner, reason="Promotion at 20:00") == 2
    floor_services.release(actor=planner, fulfillment_ids=ids)
    wave = pick_list_for(floor, [first, second], planner)
    floor_services.cancel_wave(wave_id=wave.pk, actor=planner)
    wave = pick_list_for(floor, [first, second], planner)
    floor_services.start_picking(code=wave.number, actor=planner)
    floor_services.report_short_pick(
        wave_id=wave.pk,
        sku_id=sku.pk,
        bin_id=sku.stock.get(bin__is_staging=False).bin_id,
        quantity=1,
        reason=ShortReason.NOT_IN_BIN,
        actor=planner,
    )

    held = StaffAction.objects.filter(action="floor.hold")
    assert sorted(held.values_list("target_label", flat=True)) == sorted(
        [first.number, second.number]
    )
    assert held.first().reason == "Promotion at 20:00"
    assert StaffAction.objects.filter(action="floor.release").count() == 2
    assert actions(action__in=["floor.create_wave", "floor.cancel_wave", "floor.short_pick"]) == [
        ("floor.short_pick", wave.number),
        ("floor.create_wave", wave.number),
        ("floor.cancel_wave", f"W{wave.pk - 1:08d}"),
        ("floor.create_wave", f"W{wave.pk - 1:08d}"),
    ]
    assert not StaffAction.objects.filter(action__contains="scan").exists()


def test_confirming_a_put_back_is_kept_against_the_order():
    floor = make_floor()
    keeper = UserFactory(role="warehouse")
    order = paid_order([stocked(floor, 2)])
    pick_everything(pick_list_for(floor, [order], keeper), keeper)
    order_services.cancel_order(order_id=order.pk, actor=UserFactory(role="service"), reason="x")

    floor_services.confirm_put_back(fulfillment_id=fulfillment_of(order).pk, actor=keeper)

    assert actions(actor=keeper)[0] == ("floor.put_back", order.number)


# --- the managers' screen ---------------------------------------------------------------------
def _entry(actor, action, order, *, reason="", before=None, after=None):
    return record_staff_action(
        actor=actor, action=action, target=order, reason=reason, before=before, after=after
    )


def test_managers_search_the_trail_by_who_what_target_reason_and_date(client):
    agent = UserFactory(role="service", email="lin.agent@example.com")
    keeper = UserFactory(role="warehouse")
    first, second = make_order(), make_order()
    _entry(agent, "order.cancel", first, reason="Customer asked", before={"state": "paid"})
    _entry(agent, "order.change_address", second, reason="Moved house")
    old = _entry(keeper, "floor.hold", second, reason="Promotion at 20:00")
    StaffAction.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))
    client.force_login(UserFactory(role="manager"))
    url = reverse("audit:trail")

    def found(**query):
        response = client.get(url, query)
        assert response.status_code == 200
        return [entry.action for entry in response.context["page"].object_list]

    assert found() == ["order.change_address", "order.cancel", "floor.hold"]  # newest first
    assert found(actor="lin.agent") == ["order.change_address", "order.cancel"]
    assert found(action="order") == ["order.change_address", "order.cancel"]
    assert found(action="order.cancel") == ["order.cancel"]
    assert found(target=second.number) == ["order.change_address", "floor.hold"]
    assert found(text="promotion") == ["floor.hold"]
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert found(since=since) == ["order.change_address", "order.cancel"]
    until = (timezone.localdate() - timedelta(days=5)).isoformat()
    assert found(until=until) == ["floor.hold"]


def test_the_screen_shows_before_and_after_as_a_readable_diff(client):
    agent = UserFactory(role="service")
    order = make_order()
    _entry(
        agent,
        "order.change_address",
        order,
        reason="Customer moved",
        before={"city": "杭州市", "postcode": "310013", "district": "西湖区"},
        after={"city": "宁波市", "postcode": "315000", "district": "西湖区"},
    )
    client.force_login(UserFactory(role="manager"))

    page = client.get(reverse("audit:trail")).content.decode()

    assert "<del>杭州市</del> → <ins>宁波市</ins>" in page
    assert "<del>310013</del> → <ins>315000</ins>" in page
    assert "district" not in page  # unchanged fields are left out
    assert order.number in page and "Customer moved" in page


def test_the_screen_keeps_its_queries_as_the_trail_grows(client, django_assert_max_num_queries):
    agent = UserFactory(role="service")
    order = make_order()
    _entry(agent, "order.cancel", order, before={"state": "paid"}, after={"state": "cancelled"})
    client.force_login(UserFactory(role="manager"))
    url = reverse("audit:trail")
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for n in range(10):
        _entry(UserFactory(role="service"), f"order.test{n}", make_order(), reason=str(n))
    with django_assert_max_num_queries(len(few)):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("role", ["warehouse", "service", "customer"])
def test_only_managers_and_admins_open_the_trail(client, role):
    client.force_login(UserFactory(role=role))
    assert client.get(reverse("audit:trail")).status_code == 403


def test_admins_open_the_trail_and_see_it_read_only_in_the_admin(client):
    agent = UserFactory(role="service")
    entry = _entry(agent, "order.cancel", make_order(), reason="x")
    client.force_login(UserFactory(role="admin", is_superuser=True))

    assert client.get(reverse("audit:trail")).status_code == 200
    assert client.get(reverse("admin:core_staffaction_changelist")).status_code == 200
    change = client.get(reverse("admin:core_staffaction_change", args=[entry.pk]))
    assert change.status_code == 200 and not change.context["has_change_permission"]
    assert client.get(reverse("admin:core_staffaction_add")).status_code == 403
