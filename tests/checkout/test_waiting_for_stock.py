"""A short line at checkout: the customer takes what is left, waits for the rest, or removes
it (INV-5); nothing waits that the customer did not choose to."""

import pytest

from checkout.models import CartLine
from inventory.models import Backorder
from inventory.selectors import availability
from orders.models import Order, OrderState
from tests.factories import UserFactory, stock_sku

from .conftest import checkout_page, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(client):
    user = UserFactory(role="customer")
    client.force_login(user)
    return user


def cart_with_a_short_line(client, *, have=5, want=4, left=2):
    """`want` units in the cart, then stock drops to `left` (another customer bought)."""
    sku = stock_sku(have)
    client.post("/cart/add/", {"sku": sku.pk, "quantity": want})
    other = UserFactory(role="customer")
    from orders import services
    from tests.factories import make_address

    services.create_order(
        customer=other,
        lines=[services.LineRequest(sku.pk, have - left)],
        address=make_address(),
    )
    return sku


def test_the_cart_offers_the_choices_and_checkout_waits_for_them(client, customer):
    cart_with_a_short_line(client)

    page = client.get("/cart/").content.decode()
    assert "Only 2 left." in page
    assert "Take the 2 left" in page and "Order all and wait for stock" in page
    assert "Check out" not in page
    response = client.get("/checkout/", follow=True)
    assert response.redirect_chain[-1][0] == "/cart/"
    assert "need your choice first" in response.content.decode()


def test_waiting_places_the_order_with_what_is_there_reserved_and_the_rest_on_backorder(
    client, customer
):
    sku = cart_with_a_short_line(client)
    client.post(f"/cart/lines/{sku.pk}/wait/", {"wait": "1"})
    assert "the order will wait for them" in client.get("/cart/").content.decode()

    response = submit(client, checkout_page(client))

    assert response.status_code == 302
    order = Order.objects.get(customer=customer)
    assert order.state == OrderState.PENDING_PAYMENT
    assert order.lines.get().quantity == 4
    assert availability(sku_ids=[sku.pk]) == {sku.pk: 0}  # the 2 left are this order's
    backorder = Backorder.objects.get(group=f"order:{order.pk}")
    assert backorder.quantity == 2 and backorder.sku_id == sku.pk


def test_taking_what_is_left_sets_the_quantity(client, customer):
    sku = cart_with_a_short_line(client)

    client.post(f"/cart/lines/{sku.pk}/", {"quantity": 2})

    assert CartLine.objects.get(sku=sku).quantity == 2
    assert "Check out" in client.get("/cart/").content.decode()


def test_a_line_that_did_not_choose_to_wait_still_refuses_the_order(client, customer):
    waiting = cart_with_a_short_line(client)
    client.post(f"/cart/lines/{waiting.pk}/wait/", {"wait": "1"})
    scarce = stock_sku(1)
    client.post("/cart/add/", {"sku": scarce.pk, "quantity": 1})
    page = checkout_page(client)
    # The last unit of the other line goes while the customer is on the checkout page.
    from orders import services
    from tests.factories import make_address

    services.create_order(
        customer=UserFactory(role="customer"),
        lines=[services.LineRequest(scarce.pk, 1)],
        address=make_address(),
    )

    response = submit(client, page)

    assert response.status_code == 409
    assert "0 left, 1 wanted" in response.content.decode()
    assert not Order.objects.filter(customer=customer).exists()
    assert not Backorder.objects.exists()


def test_dont_wait_takes_the_choice_back(client, customer):
    sku = cart_with_a_short_line(client)
    client.post(f"/cart/lines/{sku.pk}/wait/", {"wait": "1"})

    client.post(f"/cart/lines/{sku.pk}/wait/", {"wait": "0"})

    assert not CartLine.objects.get(sku=sku).wait_for_stock
    assert "Order all and wait for stock" in client.get("/cart/").content.decode()


def test_an_item_in_stock_has_nothing_to_wait_for(client, customer):
    sku = stock_sku(5)
    client.post("/cart/add/", {"sku": sku.pk, "quantity": 2})

    response = client.post(f"/cart/lines/{sku.pk}/wait/", {"wait": "1"}, follow=True)

    assert "nothing to wait for" in response.content.decode()
    assert not CartLine.objects.get(sku=sku).wait_for_stock
