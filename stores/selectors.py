"""Reads for the sales channel screens (ORD-12). Each list is one query per page (plus the
paginator's count)."""

from django.db.models import Count, QuerySet

from .models import ImportedOrder, Store, StoreImport


def stores_with_order_counts() -> QuerySet[Store]:
    """Every store, active ones first, with `order_count` (one query)."""
    return Store.objects.annotate(order_count=Count("orders")).order_by(
        "-is_active", "kind", "name", "id"
    )


def imports(*, store_id: int | None = None, state: str = "") -> QuerySet[StoreImport]:
    """Imports, newest first, with their store and uploader, without the files."""
    rows = StoreImport.objects.select_related("store", "uploaded_by").defer("content", "errors")
    if store_id:
        rows = rows.filter(store_id=store_id)
    if state:
        rows = rows.filter(state=state)
    return rows.order_by("-created_at", "-id")


def import_orders(store_import: StoreImport) -> QuerySet[ImportedOrder]:
    """The orders an import placed or found, in the order of the file, with each order."""
    return (
        ImportedOrder.objects.filter(store_import=store_import)
        .select_related("order")
        .only(
            "created",
            "first_line",
            "store_import_id",
            "order__number",
            "order__external_id",
            "order__state",
            "order__total_amount",
            "order__needs_review",
            "order__recipient_name",
        )
        .order_by("first_line", "id")
    )
