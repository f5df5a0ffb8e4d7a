"""Browser journey of a return and refund (issue 8 item 10; AFS-1 to AFS-4), in headless
Chromium (Debian's /usr/bin/chromium), with three people in three browsers.

An order of a teapot and two napkins, paid online through the sandbox gateway, has been
delivered. The customer asks, from the order page, to return one napkin ("Return and refund",
damaged, with what happened) and sees the request submitted. The agent opens it from
After-sales, sees the refund an approval would give (one napkin, ¥35.00) and approves it with a
reason. The customer types the return parcel's carrier and tracking number on the request's
page. The warehouse worker scans that tracking number on the returns screen, scans the napkin
(sellable), puts it in bin R-01-01 and receives it: the bin holds one napkin more, through the
ledger. The agent issues the refund, which goes back through the gateway and closes the
request; the customer reloads the request and sees the refund and the closed request.
"""

import re
from decimal import Decimal

import pytest

from accounts.roles import Role
from aftersales.models import AfterSalesRequest, RequestKind, RequestState
from inventory.ledger import ledger_differences
from inventory.models import Stock
from orders import services as order_services
from orders.models import Carrier, Order, OrderState
from payments import services as payment_services
from payments.gateways.sandbox import settle_charge
from payments.models import Refund, RefundStatus, SandboxCharge
from tests.factories import (
    PASSWORD,
    BinFactory,
    ProductFactory,
    SKUFactory,
    UserFactory,
    WarehouseFactory,
    make_address,
    stock_sku,
)
from tests.payments.helpers import deliveries  # noqa: F401  (fixture)

SCREEN = {"width": 1280, "height": 900}
D = Decimal
TRACKING = "SF1234567890"


@pytest.fixture
def new_context(browser):
    """A fresh browser (cookies of its own) per person; all closed at the end, after checking
    that no page answered with a server error on the way."""
    contexts = []
    server_errors: list[str] = []

    def make():
        context = browser.new_context(locale="en-US", viewport=SCREEN)
        context.set_default_timeout(10_000)
        context.on(
            "response",
            lambda response: (
                server_errors.append(f"{response.status} {response.url}")
                if response.status >= 500
                else None
            ),
        )
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert server_errors == []


@pytest.fixture
def shop(transactional_db, deliveries):  # noqa: F811  (the fixture imported above)
    """A warehouse with bin R-01-01 holding 5 teapots and 5 napkins; a customer's order of a
    teapot (¥120.00) and two napkins (¥35.00 each) with ¥10.00 shipping, paid through the
    sandbox gateway (its notification delivered through the test client), picked and shipped."""
    carrier, _created = Carrier.objects.get_or_create(code="SF", defaults={"name": "顺丰速运"})
    warehouse = WarehouseFactory(name="Hangzhou returns")
    shelf = BinFactory(warehouse=warehouse, code="R-01-01")
    teapot = stock_sku(
        5, bin=shelf, sku=SKUFactory(price=D("120.00"), product=ProductFactory(name="Teapot"))
    )
    napkin = stock_sku(
        5, bin=shelf, sku=SKUFactory(price=D("35.00"), product=ProductFactory(name="Napkin"))
    )
    customer = UserFactory(role=Role.CUSTOMER, email="buyer@example.com")
    worker = UserFactory(role=Role.WAREHOUSE, email="returns@example.com")
    order = order_services.create_order(
        customer=customer,
        lines=[
            order_services.LineRequest(sku_id=teapot.pk, quantity=1),
            order_services.LineRequest(sku_id=napkin.pk, quantity=2),
        ],
        address=make_address(),
        shipping_amount=D("10.00"),
    )
    payment, _url = payment_services.start_payment(
        order_id=order.pk, actor=customer, build_url=lambda path: f"http://testserver{path}"
    )
    charge = SandboxCharge.objects.get(reference=payment.reference)
    assert settle_charge(txn_id=charge.txn_id, succeed=True)
    assert deliveries and deliveries[-1][1] == 200, deliveries
    order.refresh_from_db()
    assert order.state == OrderState.PAID, order.review_reason
    order_services.mark_picked(order_id=order.pk, actor=worker)
    order_services.mark_shipped(order_id=order.pk, actor=worker)
    order = Order.objects.get(pk=order.pk)
    assert (order.state, order.total_amount) == (OrderState.SHIPPED, D("200.00"))
    return {
        "order": order,
        "napkin": napkin,
        "shelf": shelf,
        "carrier": carrier,
        "customer": customer,
        "worker": worker,
        "agent": UserFactory(role=Role.SERVICE, email="agent@example.com"),
    }


def log_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def workspace_link(page, name: str):
    return page.get_by_role("navigation", name="Workspace").get_by_role("link", name=name)


def on_hand(sku, shelf) -> int:
    return Stock.objects.get(sku=sku, bin=shelf).on_hand


@pytest.mark.django_db(transaction=True)
def test_a_returned_napkin_goes_back_on_the_shelf_and_its_money_back_to_the_customer(
    new_context, live_server, shop
):
    from playwright.sync_api import expect

    order, napkin, shelf = shop["order"], shop["napkin"], shop["shelf"]
    napkin_line = order.lines.get(sku=napkin)
    assert on_hand(napkin, shelf) == 3  # 5 received, 2 shipped

    # --- the customer asks to return one napkin ----------------------------------------------
    customer = new_context().new_page()
    log_in(customer, live_server, "buyer@example.com")
    customer.goto(f"{live_server.url}/account/orders/{order.number}/")
    customer.get_by_role("link", name="Request a return or refund").click()
    customer.wait_for_url(f"{live_server.url}/account/aftersales/new/{order.number}/")
    customer.get_by_label("What would you like?").select_option(label="Return and refund")
    expect(customer.get_by_text("2 of 2 can be asked for")).to_have_count(1)
    customer.get_by_label("Napkin").fill("1")
    customer.get_by_label("Reason").select_option(label="Arrived damaged")
    customer.get_by_label("What happened").fill("One napkin came with a tear along the hem.")
    customer.get_by_role("button", name="Send the request").click()

    customer.wait_for_url(re.compile(r"/account/aftersales/AS\d+/$"))
    request = AfterSalesRequest.objects.get()
    number = request.number
    assert customer.url == f"{live_server.url}/account/aftersales/{number}/"
    assert (request.kind, request.state) == (RequestKind.RETURN_REFUND, RequestState.SUBMITTED)
    assert list(request.lines.values_list("order_line", "quantity")) == [(napkin_line.pk, 1)]
    expect(customer.get_by_text(f"Your request {number} is sent.")).to_be_visible()
    expect(customer.locator(".page-head .badge")).to_have_text("Submitted, waiting for review")
    items = customer.locator("section[aria-labelledby=lines-title]")
    expect(items.locator("tbody tr")).to_have_count(1)
    expect(items.locator("tbody tr")).to_contain_text("Napkin")
    expect(items).to_contain_text("One napkin came with a tear along the hem.")

    # --- the agent approves it -----------------------------------------------------------------
    agent = new_context().new_page()
    log_in(agent, live_server, "agent@example.com")
    workspace_link(agent, "After-sales").click()
    agent.wait_for_url(f"{live_server.url}/staff/aftersales/")
    row = agent.locator("tr", has_text=number)
    expect(row).to_contain_text(order.number)
    row.get_by_role("link", name=number).click()
    agent.wait_for_url(f"{live_server.url}/staff/aftersales/{number}/")
    approve = agent.locator("section[aria-labelledby=approve-title]")
    expect(approve.locator("dl.kv")).to_contain_text("Refund of the items")
    expect(approve.locator("dl.kv dd").first).to_have_text("¥35.00")
    approve.get_by_label("Reason").fill("Torn on arrival; the photo of the parcel matches.")
    approve.get_by_role("button", name="Approve the request").click()
    approved = f"Request {number} is approved; the customer is told."
    expect(agent.get_by_text(approved)).to_be_visible()
    expect(agent.locator(".page-head .badge")).to_have_text("Approved")
    expect(agent.locator("section[aria-labelledby=refund-title]")).to_have_count(0)  # not yet

    # --- the customer sends the parcel back ----------------------------------------------------
    customer.reload()
    expect(customer.locator(".page-head .badge")).to_have_text("Approved")
    actions = customer.locator("section[aria-labelledby=actions-title]")
    actions.get_by_label("Carrier").select_option(label=shop["carrier"].name)
    actions.get_by_label("Tracking number").fill(TRACKING)
    actions.get_by_role("button", name="I have sent the parcel").click()
    expect(customer.get_by_text("we will tell you when your parcel has arrived")).to_be_visible()
    expect(customer.locator(".page-head .badge")).to_have_text("Return on its way")
    expect(customer.locator("section[aria-labelledby=return-title]")).to_contain_text(TRACKING)

    # --- the warehouse receives it as sellable -------------------------------------------------
    floor = new_context().new_page()
    log_in(floor, live_server, "returns@example.com")
    workspace_link(floor, "Returns").click()
    floor.wait_for_url(f"{live_server.url}/staff/returns/")
    expected = floor.locator("section[aria-labelledby=expected-title]")
    expect(expected.locator("tbody tr", has_text=number)).to_contain_text(TRACKING)
    scan_field = floor.get_by_label("Scan the return parcel or the request number")
    expect(scan_field).to_be_focused()
    floor.keyboard.type(TRACKING)  # a keyboard-wedge scanner: the code, then Enter
    floor.keyboard.press("Enter")
    floor.wait_for_url(f"{live_server.url}/staff/returns/{request.pk}/")
    expect(floor.get_by_role("heading", name=f"Return {number}")).to_be_visible()
    expect(floor.get_by_label("Scan an item")).to_be_focused()
    floor.keyboard.type(napkin.barcode)
    floor.keyboard.press("Enter")
    answer = floor.locator("[data-scan-result=ok]")
    expect(answer).to_contain_text(f"{napkin.code} Napkin: 1 sellable, 0 damaged of 1 expected.")
    expect(floor.get_by_label(f"Sellable {napkin.code}")).to_have_value("1")
    floor.get_by_label("Bin for the sellable units").fill(shelf.code)
    floor.get_by_role("button", name="Receive").click()
    floor.wait_for_url(f"{live_server.url}/staff/returns/")
    expect(
        floor.get_by_text(f"Received {number}: 1 sellable, 0 damaged, 1 expected.")
    ).to_contain_text(f"Sellable units are back in bin {shelf.code}.")
    expect(expected.locator("tbody tr", has_text=number)).to_have_count(0)

    assert on_hand(napkin, shelf) == 4  # one back on the shelf, through the ledger
    assert ledger_differences() == []
    request.refresh_from_db()
    assert request.state == RequestState.RECEIVED

    # --- the agent refunds it ------------------------------------------------------------------
    agent.reload()
    expect(agent.locator(".page-head .badge")).to_have_text("Return received")
    refund = agent.locator("section[aria-labelledby=refund-title]")
    expect(refund).to_contain_text("Refund ¥35.00 and close the request.")
    refund.get_by_label("Reason").fill("Napkin received back, sellable.")
    refund.get_by_role("button", name="Issue the refund").click()
    expect(
        agent.get_by_text(f"The refund of request {number} is issued and the request closed.")
    ).to_be_visible()
    expect(agent.locator(".page-head .badge")).to_have_text("Closed")

    paid = Refund.objects.get()
    assert (paid.amount, paid.status) == (napkin_line.net_amount / 2, RefundStatus.SUCCEEDED)
    assert paid.amount == D("35.00")
    assert (paid.payment.order_id, paid.actor) == (order.pk, shop["agent"])
    request.refresh_from_db()
    assert request.state == RequestState.CLOSED

    # --- the customer sees the money coming back ----------------------------------------------
    customer.reload()
    expect(customer.locator(".page-head .badge")).to_have_text("Closed")
    expect(customer.get_by_role("status").filter(has_text="Refund issued")).to_contain_text(
        "Refund issued: ¥35.00. It goes back the way you paid"
    )
    expect(customer.get_by_text("This request is closed.")).to_be_visible()
    expect(customer.locator("section[aria-labelledby=actions-title]")).to_have_count(0)
