"""Browser journey: each demo role logs in through the real login page in Chromium and lands
on its role's home page (Playwright driving Debian's /usr/bin/chromium)."""

import pytest

from accounts.roles import Role
from tests.factories import UserFactory

HOMES = {
    Role.CUSTOMER: ("/account/orders/", "h1"),
    Role.WAREHOUSE: ("/staff/warehouse/", "h1"),
    Role.SERVICE: ("/staff/service/", "h1"),
    Role.MANAGER: ("/staff/manager/", "h1"),
    Role.ADMIN: ("/staff/system/", "h1"),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", list(Role))
def test_each_role_logs_in_and_lands_on_its_home_page(browser, live_server, role):
    user = UserFactory(role=role, email=f"{role}@example.com", password="demo1234")
    home, heading = HOMES[role]
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("E-mail address").fill(user.email)
        page.get_by_label("Password").fill("demo1234")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}{home}")

        assert page.locator(heading).first.is_visible()
        assert user.email in page.content() or role == Role.CUSTOMER
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_wrong_password_is_shown_in_the_users_language(browser, live_server):
    UserFactory(role=Role.CUSTOMER, email="buyer@example.com", password="demo1234")
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        page.locator("input[name=username]").fill("buyer@example.com")
        page.locator("input[name=password]").fill("wrong-password")
        page.locator("form:has(input[name=password]) [type=submit]").click()
        page.wait_for_load_state()

        assert page.url.endswith("/accounts/login/")
        assert "请输入一个正确的" in page.content()
    finally:
        context.close()
