"""A double click on "Send my rating" (two requests at once): one rating (PostgreSQL)."""

import threading

import pytest
from django.db import close_old_connections

from feedback import services
from feedback.models import OrderFeedback
from tests.factories import make_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_ratings_at_once_make_one():
    order = make_order(state="completed")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def rate(rating):
        try:
            barrier.wait()
            services.leave_feedback(order_id=order.pk, actor=order.customer, rating=rating)
            outcomes.append("rated")
        except services.FeedbackError:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=rate, args=(rating,)) for rating in (2, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["rated", "refused"]
    assert OrderFeedback.objects.filter(order=order).count() == 1
