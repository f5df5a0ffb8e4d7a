"""The promotions staff screens (ORD-8): managers list, create, edit and switch off coupons and
threshold discounts; customer service may look; others are refused."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from promotions.models import Coupon, CouponKind, CouponRedemption, ThresholdDiscount
from tests.factories import UserFactory, make_order

from .helpers import make_coupon, make_threshold

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.promotions.urls")]

D = Decimal


@pytest.fixture
def manager_client(client):
    client.force_login(UserFactory(role=Role.MANAGER))
    return client


COUPON_FORM = {
    "code": " spring-25 ",
    "name": "Spring sale",
    "kind": CouponKind.PERCENT,
    "value": "25",
    "max_discount": "80.00",
    "min_spend": "100.00",
    "starts_at": "2030-03-01T00:00",
    "ends_at": "2030-03-31T23:59",
    "usage_limit": "500",
    "per_customer_limit": "1",
    "stacks_with_threshold": "on",
    "is_active": "on",
}

THRESHOLD_FORM = {
    "name": "满199减20",
    "threshold": "199.00",
    "amount_off": "20.00",
    "repeat": "on",
    "max_times": "3",
    "starts_at": "2030-03-01T00:00",
    "ends_at": "2030-03-31T23:59",
    "is_active": "on",
}


def test_manager_sees_coupons_with_uses_and_threshold_discounts(manager_client):
    coupon = make_coupon("WELCOME10", usage_limit=100, per_customer_limit=None)
    order = make_order()
    CouponRedemption.objects.create(
        coupon=coupon, order=order, customer=order.customer, amount=D("10.00")
    )
    make_threshold("199.00", "20.00", name="Summer 满减")
    response = manager_client.get(reverse("promotions:list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "WELCOME10" in page
    assert "1 / 100" in page
    assert "Summer 满减" in page
    assert reverse("promotions:coupon_create") in page


def test_list_filters_by_search_and_status(manager_client):
    make_coupon("ALPHA")
    make_coupon("BETA", is_active=False)
    page = manager_client.get(reverse("promotions:list"), {"search": "alp"}).content.decode()
    assert "ALPHA" in page and "BETA" not in page
    page = manager_client.get(reverse("promotions:list"), {"status": "inactive"}).content.decode()
    assert "BETA" in page and "ALPHA" not in page


def test_manager_creates_a_coupon_with_its_code_in_upper_case(manager_client):
    response = manager_client.post(reverse("promotions:coupon_create"), COUPON_FORM)
    assert response.status_code == 302
    coupon = Coupon.objects.get()
    assert coupon.code == "SPRING-25"
    assert (coupon.kind, coupon.value, coupon.max_discount) == ("percent", D("25"), D("80.00"))
    assert coupon.usage_limit == 500


def test_coupon_form_refuses_nonsense_with_clear_messages(manager_client):
    make_coupon("TAKEN")
    bad = dict(
        COUPON_FORM,
        code="taken",
        kind=CouponKind.PERCENT,
        value="100",
        ends_at="2030-02-01T00:00",
    )
    response = manager_client.post(reverse("promotions:coupon_create"), bad)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "code" in errors  # already used, whatever the case typed
    assert errors["value"] == ["A percent must be less than 100."]
    assert errors["ends_at"] == ["The coupon must end after it starts."]
    fixed_with_cap = dict(COUPON_FORM, code="OK-1", kind=CouponKind.FIXED, value="10")
    response = manager_client.post(reverse("promotions:coupon_create"), fixed_with_cap)
    assert response.context["form"].errors["max_discount"] == [
        "Only a percent coupon has a largest discount."
    ]
    bad_code = dict(COUPON_FORM, code="NO SPACES!")
    response = manager_client.post(reverse("promotions:coupon_create"), bad_code)
    assert "code" in response.context["form"].errors
    assert Coupon.objects.count() == 1


def test_manager_edits_a_coupon(manager_client):
    coupon = make_coupon("EDIT")
    url = reverse("promotions:coupon_edit", args=[coupon.pk])
    assert manager_client.get(url).status_code == 200
    response = manager_client.post(url, dict(COUPON_FORM, code="EDIT", name="Renamed"))
    assert response.status_code == 302
    coupon.refresh_from_db()
    assert coupon.name == "Renamed" and coupon.value == D("25")


def test_manager_creates_and_edits_a_threshold_discount(manager_client):
    response = manager_client.post(reverse("promotions:threshold_create"), THRESHOLD_FORM)
    assert response.status_code == 302
    promotion = ThresholdDiscount.objects.get()
    assert (promotion.threshold, promotion.amount_off, promotion.repeat, promotion.max_times) == (
        D("199.00"),
        D("20.00"),
        True,
        3,
    )
    url = reverse("promotions:threshold_edit", args=[promotion.pk])
    response = manager_client.post(url, dict(THRESHOLD_FORM, amount_off="199.00"))
    assert response.context["form"].errors["amount_off"] == [
        "The amount off must be less than the threshold."
    ]
    response = manager_client.post(url, dict(THRESHOLD_FORM, amount_off="30.00"))
    assert response.status_code == 302
    promotion.refresh_from_db()
    assert promotion.amount_off == D("30.00")


def test_manager_switches_promotions_off_by_post_only(manager_client):
    coupon = make_coupon("STOP")
    promotion = make_threshold()
    url = reverse("promotions:coupon_deactivate", args=[coupon.pk])
    assert manager_client.get(url).status_code == 405
    response = manager_client.post(url, follow=True)
    assert "Coupon STOP switched off" in response.content.decode()
    coupon.refresh_from_db()
    assert coupon.is_active is False
    manager_client.post(reverse("promotions:threshold_deactivate", args=[promotion.pk]))
    promotion.refresh_from_db()
    assert promotion.is_active is False


def test_unknown_promotion_is_404(manager_client):
    assert manager_client.get(reverse("promotions:coupon_edit", args=[999])).status_code == 404
    assert (
        manager_client.post(reverse("promotions:coupon_deactivate", args=[999])).status_code == 404
    )
    assert manager_client.get(reverse("promotions:threshold_edit", args=[999])).status_code == 404


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.WAREHOUSE])
def test_customers_and_warehouse_staff_are_refused(client, role):
    coupon = make_coupon("SECRET")
    client.force_login(UserFactory(role=role))
    assert client.get(reverse("promotions:list")).status_code == 403
    assert client.get(reverse("promotions:coupon_create")).status_code == 403
    assert client.post(reverse("promotions:coupon_create"), COUPON_FORM).status_code == 403
    assert client.post(reverse("promotions:coupon_deactivate", args=[coupon.pk])).status_code == 403
    assert client.post(reverse("promotions:threshold_create"), THRESHOLD_FORM).status_code == 403
    coupon.refresh_from_db()
    assert coupon.is_active and Coupon.objects.count() == 1


def test_customer_service_may_look_but_not_change(client):
    coupon = make_coupon("LOOK")
    client.force_login(UserFactory(role=Role.SERVICE))
    page = client.get(reverse("promotions:list"))
    assert page.status_code == 200 and "LOOK" in page.content.decode()
    assert reverse("promotions:coupon_create") not in page.content.decode()
    assert client.get(reverse("promotions:coupon_edit", args=[coupon.pk])).status_code == 403
    assert client.post(reverse("promotions:coupon_deactivate", args=[coupon.pk])).status_code == 403


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(reverse("promotions:list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_forms_need_the_csrf_token():
    coupon = make_coupon("CSRF")
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(role=Role.MANAGER))
    assert client.post(reverse("promotions:coupon_create"), COUPON_FORM).status_code == 403
    assert client.post(reverse("promotions:coupon_deactivate", args=[coupon.pk])).status_code == 403
    assert client.post(reverse("promotions:threshold_create"), THRESHOLD_FORM).status_code == 403
    coupon.refresh_from_db()
    assert coupon.is_active and Coupon.objects.count() == 1
    # The page's own form carries the token, and posting it works.
    page = client.get(reverse("promotions:coupon_create"))
    token = page.context["csrf_token"]
    response = client.post(
        reverse("promotions:coupon_create"), dict(COUPON_FORM, csrfmiddlewaretoken=str(token))
    )
    assert response.status_code == 302


def _list_queries(client, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(12) as captured:
        response = client.get(reverse("promotions:list"))
    assert response.status_code == 200
    return len(captured)


def test_list_query_count_does_not_grow(manager_client, django_assert_max_num_queries):
    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            coupon = make_coupon(f"C{i}", per_customer_limit=None)
            make_threshold("199.00", "20.00", name=f"T{i}")
            order = make_order()
            CouponRedemption.objects.create(
                coupon=coupon, order=order, customer=order.customer, amount=D("10.00")
            )

    add(2, 0)
    few = _list_queries(manager_client, django_assert_max_num_queries)
    add(20, 2)
    many = _list_queries(manager_client, django_assert_max_num_queries)
    assert many == few


def test_admin_lists_promotions_with_their_uses(client):
    coupon = make_coupon("ADMIN1", per_customer_limit=None)
    order = make_order()
    CouponRedemption.objects.create(
        coupon=coupon, order=order, customer=order.customer, amount=D("10.00")
    )
    make_threshold()
    client.force_login(UserFactory(role=Role.ADMIN))
    for model in ("coupon", "couponredemption", "thresholddiscount"):
        response = client.get(reverse(f"admin:promotions_{model}_changelist"))
        assert response.status_code == 200, model
    coupons = client.get(reverse("admin:promotions_coupon_changelist"), {"o": "8"})
    assert coupons.status_code == 200
    assert coupons.context["cl"].result_list[0].active_uses == 1
