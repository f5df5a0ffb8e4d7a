"""Staff changes to coupons and threshold discounts go through services that check the actor's
permission, keep the models' rules, and record each change in the audit trail (SEC-4, ORD-8,
ORD-11)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import Role
from promotions.models import (
    Coupon,
    CouponKind,
    CouponRedemption,
    PromotionAction,
    PromotionChange,
    PromotionKind,
    ThresholdDiscount,
)
from promotions.services import (
    InvalidPromotion,
    PromotionNotAllowed,
    create_coupon,
    create_threshold_discount,
    deactivate_coupon,
    deactivate_threshold_discount,
    update_coupon,
    update_threshold_discount,
)
from tests.factories import UserFactory, make_order

from .helpers import make_coupon, make_threshold

pytestmark = pytest.mark.django_db

D = Decimal
STARTS = datetime(2030, 3, 1, tzinfo=UTC)
ENDS = datetime(2030, 3, 31, tzinfo=UTC)


def coupon_data(**changes) -> dict:
    data = {
        "code": "spring-25",
        "name": "Spring sale",
        "kind": CouponKind.PERCENT,
        "value": D("25"),
        "max_discount": D("80"),
        "min_spend": D("100.00"),
        "starts_at": STARTS,
        "ends_at": ENDS,
        "usage_limit": 500,
        "per_customer_limit": 1,
        "stacks_with_threshold": True,
        "is_active": True,
    }
    data.update(changes)
    return data


def threshold_data(**changes) -> dict:
    data = {
        "name": "满199减20",
        "threshold": D("199.00"),
        "amount_off": D("20.00"),
        "repeat": True,
        "max_times": 3,
        "starts_at": STARTS,
        "ends_at": ENDS,
        "is_active": True,
    }
    data.update(changes)
    return data


@pytest.fixture
def manager():
    return UserFactory(role=Role.MANAGER)


def history(promotion, kind=PromotionKind.COUPON) -> list[PromotionChange]:
    return list(
        PromotionChange.objects.filter(kind=kind, promotion_id=promotion.pk).order_by("at", "id")
    )


def use(coupon) -> CouponRedemption:
    order = make_order()
    return CouponRedemption.objects.create(
        coupon=coupon, order=order, customer=order.customer, amount=D("10.00")
    )


def test_creating_a_coupon_records_every_field_as_text(manager):
    coupon = create_coupon(actor=manager, data=coupon_data(), reason="Spring campaign")
    assert coupon.code == "SPRING-25"
    [entry] = history(coupon)
    assert (entry.action, entry.actor, entry.label, entry.reason) == (
        PromotionAction.CREATED,
        manager,
        "SPRING-25",
        "Spring campaign",
    )
    assert entry.changes == {
        "code": [None, "SPRING-25"],
        "name": [None, "Spring sale"],
        "kind": [None, "percent"],
        "value": [None, "25.00"],
        "max_discount": [None, "80.00"],
        "min_spend": [None, "100.00"],
        "starts_at": [None, "2030-03-01T00:00:00+00:00"],
        "ends_at": [None, "2030-03-31T00:00:00+00:00"],
        "usage_limit": [None, "500"],
        "per_customer_limit": [None, "1"],
        "stacks_with_threshold": [None, "true"],
        "is_active": [None, "true"],
    }


def test_changing_a_coupon_records_only_what_changed(manager):
    coupon = create_coupon(actor=manager, data=coupon_data())
    # The same values, given as a form gives them (another time zone, fewer decimal places).
    shanghai = timezone.get_fixed_timezone(8 * 60)
    same = coupon_data(
        value=D("25.0"),
        starts_at=STARTS.astimezone(shanghai),
        ends_at=ENDS.astimezone(shanghai),
    )
    update_coupon(coupon_id=coupon.pk, actor=manager, data=same)
    assert len(history(coupon)) == 1

    update_coupon(
        coupon_id=coupon.pk,
        actor=manager,
        data=coupon_data(value=D("30"), usage_limit=None, ends_at=ENDS + timedelta(days=1)),
        reason="Better offer",
    )
    created, changed = history(coupon)
    assert changed.action == PromotionAction.CHANGED
    assert changed.actor == manager and changed.reason == "Better offer"
    assert changed.changes == {
        "value": ["25.00", "30.00"],
        "ends_at": ["2030-03-31T00:00:00+00:00", "2030-04-01T00:00:00+00:00"],
        "usage_limit": ["500", None],
    }
    coupon.refresh_from_db()
    assert (coupon.value, coupon.usage_limit) == (D("30.00"), None)


def test_a_partial_change_leaves_the_other_fields(manager):
    coupon = create_coupon(actor=manager, data=coupon_data())
    update_coupon(coupon_id=coupon.pk, actor=manager, data={"name": "Renamed"})
    coupon.refresh_from_db()
    assert (coupon.name, coupon.value) == ("Renamed", D("25.00"))
    assert history(coupon)[-1].changes == {"name": ["Spring sale", "Renamed"]}


def test_a_coupon_breaking_the_rules_is_refused_with_the_models_messages(manager):
    with pytest.raises(InvalidPromotion) as refused:
        create_coupon(actor=manager, data=coupon_data(value=D("100")))
    assert refused.value.errors == {"value": ["A percent must be less than 100."]}
    assert not Coupon.objects.exists() and not PromotionChange.objects.exists()

    coupon = create_coupon(actor=manager, data=coupon_data())
    with pytest.raises(InvalidPromotion, match="must end after it starts"):
        update_coupon(coupon_id=coupon.pk, actor=manager, data={"ends_at": STARTS})
    make_coupon("TAKEN")
    with pytest.raises(InvalidPromotion) as refused:
        update_coupon(coupon_id=coupon.pk, actor=manager, data={"code": "taken"})
    assert list(refused.value.errors) == ["code"]
    coupon.refresh_from_db()
    assert (coupon.code, coupon.ends_at) == ("SPRING-25", ENDS)
    assert len(history(coupon)) == 1


def test_a_used_coupon_keeps_its_code_kind_and_value(manager):
    coupon = create_coupon(actor=manager, data=coupon_data())
    redemption = use(coupon)
    # Given back by a cancelled order, it still belongs to that order's refund and reports.
    redemption.released_at = timezone.now()
    redemption.save()
    for change in ({"code": "SPRING-30"}, {"value": D("30")}, {"kind": CouponKind.FIXED}):
        with pytest.raises(InvalidPromotion, match="already been used on orders") as refused:
            update_coupon(
                coupon_id=coupon.pk,
                actor=manager,
                data=coupon_data(**change, max_discount=None),
            )
        assert set(refused.value.errors) == set(change)
    coupon.refresh_from_db()
    assert (coupon.code, coupon.kind, coupon.value) == ("SPRING-25", "percent", D("25.00"))
    assert len(history(coupon)) == 1

    # The same code typed in lower case is no change.
    update_coupon(
        coupon_id=coupon.pk,
        actor=manager,
        data=coupon_data(
            code="spring-25",
            name="Spring sale, extended",
            ends_at=ENDS + timedelta(days=7),
            usage_limit=600,
            per_customer_limit=2,
            min_spend=D("80.00"),
            max_discount=D("60.00"),
            stacks_with_threshold=False,
            is_active=False,
        ),
    )
    coupon.refresh_from_db()
    assert (coupon.usage_limit, coupon.is_active) == (600, False)
    assert set(history(coupon)[-1].changes) == {
        "name",
        "ends_at",
        "usage_limit",
        "per_customer_limit",
        "min_spend",
        "max_discount",
        "stacks_with_threshold",
        "is_active",
    }


def test_an_unused_coupon_may_change_its_code_and_value(manager):
    coupon = create_coupon(actor=manager, data=coupon_data())
    update_coupon(coupon_id=coupon.pk, actor=manager, data={"code": "spring-30"})
    [_created, changed] = history(coupon)
    assert changed.changes == {"code": ["SPRING-25", "SPRING-30"]}
    assert changed.label == "SPRING-30"


@pytest.mark.parametrize("role", [Role.SERVICE, Role.WAREHOUSE, Role.CUSTOMER])
def test_only_roles_with_the_permissions_change_promotions(role):
    actor = UserFactory(role=role)
    coupon = make_coupon("KEEP")
    promotion = make_threshold()
    attempts = [
        lambda: create_coupon(actor=actor, data=coupon_data()),
        lambda: update_coupon(coupon_id=coupon.pk, actor=actor, data={"name": "X"}),
        lambda: deactivate_coupon(coupon_id=coupon.pk, actor=actor),
        lambda: create_threshold_discount(actor=actor, data=threshold_data()),
        lambda: update_threshold_discount(
            promotion_id=promotion.pk, actor=actor, data={"name": "X"}
        ),
        lambda: deactivate_threshold_discount(promotion_id=promotion.pk, actor=actor),
    ]
    for attempt in attempts:
        with pytest.raises(PromotionNotAllowed):
            attempt()
    coupon.refresh_from_db()
    promotion.refresh_from_db()
    assert coupon.is_active and coupon.name == "Coupon KEEP"
    assert promotion.is_active and promotion.name != "X"
    assert Coupon.objects.count() == 1 and ThresholdDiscount.objects.count() == 1
    assert not PromotionChange.objects.exists()


def test_the_permission_not_the_role_name_decides():
    from django.contrib.auth.models import Group, Permission

    manager = UserFactory(role=Role.MANAGER)
    Group.objects.get(name=Role.MANAGER).permissions.remove(
        Permission.objects.get(codename="change_coupon", content_type__app_label="promotions")
    )
    coupon = make_coupon("KEEP")
    with pytest.raises(PromotionNotAllowed):
        update_coupon(coupon_id=coupon.pk, actor=manager, data={"name": "X"})
    # Creating needs another permission, which managers still hold.
    assert create_coupon(actor=manager, data=coupon_data()).pk


def test_the_system_acts_without_an_actor():
    coupon = create_coupon(actor=None, data=coupon_data())
    deactivate_coupon(coupon_id=coupon.pk, actor=None)
    assert [(e.action, e.actor) for e in history(coupon)] == [
        (PromotionAction.CREATED, None),
        (PromotionAction.DEACTIVATED, None),
    ]


def test_switching_off_is_recorded_once(manager):
    coupon = make_coupon("STOP")
    promotion = make_threshold()
    for _ in range(2):
        deactivate_coupon(coupon_id=coupon.pk, actor=manager, reason="Fraud")
        deactivate_threshold_discount(promotion_id=promotion.pk, actor=manager)
    [entry] = history(coupon)
    assert (entry.action, entry.actor, entry.reason, entry.changes) == (
        PromotionAction.DEACTIVATED,
        manager,
        "Fraud",
        {"is_active": ["true", "false"]},
    )
    [entry] = history(promotion, PromotionKind.THRESHOLD)
    assert (entry.action, entry.label) == (PromotionAction.DEACTIVATED, promotion.name)


def test_threshold_discounts_are_created_and_changed_with_their_history(manager):
    promotion = create_threshold_discount(actor=manager, data=threshold_data())
    update_threshold_discount(promotion_id=promotion.pk, actor=manager, data=threshold_data())
    update_threshold_discount(
        promotion_id=promotion.pk,
        actor=manager,
        data=threshold_data(amount_off=D("30"), repeat=False, max_times=None),
    )
    created, changed = history(promotion, PromotionKind.THRESHOLD)
    assert created.action == PromotionAction.CREATED and created.label == "满199减20"
    assert created.changes["threshold"] == [None, "199.00"]
    assert changed.changes == {
        "amount_off": ["20.00", "30.00"],
        "repeat": ["true", "false"],
        "max_times": ["3", None],
    }
    with pytest.raises(InvalidPromotion) as refused:
        update_threshold_discount(
            promotion_id=promotion.pk, actor=manager, data={"amount_off": D("199")}
        )
    assert refused.value.errors == {
        "amount_off": ["The amount off must be less than the threshold."]
    }
    promotion.refresh_from_db()
    assert promotion.amount_off == D("30.00")
    assert len(history(promotion, PromotionKind.THRESHOLD)) == 2


def test_fields_staff_may_not_set_are_a_programming_error(manager):
    coupon = make_coupon("X1")
    with pytest.raises(TypeError, match="created_at"):
        update_coupon(coupon_id=coupon.pk, actor=manager, data={"created_at": STARTS})


def test_values_given_as_text_compare_as_the_values_they_are(manager):
    coupon = create_coupon(actor=manager, data=coupon_data())
    use(coupon)
    update_coupon(coupon_id=coupon.pk, actor=manager, data={"value": "25", "usage_limit": "500"})
    assert len(history(coupon)) == 1
    with pytest.raises(InvalidPromotion) as refused:
        update_coupon(coupon_id=coupon.pk, actor=manager, data={"usage_limit": "many"})
    assert list(refused.value.errors) == ["usage_limit"]
