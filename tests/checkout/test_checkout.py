"""Checkout through HTTP: one transaction re-checks prices and stock, or nothing is created
(ORD-2, ORD-3, ORD-4, ORD-8, SEC-2, SEC-3)."""

from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from checkout.models import CartLine
from inventory.selectors import availability
from orders.models import Order, OrderEventKind, OrderState, PaymentMethod
from promotions.models import Coupon, CouponRedemption, ThresholdDiscount
from tests.factories import SKUFactory, UserFactory, stock_sku

from .conftest import apply, checkout_page, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(client):
    user = UserFactory(role="customer", email="buyer@example.com")
    client.force_login(user)
    return user


def fill_cart(client, *pairs):
    for sku, quantity in pairs:
        response = client.post("/cart/add/", {"sku": sku.pk, "quantity": quantity})
        assert response.status_code == 302


def test_a_customer_places_an_order_with_a_new_address(
    client, customer, shipping_rules, django_capture_on_commit_callbacks
):
    sku = stock_sku(5, sku=SKUFactory(price=Decimal("40.00"), weight_grams=500))
    fill_cart(client, (sku, 2))

    with django_capture_on_commit_callbacks(execute=True):
        response = submit(client, checkout_page(client))

    order = Order.objects.get()
    assert response.status_code == 302
    assert response.url == f"/checkout/placed/{order.number}/"
    assert order.state == OrderState.PENDING_PAYMENT
    assert order.customer == customer
    assert (order.province, order.city, order.district) == ("浙江省", "杭州市", "西湖区")
    assert order.recipient_phone == "13812345678"
    assert order.goods_amount == Decimal("80.00")
    assert order.shipping_amount == Decimal("10.00")  # under ¥99: the standard fee
    assert order.total_amount == Decimal("90.00")
    assert availability(sku_ids=[sku.pk]) == {sku.pk: 3}  # reserved
    assert not CartLine.objects.exists()
    assert customer.addresses.get().district == "西湖区"  # saved to the address book
    placed = client.get(response.url).content.decode()
    assert order.number in placed and "Pay ¥90.00 now" in placed
    assert [message.to for message in mail.outbox] == [["buyer@example.com"]]
    assert order.number in mail.outbox[0].subject


def test_a_guest_orders_with_an_email_and_may_see_only_that_order(client, shipping_rules):
    sku = stock_sku(5)
    fill_cart(client, (sku, 1))

    response = submit(client, checkout_page(client), contact_email="Guest@Example.com")

    order = Order.objects.get()
    assert order.customer is None and order.contact_email == "guest@example.com"
    assert client.get(response.url).status_code == 200
    assert Client().get(response.url).status_code == 404  # another browser


def test_a_guest_without_an_email_is_told_and_nothing_is_created(client):
    fill_cart(client, (stock_sku(5), 1))

    response = submit(client, checkout_page(client))

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Order.objects.exists()


def test_a_wrong_phone_or_division_is_refused_field_by_field(client, customer):
    fill_cart(client, (stock_sku(5), 1))

    response = submit(
        client,
        checkout_page(client),
        **{"address-recipient_phone": "12345", "address-city": "4403"},  # 深圳 is not in 浙江
    )

    assert response.status_code == 400
    assert not Order.objects.exists()
    assert CartLine.objects.exists()


def test_a_price_changed_since_the_page_was_shown_is_told_and_nothing_is_created(client, customer):
    sku = stock_sku(5, sku=SKUFactory(price=Decimal("50.00")))
    fill_cart(client, (sku, 1))
    page = checkout_page(client)
    sku.price = Decimal("55.00")
    sku.save()

    response = submit(client, page)

    html = response.content.decode()
    assert response.status_code == 409
    assert "The price has changed" in html and "was 50.00, now 55.00" in html
    assert not Order.objects.exists()
    assert availability(sku_ids=[sku.pk]) == {sku.pk: 5}  # nothing reserved
    # The page now shows the new price; placing it again works.
    retry = submit(client, {**page, "seen": _hidden(html, "seen")})
    assert retry.status_code == 302
    assert Order.objects.get().total_amount == Decimal("55.00")


def test_a_line_out_of_stock_at_submit_is_named_and_nothing_is_created(client, customer):
    plenty = stock_sku(10)
    scarce = stock_sku(2)
    fill_cart(client, (plenty, 1), (scarce, 2))
    page = checkout_page(client)
    # Someone else buys one of the two while this customer is on the checkout page.
    other = Client()
    other.force_login(UserFactory(role="customer"))
    fill_cart(other, (scarce, 1))
    submit(other, checkout_page(other))

    response = submit(client, page)

    html = response.content.decode()
    assert response.status_code == 409
    assert "Not enough stock" in html and "1 left, 2 wanted" in html
    assert Order.objects.count() == 1  # only the other customer's
    assert availability(sku_ids=[plenty.pk]) == {plenty.pk: 10}


def test_submitting_the_same_page_twice_places_one_order(client, customer):
    fill_cart(client, (stock_sku(5), 1))
    page = checkout_page(client)

    first = submit(client, page)
    second = submit(client, page)  # double click, back button, retry

    assert Order.objects.count() == 1
    assert first.url == second.url
    follow = client.get(second.url)
    assert follow.status_code == 200


def test_a_tampered_seen_field_is_refused(client, customer):
    fill_cart(client, (stock_sku(5), 1))
    page = checkout_page(client)

    response = submit(client, {**page, "seen": page["seen"] + "x"})

    assert response.status_code == 400
    assert "The page was altered" in response.content.decode()
    assert not Order.objects.exists()


def test_cash_on_delivery_goes_to_the_warehouse_unpaid(client, customer):
    fill_cart(client, (stock_sku(5), 1))

    submit(client, checkout_page(client), payment_method="cod")

    order = Order.objects.get()
    assert order.payment_method == PaymentMethod.CASH_ON_DELIVERY
    assert order.state == OrderState.PAID
    assert order.paid_amount == Decimal("0.00") and order.awaits_cash()
    assert list(order.events.values_list("kind", flat=True)) == [
        OrderEventKind.PLACED,
        OrderEventKind.COD_ACCEPTED,
    ]


def test_shipping_follows_the_province_and_is_free_above_the_threshold(
    client, customer, shipping_rules
):
    light = stock_sku(10, sku=SKUFactory(price=Decimal("30.00"), weight_grams=1500))
    fill_cart(client, (light, 1))
    xinjiang = {"address-province": "65", "address-city": "6501", "address-district": "650102"}

    page = checkout_page(client)
    refused = submit(client, page, **xinjiang)  # the page showed the fee to 浙江
    assert refused.status_code == 409
    assert (
        "the total is now ¥60.00" in refused.content.decode() or "60.00" in refused.content.decode()
    )
    shown = apply(client, page, **xinjiang).content.decode()
    assert submit(client, {**page, "seen": _hidden(shown, "seen")}, **xinjiang).status_code == 302

    # 1.5 kg to 新疆: ¥20 + ¥10 for the started second kilo.
    assert Order.objects.get().shipping_amount == Decimal("30.00")

    fill_cart(client, (light, 4))  # ¥120 of goods to 浙江: free from ¥99
    page = checkout_page(client)
    shown = apply(client, page).content.decode()
    assert submit(client, {**page, "seen": _hidden(shown, "seen")}).status_code == 302
    assert Order.objects.order_by("-id").first().shipping_amount == Decimal("0.00")


def test_a_coupon_and_a_threshold_discount_are_stored_per_line(client, customer):
    now = timezone.now()
    ThresholdDiscount.objects.create(
        name="满199减20",
        threshold=Decimal("199.00"),
        amount_off=Decimal("20.00"),
        starts_at=now - timezone.timedelta(days=1),
        ends_at=now + timezone.timedelta(days=1),
    )
    Coupon.objects.create(
        code="WELCOME10",
        name="Welcome",
        kind="fixed",
        value=Decimal("10.00"),
        starts_at=now - timezone.timedelta(days=1),
        ends_at=now + timezone.timedelta(days=1),
    )
    a = stock_sku(5, sku=SKUFactory(price=Decimal("150.00")))
    b = stock_sku(5, sku=SKUFactory(price=Decimal("50.00")))
    fill_cart(client, (a, 1), (b, 1))
    page = checkout_page(client)

    applied = apply(client, page, coupon_code="welcome10")
    html = applied.content.decode()
    assert "Coupon WELCOME10 applied." in html
    response = submit(client, {**page, "seen": _hidden(html, "seen")}, coupon_code="welcome10")

    assert response.status_code == 302
    order = Order.objects.get()
    assert order.discount_amount == Decimal("30.00")
    assert order.total_amount == Decimal("170.00")
    lines = {line.sku_id: line.discount_amount for line in order.lines.all()}
    assert lines == {a.pk: Decimal("22.50"), b.pk: Decimal("7.50")}
    assert CouponRedemption.objects.get().order == order


def test_a_coupon_used_up_meanwhile_is_told_and_nothing_is_created(client, customer):
    now = timezone.now()
    coupon = Coupon.objects.create(
        code="ONCE",
        name="Once",
        kind="fixed",
        value=Decimal("5.00"),
        usage_limit=1,
        starts_at=now - timezone.timedelta(days=1),
        ends_at=now + timezone.timedelta(days=1),
    )
    fill_cart(client, (stock_sku(5), 1))
    page = checkout_page(client)
    html = apply(client, page, coupon_code="ONCE").content.decode()
    CouponRedemption.objects.create(
        coupon=coupon, order=_other_order(), email="x@example.com", amount=Decimal("5.00")
    )

    response = submit(client, {**page, "seen": _hidden(html, "seen")}, coupon_code="ONCE")

    assert response.status_code == 409
    assert Order.objects.count() == 1  # the other one only
    assert CartLine.objects.exists()


def test_checkout_needs_the_csrf_token(customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    fill_cart_client = Client()
    fill_cart_client.force_login(customer)
    fill_cart(fill_cart_client, (stock_sku(5), 1))
    page = checkout_page(fill_cart_client)

    response = submit(client, page)

    assert response.status_code == 403
    assert not Order.objects.exists()


def test_someone_elses_placed_page_answers_404(client, customer):
    other = Client()
    other.force_login(UserFactory(role="customer"))
    fill_cart(other, (stock_sku(5), 1))
    response = submit(other, checkout_page(other))

    assert client.get(response.url).status_code == 404


@pytest.mark.parametrize("lines", [1, 10])
def test_the_checkout_page_costs_the_same_queries_whatever_the_cart(
    client, customer, shipping_rules, lines, django_assert_max_num_queries
):
    fill_cart(client, *[(stock_sku(5), 1) for _ in range(lines)])

    with django_assert_max_num_queries(16):
        response = client.get("/checkout/")

    assert response.status_code == 200


def _hidden(html: str, name: str) -> str:
    from .conftest import hidden

    return hidden(html, name)


def _other_order() -> Order:
    from tests.factories import make_order

    return make_order()


def test_coupon_codes_cannot_be_guessed_one_after_another(client, customer, settings):
    settings.COUPON_TRIES_PER_WINDOW = 3
    fill_cart(client, (stock_sku(5), 1))
    page = checkout_page(client)
    for code in ("AAAA", "BBBB", "CCCC"):
        assert "Too many" not in apply(client, page, coupon_code=code).content.decode()

    html = apply(client, page, coupon_code="DDDD").content.decode()

    assert "Too many coupon codes tried" in html


def test_a_token_of_someone_elses_order_places_nothing_and_shows_nothing(client, customer):
    other = Client()
    other.force_login(UserFactory(role="customer"))
    fill_cart(other, (stock_sku(5), 1))
    their_page = checkout_page(other)
    submit(other, their_page)
    fill_cart(client, (stock_sku(5), 1))
    mine = checkout_page(client)

    response = submit(client, {**mine, "checkout_token": their_page["checkout_token"]})

    assert response.status_code == 302 and response.url == "/cart/"
    assert Order.objects.count() == 1
    assert CartLine.objects.filter(cart__customer=customer).exists()


def test_a_guest_gets_the_confirmation_in_the_language_they_shopped_in(
    client, django_capture_on_commit_callbacks
):
    client.cookies["django_language"] = "zh-hans"
    fill_cart(client, (stock_sku(5), 1))

    with django_capture_on_commit_callbacks(execute=True):
        submit(client, checkout_page(client), contact_email="guest@example.com")

    assert "订单" in mail.outbox[0].subject
