"""Browser journeys of the stock screens as a warehouse worker uses them: a keyboard-wedge
scanner types a code and presses Enter into whatever field has the focus (Playwright's
keyboard, never fill + click), in headless Chromium (Debian's /usr/bin/chromium).

- Receiving: scan the item, type the quantity, scan the bin; the units are on hand and the
  ledger balances. An unknown barcode is refused and changes nothing.
- Stock-take: scan the bin, scan an item three times quickly, review, post; the difference is
  a stock-take movement and the ledger balances.
"""

import re

import pytest

from accounts.roles import Role
from catalog.models import SKU
from inventory.ledger import ledger_differences
from inventory.models import MovementKind, Stock, StockMovement
from tests.factories import (
    PASSWORD,
    BinFactory,
    SKUFactory,
    UserFactory,
    WarehouseFactory,
    stock_sku,
)


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, live_server, email: str) -> None:
    """Through the real login form, as the login journey does."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/staff/warehouse/")


def scan(page, code: str) -> None:
    """What a keyboard-wedge scanner does: type the code into the focused field, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def mark_page(page) -> None:
    """Leave a mark in the loaded page: it survives htmx swaps, not a full page load."""
    page.evaluate("window.__stockJourney = true")


def page_was_not_reloaded(page) -> bool:
    return page.evaluate("window.__stockJourney === true")


def stock_snapshot() -> tuple[list, list]:
    return (
        list(Stock.objects.order_by("pk").values_list("pk", "sku_id", "bin_id", "on_hand")),
        list(StockMovement.objects.order_by("pk").values_list("pk", flat=True)),
    )


@pytest.mark.django_db(transaction=True)
def test_receiving_by_scanner_puts_the_units_on_hand(page, live_server):
    from playwright.sync_api import expect

    worker = UserFactory(role=Role.WAREHOUSE, email="picker@example.com")
    warehouse = WarehouseFactory()
    bin_ = BinFactory(warehouse=warehouse)
    sku = SKUFactory()

    log_in(page, live_server, worker.email)
    page.goto(f"{live_server.url}/staff/stock/receive/")
    barcode = page.locator("#id_barcode")
    expect(barcode).to_be_focused()
    mark_page(page)

    scan(page, sku.barcode)  # Enter moves on to the next empty field…
    expect(page.locator("#id_quantity")).to_be_focused()
    page.keyboard.type("12")
    page.keyboard.press("Enter")
    expect(page.locator("#id_bin")).to_be_focused()
    with page.expect_response(
        lambda r: r.url.endswith("/staff/stock/receive/") and r.request.method == "POST"
    ) as posted:
        scan(page, bin_.code)  # …and Enter with every field filled submits (htmx).
    assert posted.value.ok

    success = page.locator("#receive-panel .notice--success")
    expect(success).to_have_text(f"Received 12 × {sku.code} {sku} into {bin_.code}.")
    expect(page.locator("#receive-panel table")).to_contain_text(sku.code)
    # The swapped-in form is empty again, ready for the next item.
    expect(barcode).to_be_focused()
    expect(barcode).to_have_value("")

    assert page_was_not_reloaded(page)  # htmx swapped the panel in place

    assert Stock.objects.get(sku=sku, bin=bin_).on_hand == 12
    receipt = StockMovement.objects.get(sku=sku, bin=bin_)
    assert (receipt.kind, receipt.on_hand_change, receipt.actor_id) == (
        MovementKind.RECEIPT,
        12,
        worker.pk,
    )
    assert ledger_differences() == []

    # An unknown barcode: the check beside the field refuses it at once…
    before = stock_snapshot()
    unknown = "6990000000000"
    assert not SKU.objects.filter(barcode=unknown).exists()
    scan(page, unknown)
    expect(page.locator("#barcode-feedback [role=alert]")).to_have_text(
        f"Unknown barcode {unknown}: no SKU has it."
    )
    expect(barcode).to_be_focused()  # back on the wrong code, selected for the next scan
    expect(barcode).to_have_attribute("aria-invalid", "true")

    # …and a worker who carries on regardless is refused by the server: nothing received.
    page.locator("#id_quantity").focus()
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    expect(page.locator("#id_bin")).to_be_focused()
    with page.expect_response(
        lambda r: r.url.endswith("/staff/stock/receive/") and r.request.method == "POST"
    ):
        scan(page, bin_.code)
    refusal = page.locator("#receive-panel .notice--error")
    expect(refusal).to_contain_text(f"Unknown barcode {unknown}: no SKU has it.")
    expect(refusal).to_contain_text("Nothing was received.")
    expect(page.locator("#receive-panel .notice--success")).to_have_count(0)

    assert page_was_not_reloaded(page)

    assert stock_snapshot() == before
    assert Stock.objects.get(sku=sku, bin=bin_).on_hand == 12
    assert ledger_differences() == []


@pytest.mark.django_db(transaction=True)
def test_stock_take_by_scanner_posts_the_difference(page, live_server):
    from playwright.sync_api import expect

    worker = UserFactory(role=Role.WAREHOUSE, email="counter@example.com")
    warehouse = WarehouseFactory()
    bin_ = BinFactory(warehouse=warehouse)
    sku = stock_sku(5, bin=bin_)  # the books say 5; the shelf holds 3
    assert ledger_differences() == []

    log_in(page, live_server, worker.email)
    page.goto(f"{live_server.url}/staff/stock/count/")
    expect(page.locator("#id_bin")).to_be_focused()
    scan(page, bin_.code)
    page.wait_for_url(f"{live_server.url}/staff/stock/count/bin/{bin_.pk}/")
    expect(page.locator("h1")).to_contain_text(f"Stock-take of bin {bin_.code}")
    # Blind count: the SKU on the books is listed, its quantity is not.
    count = page.locator(f"#id_count-{sku.pk}")
    expect(count).to_have_value("0")

    scan_field = page.locator("#id_scan")
    expect(scan_field).to_be_focused()
    mark_page(page)
    for _ in range(3):  # three scans as fast as the keyboard goes, no waiting in between
        scan(page, sku.barcode)

    feedback = page.locator("#count-body [data-scan-result]")
    expect(feedback).to_have_text(f"{sku.code} {sku}: 3 counted.")
    expect(count).to_have_value("3")
    expect(scan_field).to_be_focused()
    expect(scan_field).to_have_value("")
    assert page_was_not_reloaded(page)  # the scans went through htmx, one after the other

    page.locator("#id_reason").focus()
    page.keyboard.type("Monthly count")
    page.get_by_role("button", name="Review differences").click()
    expect(page.get_by_text("Step 2 of 2: review")).to_be_visible()
    row = page.locator("tr.has-difference")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(sku.code)
    expect(row.locator("td").nth(-1)).to_have_text("-2")
    expect(page.get_by_text("1 difference will be posted to the ledger.")).to_be_visible()
    assert not StockMovement.objects.filter(kind=MovementKind.STOCK_TAKE).exists()

    page.get_by_role("button", name="Post stock-take").click()
    page.wait_for_url(f"{live_server.url}/staff/stock/count/done/")
    expect(page.locator("h1")).to_contain_text(f"Stock-take of bin {bin_.code} posted")
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"3 unit\(s\) counted"))

    taken = StockMovement.objects.get(kind=MovementKind.STOCK_TAKE)
    assert (taken.sku_id, taken.bin_id, taken.on_hand_change, taken.actor_id) == (
        sku.pk,
        bin_.pk,
        -2,
        worker.pk,
    )
    assert "Monthly count" in taken.reason
    assert Stock.objects.get(sku=sku, bin=bin_).on_hand == 3
    assert ledger_differences() == []
