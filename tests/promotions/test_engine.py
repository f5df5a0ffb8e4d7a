"""The promotions engine's rules (ORD-8): threshold discounts, coupons, how they combine, and
how a discount is shared among the lines."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from promotions.engine import best_discount
from promotions.models import CouponKind, CouponRedemption
from tests.factories import UserFactory, make_order

from .helpers import lines, make_coupon, make_threshold

pytestmark = pytest.mark.django_db

D = Decimal


def redeemed(coupon, *, customer=None, email="", released=False):
    """A use of `coupon` by a real order of `customer` (or a guest with `email`)."""
    order = make_order(customer=customer, contact_email=email)
    return CouponRedemption.objects.create(
        coupon=coupon,
        order=order,
        customer=customer,
        email=email,
        amount=D("10.00"),
        released_at=timezone.now() if released else None,
    )


# --- threshold discounts ------------------------------------------------------------------------
def test_no_promotion_gives_nothing():
    result = best_discount(lines=lines("150.00", "49.00"))
    assert result.total == D("0.00")
    assert result.per_line == {1: D("0.00"), 2: D("0.00")}
    assert result.applied == ()
    assert result.coupon is None and result.coupon_error == ""


def test_threshold_discount_applies_once_the_total_reaches_it():
    promotion = make_threshold("199.00", "20.00")
    assert best_discount(lines=lines("198.99")).total == D("0.00")

    result = best_discount(lines=lines("150.00", "49.00"))
    assert result.total == D("20.00")
    [applied] = result.applied
    assert (applied.kind, applied.promotion_id, applied.amount) == (
        "threshold",
        promotion.pk,
        D("20.00"),
    )
    assert applied.label == "20 off at 199"


def test_threshold_without_repeat_applies_once_however_large_the_total():
    make_threshold("199.00", "20.00", repeat=False)
    assert best_discount(lines=lines("1000.00")).total == D("20.00")


def test_repeating_threshold_applies_for_every_full_threshold_up_to_max_times():
    make_threshold("199.00", "20.00", repeat=True, max_times=3)
    result = best_discount(lines=lines("400.00"))
    assert result.total == D("40.00")
    assert result.applied[0].label == "20 off at 199 ×2"
    assert best_discount(lines=lines("2000.00")).total == D("60.00")  # 10 thresholds, capped at 3


def test_repeating_threshold_without_cap():
    make_threshold("100.00", "10.00", repeat=True)
    assert best_discount(lines=lines("999.99")).total == D("90.00")


def test_only_the_threshold_discount_giving_most_applies():
    make_threshold("199.00", "20.00")
    best = make_threshold("299.00", "40.00")
    make_threshold("99.00", "5.00", repeat=True)  # 3 × 5 = 15 on 310
    result = best_discount(lines=lines("310.00"))
    assert [(a.promotion_id, a.amount) for a in result.applied] == [(best.pk, D("40.00"))]


def test_threshold_discounts_outside_their_window_or_switched_off_do_not_apply():
    now = timezone.now()
    make_threshold(
        "100.00", "10.00", starts_at=now + timedelta(hours=1), ends_at=now + timedelta(days=1)
    )
    make_threshold("100.00", "11.00", starts_at=now - timedelta(days=2), ends_at=now)
    make_threshold("100.00", "12.00", is_active=False)
    assert best_discount(lines=lines("500.00"), now=now).total == D("0.00")


# --- coupons --------------------------------------------------------------------------------------
def test_fixed_coupon_takes_its_value_off_and_the_code_is_trimmed_and_any_case():
    coupon = make_coupon("WELCOME10", value=D("10.00"))
    result = best_discount(lines=lines("59.00"), coupon_code="  welcome10 ")
    assert result.total == D("10.00")
    assert result.coupon == coupon
    assert result.coupon_error == ""
    assert [(a.kind, a.label) for a in result.applied] == [("coupon", "Coupon WELCOME10")]


def test_fixed_coupon_never_exceeds_the_goods_total():
    make_coupon("BIG", value=D("100.00"))
    result = best_discount(lines=lines("30.00", "9.99"), coupon_code="BIG")
    assert result.total == D("39.99")
    assert result.per_line == {1: D("30.00"), 2: D("9.99")}


def test_percent_coupon_is_rounded_half_up_to_the_cent():
    make_coupon("P15", kind=CouponKind.PERCENT, value=D("15"))
    # 15% of 33.30 = 4.995 → 5.00
    assert best_discount(lines=lines("33.30"), coupon_code="P15").total == D("5.00")


def test_percent_coupon_is_capped_by_its_largest_discount():
    make_coupon("P20", kind=CouponKind.PERCENT, value=D("20"), max_discount=D("50.00"))
    assert best_discount(lines=lines("200.00"), coupon_code="P20").total == D("40.00")
    assert best_discount(lines=lines("1000.00"), coupon_code="P20").total == D("50.00")


def test_percent_coupon_is_computed_after_the_threshold_discount():
    make_threshold("199.00", "20.00")
    make_coupon("P10", kind=CouponKind.PERCENT, value=D("10"))
    result = best_discount(lines=lines("200.00"), coupon_code="P10")
    # 20 off, then 10% of 180
    assert [a.amount for a in result.applied] == [D("20.00"), D("18.00")]
    assert result.total == D("38.00")


def test_minimum_spend_is_measured_after_the_threshold_discount_and_says_how_much_more():
    make_threshold("199.00", "20.00")
    make_coupon("MIN200", min_spend=D("200.00"))
    result = best_discount(lines=lines("210.00"), coupon_code="MIN200")  # 190 after 20 off
    assert result.coupon is None
    assert result.total == D("20.00")
    assert "MIN200" in result.coupon_error
    assert "10.00" in result.coupon_error and "200.00" in result.coupon_error

    assert best_discount(lines=lines("220.00"), coupon_code="MIN200").total == D("30.00")


def test_unknown_code_is_told():
    result = best_discount(lines=lines("50.00"), coupon_code="NOPE")
    assert result.total == D("0.00") and result.coupon is None
    assert result.coupon_error == "There is no coupon NOPE. Please check the code."


def test_coupon_outside_its_window_is_refused_with_the_reason():
    now = timezone.now()
    make_coupon("SOON", starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2))
    make_coupon("OLD", starts_at=now - timedelta(days=2), ends_at=now - timedelta(seconds=1))
    make_coupon("OFF", is_active=False)
    soon = best_discount(lines=lines("50.00"), coupon_code="SOON", now=now)
    old = best_discount(lines=lines("50.00"), coupon_code="OLD", now=now)
    off = best_discount(lines=lines("50.00"), coupon_code="OFF", now=now)
    assert soon.total == old.total == off.total == D("0.00")
    assert soon.coupon_error.startswith("Coupon SOON can be used from ")
    assert old.coupon_error.startswith("Coupon OLD expired on ")
    assert off.coupon_error == "Coupon OFF is no longer valid."


def test_coupon_used_up_is_refused_but_released_uses_do_not_count():
    coupon = make_coupon("TWICE", usage_limit=2, per_customer_limit=None)
    redeemed(coupon, email="a@example.com")
    redeemed(coupon, email="b@example.com", released=True)
    assert best_discount(lines=lines("50.00"), coupon_code="TWICE").total == D("10.00")

    redeemed(coupon, email="c@example.com")
    result = best_discount(lines=lines("50.00"), coupon_code="TWICE")
    assert result.total == D("0.00")
    assert result.coupon_error == "Coupon TWICE has been used up."


def test_per_customer_limit_counts_the_customer_and_for_guests_the_email():
    coupon = make_coupon("ONCE", per_customer_limit=1)
    customer = UserFactory(role="customer")
    redeemed(coupon, customer=customer, email=customer.email)
    redeemed(coupon, email="guest@example.com")

    mine = best_discount(lines=lines("50.00"), coupon_code="ONCE", customer=customer)
    assert mine.total == D("0.00")
    assert mine.coupon_error == "You have already used coupon ONCE."
    guest = best_discount(lines=lines("50.00"), coupon_code="ONCE", email="Guest@Example.com")
    assert guest.coupon_error == "You have already used coupon ONCE."

    other = UserFactory(role="customer")
    assert best_discount(lines=lines("50.00"), coupon_code="ONCE", customer=other).total == D(
        "10.00"
    )
    assert best_discount(
        lines=lines("50.00"), coupon_code="ONCE", email="new@example.com"
    ).total == D("10.00")


def test_a_use_given_back_lets_the_customer_use_the_coupon_again():
    coupon = make_coupon("ONCE", per_customer_limit=1)
    customer = UserFactory(role="customer")
    redeemed(coupon, customer=customer, released=True)
    assert best_discount(lines=lines("50.00"), coupon_code="ONCE", customer=customer).total == D(
        "10.00"
    )


# --- combining ----------------------------------------------------------------------------------
def test_stacking_coupon_adds_to_the_threshold_discount():
    make_threshold("199.00", "20.00")
    make_coupon("TEN", value=D("10.00"))
    result = best_discount(lines=lines("250.00"), coupon_code="TEN")
    assert [a.kind for a in result.applied] == ["threshold", "coupon"]
    assert result.total == D("30.00")


def test_non_stacking_coupon_loses_to_a_larger_threshold_discount_and_says_so():
    make_threshold("199.00", "20.00")
    make_coupon("SOLO", value=D("15.00"), stacks_with_threshold=False)
    result = best_discount(lines=lines("250.00"), coupon_code="SOLO")
    assert result.total == D("20.00")
    assert [a.kind for a in result.applied] == ["threshold"]
    assert result.coupon is None
    assert result.coupon_error == (
        "Coupon SOLO does not combine with 20 off at 199; you get 20 off at 199, "
        "which saves you more."
    )


def test_non_stacking_coupon_wins_when_larger_and_the_label_says_instead_of_what():
    make_threshold("199.00", "20.00")
    coupon = make_coupon("SOLO", value=D("25.00"), stacks_with_threshold=False)
    result = best_discount(lines=lines("250.00"), coupon_code="SOLO")
    assert result.total == D("25.00")
    assert [a.kind for a in result.applied] == ["coupon"]
    assert result.coupon == coupon and result.coupon_error == ""
    assert result.applied[0].label == "Coupon SOLO (instead of 20 off at 199)"


def test_non_stacking_coupon_wins_a_tie():
    make_threshold("199.00", "20.00")
    make_coupon("TIE", value=D("20.00"), stacks_with_threshold=False)
    result = best_discount(lines=lines("250.00"), coupon_code="TIE")
    assert [a.kind for a in result.applied] == ["coupon"] and result.total == D("20.00")


def test_non_stacking_percent_coupon_is_computed_on_the_whole_goods_total():
    make_threshold("199.00", "20.00")
    make_coupon("P10", kind=CouponKind.PERCENT, value=D("10"), stacks_with_threshold=False)
    result = best_discount(lines=lines("300.00"), coupon_code="P10")
    assert [a.kind for a in result.applied] == ["coupon"] and result.total == D("30.00")


def test_engine_reads_at_most_three_queries_whatever_the_cart_size(django_assert_max_num_queries):
    make_threshold("199.00", "20.00")
    make_coupon("TEN", usage_limit=5)
    big_cart = lines(*["19.90"] * 200)
    with django_assert_max_num_queries(3):
        result = best_discount(lines=big_cart, coupon_code="TEN", email="x@example.com")
    assert result.total == D("30.00")


def test_lines_need_distinct_keys_and_non_negative_amounts():
    from promotions.engine import PricedLine

    with pytest.raises(ValueError):
        best_discount(lines=[PricedLine(1, D("1.00")), PricedLine(1, D("2.00"))])
    with pytest.raises(ValueError):
        best_discount(lines=[PricedLine(1, D("-1.00"))])
