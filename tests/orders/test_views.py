"""Order screens: ownership (SEC-2), staff list filters, constant query counts."""

import pytest
from django.urls import reverse

from accounts.roles import Role
from orders.models import Channel, OrderState
from tests.factories import UserFactory, make_address, make_order

pytestmark = pytest.mark.django_db


def test_customer_sees_own_order(client):
    order = make_order()
    client.force_login(order.customer)

    response = client.get(reverse("orders:my_order_detail", args=[order.number]))

    assert response.status_code == 200
    assert order.number in response.content.decode()


def test_someone_elses_order_answers_404(client):
    order = make_order()
    client.force_login(UserFactory(role=Role.CUSTOMER))

    assert client.get(reverse("orders:my_order_detail", args=[order.number])).status_code == 404
    response = client.post(reverse("orders:my_order_cancel", args=[order.number]))
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT


def test_my_orders_lists_only_my_orders(client):
    mine = make_order()
    theirs = make_order()
    client.force_login(mine.customer)

    html = client.get(reverse("orders:my_orders")).content.decode()

    assert mine.number in html
    assert theirs.number not in html


def test_customer_cancels_unpaid_order_from_its_page(client):
    order = make_order()
    client.force_login(order.customer)

    response = client.post(reverse("orders:my_order_cancel", args=[order.number]), follow=True)

    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED
    assert "cancelled" in response.content.decode()


def test_customer_cancelling_a_paid_order_is_told_why_and_nothing_changes(client):
    order = make_order(state=OrderState.PAID)
    client.force_login(order.customer)

    response = client.post(reverse("orders:my_order_cancel", args=[order.number]), follow=True)

    order.refresh_from_db()
    assert order.state == OrderState.PAID
    assert "please ask customer service" in response.content.decode()


def test_customer_confirms_receipt(client):
    order = make_order(state=OrderState.SHIPPED)
    client.force_login(order.customer)

    client.post(reverse("orders:my_order_confirm_receipt", args=[order.number]))

    order.refresh_from_db()
    assert order.state == OrderState.COMPLETED


def test_forms_need_csrf(client):
    from django.test import Client

    order = make_order()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(order.customer)

    response = strict.post(reverse("orders:my_order_cancel", args=[order.number]))

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT


def test_staff_list_filters_by_state_and_channel(client):
    paid = make_order(state=OrderState.PAID)
    unpaid = make_order()
    marketplace = make_order(state=OrderState.PAID, channel=Channel.MARKETPLACE)
    client.force_login(UserFactory(role=Role.SERVICE))

    html = client.get(
        reverse("staff_orders:list"), {"state": "paid", "channel": "storefront"}
    ).content.decode()

    assert paid.number in html
    assert unpaid.number not in html
    assert marketplace.number not in html


def test_staff_list_masks_phone_numbers(client):
    order = make_order()
    client.force_login(UserFactory(role=Role.SERVICE))

    html = client.get(reverse("staff_orders:list")).content.decode()

    assert order.number in html
    assert order.recipient_phone not in html
    assert order.recipient_phone[:3] + "****" + order.recipient_phone[-4:] in html


def test_staff_list_reports_a_bad_date_range(client):
    client.force_login(UserFactory(role=Role.SERVICE))

    response = client.get(
        reverse("staff_orders:list"), {"placed_from": "2026-11-20", "placed_to": "2026-11-01"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors


def test_htmx_filter_returns_only_the_rows(client):
    make_order(state=OrderState.PAID)
    client.force_login(UserFactory(role=Role.SERVICE))

    response = client.get(reverse("staff_orders:list"), {"state": "paid"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "<html" not in response.content.decode()


def test_agent_cancels_paid_order_with_a_reason(client):
    order = make_order(state=OrderState.PAID)
    agent = UserFactory(role=Role.SERVICE)
    client.force_login(agent)

    client.post(
        reverse("staff_orders:cancel", args=[order.number]), {"reason": "Out of stock at supplier"}
    )

    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED
    event = order.events.latest("id")
    assert (event.actor, event.reason) == (agent, "Out of stock at supplier")


def test_agent_cancel_without_reason_changes_nothing(client):
    order = make_order(state=OrderState.PAID)
    client.force_login(UserFactory(role=Role.SERVICE))

    client.post(reverse("staff_orders:cancel", args=[order.number]), {"reason": ""})

    order.refresh_from_db()
    assert order.state == OrderState.PAID


def test_warehouse_cannot_cancel(client):
    order = make_order(state=OrderState.PAID)
    client.force_login(UserFactory(role=Role.WAREHOUSE))

    response = client.post(reverse("staff_orders:cancel", args=[order.number]), {"reason": "x"})

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.state == OrderState.PAID


def test_staff_detail_shows_the_timeline(client):
    order = make_order(state=OrderState.SHIPPED)
    client.force_login(UserFactory(role=Role.WAREHOUSE))

    response = client.get(reverse("staff_orders:detail", args=[order.number]))

    assert response.status_code == 200
    assert [e.kind for e in response.context["order"].events.all()] == [
        "placed",
        "paid",
        "picked",
        "shipped",
    ]


@pytest.mark.parametrize("field", ["number", "recipient_phone", "contact_email", "external_id"])
def test_staff_search_finds_an_order_by_each_key(client, field):
    wanted = make_order(
        channel=Channel.MARKETPLACE,
        external_id="TB-778899",
        address=make_address(recipient_phone="13900001111"),
    )
    other = make_order()
    client.force_login(UserFactory(role=Role.SERVICE))
    term = getattr(wanted, field)

    page = client.get(reverse("staff_orders:list"), {"search": term.upper()}).context["page"]

    numbers = [o.number for o in page]
    assert wanted.number in numbers
    assert other.number not in numbers


def test_staff_detail_shows_where_each_lines_stock_stands(client):
    from inventory import services as inventory_services
    from tests.factories import SKUFactory, shared_test_bin, stock_sku

    held = stock_sku(2)
    short = stock_sku(1, sku=SKUFactory())
    order = services_create_backordered(held, short)
    client.force_login(UserFactory(role=Role.SERVICE))

    html = client.get(reverse("staff_orders:detail", args=[order.number])).content.decode()

    assert "2 reserved" in html
    assert "1 reserved" in html and "2 waiting for stock" in html
    inventory_services.receive(sku_id=short.pk, bin_id=shared_test_bin().pk, quantity=2)
    html = client.get(reverse("staff_orders:detail", args=[order.number])).content.decode()
    assert "waiting for stock" not in html
    assert "3 reserved" in html


def services_create_backordered(held, short):
    from orders import services
    from orders.services import LineRequest

    return services.create_order(
        customer=UserFactory(role=Role.CUSTOMER),
        lines=[LineRequest(held.pk, 2), LineRequest(short.pk, 3)],
        address=make_address(),
        allow_backorder=True,
    )
