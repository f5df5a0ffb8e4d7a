import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.roles import Role
from core.tasks import send_email

from .ledger import ledger_differences
from .models import Bin, StockAlert

logger = logging.getLogger(__name__)

# An alert not handed to the mail workers this long after it was raised is picked up by the
# periodic dispatcher (the enqueue after commit fails while the broker is down).
DISPATCH_AFTER_SECONDS = 60


@shared_task(acks_late=True)
def notify_stock_alert(*, alert_id: int) -> int:
    """Tell every active manager about a low-stock or stock-out alert (INV-7), each in their
    own language, one e-mail task each (retried on its own if the mail server is down).

    The alert is claimed with a conditional update first, so a duplicate delivery or the
    dispatcher running beside it sends nothing twice. Returns the messages handed over."""
    claimed = StockAlert.objects.filter(
        pk=alert_id, notified_at__isnull=True, cleared_at__isnull=True
    ).update(notified_at=timezone.now())
    if not claimed:
        return 0
    alert = StockAlert.objects.select_related("sku__product", "warehouse").get(pk=alert_id)
    managers = get_user_model().objects.filter(groups__name=Role.MANAGER, is_active=True)
    sent = 0
    for manager in managers:
        with translation.override(manager.language or settings.LANGUAGE_CODE):
            context = {"alert": alert, "sku": alert.sku, "manager": manager}
            subject = render_to_string("inventory/email/stock_alert_subject.txt", context).strip()
            body = render_to_string("inventory/email/stock_alert.txt", context)
        send_email.delay(subject=subject, body=body, to=[manager.email])
        sent += 1
    return sent


@shared_task(acks_late=True)
def dispatch_stock_alerts() -> int:
    """Run by beat: hand over the open alerts whose notification never left (broker down at
    commit, worker lost). Safe beside `notify_stock_alert`: both claim the alert first."""
    stale = timezone.now() - timezone.timedelta(seconds=DISPATCH_AFTER_SECONDS)
    pending = StockAlert.objects.filter(
        notified_at__isnull=True, cleared_at__isnull=True, raised_at__lt=stale
    ).values_list("pk", flat=True)
    return sum(notify_stock_alert(alert_id=alert_id) for alert_id in pending[:500])


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=1500,
    time_limit=1800,
)
def check_stock_ledger() -> int:
    """Run by beat every night: the ledger check of `manage.py check_stock_ledger` (INV-4).
    Each stock row that differs from the sum of its movements is logged at ERROR level with its
    SKU and bin; returns how many differ. Reads only: safe to run twice."""
    differences = ledger_differences()
    if not differences:
        logger.info("Stock ledger check: every stock row equals its ledger.")
        return 0
    from catalog.models import SKU

    skus = dict(
        SKU.objects.filter(pk__in={d.sku_id for d in differences}).values_list("pk", "code")
    )
    bins = {
        bin_.pk: f"{bin_.warehouse.code} {bin_.code}"
        for bin_ in Bin.objects.filter(pk__in={d.bin_id for d in differences}).select_related(
            "warehouse"
        )
    }
    for d in differences:
        logger.error(
            "Stock ledger difference: SKU %s (id %s) in bin %s (id %s): on hand %d, ledger %d; "
            "reserved %d, ledger %d",
            skus.get(d.sku_id, "?"),
            d.sku_id,
            bins.get(d.bin_id, "?"),
            d.bin_id,
            d.on_hand,
            d.ledger_on_hand,
            d.reserved,
            d.ledger_reserved,
        )
    logger.error("Stock ledger check: %d stock row(s) differ from the ledger.", len(differences))
    return len(differences)
