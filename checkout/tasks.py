from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from core.tasks import send_email
from orders.models import Order

from .models import Cart, OrderConfirmation


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_order_confirmation(order_id: int, language: str = "") -> bool:
    """Tell the customer their order number, lines and total (ORD-2), in their language.

    Claims the order first (a row keyed by the order), so a repeated delivery sends nothing
    twice. Returns whether this run sent it."""
    try:
        with transaction.atomic():
            OrderConfirmation.objects.create(order_id=order_id)
    except IntegrityError:
        return False
    order = Order.objects.select_related("customer").prefetch_related("lines").get(pk=order_id)
    language = (order.customer.language if order.customer else "") or language
    with translation.override(language or settings.LANGUAGE_CODE):
        context = {"order": order, "shop_name": settings.SHOP_NAME}
        subject = render_to_string("checkout/email/confirmation_subject.txt", context).strip()
        body = render_to_string("checkout/email/confirmation.txt", context)
    send_email.delay(subject=subject, body=body, to=[order.contact_email])
    return True


# A guest cart untouched this long is gone with its session anyway.
GUEST_CART_DAYS = 30


@shared_task(acks_late=True, reject_on_worker_lost=True)
def purge_stale_guest_carts() -> int:
    """Run by beat daily: delete guest carts not changed for GUEST_CART_DAYS days (their
    sessions have expired). Customers' carts are kept. Safe to run twice."""
    stale = timezone.now() - timedelta(days=GUEST_CART_DAYS)
    deleted, _by_model = Cart.objects.filter(customer__isnull=True, updated_at__lt=stale).delete()
    return deleted
