"""The promotions screens change coupons and threshold discounts through the services, so every
change is kept in the audit trail, and the edit pages show that history (SEC-4, ORD-8, ORD-11).
"""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from promotions.models import (
    Coupon,
    CouponRedemption,
    PromotionAction,
    PromotionChange,
    PromotionKind,
    ThresholdDiscount,
)
from promotions.services import update_coupon
from tests.factories import UserFactory, make_order

from .helpers import make_coupon, make_threshold
from .test_views import COUPON_FORM, THRESHOLD_FORM

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.promotions.urls")]

D = Decimal


@pytest.fixture
def manager():
    return UserFactory(role=Role.MANAGER, first_name="王经理")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def entries(kind, promotion_id) -> list[PromotionChange]:
    return list(
        PromotionChange.objects.filter(kind=kind, promotion_id=promotion_id).order_by("at", "id")
    )


def test_creating_and_editing_a_coupon_keeps_its_history(manager_client, manager):
    manager_client.post(
        reverse("promotions:coupon_create"), dict(COUPON_FORM, reason="Spring campaign")
    )
    coupon = Coupon.objects.get()
    url = reverse("promotions:coupon_edit", args=[coupon.pk])

    # Saving the form as it is records nothing.
    response = manager_client.post(url, COUPON_FORM)
    assert response.status_code == 302
    [created] = entries(PromotionKind.COUPON, coupon.pk)
    assert (created.action, created.actor, created.reason) == (
        PromotionAction.CREATED,
        manager,
        "Spring campaign",
    )

    response = manager_client.post(
        url, dict(COUPON_FORM, name="Spring sale, extended", value="30", reason="Better offer")
    )
    assert response.status_code == 302
    [_created, changed] = entries(PromotionKind.COUPON, coupon.pk)
    assert changed.action == PromotionAction.CHANGED and changed.actor == manager
    assert changed.changes == {
        "name": ["Spring sale", "Spring sale, extended"],
        "value": ["25.00", "30.00"],
    }

    page = manager_client.get(url).content.decode()
    history = page[page.index('id="history-title"') :]
    assert history.index("Changed") < history.index("Created")  # newest first
    assert "王经理" in history
    assert "Better offer" in history and "Spring campaign" in history
    assert "Spring sale → Spring sale, extended" in history
    assert "25.00 → 30.00" in history


def test_a_used_coupons_code_and_value_cannot_change_on_the_screen(manager_client):
    coupon = make_coupon("USED", usage_limit=10)
    order = make_order()
    CouponRedemption.objects.create(
        coupon=coupon, order=order, customer=order.customer, amount=D("10.00")
    )
    url = reverse("promotions:coupon_edit", args=[coupon.pk])
    page = manager_client.get(url).content.decode()
    assert "its code, kind and value can no longer change" in page

    same = {
        "code": "USED",
        "name": coupon.name,
        "kind": coupon.kind,
        "value": "10.00",
        "min_spend": "0.00",
        "starts_at": "2020-01-01T00:00",
        "ends_at": "2040-01-01T00:00",
        "usage_limit": "10",
        "per_customer_limit": "1",
        "stacks_with_threshold": "on",
        "is_active": "on",
    }
    response = manager_client.post(url, dict(same, code="USED-2", value="20.00"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "has already been used on orders" in errors["code"][0]
    assert "has already been used on orders" in errors["value"][0]
    assert "Coupon USED" in response.content.decode()  # the heading keeps the saved code
    coupon.refresh_from_db()
    assert (coupon.code, coupon.value) == ("USED", D("10.00"))
    assert not PromotionChange.objects.exists()

    response = manager_client.post(url, dict(same, usage_limit="50"))
    assert response.status_code == 302
    coupon.refresh_from_db()
    assert coupon.usage_limit == 50
    [entry] = entries(PromotionKind.COUPON, coupon.pk)
    assert entry.changes["usage_limit"] == ["10", "50"]


def test_creating_and_editing_a_threshold_discount_keeps_its_history(manager_client):
    manager_client.post(reverse("promotions:threshold_create"), THRESHOLD_FORM)
    promotion = ThresholdDiscount.objects.get()
    url = reverse("promotions:threshold_edit", args=[promotion.pk])
    manager_client.post(url, THRESHOLD_FORM)
    manager_client.post(url, dict(THRESHOLD_FORM, amount_off="30.00"))
    manager_client.post(reverse("promotions:threshold_deactivate", args=[promotion.pk]))
    assert [e.action for e in entries(PromotionKind.THRESHOLD, promotion.pk)] == [
        PromotionAction.CREATED,
        PromotionAction.CHANGED,
        PromotionAction.DEACTIVATED,
    ]
    page = manager_client.get(url).content.decode()
    assert "20.00 → 30.00" in page and "Switched off" in page


def test_switching_a_coupon_off_is_recorded(manager_client, manager):
    coupon = make_coupon("STOP")
    manager_client.post(reverse("promotions:coupon_deactivate", args=[coupon.pk]))
    [entry] = entries(PromotionKind.COUPON, coupon.pk)
    assert (entry.action, entry.actor) == (PromotionAction.DEACTIVATED, manager)


def test_customer_service_may_not_post_changes(client):
    coupon = make_coupon("LOOK")
    promotion = make_threshold()
    client.force_login(UserFactory(role=Role.SERVICE))
    posts = [
        (reverse("promotions:coupon_create"), COUPON_FORM),
        (reverse("promotions:coupon_edit", args=[coupon.pk]), dict(COUPON_FORM, code="LOOK")),
        (reverse("promotions:coupon_deactivate", args=[coupon.pk]), {}),
        (reverse("promotions:threshold_create"), THRESHOLD_FORM),
        (reverse("promotions:threshold_edit", args=[promotion.pk]), THRESHOLD_FORM),
        (reverse("promotions:threshold_deactivate", args=[promotion.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert Coupon.objects.get().is_active and ThresholdDiscount.objects.get().is_active
    assert not PromotionChange.objects.exists()


def test_a_manager_without_the_permission_is_refused_by_the_service(manager_client):
    coupon = make_coupon("KEEP")
    Group.objects.get(name=Role.MANAGER).permissions.remove(
        *Permission.objects.filter(
            content_type__app_label="promotions", codename__in=["add_coupon", "change_coupon"]
        )
    )
    edit = reverse("promotions:coupon_edit", args=[coupon.pk])
    assert manager_client.post(edit, dict(COUPON_FORM, code="KEEP")).status_code == 403
    assert manager_client.post(reverse("promotions:coupon_create"), COUPON_FORM).status_code == 403
    deactivate = reverse("promotions:coupon_deactivate", args=[coupon.pk])
    assert manager_client.post(deactivate).status_code == 403
    coupon.refresh_from_db()
    assert coupon.is_active and coupon.name == "Coupon KEEP"
    assert Coupon.objects.count() == 1 and not PromotionChange.objects.exists()


def test_edit_forms_need_the_csrf_token(manager):
    coupon = make_coupon("CSRF")
    promotion = make_threshold()
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    edit = reverse("promotions:coupon_edit", args=[coupon.pk])
    assert client.post(edit, dict(COUPON_FORM, code="CSRF")).status_code == 403
    threshold_edit = reverse("promotions:threshold_edit", args=[promotion.pk])
    assert client.post(threshold_edit, THRESHOLD_FORM).status_code == 403
    deactivate = reverse("promotions:threshold_deactivate", args=[promotion.pk])
    assert client.post(deactivate).status_code == 403
    assert not PromotionChange.objects.exists()
    coupon.refresh_from_db()
    assert coupon.name == "Coupon CSRF"


def _edit_page_queries(client, url, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(10) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_edit_pages_query_count_does_not_grow_with_history(
    manager_client, django_assert_max_num_queries
):
    coupon = make_coupon("MANY")
    promotion = make_threshold()
    coupon_url = reverse("promotions:coupon_edit", args=[coupon.pk])
    threshold_url = reverse("promotions:threshold_edit", args=[promotion.pk])

    def change(times: int) -> None:
        for _ in range(times):
            # Each change by another member of staff.
            actor = UserFactory(role=Role.MANAGER)
            update_coupon(
                coupon_id=coupon.pk,
                actor=actor,
                data={"usage_limit": (Coupon.objects.get(pk=coupon.pk).usage_limit or 0) + 1},
            )
            manager_client.post(
                threshold_url, dict(THRESHOLD_FORM, max_times=str(PromotionChange.objects.count()))
            )

    change(2)
    few = [
        _edit_page_queries(manager_client, url, django_assert_max_num_queries)
        for url in (coupon_url, threshold_url)
    ]
    change(60)  # more than the page shows
    many = [
        _edit_page_queries(manager_client, url, django_assert_max_num_queries)
        for url in (coupon_url, threshold_url)
    ]
    assert many == few
    page = manager_client.get(coupon_url).content.decode()
    assert "Only the latest 50 changes are shown here" in page
    assert page.count('class="event-title"') == 50


def test_admin_shows_the_audit_trail_read_only(client, manager):
    coupon = make_coupon("ADMIN2")
    update_coupon(coupon_id=coupon.pk, actor=manager, data={"name": "Renamed"})
    entry = PromotionChange.objects.get()
    client.force_login(UserFactory(role=Role.ADMIN))
    listing = client.get(reverse("admin:promotions_promotionchange_changelist"))
    assert listing.status_code == 200 and "ADMIN2" in listing.content.decode()
    detail = client.get(reverse("admin:promotions_promotionchange_change", args=[entry.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert client.get(reverse("admin:promotions_promotionchange_add")).status_code == 403
    delete = reverse("admin:promotions_promotionchange_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert PromotionChange.objects.count() == 1
