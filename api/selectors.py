"""Read queries of the JSON API (API-1) and its staff screens. Each costs a fixed number of
queries, whatever the number of orders, lines, events or keys."""

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils.dateparse import parse_datetime

from catalog.models import SKU
from inventory.selectors import availability
from orders.models import Order, OrderEvent, Shipment, TrackingEvent
from stores.models import Store, StoreKind

from . import keys
from .models import ApiKey

# Keys are issued for connected systems and marketplace stores.
ISSUABLE_KINDS = (StoreKind.API, StoreKind.MARKETPLACE)


# --- keys -------------------------------------------------------------------------------------
def key_list(*, store_id: int | None = None, status: str = "") -> QuerySet[ApiKey]:
    """The keys, newest first, with their store and the staff who issued and revoked them; of
    one store, and only the active or the revoked ones if asked."""
    keys_ = ApiKey.objects.select_related("store", "created_by", "revoked_by")
    if store_id is not None:
        keys_ = keys_.filter(store_id=store_id)
    if status == "active":
        keys_ = keys_.filter(revoked_at__isnull=True)
    elif status == "revoked":
        keys_ = keys_.filter(revoked_at__isnull=False)
    return keys_.order_by("-created_at", "-id")


def stores_with_keys() -> QuerySet[Store]:
    return Store.objects.filter(api_keys__isnull=False).distinct().order_by("name", "id")


def key_for_token(token: str) -> ApiKey | None:
    """The key (revoked or not) whose token this is, with its store; None for a token that is
    not one of ours. One query; the secret is compared in constant time."""
    parts = keys.split(token)
    if parts is None:
        return None
    prefix, secret = parts
    api_key = ApiKey.objects.select_related("store").filter(prefix=prefix).first()
    if api_key is None or not keys.secret_matches(secret, api_key.secret_hash):
        return None
    return api_key


def issuable_stores() -> QuerySet[Store]:
    return Store.objects.filter(kind__in=ISSUABLE_KINDS, is_active=True).order_by("name", "id")


def api_stores_exist() -> bool:
    return Store.objects.filter(kind=StoreKind.API).exists()


# --- orders -----------------------------------------------------------------------------------
def store_order(*, store_id: int, number: str) -> Order | None:
    """The store's order with its lines, timeline, and parcels with their tracking events
    (six queries); None if the number is not one of the store's orders."""
    return (
        Order.objects.filter(store_id=store_id, number=number)
        .prefetch_related(
            "lines",
            Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
            Prefetch(
                "shipments",
                queryset=Shipment.objects.select_related("carrier")
                .order_by("shipped_at", "id")
                .prefetch_related(
                    Prefetch(
                        "tracking_events",
                        queryset=TrackingEvent.objects.order_by("occurred_at", "id"),
                    )
                ),
            ),
        )
        .first()
    )


@dataclass(frozen=True)
class Cursor:
    """A position in the "changed since" feed: after the order (updated_at, id)."""

    updated_at: datetime
    order_id: int

    def encode(self) -> str:
        data = json.dumps({"u": self.updated_at.isoformat(), "i": self.order_id})
        return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor | None":
        """The cursor `text` encodes, or None if it is not one of ours."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = json.loads(raw.decode())
            updated_at = parse_datetime(data["u"])
            order_id = data["i"]
        except (binascii.Error, ValueError, UnicodeDecodeError, KeyError, TypeError):
            return None
        if (
            updated_at is None
            or updated_at.tzinfo is None
            or not isinstance(order_id, int)
            or isinstance(order_id, bool)
            or not 0 <= order_id < 2**63
        ):
            return None
        return cls(updated_at=updated_at, order_id=order_id)


@dataclass(frozen=True)
class ChangedPage:
    orders: list[Order]
    next_cursor: Cursor | None


def changed_orders(
    *, store_id: int, since: datetime | None, after: Cursor | None, limit: int
) -> ChangedPage:
    """The store's orders changed at or after `since`, oldest change first, in the stable order
    (updated_at, id), `limit` at a time after `after` (index order_store_updated). An order
    that changes again while a client pages moves to the end and is read again there: it
    changed. One query."""
    rows = Order.objects.filter(store_id=store_id)
    if since is not None:
        rows = rows.filter(updated_at__gte=since)
    if after is not None:
        rows = rows.filter(
            Q(updated_at__gt=after.updated_at)
            | Q(updated_at=after.updated_at, pk__gt=after.order_id)
        )
    page = list(rows.order_by("updated_at", "pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    next_cursor = Cursor(page[-1].updated_at, page[-1].pk) if more else None
    return ChangedPage(orders=page, next_cursor=next_cursor)


# --- stock ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SkuStock:
    sku: str
    known: bool
    on_sale: bool
    available: int


def stock_by_code(codes: Sequence[str]) -> list[SkuStock]:
    """Units free to sell for each SKU code asked, in the order asked (two queries); an unknown
    code is reported as such."""
    wanted = list(dict.fromkeys(codes))
    skus = {
        sku.code: sku
        for sku in SKU.objects.select_related("product")
        .filter(code__in=wanted)
        .only("pk", "code", "is_active", "product__is_active")
    }
    free = availability(sku_ids=[sku.pk for sku in skus.values()]) if skus else {}
    result = []
    for code in wanted:
        sku = skus.get(code)
        if sku is None:
            result.append(SkuStock(sku=code, known=False, on_sale=False, available=0))
        else:
            result.append(
                SkuStock(
                    sku=code,
                    known=True,
                    on_sale=sku.is_active and sku.product.is_active,
                    available=max(free.get(sku.pk, 0), 0),
                )
            )
    return result
