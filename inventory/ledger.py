"""The ledger check (INV-4): every stock row equals the sum of its movements."""

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Sum

from .models import Stock, StockMovement


@dataclass(frozen=True)
class LedgerDifference:
    sku_id: int
    bin_id: int
    on_hand: int
    ledger_on_hand: int
    reserved: int
    ledger_reserved: int


def ledger_differences() -> list[LedgerDifference]:
    """Stock rows whose on-hand or reserved differ from their ledger sums, in two grouped
    queries whatever the size of the ledger (rows with no movements count as zero).

    Both queries read one snapshot (REPEATABLE READ on PostgreSQL; SQLite transactions are
    serialisable), so stock moving meanwhile cannot show as a false difference."""
    # The isolation level can only be set first thing in a transaction: inside a caller's
    # transaction (a test) the caller's snapshot rules apply.
    fresh = not connection.in_atomic_block
    with transaction.atomic():
        if fresh and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _differences()


def _differences() -> list[LedgerDifference]:
    sums = {
        (row["sku_id"], row["bin_id"]): (row["on_hand"], row["reserved"])
        for row in StockMovement.objects.order_by()
        .values("sku_id", "bin_id")
        .annotate(on_hand=Sum("on_hand_change"), reserved=Sum("reserved_change"))
    }
    differences = []
    for sku_id, bin_id, on_hand, reserved in Stock.objects.values_list(
        "sku_id", "bin_id", "on_hand", "reserved"
    ).iterator():
        ledger_on_hand, ledger_reserved = sums.pop((sku_id, bin_id), (0, 0))
        if (on_hand, reserved) != (ledger_on_hand, ledger_reserved):
            differences.append(
                LedgerDifference(sku_id, bin_id, on_hand, ledger_on_hand, reserved, ledger_reserved)
            )
    # Movements for a row that no longer exists are a difference too.
    for (sku_id, bin_id), (ledger_on_hand, ledger_reserved) in sums.items():
        if ledger_on_hand or ledger_reserved:
            differences.append(
                LedgerDifference(sku_id, bin_id, 0, ledger_on_hand, 0, ledger_reserved)
            )
    return differences
