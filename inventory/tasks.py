import logging

from celery import shared_task

from .ledger import ledger_differences
from .models import Bin

logger = logging.getLogger(__name__)


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
