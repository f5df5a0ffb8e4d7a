"""Background work of checkout: the confirmation sent once, stale guest carts purged."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from checkout.models import Cart
from checkout.tasks import purge_stale_guest_carts
from notifications.models import Notification
from notifications.tasks import deliver_notification
from tests.factories import UserFactory, make_order

pytestmark = pytest.mark.django_db


def test_the_confirmation_is_sent_once_however_often_the_task_runs(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order()
    confirmation = Notification.objects.get(order=order, kind="order_placed")

    assert deliver_notification(confirmation.pk) is False  # already sent after the commit
    assert deliver_notification(confirmation.pk) is False

    assert len(mail.outbox) == 1
    assert order.number in mail.outbox[0].body


def test_guest_carts_untouched_for_a_month_are_purged_and_customers_carts_kept():
    old = timezone.now() - timedelta(days=31)
    stale_guest = Cart.objects.create()
    fresh_guest = Cart.objects.create()
    old_customer_cart = Cart.objects.create(customer=UserFactory(role="customer"))
    Cart.objects.filter(pk__in=[stale_guest.pk, old_customer_cart.pk]).update(updated_at=old)

    assert purge_stale_guest_carts() == 1

    assert set(Cart.objects.values_list("pk", flat=True)) == {fresh_guest.pk, old_customer_cart.pk}
