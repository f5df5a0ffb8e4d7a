"""Browser journeys of checkout and payment (ORD-2, ORD-4, ORD-9), in headless Chromium
(Debian's /usr/bin/chromium) on a phone-sized screen.

- A customer logs in through the login form, walks from the home page to a product through its
  category, puts 2 in the cart, checks out to a new address picked with the cascading
  province → city → district selects (htmx), pays in the sandbox and sees the order paid.
- The first payment fails: the return page says so and offers "Pay again"; the second attempt
  succeeds. Two payment rows, a payment_failed event.
- A guest checks out with cash on delivery (an unknown coupon on the way is refused and keeps
  what was typed), is told to pay the courier, and finds the order again at /track/ with its
  number and phone in a fresh browser.
- The payer is back before the gateway's notification: the return page says "Confirming…",
  polls, and shows the payment received by itself once the notification arrives.

Every page on the way fits the phone's width (no sideways scrolling).

The sandbox's notification is a real HTTP POST: settling a charge runs the (eager) Celery task
inside the live server's request thread, which posts to the live server itself.
"""

import re
from decimal import Decimal

import pytest

from checkout.models import ShippingRule
from inventory.models import Stock
from orders.models import Order, OrderEventKind, OrderState, PaymentMethod
from payments.models import Payment, PaymentStatus
from tests.factories import (
    PASSWORD,
    CategoryFactory,
    ProductFactory,
    SKUFactory,
    UserFactory,
    make_order,
)
from tests.factories import stock_sku as receive_stock

PHONE = {"width": 390, "height": 844}
PRICE = Decimal("45.00")  # × 2 = 90.00: below the free-shipping threshold, so shipping counts


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shop(transactional_db):
    """A product in a category, 10 in stock, and shipping: ¥10 anywhere, ¥20 to 新疆; free
    from ¥99."""
    ShippingRule.objects.create(
        name="Standard",
        first_fee=Decimal("10.00"),
        step_fee=Decimal("5.00"),
        free_over=Decimal("99.00"),
    )
    ShippingRule.objects.create(
        name="Remote",
        provinces=["新疆维吾尔自治区"],
        first_fee=Decimal("20.00"),
        step_fee=Decimal("10.00"),
        priority=10,
    )
    category = CategoryFactory(name="Kitchen")
    product = ProductFactory(name="Thermos flask", category=category)
    return receive_stock(10, sku=SKUFactory(product=product, price=PRICE))


def log_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/account/orders/")


def add_two_to_cart_from_home(page, live_server, sku) -> None:
    """Home → category → product → quantity 2 → "Add to cart" → the cart page."""
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Kitchen").first.click()
    page.wait_for_url(f"{live_server.url}{sku.product.category.get_absolute_url()}")
    page.get_by_role("link", name=re.compile("Thermos flask")).click()
    page.wait_for_url(f"{live_server.url}{sku.product.get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thermos flask")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text("Added to your cart: ")).to_be_visible()

    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    page.wait_for_url(f"{live_server.url}/cart/")
    expect(page.get_by_role("heading", name="Cart", level=1)).to_be_visible()
    expect(page.get_by_label("Quantity")).to_have_value("2")


def choose_options(select, label: str) -> None:
    """Pick `label` in a select whose options htmx is still loading: wait until it is there."""
    from playwright.sync_api import expect

    expect(select.locator("option", has_text=label)).to_have_count(1)
    select.select_option(label=label)


def refreshing_summary(page):
    """Wait for the summary's htmx refresh (a POST of the form with action=refresh)."""
    return page.expect_response(
        lambda r: (
            r.url.endswith("/checkout/")
            and r.request.method == "POST"
            and "action=refresh" in (r.request.post_data or "")
        )
    )


def fill_new_address(page, *, change_mind: bool = False) -> None:
    """The new-address fields, with the cascading selects as a person uses them. With
    `change_mind`, 新疆 (dearer shipping) is chosen down to the district first, then the
    province is changed to 浙江省."""
    from playwright.sync_api import expect

    page.get_by_label("Recipient").fill("张伟")
    page.get_by_label("Mobile phone").fill("138 1234 5678")
    province = page.get_by_label("Province")
    city = page.get_by_label("City")
    district = page.get_by_label("District")
    place = page.locator("#summary").get_by_role("button", name=re.compile("^Place order"))
    # Before a province is chosen, the city and district lists hold only the placeholder and
    # the shipping is an estimate.
    expect(city.locator("option")).to_have_count(1)
    expect(district.locator("option")).to_have_count(1)
    summary = page.locator("#summary")
    expect(summary).to_contain_text("estimate, set by the delivery address")

    if change_mind:
        with refreshing_summary(page):
            province.select_option(label="新疆维吾尔自治区")
        choose_options(city, "乌鲁木齐市")
        choose_options(district, "天山区")
        expect(place).to_have_text("Place order · ¥110.00")  # 90.00 + 20.00 to 新疆
        expect(summary).not_to_contain_text("estimate, set by the delivery address")

    # Choosing the province loads its cities, empties the districts and re-prices the summary.
    with (
        page.expect_response(lambda r: "/addresses/divisions/" in r.url),
        refreshing_summary(page),
    ):
        province.select_option(label="浙江省")
    expect(place).to_have_text("Place order · ¥100.00")  # 90.00 + 10.00
    expect(summary).not_to_contain_text("estimate, set by the delivery address")
    expect(district.locator("option")).to_have_count(1)
    expect(city.locator("option", has_text="乌鲁木齐市")).to_have_count(0)
    choose_options(city, "杭州市")
    choose_options(district, "西湖区")
    page.get_by_label("Street address").fill("文三路 478 号华星时代广场 A 座 1203 室")
    page.get_by_label("Postcode").fill("310013")


def check_out_online(page, live_server, *, change_mind: bool = False) -> str:
    """Cart → checkout with a new address and online payment → the placed page. The number."""
    from playwright.sync_api import expect

    page.get_by_role("link", name="Check out").click()
    page.wait_for_url(f"{live_server.url}/checkout/")
    fill_new_address(page, change_mind=change_mind)
    online = page.get_by_role("radio", name=re.compile("Online payment"))
    expect(online).to_be_checked()
    # Goods 90.00 + shipping 10.00 (Zhejiang, the standard rule)
    place = page.get_by_role("button", name="Place order · ¥100.00")
    assert_fits_the_screen(page)
    place.click()
    page.wait_for_url(re.compile(r"/checkout/placed/\w+/$"))
    expect(page.get_by_role("heading", name="Thank you! Your order is placed.")).to_be_visible()
    assert_fits_the_screen(page)
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def pay_in_sandbox(page, live_server, *, succeed: bool, button: str) -> None:
    """Press `button` (on the placed or the return page), then choose on the sandbox page; back
    on the shop's return page."""
    from playwright.sync_api import expect

    page.get_by_role("button", name=button).click()
    page.wait_for_url(re.compile(r"/sandbox-gateway/pay/SBX\w+/$"))
    expect(page.get_by_role("note")).to_have_text("Sandbox payment — no real money")
    expect(page.locator(".sandbox-gateway")).to_contain_text("¥100.00")
    assert_fits_the_screen(page)  # its long transaction id and reference wrap
    outcome = "Pay successfully" if succeed else "Make the payment fail"
    page.get_by_role("button", name=outcome).click()
    page.wait_for_url(re.compile(r"/payments/return/sandbox/\?"))
    assert_fits_the_screen(page)


def assert_fits_the_screen(page) -> None:
    """Nothing sticks out sideways: a phone never has to scroll the page horizontally."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


def stock_of(sku) -> tuple[int, int]:
    row = Stock.objects.get(sku=sku)
    return row.on_hand, row.reserved


@pytest.mark.django_db(transaction=True)
def test_customer_checks_out_to_a_new_address_and_pays(page, live_server, shop):
    from playwright.sync_api import expect

    sku = shop
    customer = UserFactory(role="customer", email="buyer@example.com")
    log_in(page, live_server, customer.email)
    add_two_to_cart_from_home(page, live_server, sku)
    number = check_out_online(page, live_server, change_mind=True)

    order = Order.objects.get(number=number)
    assert order.customer_id == customer.pk
    assert (order.state, order.total_amount) == (OrderState.PENDING_PAYMENT, Decimal("100.00"))
    assert (order.province, order.city, order.district) == ("浙江省", "杭州市", "西湖区")
    assert order.recipient_phone == "13812345678"
    assert stock_of(sku) == (10, 2)

    pay_in_sandbox(page, live_server, succeed=True, button="Pay ¥100.00 now")
    status = page.locator("#payment-status")
    expect(status.get_by_role("heading", name="Payment received")).to_be_visible()
    expect(status).to_contain_text(f"We have received your payment of ¥100.00 for order {number}")

    page.get_by_role("navigation", name="Your account").get_by_role(
        "link", name="My orders"
    ).click()
    page.wait_for_url(f"{live_server.url}/account/orders/")
    card = page.locator(".order-card", has_text=number)
    expect(card.locator(".badge")).to_have_text("Paid, to be processed")
    expect(card).to_contain_text("¥100.00")
    card.get_by_role("link", name=re.compile("View order")).click()
    page.wait_for_url(f"{live_server.url}/account/orders/{number}/")
    expect(page.locator(".page-head .badge")).to_have_text("Paid, to be processed")
    assert_fits_the_screen(page)

    order.refresh_from_db()
    assert order.state == OrderState.PAID
    assert order.paid_amount == order.total_amount == Decimal("100.00")
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.amount) == (PaymentStatus.SUCCEEDED, Decimal("100.00"))
    assert stock_of(sku) == (10, 2)  # reserved for the order until it ships


@pytest.mark.django_db(transaction=True)
def test_failed_payment_is_paid_again(page, live_server, shop):
    from playwright.sync_api import expect

    customer = UserFactory(role="customer", email="retry@example.com")
    log_in(page, live_server, customer.email)
    add_two_to_cart_from_home(page, live_server, shop)
    number = check_out_online(page, live_server)

    pay_in_sandbox(page, live_server, succeed=False, button="Pay ¥100.00 now")
    status = page.locator("#payment-status")
    expect(status.get_by_role("heading", name="Payment failed")).to_be_visible()
    expect(status).to_contain_text("no money was taken")
    order = Order.objects.get(number=number)
    assert order.state == OrderState.PENDING_PAYMENT

    pay_in_sandbox(page, live_server, succeed=True, button="Pay again (¥100.00)")
    expect(status.get_by_role("heading", name="Payment received")).to_be_visible()

    order.refresh_from_db()
    assert order.state == OrderState.PAID
    assert order.paid_amount == Decimal("100.00")
    assert list(order.payments.order_by("created_at", "pk").values_list("status", flat=True)) == [
        PaymentStatus.FAILED,
        PaymentStatus.SUCCEEDED,
    ]
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds.count(OrderEventKind.PAYMENT_FAILED) == 1

    page.goto(f"{live_server.url}/account/orders/{number}/")
    expect(page.locator(".page-head .badge")).to_have_text("Paid, to be processed")
    history = page.get_by_role("region", name="History")
    expect(history.get_by_role("listitem")).to_have_text(
        [
            re.compile("Order placed"),
            re.compile("Payment did not go through"),
            re.compile("Payment received"),
        ]
    )


@pytest.mark.django_db(transaction=True)
def test_guest_pays_cash_on_delivery_and_tracks_the_order(browser, page, live_server, shop):
    from playwright.sync_api import expect

    sku = shop
    add_two_to_cart_from_home(page, live_server, sku)
    page.get_by_role("link", name="Check out").click()
    page.wait_for_url(f"{live_server.url}/checkout/")
    page.get_by_label("E-mail for the order confirmation").fill("guest@example.com")
    fill_new_address(page)
    page.get_by_role("radio", name=re.compile("Cash on delivery")).check()
    # An unknown coupon: the page comes back priced as before, saying why, with everything
    # typed and chosen still there.
    page.get_by_label("Coupon code").fill("nosuchcode")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    expect(page.locator("#checkout-form .errorlist")).to_be_visible()
    expect(page.get_by_label("Coupon code")).to_have_value("nosuchcode")
    expect(page.get_by_label("Province")).to_have_value("33")
    expect(page.get_by_label("City")).to_have_value("3301")
    expect(page.get_by_label("District")).to_have_value("330106")
    expect(page.get_by_label("Recipient")).to_have_value("张伟")
    expect(page.get_by_role("radio", name=re.compile("Cash on delivery"))).to_be_checked()
    page.get_by_label("Coupon code").fill("")
    page.get_by_role("button", name="Place order · ¥100.00").click()
    page.wait_for_url(re.compile(r"/checkout/placed/\w+/$"))
    number = page.url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.get_by_text("Please pay the courier ¥100.00 when it arrives.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Pay .* now"))).to_have_count(0)

    order = Order.objects.get(number=number)
    assert order.customer_id is None
    assert order.contact_email == "guest@example.com"
    assert order.payment_method == PaymentMethod.CASH_ON_DELIVERY
    assert stock_of(sku) == (10, 2)

    # Another browser (no session holding the order) finds it by number and phone.
    context = browser.new_context(locale="en-US", viewport=PHONE)
    context.set_default_timeout(10_000)
    try:
        other = context.new_page()
        other.goto(f"{live_server.url}/")
        other.get_by_role("link", name="Track an order").click()
        other.wait_for_url(f"{live_server.url}/track/")
        other.get_by_label("Order number").fill(number)
        other.get_by_label("Mobile phone number on the order").fill("138 1234 5678")
        other.get_by_role("button", name="Find my order").click()
        other.wait_for_url(f"{live_server.url}/track/{number}/")
        expect(other.get_by_role("heading", level=1)).to_have_text(f"Order {number}")
        expect(other.locator("main")).to_contain_text("Thermos flask")
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_return_page_waits_for_a_late_notification_and_updates_itself(
    page, live_server, shop, monkeypatch
):
    """The payer is back before the gateway's notification: the return page says it is
    confirming and polls; once the notification arrives (over HTTP) it shows the payment
    received without a reload. Paying starts from the order's own page."""
    from playwright.sync_api import expect

    from payments import tasks

    held: list[tuple[str, bytes, dict]] = []
    deliver = tasks.post_notification
    monkeypatch.setattr(tasks, "post_notification", lambda *args: held.append(args) or 200)

    customer = UserFactory(role="customer", email="late@example.com")
    order = make_order(customer=customer, skus=[shop], quantities=[2])
    log_in(page, live_server, customer.email)
    page.goto(f"{live_server.url}/account/orders/{order.number}/")
    expect(page.get_by_text("This order waits for your payment of ¥90.00.")).to_be_visible()
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(re.compile(r"/sandbox-gateway/pay/SBX\w+/$"))
    page.get_by_role("button", name="Pay successfully").click()
    page.wait_for_url(re.compile(r"/payments/return/sandbox/\?"))

    status = page.locator("#payment-status")
    expect(status.get_by_role("heading", name="Confirming your payment…")).to_be_visible()
    assert len(held) == 1
    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT  # the browser's return changes nothing
    page.evaluate("window.__notYetReloaded = true")

    url, body, headers = held[0]
    assert url == f"{live_server.url}/payments/notify/sandbox/"
    assert deliver(url, body, headers) == 200  # real HTTP, as the sandbox's task would

    # The next poll (every 2 s) brings the news.
    expect(status.get_by_role("heading", name="Payment received")).to_be_visible()
    assert page.evaluate("window.__notYetReloaded === true")  # htmx swapped it in place
    expect(status).not_to_have_attribute("hx-trigger", re.compile("every"))  # polling stops

    order.refresh_from_db()
    assert order.state == OrderState.PAID
    assert order.paid_amount == order.total_amount == Decimal("90.00")
