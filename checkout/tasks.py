from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .models import Cart

# A guest cart untouched this long is gone with its session anyway.
GUEST_CART_DAYS = 30


@shared_task(acks_late=True, reject_on_worker_lost=True)
def purge_stale_guest_carts() -> int:
    """Run by beat daily: delete guest carts not changed for GUEST_CART_DAYS days (their
    sessions have expired). Customers' carts are kept. Safe to run twice."""
    stale = timezone.now() - timedelta(days=GUEST_CART_DAYS)
    deleted, _by_model = Cart.objects.filter(customer__isnull=True, updated_at__lt=stale).delete()
    return deleted
