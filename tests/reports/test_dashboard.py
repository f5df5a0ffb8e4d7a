"""The manager dashboard (RPT-6, issue 9 item 7): the sales key figures beside the previous
period, charts, every report's tables with drill-down to the orders behind a figure, filters
by period, channel and warehouse, downloads, permissions and a constant number of queries."""

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.roles import Role
from orders.models import Channel, Order, OrderState
from reports import registry
from reports.forms_dashboard import DashboardForm, period_from_key
from reports.periods import PeriodKind, current_period
from tests.factories import ProductFactory, SKUFactory, UserFactory, make_address, make_order


def _mounted() -> bool:
    try:
        reverse("reports:dashboard")
    except NoReverseMatch:
        return False
    return True


pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(registry.report("sales") is None, reason="needs the sales report"),
    pytest.mark.skipif(not _mounted(), reason="needs the reports URLs"),
]


@pytest.fixture
def manager(client):
    client.force_login(UserFactory(role=Role.MANAGER))
    return client


def _sold(*, sku=None, province="浙江省", city="杭州市", channel=Channel.STOREFRONT, days_ago=0):
    """A paid order placed `days_ago` days before now (0: now)."""
    order = make_order(
        skus=[sku or SKUFactory()],
        state=OrderState.PAID,
        channel=channel,
        address=make_address(province=province, city=city),
    )
    if days_ago:
        Order.objects.filter(pk=order.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
    return order


def _html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def _links(html: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', html)]


def test_managers_and_admins_see_the_dashboard_others_do_not(client):
    url = reverse("reports:dashboard")
    assert client.get(url).status_code == 302  # to the login page

    for role, status in [
        (Role.SERVICE, 403),
        (Role.WAREHOUSE, 403),
        (Role.MANAGER, 200),
        (Role.ADMIN, 200),
    ]:
        client.force_login(UserFactory(role=role))
        assert client.get(url).status_code == status, role


def test_key_figures_of_the_current_month_beside_the_previous_one(manager):
    period = current_period(PeriodKind.MONTH)
    sku = SKUFactory(price=Decimal("120.00"))
    _sold(sku=sku)
    _sold(sku=sku)
    before = make_order(skus=[sku], state=OrderState.PAID)
    Order.objects.filter(pk=before.pk).update(created_at=period.starts_at - timedelta(days=3))

    response = manager.get(reverse("reports:dashboard"))
    html = _html(response)

    assert response.context["period"] == period
    figures = {figure["key"]: figure for figure in response.context["figures"]}
    assert figures["orders"]["value"] == "2"
    assert figures["orders"]["previous"] == "1"
    assert figures["gmv"]["value"] == "¥240.00"
    assert figures["gmv"]["previous"] == "¥120.00"
    change = figures["gmv"]["change"]
    assert (change.direction, change.tone, change.text) == ("up", "good", "100.0%")
    # Not colour alone: an arrow and the words.
    figure_html = html[html.index('id="figure-gmv"') :]
    figure_html = figure_html[: figure_html.index("</li>")]
    assert "¥240.00" in figure_html and "▲" in figure_html and "up 100.0%" in figure_html
    assert "change--good" in figure_html


def test_charts_are_drawn_on_the_server(manager):
    _sold(sku=SKUFactory(product=ProductFactory(name="Teapot")), province="江苏省")

    html = _html(manager.get(reverse("reports:dashboard"), {"kind": "month"}))

    assert html.count('role="img"') >= 3
    assert 'id="chart-sales-by-day"' in html
    assert 'id="chart-sales-by-province"' in html and "江苏省" in html
    assert 'id="chart-sales-by-product"' in html and "Teapot" in html
    assert "<script" not in html.split("<main", 1)[1]


def test_product_names_are_escaped_everywhere(manager):
    evil = '<script>alert("x")</script>'
    _sold(sku=SKUFactory(product=ProductFactory(name=evil)))

    html = _html(manager.get(reverse("reports:dashboard")))

    assert evil not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_a_figure_drills_down_to_exactly_the_orders_behind_it(manager):
    sku = SKUFactory()
    suzhou = [_sold(sku=sku, province="江苏省", city="苏州市") for _ in range(2)]
    _sold(sku=sku, province="浙江省")

    html = _html(manager.get(reverse("reports:dashboard")))

    links = [
        link
        for link in _links(html)
        if link.startswith(reverse("staff_orders:list"))
        and parse_qs(urlsplit(link).query).get("province") == ["江苏省"]
        and "city" not in parse_qs(urlsplit(link).query)
    ]
    assert links, "the province row links to its orders"
    listed = manager.get(links[0])
    numbers = {order.number for order in listed.context["page"].object_list}
    assert numbers == {order.number for order in suzhou}
    query = parse_qs(urlsplit(links[0]).query)
    period = current_period(PeriodKind.MONTH)
    assert query["placed_from"] == [period.start.isoformat()]
    assert query["placed_to"] == [period.last_day.isoformat()]


def test_period_navigation_goes_back_and_switches_kind(manager):
    period = current_period(PeriodKind.MONTH)

    response = manager.get(reverse("reports:dashboard"))
    previous_link = response.context["previous_link"]
    assert response.context["next_link"] == ""  # no future periods
    response = manager.get(reverse("reports:dashboard") + previous_link)
    assert response.context["period"] == period.previous()
    assert response.context["next_link"]

    # Switching the kind of a past month lands on the week that contains its first day.
    response = manager.get(
        reverse("reports:dashboard"), {"kind": "week", "period": period.previous().key}
    )
    shown = response.context["period"]
    assert shown.kind == PeriodKind.WEEK
    assert shown.start <= period.previous().start < shown.end

    # … and the current month switched to days is today.
    response = manager.get(reverse("reports:dashboard"), {"kind": "day", "period": period.key})
    assert response.context["period"] == current_period(PeriodKind.DAY)


def test_bad_filter_values_fall_back_to_the_defaults(manager):
    response = manager.get(
        reverse("reports:dashboard"),
        {"kind": "decade", "period": "not-a-period", "channel": "x", "warehouse": "abc"},
    )

    assert response.status_code == 200
    assert response.context["period"] == current_period(PeriodKind.MONTH)


def test_period_keys_of_every_kind_are_understood():
    assert period_from_key("2026-11-25").kind == PeriodKind.DAY
    assert period_from_key("2026-W48").kind == PeriodKind.WEEK
    assert period_from_key("2026-11").kind == PeriodKind.MONTH
    assert period_from_key("") is None and period_from_key("2026-13") is None
    form = DashboardForm({"kind": "week", "period": "2026-W48", "channel": "marketplace"})
    period, filters = form.period_and_filters()
    assert period.key == "2026-W48" and filters.channel == "marketplace"


def test_channel_filter_narrows_the_figures_and_the_drill_down(manager):
    _sold(channel=Channel.STOREFRONT)
    _sold(channel=Channel.MARKETPLACE)
    _sold(channel=Channel.MARKETPLACE)

    response = manager.get(reverse("reports:dashboard"), {"channel": "marketplace"})

    figures = {figure["key"]: figure for figure in response.context["figures"]}
    assert figures["orders"]["value"] == "2"
    drills = [
        link
        for link in _links(_html(response))
        if link.startswith(reverse("staff_orders:list") + "?")
    ]
    assert drills and all("channel=marketplace" in link for link in drills)


def test_every_available_report_has_a_tab_with_its_tables(manager):
    _sold()
    url = reverse("reports:dashboard")

    for key, module in registry.available():
        response = manager.get(url, {"report": key})
        html = _html(response)
        assert response.context["report"].key == key
        assert f'id="report-{key}"' in html
        tables = response.context["report"].tables
        for shown in tables:
            assert f'id="table-{key}-{shown.table.key}"' in html
        assert str(module.TITLE) in html


def test_each_report_offers_its_csv_and_xlsx_when_exports_exist(manager):
    try:
        export = reverse("reports:export")
    except NoReverseMatch:
        pytest.skip("the export view is not there")
    _sold()

    html = _html(manager.get(reverse("reports:dashboard"), {"kind": "week"}))

    period = current_period(PeriodKind.WEEK)
    downloads = [link for link in _links(html) if link.startswith(export)]
    assert {parse_qs(urlsplit(link).query)["format"][0] for link in downloads} == {"csv", "xlsx"}
    query = parse_qs(urlsplit(downloads[0]).query)
    assert query["report"] == ["sales"]
    assert query["kind"] == ["week"] and query["period"] == [period.key]
    xlsx = next(link for link in downloads if "format=xlsx" in link)
    response = manager.get(xlsx)
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')


def test_manager_home_is_the_dashboard(manager):
    _sold()

    response = manager.get(reverse("workspace:manager"))

    assert response.status_code == 200
    assert response.context["figures"]
    assert reverse("workspace:manager") in response.context["request"].path


@pytest.mark.parametrize("tab", sorted(registry.MODULES))
def test_dashboard_makes_the_same_number_of_queries_for_few_or_many_orders(
    manager, django_assert_max_num_queries, tab
):
    if registry.report(tab) is None:
        pytest.skip(f"no {tab} report")
    skus = [SKUFactory(), SKUFactory()]
    url = reverse("reports:dashboard") + f"?report={tab}"
    for n in range(2):
        _sold(sku=skus[n % 2], province=f"省{n}")
    with django_assert_max_num_queries(60) as few:
        assert manager.get(url).status_code == 200

    for n in range(12):
        _sold(sku=skus[n % 2], province=f"省{n}", days_ago=n % 3)
    with django_assert_max_num_queries(60) as many:
        assert manager.get(url).status_code == 200

    assert len(many) == len(few)


def test_a_drill_the_order_list_cannot_follow_gets_no_link():
    from reports.views_dashboard import drill_url

    assert drill_url({"province": "浙江省", "sales_only": "1"}).startswith("/staff/orders/?")
    # The list has no "stage" filter: a link would show other orders than the figure's.
    assert drill_url({"paid_from": "2026-11-01", "stage": "picked"}) == ""
