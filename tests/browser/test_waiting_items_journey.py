"""Browser journey of items waiting for stock (INV-5), in headless Chromium.

A customer has 3 flasks in the cart when another buys 2 of the 3 left: the cart offers to wait
for the rest, checkout asks how the order ships and they choose to get what is in stock first
(cash on delivery). An agent opens the order, sees the waiting units and sends another colour
instead; the customer's order page says so.
"""

import re
from decimal import Decimal

import pytest

from orders import services
from orders.models import Order, OrderEventKind
from tests.factories import (
    PASSWORD,
    ProductFactory,
    SKUFactory,
    UserFactory,
    make_address,
    shared_test_bin,
)
from tests.factories import stock_sku as receive_stock

from .test_checkout_journey import PHONE, assert_fits_the_screen, choose_options, log_in


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.django_db(transaction=True)
def test_customer_ships_what_is_there_and_an_agent_substitutes_the_rest(browser, page, live_server):
    from playwright.sync_api import expect

    product = ProductFactory(name="Thermos flask")
    flask = receive_stock(
        3, bin=shared_test_bin(), sku=SKUFactory(product=product, price=Decimal("45.00"))
    )
    blue = receive_stock(5, bin=shared_test_bin(), sku=SKUFactory(price=Decimal("49.00")))
    customer = UserFactory(role="customer", email="waiter@example.com")
    agent = UserFactory(role="service", email="agent@example.com")

    log_in(page, live_server, customer.email)
    page.goto(f"{live_server.url}{product.get_absolute_url()}")
    page.get_by_label("Quantity").fill("3")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text("Added to your cart: ")).to_be_visible()
    # Meanwhile another customer buys 2 of the 3.
    services.create_order(
        customer=UserFactory(role="customer"),
        lines=[services.LineRequest(flask.pk, 2)],
        address=make_address(),
    )
    page.goto(f"{live_server.url}/cart/")
    expect(page.get_by_text("Only 1 left.")).to_be_visible()
    page.get_by_role("button", name="Order all and wait for stock").click()
    expect(page.get_by_text("the order will wait for them")).to_be_visible()

    page.get_by_role("link", name="Check out").click()
    page.wait_for_url(f"{live_server.url}/checkout/")
    page.get_by_label("Recipient").fill("张伟")
    page.get_by_label("Mobile phone").fill("138 1234 5678")
    page.get_by_label("Province").select_option(label="浙江省")
    choose_options(page.get_by_label("City"), "杭州市")
    choose_options(page.get_by_label("District"), "西湖区")
    page.get_by_label("Street address").fill("文三路 478 号")
    page.get_by_role("radio", name=re.compile("Cash on delivery")).check()
    page.get_by_role("radio", name=re.compile("Ship what is in stock now")).check()
    assert_fits_the_screen(page)
    page.locator("#summary").get_by_role("button", name=re.compile("^Place order")).click()
    page.wait_for_url(re.compile(r"/checkout/placed/\w+/$"))
    order = Order.objects.get(customer=customer)
    assert order.ship_partial

    staff = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    desk = staff.new_page()
    desk.goto(f"{live_server.url}/accounts/login/")
    desk.get_by_label("E-mail address").fill(agent.email)
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Log in").click()
    desk.goto(f"{live_server.url}/staff/orders/{order.number}/")
    card = desk.locator("section", has=desk.get_by_role("heading", name="Waiting for stock"))
    expect(card).to_contain_text("2 units waiting")
    expect(card).to_contain_text("Ships what is in stock now")
    card.get_by_label(re.compile("Send another SKU instead")).fill(blue.code)
    card.locator("form", has_text="Substitute").get_by_placeholder(
        "Reason, kept in the timeline"
    ).fill("Customer agreed on the phone")
    card.get_by_role("button", name="Substitute").click()
    expect(desk.get_by_text(f"2 × {blue.code} will be sent instead.")).to_be_visible()
    expect(desk.get_by_role("heading", name="Waiting for stock")).to_have_count(0)
    staff.close()

    page.goto(f"{live_server.url}/account/orders/{order.number}/")
    expect(
        page.get_by_text(f"2 × {flask.code} replaced by {blue.code}, at the same price")
    ).to_be_visible()
    assert_fits_the_screen(page)
    assert order.events.filter(kind=OrderEventKind.LINE_SUBSTITUTED).count() == 1
