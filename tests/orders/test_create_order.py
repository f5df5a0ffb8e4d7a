"""Creating an order through the service: priced on the server, validated, recorded."""

from decimal import Decimal

import pytest

from orders import services
from orders.models import OrderEventKind, OrderState
from orders.services import InvalidOrder, LineRequest, ShippingAddress
from tests.factories import SKUFactory, UserFactory, stock_sku

pytestmark = pytest.mark.django_db

ADDRESS = ShippingAddress(
    recipient_name="张三",
    recipient_phone="13812345678",
    province="浙江省",
    city="杭州市",
    district="西湖区",
    address_line="文三路 100 号",
    postcode="310000",
)


def test_order_is_priced_from_the_catalogue_and_starts_awaiting_payment():
    customer = UserFactory(role="customer")
    mug = stock_sku(5, sku=SKUFactory(price=Decimal("39.90")))
    flask = stock_sku(5, sku=SKUFactory(price=Decimal("129.00")))

    order = services.create_order(
        customer=customer,
        lines=[LineRequest(mug.pk, 2), LineRequest(flask.pk, 1)],
        address=ADDRESS,
        shipping_amount=Decimal("8.00"),
    )

    assert order.state == OrderState.PENDING_PAYMENT
    assert order.goods_amount == Decimal("208.80")
    assert order.total_amount == Decimal("216.80")
    assert [(line.unit_price, line.quantity) for line in order.lines.all()] == [
        (Decimal("39.90"), 2),
        (Decimal("129.00"), 1),
    ]
    assert order.lines.first().product_name == mug.product.name
    placed = order.events.get()
    assert (placed.kind, placed.actor, placed.to_state) == (
        OrderEventKind.PLACED,
        customer,
        "pending_payment",
    )


def test_order_keeps_its_price_when_the_catalogue_changes_later():
    sku = stock_sku(1, sku=SKUFactory(price=Decimal("50.00")))
    order = services.create_order(
        customer=UserFactory(role="customer"), lines=[LineRequest(sku.pk, 1)], address=ADDRESS
    )

    sku.price = Decimal("80.00")
    sku.save()

    assert order.lines.get().unit_price == Decimal("50.00")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "at least one line"),
        ([LineRequest(999_999, 1)], "no longer sold"),
    ],
)
def test_invalid_orders_are_refused_and_create_nothing(lines, message):
    from orders.models import Order

    with pytest.raises(InvalidOrder, match=message):
        services.create_order(customer=UserFactory(role="customer"), lines=lines, address=ADDRESS)

    assert Order.objects.count() == 0


def test_zero_quantity_is_refused():
    with pytest.raises(InvalidOrder):
        services.create_order(
            customer=UserFactory(role="customer"),
            lines=[LineRequest(SKUFactory().pk, 0)],
            address=ADDRESS,
        )


def test_inactive_sku_cannot_be_ordered():
    sku = SKUFactory(is_active=False)

    with pytest.raises(InvalidOrder, match="No longer on sale"):
        services.create_order(
            customer=UserFactory(role="customer"), lines=[LineRequest(sku.pk, 1)], address=ADDRESS
        )


def test_guest_order_needs_a_contact_address():
    with pytest.raises(InvalidOrder):
        services.create_order(lines=[LineRequest(SKUFactory().pk, 1)], address=ADDRESS)

    order = services.create_order(
        contact_email="guest@example.com", lines=[LineRequest(stock_sku(1).pk, 1)], address=ADDRESS
    )
    assert order.customer is None


@pytest.mark.parametrize(
    ("price", "shipping"),
    [
        (Decimal("49.80"), Decimal("0.00")),
        (Decimal("0.10"), Decimal("0.20")),
        (Decimal("33.33"), Decimal("8.00")),
    ],
)
def test_totals_that_floats_cannot_represent_are_stored(price, shipping):
    sku = stock_sku(3, sku=SKUFactory(price=price))

    order = services.create_order(
        customer=UserFactory(role="customer"),
        lines=[LineRequest(sku.pk, 3)],
        address=ADDRESS,
        shipping_amount=shipping,
    )

    order.refresh_from_db()
    assert order.total_amount == price * 3 + shipping


def test_out_of_stock_line_is_told_by_name_and_nothing_is_created():
    from inventory.models import Allocation
    from orders.models import Order
    from orders.services import OrderOutOfStock

    plenty = stock_sku(10)
    scarce = stock_sku(1, sku=SKUFactory(product__name="Last teapot"))

    with pytest.raises(OrderOutOfStock, match="Last teapot — 1 left, 2 wanted"):
        services.create_order(
            customer=UserFactory(role="customer"),
            lines=[LineRequest(plenty.pk, 1), LineRequest(scarce.pk, 2)],
            address=ADDRESS,
        )

    assert Order.objects.count() == 0
    assert Allocation.objects.count() == 0


def test_order_reserves_its_stock_and_picking_and_shipping_move_it():
    from inventory.ledger import ledger_differences
    from inventory.models import Stock
    from inventory.selectors import availability
    from orders.models import OrderState
    from tests.factories import make_order

    sku = stock_sku(5)
    make_order(skus=[sku], quantities=[2], stock=False)
    assert availability(sku_ids=[sku.pk]) == {sku.pk: 3}

    make_order(skus=[sku], quantities=[3], state=OrderState.SHIPPED, stock=False)

    assert availability(sku_ids=[sku.pk]) == {sku.pk: 0}
    assert sum(Stock.objects.filter(sku=sku).values_list("on_hand", flat=True)) == 2
    assert ledger_differences() == []


def test_backordered_order_cannot_be_picked_until_stock_arrives():
    from inventory import services as inventory_services
    from orders.services import OrderActionNotAllowed
    from tests.factories import shared_test_bin

    sku = stock_sku(1)
    order = services.create_order(
        customer=UserFactory(role="customer"),
        lines=[LineRequest(sku.pk, 3)],
        address=ADDRESS,
        allow_backorder=True,
    )
    services.record_payment(order_id=order.pk, amount=order.total_amount)
    picker = UserFactory(role="warehouse")

    with pytest.raises(OrderActionNotAllowed, match="wait for stock"):
        services.mark_picked(order_id=order.pk, actor=picker)

    inventory_services.receive(sku_id=sku.pk, bin_id=shared_test_bin().pk, quantity=2)
    assert services.mark_picked(order_id=order.pk, actor=picker).state == "picked"
