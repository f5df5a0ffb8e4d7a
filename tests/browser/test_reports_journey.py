"""Browser journey of the manager dashboard (issue 9 item 8; RPT-1, RPT-6), in headless
Chromium (Debian's /usr/bin/chromium).

Last month the shop sold a teapot (¥120.00) to Jiangsu and a flask (¥80.00) to Guangdong;
this month a napkin to Zhejiang. The manager logs in and lands on the dashboard (this month:
one order), goes back to last month (two orders, ¥200.00), clicks Jiangsu's order count and
sees exactly the teapot's order in the staff order list, comes back and downloads the sales
report as XLSX, which reads back (openpyxl) to the figures the page showed.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from accounts.roles import Role
from orders.models import Order, OrderState
from reports.periods import PeriodKind, current_period
from tests.factories import PASSWORD, SKUFactory, UserFactory, make_address, make_order

SCREEN = {"width": 1280, "height": 900}


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", viewport=SCREEN, accept_downloads=True)
    context.set_default_timeout(15_000)
    errors: list[str] = []
    context.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}") if response.status >= 500 else None
        ),
    )
    yield context.new_page()
    context.close()
    assert errors == []


def _sold(price: str, province: str, city: str, *, placed_at=None) -> Order:
    order = make_order(
        skus=[SKUFactory(price=Decimal(price))],
        state=OrderState.PAID,
        address=make_address(province=province, city=city),
    )
    if placed_at is not None:
        Order.objects.filter(pk=order.pk).update(created_at=placed_at)
    return Order.objects.get(pk=order.pk)


@pytest.mark.django_db(transaction=True)
def test_manager_changes_the_period_drills_into_a_figure_and_downloads_the_xlsx(
    page, live_server, tmp_path
):
    from playwright.sync_api import expect

    last_month = current_period(PeriodKind.MONTH).previous()
    placed = last_month.starts_at + timedelta(days=2, hours=10)
    teapot = _sold("120.00", "江苏省", "苏州市", placed_at=placed)
    flask = _sold("80.00", "广东省", "深圳市", placed_at=placed + timedelta(days=1))
    napkin = _sold("35.00", "浙江省", "杭州市")
    manager = UserFactory(role=Role.MANAGER, email="manager@example.com")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(manager.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/staff/manager/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.locator("#figure-orders .value")).to_have_text("1")

    # Last month: the period changes, and so do the figures, beside the month before.
    page.locator("a[rel=prev]").click()
    expect(page.locator("#period-title")).to_have_text(last_month.start.strftime("%B %Y"))
    expect(page.locator("#figure-orders .value")).to_have_text("2")
    expect(page.locator("#figure-gmv .value")).to_have_text("¥200.00")
    expect(page.locator("#chart-sales-by-province")).to_contain_text("江苏省")
    dashboard_url = page.url

    # Jiangsu's order count leads to the orders behind it, and only those.
    jiangsu = page.locator("#table-sales-by_province tbody tr", has_text="江苏省")
    expect(jiangsu.locator("a")).to_have_text("1")
    jiangsu.locator("a").click()
    page.wait_for_url("**/staff/orders/?**")
    results = page.locator("#order-results")
    expect(results).to_contain_text(teapot.number)
    expect(results).not_to_contain_text(flask.number)
    expect(results).not_to_contain_text(napkin.number)
    expect(page.locator("#id_province")).to_have_value("江苏省")

    # Back on the dashboard, the sales report as XLSX holds the figures the page shows.
    page.go_back()
    page.wait_for_url(dashboard_url)
    shown_gmv = page.locator("#figure-gmv .value").inner_text()
    with page.expect_download() as download_info:
        page.locator("#report-sales a[href*='format=xlsx']").click()
    download = download_info.value
    assert download.suggested_filename == f"sales-{last_month.key}.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    workbook = load_workbook(path)
    summary = {
        row[0]: row[1:] for row in workbook["Summary"].iter_rows(min_row=2, values_only=True)
    }
    assert summary["Orders"][0] == 2
    assert summary["Gross merchandise value"][0] == 200.0
    assert shown_gmv == "¥200.00"
    assert summary["Gross merchandise value"][1] == 0  # nothing the month before
    provinces = workbook["By province"]
    header = [cell.value for cell in provinces[1]]
    rows = {
        row[0]: dict(zip(header, row, strict=True))
        for row in provinces.iter_rows(min_row=2, values_only=True)
        if row[0]
    }
    assert rows["江苏省"]["Orders"] == 1
    assert rows["江苏省"]["Gross merchandise value"] == 120.0
    assert rows["广东省"]["Gross merchandise value"] == 80.0
