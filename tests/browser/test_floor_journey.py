"""Browser journey of the warehouse floor (issue 7 item 10; FUL-1 to FUL-5, ORD-9), in headless
Chromium (Debian's /usr/bin/chromium). The scanner is a keyboard wedge: it types the code and
presses Enter into the focused field (Playwright's keyboard, never fill + click).

A paid order of a fragile vase and two mugs waits in the queue. The warehouse worker logs in,
lands on the floor, makes a pick list with the "New pick lists from the queue" form, scans the
pick list to start it, scans an item that is not on the list (refused in red, nothing picked),
then the right items until the list is done. At packing the worker scans the order number and
both items, types a weight the scale would never show for these goods (warned), corrects it and
packs with the sandbox carrier, which books the tracking number; the printable label carries it,
the order number and their barcodes. The hand-over scan of the tracking number answers green.
The customer, in a fresh browser, finds the order shipped with that tracking number and the
expected delivery.
"""

import re

import pytest
from django.db.models import Sum

from accounts.roles import Role
from fulfillment.models import Fulfillment, FulfillmentState, Parcel, Wave, WaveState
from inventory.ledger import ledger_differences
from inventory.models import Stock
from orders.models import OrderState, Shipment
from tests.factories import PASSWORD, UserFactory
from tests.fulfillment.kit import make_floor, paid_order, stocked

SCREEN = {"width": 1024, "height": 768}  # the floor's touch screen


@pytest.fixture
def context(browser):
    context = browser.new_context(locale="en-US", viewport=SCREEN)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def floor(transactional_db):
    """Three bins walked B-01 → B-03, a fragile vase (1), mugs (2) and a lamp nobody ordered,
    and the sandbox carrier as the default, so the order reaches the floor planned with it."""
    floor = make_floor()
    floor.carrier.is_default = True
    floor.carrier.save(update_fields=["is_default"])
    vase = stocked(floor, 5, bin_index=2, weight_grams=800, is_fragile=True)
    mug = stocked(floor, 5, bin_index=0, weight_grams=350)
    lamp = stocked(floor, 5, bin_index=1, weight_grams=1200)
    customer = UserFactory(role=Role.CUSTOMER, email="buyer@example.com")
    order = paid_order([vase, mug], [1, 2], customer=customer)
    return floor, order, vase, mug, lamp


def log_in(page, live_server, email: str, landing: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}{landing}")


def scan(page, code: str) -> None:
    """What a keyboard-wedge scanner does: type the code into the focused field, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def floor_tab(page, name: str):
    return page.get_by_role("navigation", name="Warehouse floor").get_by_role(
        "link", name=name, exact=True
    )


def picked_units(wave: Wave) -> int:
    from fulfillment.selectors import pick_list

    return pick_list(wave).picked


@pytest.mark.django_db(transaction=True)
def test_a_paid_order_is_picked_packed_labelled_and_handed_over(context, live_server, floor):
    from playwright.sync_api import expect

    floor, order, vase, mug, lamp = floor
    worker = UserFactory(role=Role.WAREHOUSE, email="picker@example.com")
    fulfillment = Fulfillment.objects.get(order=order)
    assert (fulfillment.warehouse_id, fulfillment.carrier_id) == (
        floor.warehouse.pk,
        floor.carrier.pk,
    )
    page = context.new_page()

    # --- the floor home: a pick list from the queue ------------------------------------------
    log_in(page, live_server, worker.email, "/staff/warehouse/")  # staff start on the floor
    expect(page.get_by_role("heading", name="Warehouse floor", level=1)).to_be_visible()
    queue = page.locator("section[aria-labelledby=queue-title]")
    row = queue.locator("tr", has_text=order.number)
    expect(row).to_contain_text("Fragile")
    expect(row.locator("td.num")).to_have_text("3")
    planner = page.locator("details", has_text="New pick lists from the queue")
    expect(planner).to_have_attribute("open", "")  # open: orders wait and no list is open
    planner.get_by_label("Carrier").select_option(label=floor.carrier.name)
    planner.get_by_label("Orders per pick list").fill("10")
    planner.get_by_role("button", name="Make pick lists").click()

    page.wait_for_url(re.compile(r"/staff/floor/waves/\d+/$"))
    wave = Wave.objects.get()
    assert page.url == f"{live_server.url}/staff/floor/waves/{wave.pk}/"
    expect(page.get_by_text(f"1 pick list made with 1 orders: {wave.number}.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Pick list {wave.number}")).to_be_visible()
    # Lines in walking order: B-01 mugs, then B-03 the vase (the lamp's B-02 is not on it).
    bins = page.locator("table.pick-lines tbody td.bin-code")
    expect(bins).to_have_text(["B-01", "B-03"])

    # --- picking: scan the list, a wrong item, then the right ones ---------------------------
    floor_tab(page, "Pick").click()
    page.wait_for_url(f"{live_server.url}/staff/floor/pick/")
    expect(page.get_by_label("Scan the pick list")).to_be_focused()
    scan(page, wave.number)
    page.wait_for_url(f"{live_server.url}/staff/floor/pick/{wave.pk}/")
    panel = page.locator("#picking-panel")
    progress = panel.get_by_role("progressbar", name="Units picked")
    expect(progress).to_have_text("0 of 3 units")
    expect(panel.locator(".next-stop")).to_contain_text("B-01")
    field = page.get_by_label("Scan an item")
    expect(field).to_be_focused()
    page.evaluate("window.__floorJourney = true")  # survives htmx swaps, not a page load

    scan(page, lamp.barcode)  # not on this pick list
    refusal = panel.locator("[data-scan-result=error]")
    expect(refusal).to_have_class(re.compile(r"\bscan-answer--bad\b"))
    expect(refusal).to_have_attribute("role", "alert")
    expect(refusal).to_contain_text("Wrong item")
    expect(refusal).to_contain_text(f"{lamp.code} {lamp.product.name} is not on this pick list.")
    expect(progress).to_have_text("0 of 3 units")
    expect(field).to_be_focused()  # ready for the next scan, empty
    expect(field).to_have_value("")
    assert picked_units(wave) == 0

    expected_scans = [(mug, "1 of 3 units"), (mug, "2 of 3 units"), (vase, "3 of 3 units")]
    for sku, done in expected_scans:
        scan(page, sku.barcode)
        expect(progress).to_have_text(done)
        if sku is mug:
            answer = panel.locator("[data-scan-result=ok]")
            expect(answer).to_have_class(re.compile(r"\bscan-answer--ok\b"))
            expect(answer).to_contain_text(f"(order {order.number}) — {mug.code}")

    done_card = panel.locator(".done-card")
    expect(done_card).to_contain_text("This pick list is done.")
    assert page.evaluate("window.__floorJourney === true")  # every scan went through htmx
    wave.refresh_from_db()
    fulfillment.refresh_from_db()
    order.refresh_from_db()
    assert (wave.state, fulfillment.state, order.state) == (
        WaveState.DONE,
        FulfillmentState.PICKED,
        OrderState.PICKED,
    )

    # --- packing: the order number, both items, the parcel -----------------------------------
    floor_tab(page, "Pack").click()
    page.wait_for_url(f"{live_server.url}/staff/floor/pack/")
    expect(page.get_by_label("Scan the order or pick list")).to_be_focused()
    scan(page, order.number)
    page.wait_for_url(f"{live_server.url}/staff/floor/pack/{fulfillment.pk}/")
    panel = page.locator("#packing-panel")
    expect(panel.locator(".fragile-banner")).to_be_visible()
    lines = panel.locator("table.pick-lines tbody tr")
    expect(lines.first).to_contain_text(vase.code)  # fragile goods first
    expect(lines.first).to_contain_text("Fragile")
    confirmed = panel.get_by_role("progressbar", name="Units confirmed")
    expect(confirmed).to_have_text("0 of 3 units confirmed")
    expect(page.get_by_label("Scan each item")).to_be_focused()
    for sku, done in [(vase, "1 of 3"), (mug, "2 of 3"), (mug, "3 of 3")]:
        scan(page, sku.barcode)
        expect(confirmed).to_have_text(f"{done} units confirmed")
    expect(panel.locator("[data-scan-result=ok]")).to_have_text(
        "Every item is confirmed: weigh the parcel."
    )

    parcel_form = panel.locator("form", has=page.get_by_role("heading", name="Parcel"))
    expect(parcel_form).to_contain_text("The goods weigh about 1500 g.")
    expect(parcel_form.get_by_label("Carrier")).to_have_value(str(floor.carrier.pk))
    parcel_form.get_by_label("Package").select_option(index=0)
    parcel_form.get_by_label("Weight (kg)").fill("3")  # twice the goods: something is wrong
    parcel_form.get_by_label("Service").select_option(label="Express")
    expect(parcel_form.get_by_label("Tracking number")).to_have_value("")  # the carrier books it
    parcel_form.get_by_role("button", name="Pack").click()
    page.wait_for_url(f"{live_server.url}/staff/floor/pack/{fulfillment.pk}/parcel/")
    expect(page.get_by_role("alert").filter(has_text="The parcels weigh 3.00 kg")).to_contain_text(
        "the goods should weigh about 1.50 kg"
    )
    expect(page.get_by_label("I checked the contents: the weight is right")).not_to_be_checked()
    assert not Parcel.objects.exists()

    page.get_by_label("Weight (kg)").fill("1.52")  # re-weighed: within the tolerance
    page.get_by_role("button", name="Pack", exact=True).click()
    page.wait_for_url(f"{live_server.url}/staff/floor/pack/{fulfillment.pk}/")
    parcel = Parcel.objects.get()
    tracking = parcel.tracking_number
    assert re.fullmatch(r"SBX\d{12}", tracking)
    assert parcel.weight_grams == 1520
    expect(page.get_by_text(f"Parcel {tracking} packed. Print its label")).to_be_visible()
    parcels = page.locator("section[aria-labelledby=parcels-title]")
    expect(parcels).to_contain_text(tracking)
    expect(page.locator(".done-card")).to_contain_text("Packed.")

    # --- the label, as printed from its own tab ----------------------------------------------
    with context.expect_page() as opened:
        parcels.get_by_role("link", name="Print label").click()
    label_page = opened.value
    label_page.wait_for_load_state()
    assert label_page.url == f"{live_server.url}/staff/floor/documents/labels/{parcel.pk}/"
    label = label_page.get_by_role("article", name=f"Shipping label {tracking}")
    expect(label).to_contain_text(tracking)
    expect(label).to_contain_text(order.number)
    expect(label).to_contain_text("FRAGILE")
    expect(label).to_contain_text(floor.carrier.name)
    expect(label.locator("svg.barcode")).to_have_count(2)  # tracking and order numbers
    label_page.close()

    # --- hand-over -----------------------------------------------------------------------------
    floor_tab(page, "Hand over").click()
    page.wait_for_url(f"{live_server.url}/staff/floor/hand-over/")
    panel = page.locator("#hand-over-panel")
    expect(page.get_by_label("Scan the parcel's label")).to_be_focused()
    scan(page, tracking)
    answer = panel.locator("[data-scan-result=ok]")
    expect(answer).to_have_class(re.compile(r"\bscan-answer--ok\b"))
    expect(answer).to_have_text(
        f"{floor.carrier.name} {tracking} handed over: order {order.number} has shipped."
    )
    expect(panel.locator(".plain-list")).to_contain_text(tracking)

    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    shipment = Shipment.objects.get(order=order)
    assert (shipment.tracking_number, shipment.carrier_id) == (tracking, floor.carrier.pk)
    assert shipment.expected_delivery is not None
    # Stock left the shelves through the ledger: 5 − 1 vases, 5 − 2 mugs, the lamp untouched.
    on_hand = {
        row["sku"]: row["units"]
        for row in Stock.objects.values("sku").annotate(units=Sum("on_hand"))
    }
    assert (on_hand[vase.pk], on_hand[mug.pk], on_hand[lamp.pk]) == (4, 3, 5)
    assert ledger_differences() == []

    # --- the customer, in a fresh browser -----------------------------------------------------
    customer_context = context.browser.new_context(locale="en-US", viewport=SCREEN)
    customer_context.set_default_timeout(10_000)
    try:
        own = customer_context.new_page()
        log_in(own, live_server, "buyer@example.com", "/account/orders/")
        card = own.locator(".order-card", has_text=order.number)
        expect(card.locator(".badge")).to_have_text("Shipped")
        card.get_by_role("link", name=re.compile("View order")).click()
        own.wait_for_url(f"{live_server.url}/account/orders/{order.number}/")
        expect(own.locator(".page-head .badge")).to_have_text("Shipped")
        delivery = own.locator("section[aria-labelledby=shipments-title] .shipment")
        expect(delivery).to_have_count(1)
        expect(delivery).to_contain_text(floor.carrier.name)
        expect(delivery).to_contain_text(tracking)
        expect(delivery.locator("dt", has_text="Expected delivery")).to_be_visible()
        expect(delivery.locator("time[datetime]").last).to_have_attribute(
            "datetime", shipment.expected_delivery.isoformat()
        )
    finally:
        customer_context.close()
