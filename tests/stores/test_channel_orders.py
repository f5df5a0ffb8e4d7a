"""Orders from other sales channels take the storefront's paths (ORD-12)."""

from decimal import Decimal

import pytest

from fulfillment.models import Fulfillment
from orders import services as order_services
from orders.models import Channel, Order, OrderState, PaymentMethod
from stores.models import Store, StoreKind
from stores.services import place_channel_order
from tests.factories import make_address, stock_sku

pytestmark = pytest.mark.django_db

ADDRESS = make_address()


def _store(**fields) -> Store:
    fields.setdefault("code", "tmall")
    fields.setdefault("name", "Tmall flagship")
    fields.setdefault("kind", StoreKind.MARKETPLACE)
    return Store.objects.create(**fields)


def _line(sku, quantity=1, price="99.00"):
    return order_services.LineRequest(sku_id=sku.pk, quantity=quantity, unit_price=Decimal(price))


def _place(store, sku, external_id="TM-1", **kwargs):
    return place_channel_order(
        store=store,
        external_id=external_id,
        lines=[_line(sku, **kwargs)],
        address=ADDRESS,
        contact_email="buyer@example.com",
        shipping_amount=Decimal("8.00"),
    )


def test_a_store_order_keeps_the_stores_price_is_paid_and_reaches_the_warehouse():
    sku = stock_sku(5)
    store = _store()

    placed = _place(store, sku, quantity=2)

    order = Order.objects.get(pk=placed.order.pk)
    assert placed.created
    assert (order.channel, order.store, order.external_id) == (
        Channel.MARKETPLACE,
        store,
        "TM-1",
    )
    assert order.lines.get().unit_price == Decimal("99.00")
    assert order.total_amount == Decimal("206.00")
    assert order.state == OrderState.PAID
    assert order.paid_amount == order.total_amount
    assert Fulfillment.objects.filter(order=order).count() == 1


def test_the_same_store_order_twice_is_one_order():
    sku = stock_sku(5)
    store = _store()

    first = _place(store, sku)
    second = _place(store, sku)

    assert not second.created
    assert second.order.pk == first.order.pk
    assert Order.objects.count() == 1


def test_the_same_id_in_two_stores_is_two_orders():
    sku = stock_sku(5)

    _place(_store(), sku)
    _place(_store(code="jd", name="JD", kind=StoreKind.API), sku)

    assert Order.objects.filter(external_id="TM-1").count() == 2


def test_a_store_order_short_of_stock_creates_nothing():
    sku = stock_sku(1)

    with pytest.raises(order_services.OrderOutOfStock):
        _place(_store(), sku, quantity=2)

    assert not Order.objects.exists()


def test_an_inactive_store_cannot_send_orders():
    sku = stock_sku(1)

    with pytest.raises(order_services.InvalidOrder):
        _place(_store(is_active=False), sku)

    assert not Order.objects.exists()


def test_a_cash_on_delivery_store_order_is_accepted_for_delivery():
    sku = stock_sku(1)

    placed = place_channel_order(
        store=_store(),
        external_id="COD-1",
        lines=[_line(sku)],
        address=ADDRESS,
        contact_email="buyer@example.com",
        payment_method=PaymentMethod.CASH_ON_DELIVERY,
    )

    assert placed.order.state == OrderState.PAID
    assert placed.order.paid_amount == 0
    assert Fulfillment.objects.filter(order=placed.order).exists()


def test_an_after_sales_refund_of_a_store_order_is_made_on_the_store_and_recorded():
    from accounts.roles import Role
    from aftersales import services as aftersales_services
    from aftersales.models import RequestKind, RequestState
    from payments.models import Refund
    from tests.factories import UserFactory, staff_user

    sku = stock_sku(2)
    order = _place(_store(), sku).order
    warehouse = staff_user(Role.WAREHOUSE)
    order_services.mark_picked(order_id=order.pk, actor=warehouse)
    order_services.mark_shipped(order_id=order.pk, actor=warehouse)
    agent = UserFactory(role=Role.SERVICE)
    request = aftersales_services.submit_request(
        order_id=order.pk,
        kind=RequestKind.REFUND_ONLY,
        reason="damaged",
        lines=[(order.lines.get().pk, 1)],
        actor=agent,
    )
    aftersales_services.approve_request(request_id=request.pk, actor=agent, reason="ok")

    with pytest.raises(aftersales_services.AfterSalesNotAllowed, match="refund it there"):
        aftersales_services.issue_refund(request_id=request.pk, actor=agent)
    closed = aftersales_services.issue_refund(
        request_id=request.pk, actor=agent, payout_reference="TM-REFUND-9"
    )

    assert closed.state == RequestState.CLOSED
    assert not Refund.objects.exists()
    refunded = order.events.get(kind="refunded")
    assert refunded.details == {"amount": "99.00", "reference": "TM-REFUND-9"}
