from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.roles import Role

from .models import StockAlert


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def notify_stock_alert(*, alert_id: int) -> int:
    """Tell every active manager about a low-stock or stock-out alert (INV-7), each in their
    own language. Skips an alert already told or cleared meanwhile. Returns messages sent."""
    alert = (
        StockAlert.objects.select_related("sku__product", "warehouse").filter(pk=alert_id).first()
    )
    if alert is None or alert.notified_at is not None or alert.cleared_at is not None:
        return 0
    managers = get_user_model().objects.filter(groups__name=Role.MANAGER, is_active=True)
    sent = 0
    for manager in managers:
        with translation.override(manager.language or settings.LANGUAGE_CODE):
            context = {"alert": alert, "sku": alert.sku, "manager": manager}
            subject = render_to_string("inventory/email/stock_alert_subject.txt", context).strip()
            body = render_to_string("inventory/email/stock_alert.txt", context)
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [manager.email])
    StockAlert.objects.filter(pk=alert.pk).update(notified_at=timezone.now())
    return sent
