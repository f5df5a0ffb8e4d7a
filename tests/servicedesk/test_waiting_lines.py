"""Lines waiting for stock (INV-5): an agent ships what is there now, drops the waiting units
with the amount adjusted and the difference refunded, or sends another SKU instead."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.roles import Role
from core.models import StaffAction
from fulfillment.models import Fulfillment
from inventory.models import Allocation, Backorder
from inventory.selectors import availability
from notifications.models import Notification, NotificationKind
from notifications.rendering import render
from orders import services as order_services
from orders.models import Order, OrderEventKind, OrderState, PaymentMethod
from payments import services as payment_services
from payments.gateways.sandbox import settle_charge
from payments.models import Refund, SandboxCharge
from servicedesk import waiting
from tests.factories import SKUFactory, UserFactory, make_address, shared_test_bin
from tests.factories import stock_sku as _stock_sku
from tests.payments.helpers import amount_str, post_notification, signed

pytestmark = pytest.mark.django_db


def waiting_order(
    *,
    have: int = 2,
    want: int = 5,
    price: str = "100.00",
    discount: str = "0.00",
    extra_in_stock: bool = True,
    payment_method: str = PaymentMethod.CASH_ON_DELIVERY,
    ship_partial: bool = False,
    pay: bool = True,
) -> Order:
    """An order of `want` units of a SKU with `have` in stock (the rest waits), plus, unless
    told otherwise, one unit of another SKU in stock."""
    short = SKUFactory(price=Decimal(price))
    if have:
        stock_sku(have, sku=short)
    lines = [order_services.LineRequest(sku_id=short.pk, quantity=want, discount=Decimal(discount))]
    if extra_in_stock:
        lines.append(
            order_services.LineRequest(
                sku_id=stock_sku(3, sku=SKUFactory(price=Decimal("20.00"))).pk, quantity=1
            )
        )
    customer = UserFactory(role=Role.CUSTOMER)
    order = order_services.create_order(
        customer=customer,
        lines=lines,
        address=make_address(),
        payment_method=payment_method,
        allow_backorder=True,
        ship_partial=ship_partial,
    )
    if payment_method == PaymentMethod.CASH_ON_DELIVERY:
        order_services.accept_cash_on_delivery(order_id=order.pk)
    elif pay:
        _pay_through_sandbox(order, customer)
    return Order.objects.get(pk=order.pk)


def _pay_through_sandbox(order: Order, customer) -> None:
    payment, _url = payment_services.start_payment(
        order_id=order.pk, actor=customer, build_url=lambda path: f"http://testserver{path}"
    )
    charge = SandboxCharge.objects.get(reference=payment.reference)
    settle_charge(txn_id=charge.txn_id, succeed=True)
    body, headers = signed(
        reference=payment.reference, txn_id=charge.txn_id, amount=amount_str(payment.amount)
    )
    assert post_notification(Client(), body, headers).status_code == 200


def stock_sku(quantity: int, **kwargs):
    """Stock in one warehouse, so that each order has one fulfillment."""
    return _stock_sku(quantity, bin=shared_test_bin(), **kwargs)


def short_line(order: Order):
    return order.lines.order_by("pk").first()


@pytest.fixture
def agent():
    return UserFactory(role=Role.SERVICE)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


# --- ship what is there now ----------------------------------------------------------------------
def test_the_staff_order_page_offers_the_choices_for_waiting_units(agent_client):
    order = waiting_order()

    page = agent_client.get(f"/staff/orders/{order.number}/").content.decode()

    assert "Waiting for stock" in page
    assert "3 units waiting" in page
    assert "Ship what is in stock now" in page
    assert "Substitute" in page and "Drop the 3 waiting units" in page


def test_a_warehouse_user_sees_no_choices_and_cannot_post_them(client):
    order = waiting_order()
    client.force_login(UserFactory(role=Role.WAREHOUSE))

    page = client.get(f"/staff/orders/{order.number}/").content.decode()
    response = client.post(
        f"/staff/desk/orders/{order.number}/waiting/", {"ship_partial": "1", "reason": "x"}
    )

    assert "Drop the" not in page
    assert response.status_code == 403
    assert not Order.objects.get(pk=order.pk).ship_partial


def test_switching_to_ship_what_is_there_puts_the_order_in_the_warehouse_queue(agent_client):
    from fulfillment.selectors import queue

    order = waiting_order()
    (fulfillment,) = Fulfillment.objects.filter(order=order)
    assert not queue(warehouse_id=fulfillment.warehouse_id).filter(pk=fulfillment.pk).exists()

    response = agent_client.post(
        f"/staff/desk/orders/{order.number}/waiting/",
        {"ship_partial": "1", "reason": "Customer wants what is there"},
        follow=True,
    )

    assert "ships what is in stock now" in response.content.decode()
    order.refresh_from_db()
    assert order.ship_partial
    assert queue(warehouse_id=fulfillment.warehouse_id).filter(pk=fulfillment.pk).exists()
    event = order.events.get(kind=OrderEventKind.SHIPPING_CHOICE)
    assert event.reason == "Customer wants what is there"
    assert StaffAction.objects.filter(action="order.shipping_choice").exists()


def test_a_choice_without_a_reason_changes_nothing(agent_client):
    order = waiting_order()

    response = agent_client.post(
        f"/staff/desk/orders/{order.number}/waiting/", {"ship_partial": "1", "reason": " "}
    )

    assert response.status_code == 302
    assert not Order.objects.get(pk=order.pk).ship_partial
    assert not order.events.filter(kind=OrderEventKind.SHIPPING_CHOICE).exists()


# --- drop the waiting units ----------------------------------------------------------------------
def test_dropping_waiting_units_of_a_cod_order_lowers_what_the_courier_collects(
    agent, agent_client
):
    order = waiting_order(price="100.00", discount="50.00")  # 5 × 100 − 50, + 20
    assert order.total_amount == Decimal("470.00")

    response = agent_client.post(
        f"/staff/desk/orders/{order.number}/waiting/{short_line(order).pk}/drop/",
        {"reason": "Discontinued by the supplier"},
        follow=True,
    )

    assert "costs ¥270.00 less" in response.content.decode()
    order.refresh_from_db()
    line = short_line(order)
    assert (line.quantity, line.dropped_quantity) == (2, 3)
    assert line.discount_amount == Decimal("20.00")  # 2/5 of the discount stays
    assert order.goods_amount == Decimal("220.00")
    assert order.discount_amount == Decimal("20.00")
    assert order.total_amount == Decimal("200.00")
    assert not Backorder.objects.filter(
        group=f"order:{order.pk}", cancelled_at__isnull=True, filled_at__isnull=True
    ).exists()
    assert not Refund.objects.exists()
    event = order.events.get(kind=OrderEventKind.LINE_DROPPED)
    assert event.details["amount"] == "270.00" and event.details["units"] == 3
    (message,) = Notification.objects.filter(kind=NotificationKind.ORDER_ITEMS_CHANGED)
    assert message.order_id == order.pk and message.context["amount"] == "270.00"
    text = render(message).text
    assert "could not be supplied" in text and "270.00 less" in text


def test_dropping_from_a_paid_order_refunds_the_difference_once(agent):
    order = waiting_order(payment_method=PaymentMethod.ONLINE)
    assert order.state == OrderState.PAID and order.paid_amount == Decimal("520.00")

    less = waiting.drop_waiting_units(
        order_id=order.pk, line_id=short_line(order).pk, actor=agent, reason="Not coming back"
    )

    assert less == Decimal("300.00")
    (refund,) = Refund.objects.all()
    assert refund.amount == Decimal("300.00") and refund.actor == agent
    order.refresh_from_db()
    assert order.total_amount == Decimal("220.00") and not order.needs_review
    # Nothing waits any more: a second drop is refused and refunds nothing.
    with pytest.raises(waiting.WaitingLineRefused):
        waiting.drop_waiting_units(
            order_id=order.pk, line_id=short_line(order).pk, actor=agent, reason="again"
        )
    assert Refund.objects.count() == 1


def test_a_second_drop_on_the_same_line_refunds_again(agent):
    from inventory import services as inventory_services

    order = waiting_order(have=4, want=6, payment_method=PaymentMethod.ONLINE)
    line = short_line(order)
    waiting.drop_waiting_units(order_id=order.pk, line_id=line.pk, actor=agent, reason="first")
    # Later two of the reserved units turn out missing (a short pick) and wait in turn.
    allocation = Allocation.objects.get(line=f"order_line:{line.pk}")
    inventory_services.reallocate_missing(
        group=f"order:{order.pk}",
        sku_id=line.sku_id,
        bin_id=allocation.stock.bin_id,
        quantity=2,
        actor=agent,
        reason="short pick",
    )

    waiting.drop_waiting_units(order_id=order.pk, line_id=line.pk, actor=agent, reason="second")

    assert sorted(Refund.objects.values_list("amount", flat=True)) == [
        Decimal("200.00"),
        Decimal("200.00"),
    ]
    order.refresh_from_db()
    assert order.total_amount == Decimal("220.00") and not order.needs_review


def test_an_unpaid_order_cannot_drop_units(agent):
    order = waiting_order(payment_method=PaymentMethod.ONLINE, pay=False)

    with pytest.raises(waiting.WaitingLineRefused, match="not paid yet"):
        waiting.drop_waiting_units(
            order_id=order.pk, line_id=short_line(order).pk, actor=agent, reason="x"
        )


def test_stock_arriving_after_a_drop_is_not_reserved_for_the_order(agent):
    from inventory import services as inventory_services

    order = waiting_order()
    line = short_line(order)
    waiting.drop_waiting_units(order_id=order.pk, line_id=line.pk, actor=agent, reason="x")

    bin_id = Allocation.objects.filter(line=f"order_line:{line.pk}").first().stock.bin_id
    inventory_services.receive(sku_id=line.sku_id, bin_id=bin_id, quantity=4)

    assert availability(sku_ids=[line.sku_id]) == {line.sku_id: 4}


def test_dropping_everything_an_order_has_is_refused(agent):
    order = waiting_order(have=0, want=2, extra_in_stock=False)

    with pytest.raises(waiting.WaitingLineRefused, match="cancel it instead"):
        waiting.drop_waiting_units(
            order_id=order.pk, line_id=short_line(order).pk, actor=agent, reason="x"
        )

    order.refresh_from_db()
    assert order.total_amount == Decimal("200.00")
    assert Backorder.objects.get(group=f"order:{order.pk}").cancelled_at is None


def test_a_line_with_nothing_waiting_cannot_be_dropped(agent):
    order = waiting_order()
    in_stock = order.lines.order_by("pk").last()

    with pytest.raises(waiting.WaitingLineRefused, match="waits for stock"):
        waiting.drop_waiting_units(order_id=order.pk, line_id=in_stock.pk, actor=agent, reason="x")


# --- substitute another SKU ----------------------------------------------------------------------
def test_a_substitute_is_reserved_at_the_original_price_and_reaches_the_warehouse(agent_client):
    order = waiting_order(price="100.00", discount="50.00")
    substitute = stock_sku(10, sku=SKUFactory(price=Decimal("130.00")))
    total = order.total_amount

    response = agent_client.post(
        f"/staff/desk/orders/{order.number}/waiting/{short_line(order).pk}/substitute/",
        {"sku_code": substitute.code.lower(), "reason": "Customer agreed to the blue one"},
        follow=True,
    )

    assert f"3 × {substitute.code} will be sent instead" in response.content.decode()
    order.refresh_from_db()
    assert order.total_amount == total
    original, _other, new = order.lines.order_by("pk")
    assert (original.quantity, original.dropped_quantity) == (2, 3)
    assert new.sku_id == substitute.pk and new.quantity == 3
    assert new.unit_price == Decimal("100.00") and new.substitute_for_id == original.pk
    assert original.discount_amount + new.discount_amount == Decimal("50.00")
    assert availability(sku_ids=[substitute.pk]) == {substitute.pk: 7}
    # The substitute's units are part of the order's fulfillment in the warehouse.
    fulfillment = Fulfillment.objects.get(order=order)
    assert Allocation.objects.get(line=f"order_line:{new.pk}").part == fulfillment.part
    assert fulfillment.units == 2 + 1 + 3
    page = agent_client.get(f"/staff/orders/{order.number}/").content.decode()
    assert "Sent instead of a missing item" in page and "3 not sent" in page


def test_a_substitute_short_of_stock_changes_nothing(agent):
    order = waiting_order()
    substitute = stock_sku(2)

    with pytest.raises(waiting.WaitingLineRefused, match="Only 2"):
        waiting.substitute_waiting_units(
            order_id=order.pk,
            line_id=short_line(order).pk,
            sku_code=substitute.code,
            actor=agent,
            reason="x",
        )

    assert order.lines.count() == 2
    assert short_line(order).quantity == 5
    assert Backorder.objects.get(group=f"order:{order.pk}").cancelled_at is None
    assert availability(sku_ids=[substitute.pk]) == {substitute.pk: 2}


def test_an_unknown_or_same_sku_is_refused(agent):
    order = waiting_order()
    line = short_line(order)

    with pytest.raises(waiting.WaitingLineRefused, match="no SKU"):
        waiting.substitute_waiting_units(
            order_id=order.pk, line_id=line.pk, sku_code="NOPE", actor=agent, reason="x"
        )
    with pytest.raises(waiting.WaitingLineRefused, match="another SKU"):
        waiting.substitute_waiting_units(
            order_id=order.pk, line_id=line.pk, sku_code=line.sku_code, actor=agent, reason="x"
        )
    assert Backorder.objects.get(group=f"order:{order.pk}").cancelled_at is None


def test_the_customer_sees_what_happened_to_their_waiting_items(client, agent):
    order = waiting_order()
    substitute = stock_sku(5)
    waiting.substitute_waiting_units(
        order_id=order.pk,
        line_id=short_line(order).pk,
        sku_code=substitute.code,
        actor=agent,
        reason="internal note",
    )
    client.force_login(order.customer)

    page = client.get(f"/account/orders/{order.number}/").content.decode()

    assert f"replaced by {substitute.code}, at the same price" in page
    assert "sent instead of a missing item" in page
    assert "internal note" not in page


def test_a_short_pick_turns_the_missing_units_into_waiting_ones_for_the_agent(agent_client):
    from fulfillment import services as floor
    from fulfillment.models import ShortReason
    from fulfillment.selectors import pick_list

    sku = stock_sku(2)
    # One unit waits from the start; the 20.00 line in stock ships first.
    order = waiting_order(have=0, want=1, ship_partial=True)
    other = Order.objects.get(pk=order.pk).lines.order_by("pk").last()
    staff = UserFactory(role=Role.WAREHOUSE)
    fulfillment = Fulfillment.objects.get(order=order)
    (wave,) = floor.create_waves(
        warehouse_id=fulfillment.warehouse_id, actor=staff, fulfillment_ids=[fulfillment.pk]
    )
    floor.start_picking(code=wave.number, actor=staff)
    (line,) = pick_list(wave).lines
    floor.report_short_pick(
        wave_id=wave.pk,
        sku_id=other.sku_id,
        bin_id=line.bin_id,
        quantity=1,
        reason=ShortReason.NOT_IN_BIN,
        actor=staff,
    )

    page = agent_client.get(f"/staff/desk/exceptions/{order.number}/").content.decode()

    assert "2 units of this order wait for stock" in page
    response = agent_client.post(
        f"/staff/desk/orders/{order.number}/waiting/{other.pk}/substitute/",
        {"sku_code": sku.code, "reason": "Same mug, other colour"},
        follow=True,
    )
    assert "will be sent instead" in response.content.decode()
    assert Allocation.objects.filter(line__startswith="order_line:", stock__sku=sku).exists()
