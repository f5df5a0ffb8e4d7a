"""The customer's order pages (ORD-7, ORD-9, SEC-2): "My orders" by state, the order page with
amounts, payment, timeline and shipments, paying, changing the address, and someone else's
order answering 404. Every page makes a constant number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from orders import services
from orders.models import OrderState, PaymentMethod, TrackingStatus
from orders.shipments import add_tracking_event, record_shipment
from tests.factories import SKUFactory, UserFactory, make_address, make_order, staff_user, stock_sku

pytestmark = pytest.mark.django_db


def _detail(order):
    return reverse("orders:my_order_detail", args=[order.number])


# --- My orders ----------------------------------------------------------------------------------
def test_my_orders_tabs_filter_by_state_and_count_each(client):
    customer = UserFactory(role=Role.CUSTOMER)
    orders = {
        state: make_order(customer=customer, state=state)
        for state in (
            OrderState.PENDING_PAYMENT,
            OrderState.PAID,
            OrderState.PICKED,
            OrderState.SHIPPED,
            OrderState.COMPLETED,
            OrderState.CANCELLED,
        )
    }
    client.force_login(customer)
    url = reverse("orders:my_orders")

    def numbers_on(tab):
        html = client.get(url, {"tab": tab} if tab else {}).content.decode()
        return {state for state, order in orders.items() if order.number in html}

    assert numbers_on("") == set(orders)
    assert numbers_on("awaiting_payment") == {OrderState.PENDING_PAYMENT}
    assert numbers_on("to_ship") == {OrderState.PAID, OrderState.PICKED}
    assert numbers_on("shipped") == {OrderState.SHIPPED}
    assert numbers_on("completed") == {OrderState.COMPLETED}
    assert numbers_on("cancelled") == {OrderState.CANCELLED}
    response = client.get(url, {"tab": "to_ship"})
    assert response.context["tabs"][2][2] == 2
    assert response.context["tabs"][0][2] == 6


def test_my_orders_unknown_tab_shows_all(client):
    order = make_order(state=OrderState.SHIPPED)
    client.force_login(order.customer)

    response = client.get(reverse("orders:my_orders"), {"tab": "bogus"})

    assert response.status_code == 200
    assert order.number in response.content.decode()


def test_my_orders_pages_keep_the_tab(client):
    customer = UserFactory(role=Role.CUSTOMER)
    sku = SKUFactory()
    for _ in range(11):
        make_order(customer=customer, skus=[sku], state=OrderState.PAID)
    client.force_login(customer)

    html = client.get(reverse("orders:my_orders"), {"tab": "to_ship"}).content.decode()

    assert "tab=to_ship&amp;page=2" in html


def test_my_orders_needs_login(client):
    response = client.get(reverse("orders:my_orders"))

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


# --- Order page ---------------------------------------------------------------------------------
def test_order_page_shows_lines_amounts_and_per_line_discount(client):
    customer = UserFactory(role=Role.CUSTOMER)
    sku = stock_sku(5, sku=SKUFactory(price=Decimal("129.00")))
    order = services.create_order(
        customer=customer,
        lines=[services.LineRequest(sku_id=sku.pk, quantity=2, discount=Decimal("20.00"))],
        address=make_address(),
        shipping_amount=Decimal("8.00"),
    )
    client.force_login(customer)

    html = client.get(_detail(order)).content.decode()

    assert "¥129.00 × 2" in html
    assert "¥20.00 off" in html
    assert "¥238.00" in html  # the line after its discount
    assert "¥258.00" in html  # goods
    assert "¥8.00" in html  # shipping
    assert "¥246.00" in html  # total
    assert "Online payment" in html


def test_cash_on_delivery_order_says_to_pay_the_courier_then_that_cash_is_in(client):
    order = make_order(state=OrderState.SHIPPED, payment_method=PaymentMethod.CASH_ON_DELIVERY)
    client.force_login(order.customer)

    html = client.get(_detail(order)).content.decode()
    assert "Pay the courier" in html
    assert "Not yet received" in html
    assert "Pay now" not in html

    services.record_cash_on_delivery(order_id=order.pk, amount=order.total_amount, actor=None)
    html = client.get(_detail(order)).content.decode()
    assert "paid to the courier" in html
    assert "Not yet received" not in html


def test_pending_online_order_offers_pay_now_then_pay_again_after_a_failure(client):
    order = make_order()
    client.force_login(order.customer)
    pay_url = reverse("payments:pay", args=[order.number])

    html = client.get(_detail(order)).content.decode()
    assert f'action="{pay_url}"' in html
    assert "Pay now" in html

    services.record_payment_failure(order_id=order.pk, reference="X1", reason="declined")
    html = client.get(_detail(order)).content.decode()
    assert "Pay again" in html
    assert "declined" not in html


def test_no_pay_button_for_paid_order_and_neutral_message_when_under_review(client):
    paid = make_order(state=OrderState.PAID)
    client.force_login(paid.customer)
    assert "Pay now" not in client.get(_detail(paid)).content.decode()

    held = make_order(customer=paid.customer)
    services.flag_for_review(order_id=held.pk, reason="Amount did not match: 1.00 paid")
    html = client.get(_detail(held)).content.decode()
    assert "Pay now" not in html
    assert "Pay again" not in html
    assert "We are checking this order" in html
    assert "did not match" not in html


def test_customer_cancel_reason_is_shown_to_them(client):
    order = make_order(state=OrderState.CANCELLED)
    client.force_login(order.customer)

    html = client.get(_detail(order)).content.decode()

    assert "Order cancelled" in html
    assert "by you" in html
    assert "Changed my mind" in html


def test_staff_cancel_reason_is_not_shown_to_the_customer(client):
    order = make_order(state=OrderState.CANCELLED, cancel_from=OrderState.PAID)
    client.force_login(order.customer)

    html = client.get(_detail(order)).content.decode()

    assert "Order cancelled" in html
    assert "Customer asked" not in html
    assert staff_user(Role.SERVICE).email not in html


# --- Someone else's order (SEC-2) ---------------------------------------------------------------
def test_someone_elses_order_answers_404_everywhere(client):
    order = make_order()
    client.force_login(UserFactory(role=Role.CUSTOMER))

    assert client.get(_detail(order)).status_code == 404
    assert client.post(reverse("orders:my_order_cancel", args=[order.number])).status_code == 404
    address_url = reverse("orders:my_order_change_address", args=[order.number])
    assert client.get(address_url).status_code == 404
    assert client.post(address_url, {}).status_code == 404
    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT


def test_an_order_that_does_not_exist_answers_404(client):
    client.force_login(UserFactory(role=Role.CUSTOMER))

    assert (
        client.get(reverse("orders:my_order_detail", args=["2099010100000001"])).status_code == 404
    )


# --- Query counts -------------------------------------------------------------------------------
def _shipped_order_with(customer, *, lines: int, parcels: int, events: int):
    order = make_order(
        customer=customer, skus=[SKUFactory() for _ in range(lines)], state=OrderState.SHIPPED
    )
    now = timezone.now()
    for parcel in range(parcels):
        shipment = record_shipment(
            order_id=order.pk,
            carrier_code="ZTO",
            tracking_number=f"7730{order.pk:06d}{parcel:04d}",
            actor=None,
        )
        for n in range(events):
            add_tracking_event(
                shipment_id=shipment.pk,
                occurred_at=now - timedelta(hours=events - n),
                status=TrackingStatus.IN_TRANSIT,
                location=f"Hub {n}",
            )
    for n in range(events):
        services.record_payment_failure(order_id=order.pk, reference=f"R{n}")
    return order


def test_order_page_query_count_does_not_grow_with_lines_events_and_shipments(
    client, django_assert_max_num_queries
):
    customer = UserFactory(role=Role.CUSTOMER)
    client.force_login(customer)
    small = _shipped_order_with(customer, lines=1, parcels=1, events=1)
    large = _shipped_order_with(customer, lines=10, parcels=3, events=8)

    with django_assert_max_num_queries(10) as few:
        assert client.get(_detail(small)).status_code == 200
    with django_assert_max_num_queries(10) as many:
        assert client.get(_detail(large)).status_code == 200

    assert len(many) == len(few)


def test_my_orders_query_count_does_not_grow_with_orders(client, django_assert_max_num_queries):
    customer = UserFactory(role=Role.CUSTOMER)
    client.force_login(customer)
    sku = SKUFactory()
    make_order(customer=customer, skus=[sku], state=OrderState.PAID)
    url = reverse("orders:my_orders") + "?tab=to_ship"
    with django_assert_max_num_queries(9) as few:
        assert client.get(url).status_code == 200

    for _ in range(12):
        make_order(customer=customer, skus=[sku, SKUFactory()], state=OrderState.PICKED)
    with django_assert_max_num_queries(9) as many:
        assert client.get(url).status_code == 200

    assert len(many) == len(few)


def test_cancel_needs_the_csrf_token(client):
    order = make_order()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(order.customer)

    response = csrf_client.post(reverse("orders:my_order_cancel", args=[order.number]))

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT


# --- Changing the address (ORD-7) ---------------------------------------------------------------
SHANGHAI = {
    "address-recipient_name": "李娜",
    "address-recipient_phone": "+86 139 1234 5678",
    "address-province": "31",
    "address-city": "3101",
    "address-district": "310115",
    "address-address_line": "世纪大道 100 号 20 楼",
    "address-postcode": "200120",
}


BINJIANG = {  # 浙江省 杭州市 滨江区: another address in the order's province
    "address-recipient_name": "李娜",
    "address-recipient_phone": "+86 139 1234 5678",
    "address-province": "33",
    "address-city": "3301",
    "address-district": "330108",
    "address-address_line": "江南大道 100 号 20 楼",
    "address-postcode": "310051",
}


SHANGHAI_CODES = {  # what addresses.services.create_address takes
    "province_code": "31",
    "city_code": "3101",
    "district_code": "310115",
    "address_line": "世纪大道 1 号",
}


def _address_url(order):
    return reverse("orders:my_order_change_address", args=[order.number])


@pytest.mark.parametrize("state", [OrderState.PENDING_PAYMENT, OrderState.PAID])
def test_customer_changes_the_address_before_the_warehouse_starts(client, state):
    order = make_order(state=state)
    client.force_login(order.customer)
    assert _address_url(order) in client.get(_detail(order)).content.decode()

    response = client.post(_address_url(order), BINJIANG, follow=True)

    order.refresh_from_db()
    assert (order.province, order.city, order.district) == ("浙江省", "杭州市", "滨江区")
    assert order.recipient_name == "李娜"
    assert order.recipient_phone == "13912345678"
    assert order.address_line == "江南大道 100 号 20 楼"
    html = response.content.decode()
    assert "will be delivered to the new address" in html
    assert "Delivery address changed" in html


def test_a_customer_cannot_move_the_order_to_another_province(client):
    """The province set the shipping fee and the warehouse holding the stock."""
    order = make_order(state=OrderState.PAID)
    client.force_login(order.customer)

    response = client.post(_address_url(order), SHANGHAI, follow=True)

    assert "cannot change after ordering" in response.content.decode()
    order.refresh_from_db()
    assert order.province == "浙江省"


def test_address_form_is_prefilled_with_the_orders_address(client):
    order = make_order()
    client.force_login(order.customer)

    response = client.get(_address_url(order))

    assert response.status_code == 200
    form = response.context["form"]
    assert form["recipient_name"].value() == "张伟"
    assert form["province"].value() == "33"
    assert form["district"].value() == "330106"


def test_an_invalid_address_is_shown_again_with_errors_and_nothing_changes(client):
    order = make_order()
    client.force_login(order.customer)

    response = client.post(_address_url(order), {**SHANGHAI, "address-district": "330106"})

    assert response.status_code == 200
    assert response.context["form"].errors
    order.refresh_from_db()
    assert order.province == "浙江省"


def test_customer_picks_a_saved_address(client):
    from addresses.services import create_address

    order = make_order()
    saved = create_address(
        customer=order.customer,
        data={
            "recipient_name": "王芳",
            "recipient_phone": "13700001111",
            "province_code": "33",
            "city_code": "3301",
            "district_code": "330108",
            "address_line": "张杨路 500 号",
            "postcode": "310051",
            "label": "Office",
        },
    )
    someone_else = create_address(
        customer=UserFactory(role=Role.CUSTOMER),
        data={"recipient_name": "Not yours", "recipient_phone": "13700002222", **SHANGHAI_CODES},
    )
    client.force_login(order.customer)
    html = client.get(_address_url(order)).content.decode()
    assert "张杨路 500 号" in html

    client.post(_address_url(order), {"saved_address": someone_else.pk})
    order.refresh_from_db()
    assert order.recipient_name == "张伟"

    client.post(_address_url(order), {"saved_address": saved.pk})
    order.refresh_from_db()
    assert (order.recipient_name, order.address_line) == ("王芳", "张杨路 500 号")


@pytest.mark.parametrize("state", [OrderState.PICKED, OrderState.SHIPPED])
def test_address_change_is_refused_once_the_warehouse_has_started(client, state):
    order = make_order(state=state)
    client.force_login(order.customer)
    assert _address_url(order) not in client.get(_detail(order)).content.decode()

    response = client.post(_address_url(order), SHANGHAI, follow=True)

    assert "please ask customer service to change the address" in response.content.decode()
    order.refresh_from_db()
    assert order.province == "浙江省"
    page = client.get(_address_url(order), follow=True)
    assert "please ask customer service" in page.content.decode()


def test_address_change_needs_the_csrf_token(client):
    order = make_order()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(order.customer)

    response = csrf_client.post(_address_url(order), SHANGHAI)

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.province == "浙江省"


def test_address_page_query_count_is_bounded(client, django_assert_max_num_queries):
    order = make_order()
    client.force_login(order.customer)

    with django_assert_max_num_queries(8):
        assert client.get(_address_url(order)).status_code == 200
