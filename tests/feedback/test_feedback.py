"""Customers rate their completed orders (RPT-5): only their own, only once, only once the
order is completed, 1 to 5 stars and a comment of at most 1000 characters."""

import pytest
from django.urls import reverse

from feedback import services
from feedback.models import OrderFeedback
from tests.factories import UserFactory, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed():
    return make_order(state="completed")


def test_the_customer_rates_their_completed_order(completed):
    feedback = services.leave_feedback(
        order_id=completed.pk, actor=completed.customer, rating=4, comment="  Quick delivery. "
    )
    feedback.refresh_from_db()
    assert (feedback.order_id, feedback.customer_id) == (completed.pk, completed.customer_id)
    assert (feedback.rating, feedback.comment) == (4, "Quick delivery.")


def test_only_once(completed):
    services.leave_feedback(order_id=completed.pk, actor=completed.customer, rating=5)
    with pytest.raises(services.FeedbackError, match="already rated"):
        services.leave_feedback(order_id=completed.pk, actor=completed.customer, rating=1)
    assert OrderFeedback.objects.get().rating == 5


def test_only_the_orders_own_customer(completed):
    with pytest.raises(services.FeedbackError, match="your own orders"):
        services.leave_feedback(order_id=completed.pk, actor=UserFactory(), rating=5)
    assert not OrderFeedback.objects.exists()


@pytest.mark.parametrize("state", ["pending_payment", "paid", "shipped", "cancelled"])
def test_only_completed_orders(state):
    order = make_order(state=state)
    with pytest.raises(services.FeedbackError, match="once it is completed"):
        services.leave_feedback(order_id=order.pk, actor=order.customer, rating=5)


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_rating_from_1_to_5(completed, rating):
    with pytest.raises(services.FeedbackError, match="from 1 to 5"):
        services.leave_feedback(order_id=completed.pk, actor=completed.customer, rating=rating)


def test_comment_at_most_1000_characters(completed):
    with pytest.raises(services.FeedbackError, match="1000 characters"):
        services.leave_feedback(
            order_id=completed.pk, actor=completed.customer, rating=3, comment="x" * 1001
        )
    services.leave_feedback(
        order_id=completed.pk, actor=completed.customer, rating=3, comment="x" * 1000
    )


def test_the_order_page_invites_a_rating_until_one_is_left(client, completed):
    client.force_login(completed.customer)
    detail = reverse("orders:my_order_detail", args=[completed.number])
    url = reverse("feedback:leave", args=[completed.number])
    assert url == f"/account/feedback/{completed.number}/"
    assert url in client.get(detail).content.decode()

    assert client.get(url).status_code == 200
    response = client.post(url, {"rating": "5", "comment": "Lovely"})
    assert response.status_code == 302
    assert response["Location"] == detail
    assert OrderFeedback.objects.get().comment == "Lovely"

    assert url not in client.get(detail).content.decode()
    # A second post changes nothing.
    client.post(url, {"rating": "1", "comment": "Changed my mind"})
    assert OrderFeedback.objects.get().rating == 5


def test_no_invitation_before_the_order_is_completed(client):
    order = make_order(state="shipped")
    client.force_login(order.customer)
    page = client.get(reverse("orders:my_order_detail", args=[order.number]))
    assert reverse("feedback:leave", args=[order.number]) not in page.content.decode()


def test_the_form_refuses_a_rating_out_of_range(client, completed):
    client.force_login(completed.customer)
    url = reverse("feedback:leave", args=[completed.number])
    response = client.post(url, {"rating": "6"})
    assert response.status_code == 200
    assert not OrderFeedback.objects.exists()
    response = client.post(url, {"rating": "3", "comment": "x" * 1001})
    assert response.status_code == 200
    assert not OrderFeedback.objects.exists()


def test_someone_elses_order_is_not_found(client, completed):
    client.force_login(UserFactory(role="customer"))
    url = reverse("feedback:leave", args=[completed.number])
    assert client.get(url).status_code == 404
    assert client.post(url, {"rating": "1"}).status_code == 404
    assert not OrderFeedback.objects.exists()


def test_visitors_must_log_in(client, completed):
    response = client.get(reverse("feedback:leave", args=[completed.number]))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_demo_ratings_follow_completion_and_are_seeded_once():
    from datetime import timedelta

    from feedback.demo import seed_demo_feedback

    orders = [make_order(state="completed") for _ in range(8)]
    make_order(state="shipped")
    rated = seed_demo_feedback()
    assert 0 < rated <= 8
    assert OrderFeedback.objects.count() == rated
    for feedback in OrderFeedback.objects.select_related("order"):
        assert feedback.customer_id == feedback.order.customer_id
        assert 1 <= feedback.rating <= 5
        assert feedback.order.completed_at <= feedback.created_at
        assert feedback.created_at <= feedback.order.completed_at + timedelta(hours=72)
    assert {f.order_id for f in OrderFeedback.objects.all()} <= {o.pk for o in orders}
    assert seed_demo_feedback() == 0
