"""Read queries for stock: availability in total, per warehouse and per bin."""

from collections.abc import Iterable

from django.db.models import F, Sum

from .models import Stock


def availability(*, sku_ids: Iterable[int], warehouse_id: int | None = None) -> dict[int, int]:
    """Units free to sell per SKU (on-hand − reserved, over every bin), in one query."""
    sku_ids = list(sku_ids)
    rows = Stock.objects.filter(sku_id__in=sku_ids, bin__warehouse__is_active=True)
    if warehouse_id is not None:
        rows = rows.filter(bin__warehouse_id=warehouse_id)
    free = dict(
        rows.order_by()
        .values("sku_id")
        .annotate(free=Sum(F("on_hand") - F("reserved")))
        .values_list("sku_id", "free")
    )
    return {sku_id: free.get(sku_id, 0) for sku_id in sku_ids}
