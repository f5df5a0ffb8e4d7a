"""Creating an order through the service: priced on the server, validated, recorded."""

from decimal import Decimal

import pytest

from orders import services
from orders.models import OrderEventKind, OrderState
from orders.services import InvalidOrder, LineRequest, ShippingAddress
from tests.factories import SKUFactory, UserFactory

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
    mug = SKUFactory(price=Decimal("39.90"))
    flask = SKUFactory(price=Decimal("129.00"))

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
    sku = SKUFactory(price=Decimal("50.00"))
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
        contact_email="guest@example.com", lines=[LineRequest(SKUFactory().pk, 1)], address=ADDRESS
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
    sku = SKUFactory(price=price)

    order = services.create_order(
        customer=UserFactory(role="customer"),
        lines=[LineRequest(sku.pk, 3)],
        address=ADDRESS,
        shipping_amount=shipping,
    )

    order.refresh_from_db()
    assert order.total_amount == price * 3 + shipping
