"""A guest looks an order up by its number and the phone number on it (ORD-9, SEC-2): the right
pair opens a read-only page; a wrong number and a wrong phone look exactly alike; tries are
throttled per client."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from orders.models import OrderState, TrackingStatus
from orders.shipments import add_tracking_event, record_shipment
from tests.factories import SKUFactory, UserFactory, make_address, make_order

pytestmark = pytest.mark.django_db

LOOKUP = "tracking:lookup"
PHONE = "13812345678"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """The look-up counters live in the cache, which outlives a test's transaction."""
    cache.clear()
    yield
    cache.clear()


def _guest_order(**kwargs):
    return make_order(
        customer=None,
        contact_email="guest@example.com",
        address=make_address(recipient_phone=PHONE),
        **kwargs,
    )


def _look_up(client, number, phone, **extra):
    return client.post(reverse(LOOKUP), {"number": number, "phone": phone}, **extra)


def _guest_page(order):
    return reverse("tracking:guest_order", args=[order.number])


def test_lookup_page_is_a_form(client):
    response = client.get(reverse(LOOKUP))

    assert response.status_code == 200
    assert 'name="number"' in response.content.decode()
    assert 'name="phone"' in response.content.decode()


@pytest.mark.parametrize("typed", [PHONE, "+86 138 1234 5678", "138-1234-5678", "0086 13812345678"])
def test_right_number_and_phone_open_the_guest_page(client, typed):
    order = _guest_order()

    response = _look_up(client, f" {order.number} ", typed)

    assert response.status_code == 302
    assert response["Location"] == _guest_page(order)
    page = client.get(_guest_page(order))
    assert page.status_code == 200
    html = page.content.decode()
    assert order.number in html
    assert "138****5678" in html
    assert PHONE not in html


def test_guest_page_without_lookup_answers_404(client):
    order = _guest_order()

    assert client.get(_guest_page(order)).status_code == 404


def test_access_from_a_lookup_stays_with_that_browser(client):
    order = _guest_order()
    _look_up(client, order.number, PHONE)

    other_browser = type(client)()

    assert other_browser.get(_guest_page(order)).status_code == 404


def _comparable(response, *typed: str) -> bytes:
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    body = re.sub(r'"X-CSRFToken": "[^"]+"', "", body)
    for value in typed:
        body = body.replace(value, "TYPED")
    return body.encode()


def test_wrong_number_and_wrong_phone_give_the_same_answer(client):
    order = _guest_order()
    unknown_number = str(int(order.number) + 7)

    wrong_number = _look_up(client, unknown_number, PHONE)
    wrong_phone = _look_up(client, order.number, "13900000000")

    assert wrong_number.status_code == wrong_phone.status_code == 200
    assert [t.name for t in wrong_number.templates] == [t.name for t in wrong_phone.templates]
    assert "We could not find an order" in wrong_number.content.decode()
    assert _comparable(wrong_number, unknown_number) == _comparable(wrong_phone, order.number)
    assert client.get(_guest_page(order)).status_code == 404


def test_an_empty_or_garbled_phone_is_asked_again_without_a_lookup(client):
    order = _guest_order()

    response = _look_up(client, order.number, "abc")

    assert response.status_code == 200
    assert "Enter the mobile phone number" in response.content.decode()


def test_tries_over_the_limit_get_429_and_nothing_is_looked_up(client, settings):
    settings.ORDER_LOOKUP_MAX_TRIES = 3
    order = _guest_order()
    for _ in range(3):
        assert _look_up(client, order.number, "13900000000").status_code == 200

    response = _look_up(client, order.number, PHONE)

    assert response.status_code == 429
    assert "too many times" in response.content.decode()
    assert client.get(_guest_page(order)).status_code == 404


def test_the_limit_is_per_client_address(client, settings):
    settings.ORDER_LOOKUP_MAX_TRIES = 2
    order = _guest_order()
    for _ in range(2):
        _look_up(client, order.number, "13900000000", REMOTE_ADDR="203.0.113.5")
    assert _look_up(client, order.number, PHONE, REMOTE_ADDR="203.0.113.5").status_code == 429

    response = _look_up(client, order.number, PHONE, REMOTE_ADDR="203.0.113.6")

    assert response.status_code == 302


def test_one_order_number_is_limited_across_addresses(client, settings):
    settings.ORDER_LOOKUP_MAX_TRIES_PER_ORDER = 3
    order = _guest_order()
    for n in range(3):
        _look_up(client, order.number, "13900000000", REMOTE_ADDR=f"203.0.113.{n}")

    response = _look_up(client, order.number, PHONE, REMOTE_ADDR="203.0.113.99")

    assert response.status_code == 429
    assert client.get(_guest_page(order)).status_code == 404


def test_behind_the_proxy_the_limit_follows_the_forwarded_client(client, settings):
    settings.ORDER_LOOKUP_MAX_TRIES = 1
    settings.TRUSTED_PROXY_COUNT = 1
    order = _guest_order()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    _look_up(client, order.number, "13900000000", HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)

    # Another customer behind the same proxy is not locked out by the first one's tries.
    response = _look_up(client, order.number, PHONE, HTTP_X_FORWARDED_FOR="203.0.113.6", **proxy)

    assert response.status_code == 302


def test_the_limit_resets_after_the_window(client, settings):
    settings.ORDER_LOOKUP_MAX_TRIES = 1
    order = _guest_order()
    _look_up(client, order.number, "13900000000")
    assert _look_up(client, order.number, PHONE).status_code == 429

    cache.clear()  # what the window's expiry does

    assert _look_up(client, order.number, PHONE).status_code == 302


def test_logged_in_customer_looking_up_their_order_goes_to_their_order_page(client):
    order = make_order(address=make_address(recipient_phone=PHONE))
    client.force_login(order.customer)

    response = _look_up(client, order.number, PHONE)

    assert response.status_code == 302
    assert response["Location"] == reverse("orders:my_order_detail", args=[order.number])


def test_an_account_order_looked_up_by_a_guest_asks_to_log_in(client):
    order = make_order(address=make_address(recipient_phone=PHONE))

    response = _look_up(client, order.number, PHONE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.get(_guest_page(order)).status_code == 404


def test_guest_page_offers_payment_but_no_cancel(client):
    order = _guest_order()
    _look_up(client, order.number, PHONE)

    html = client.get(_guest_page(order)).content.decode()

    assert f'action="{reverse("payments:pay", args=[order.number])}"' in html
    assert "Pay now" in html
    assert "contact customer service" in html
    assert reverse("orders:my_order_cancel", args=[order.number]) not in html
    assert reverse("orders:my_order_change_address", args=[order.number]) not in html


def test_guest_page_shows_tracking_and_a_guest_cannot_act_on_account_urls(client):
    order = _guest_order(state=OrderState.SHIPPED)
    shipment = record_shipment(
        order_id=order.pk, carrier_code="YD", tracking_number="4312345678901", actor=None
    )
    add_tracking_event(
        shipment_id=shipment.pk,
        occurred_at=timezone.now() - timedelta(hours=5),
        status=TrackingStatus.IN_TRANSIT,
        location="上海分拨中心",
    )
    _look_up(client, order.number, PHONE)

    html = client.get(_guest_page(order)).content.decode()

    assert "韵达快递" in html
    assert "4312345678901" in html
    assert "上海分拨中心" in html
    cancel = client.post(reverse("orders:my_order_cancel", args=[order.number]))
    assert cancel.status_code == 302
    assert cancel["Location"].startswith(reverse("login"))


def test_guest_page_query_count_does_not_grow(client, django_assert_max_num_queries):
    small = _guest_order(state=OrderState.SHIPPED)
    large = _guest_order(skus=[SKUFactory() for _ in range(8)], state=OrderState.SHIPPED)
    for order in (small, large):
        _look_up(client, order.number, PHONE)

    with django_assert_max_num_queries(9) as few:
        assert client.get(_guest_page(small)).status_code == 200
    with django_assert_max_num_queries(9) as many:
        assert client.get(_guest_page(large)).status_code == 200

    assert len(many) == len(few)


def test_logged_in_visitor_on_a_guest_page_goes_to_their_order_page(client):
    order = make_order()
    client.force_login(order.customer)

    response = client.get(_guest_page(order))

    assert response.status_code == 302
    assert response["Location"] == reverse("orders:my_order_detail", args=[order.number])


def test_logged_in_visitor_with_someone_elses_pair_is_not_let_in(client):
    order = _guest_order()
    client.force_login(UserFactory(role=Role.CUSTOMER))

    response = _look_up(client, order.number, PHONE, follow=True)

    assert response.status_code == 200
    assert "not in the account you are logged in to" in response.content.decode()
