"""An order whose items partly wait for stock (INV-5): sent complete once everything is in,
or — the customer's or an agent's choice — what is in stock now and the rest in another
parcel from the same warehouse when it arrives."""

import pytest
from django.core.management import call_command

from accounts.roles import Role
from fulfillment import selectors, services
from fulfillment.models import Fulfillment, FulfillmentState
from inventory import services as inventory_services
from inventory.models import Allocation, AllocationState
from notifications.models import Notification, NotificationKind
from orders import services as order_services
from orders.models import Order, OrderEventKind, OrderState, PaymentMethod
from tests.checkout.conftest import checkout_page, submit
from tests.factories import UserFactory, make_address

from .kit import (
    fulfillment_of,
    make_floor,
    pack_everything,
    pick_everything,
    pick_list_for,
    stocked,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor():
    return make_floor()


@pytest.fixture
def staff():
    return UserFactory(role=Role.WAREHOUSE)


def waiting_order(sku, *, want: int, ship_partial: bool) -> Order:
    order = order_services.create_order(
        customer=UserFactory(role=Role.CUSTOMER),
        lines=[order_services.LineRequest(sku_id=sku.pk, quantity=want)],
        address=make_address(),
        payment_method=PaymentMethod.CASH_ON_DELIVERY,
        allow_backorder=True,
        ship_partial=ship_partial,
    )
    return order_services.accept_cash_on_delivery(order_id=order.pk)


@pytest.fixture
def arrive(floor, django_capture_on_commit_callbacks):
    """Receive units of a SKU; the floor hears of it after the commit, as in production."""

    def receive(sku, quantity):
        with django_capture_on_commit_callbacks(execute=True):
            inventory_services.receive(sku_id=sku.pk, bin_id=floor.bins[0].pk, quantity=quantity)

    return receive


def in_queue(floor, order) -> bool:
    return selectors.queue(warehouse_id=floor.warehouse.pk).filter(order=order).exists()


def ship(floor, order, staff):
    fulfillment = Fulfillment.objects.get(order=order, state=FulfillmentState.READY)
    pick_everything(pick_list_for_part(floor, fulfillment, staff), staff)
    parcel = pack_everything(Fulfillment.objects.get(pk=fulfillment.pk), staff, floor.carrier)
    return services.record_hand_over(code=parcel.tracking_number, actor=staff)


def pick_list_for_part(floor, fulfillment, staff):
    (wave,) = services.create_waves(
        warehouse_id=floor.warehouse.pk, actor=staff, fulfillment_ids=[fulfillment.pk]
    )
    return wave


def test_an_order_sent_complete_waits_out_of_the_queue_until_its_stock_arrives(
    floor, staff, arrive
):
    sku = stocked(floor, 2)
    order = waiting_order(sku, want=5, ship_partial=False)

    assert not in_queue(floor, order)
    arrive(sku, 3)

    assert in_queue(floor, order)
    (fulfillment,) = Fulfillment.objects.filter(order=order)
    assert fulfillment.units == 5  # one part, with everything
    assert ship(floor, order, staff).order_shipped
    call_command("check_stock_ledger")


def test_an_order_shipping_what_is_there_leaves_in_two_parts_from_one_warehouse(
    floor, staff, arrive
):
    sku = stocked(floor, 2)
    order = waiting_order(sku, want=5, ship_partial=True)
    assert in_queue(floor, order)

    first = ship(floor, order, staff)

    assert not first.order_shipped
    order.refresh_from_db()
    assert order.state == OrderState.PAID
    assert order.events.filter(kind=OrderEventKind.PART_SHIPPED).count() == 1
    assert Notification.objects.filter(
        order=order, kind=NotificationKind.ORDER_PART_SHIPPED
    ).exists()
    assert not in_queue(floor, order)

    arrive(sku, 3)

    parts = list(Fulfillment.objects.filter(order=order).order_by("pk"))
    assert [(p.state, p.units, p.warehouse_id) for p in parts] == [
        (FulfillmentState.SHIPPED, 2, floor.warehouse.pk),
        (FulfillmentState.READY, 3, floor.warehouse.pk),
    ]
    assert ship(floor, order, staff).order_shipped
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    assert order.shipments.count() == 2
    assert set(
        Allocation.objects.filter(group=f"order:{order.pk}").values_list("state", flat=True)
    ) == {AllocationState.SHIPPED}
    call_command("check_stock_ledger")


def test_units_arriving_while_the_first_part_is_picked_make_a_part_of_their_own(
    floor, staff, arrive
):
    sku = stocked(floor, 2)
    order = waiting_order(sku, want=5, ship_partial=True)
    first = fulfillment_of(order)
    wave = pick_list_for(floor, [order], staff)

    arrive(sku, 3)

    assert sum(line.quantity for line in selectors.pick_list(wave).lines) == 2
    pick_everything(wave, staff)
    order.refresh_from_db()
    assert order.state == OrderState.PAID  # the second part is still to pick
    second = Fulfillment.objects.exclude(pk=first.pk).get(order=order)
    assert (second.units, second.state) == (3, FulfillmentState.READY)
    assert in_queue(floor, order)


def test_the_customer_chooses_at_checkout_to_get_what_is_in_stock_first(client):
    from tests.checkout.test_waiting_for_stock import cart_with_a_short_line

    customer = UserFactory(role=Role.CUSTOMER)
    client.force_login(customer)
    sku = cart_with_a_short_line(client)
    client.post(f"/cart/lines/{sku.pk}/wait/", {"wait": "1"})
    page = client.get("/checkout/").content.decode()
    assert "Ship what is in stock now; the rest follows when it arrives" in page

    submit(client, checkout_page(client), ship_partial="1")

    order = Order.objects.get(customer=customer)
    assert order.ship_partial
    detail = client.get(f"/account/orders/{order.number}/").content.decode()
    assert "2 waiting for stock" in detail


def test_the_choice_is_not_asked_or_kept_when_nothing_waits(client):
    from tests.factories import stock_sku

    customer = UserFactory(role=Role.CUSTOMER)
    client.force_login(customer)
    sku = stock_sku(5)
    client.post("/cart/add/", {"sku": sku.pk, "quantity": 1})
    assert "Items waiting for stock" not in client.get("/checkout/").content.decode()

    submit(client, checkout_page(client), ship_partial="1")

    assert not Order.objects.get(customer=customer).ship_partial


def test_dropping_the_rest_after_the_first_part_shipped_ships_the_order(floor, staff):
    from servicedesk import waiting

    sku = stocked(floor, 2)
    order = waiting_order(sku, want=5, ship_partial=True)
    assert not ship(floor, order, staff).order_shipped

    waiting.drop_waiting_units(
        order_id=order.pk,
        line_id=order.lines.get().pk,
        actor=UserFactory(role=Role.SERVICE),
        reason="Discontinued",
    )

    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    assert order.lines.get().quantity == 2
    call_command("check_stock_ledger")


def test_dropping_the_rest_while_the_first_part_is_packed_lets_it_ship(floor, staff):
    from servicedesk import waiting

    sku = stocked(floor, 2)
    order = waiting_order(sku, want=5, ship_partial=True)
    part = fulfillment_of(order)
    pick_everything(pick_list_for_part(floor, part, staff), staff)
    parcel = pack_everything(Fulfillment.objects.get(pk=part.pk), staff, floor.carrier)
    order.refresh_from_db()
    assert order.state == OrderState.PAID  # three units still wait

    waiting.drop_waiting_units(
        order_id=order.pk,
        line_id=order.lines.get().pk,
        actor=UserFactory(role=Role.SERVICE),
        reason="Discontinued",
    )

    order.refresh_from_db()
    assert order.state == OrderState.PICKED
    assert services.record_hand_over(code=parcel.tracking_number, actor=staff).order_shipped


def test_an_order_with_a_part_shipped_can_no_longer_be_cancelled(floor, staff, client):
    sku = stocked(floor, 2)
    order = waiting_order(sku, want=5, ship_partial=True)
    ship(floor, order, staff)

    for actor in (order.customer, UserFactory(role=Role.SERVICE)):
        with pytest.raises(order_services.OrderActionNotAllowed, match="already shipped"):
            order_services.cancel_order(order_id=order.pk, actor=actor, reason="Changed my mind")

    order.refresh_from_db()
    assert order.state == OrderState.PAID
    client.force_login(order.customer)
    page = client.get(f"/account/orders/{order.number}/").content.decode()
    assert "Cancel order" not in page
