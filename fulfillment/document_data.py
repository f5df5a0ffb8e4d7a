"""What the printed documents of the floor show (FUL-4): reads shared by the HTML pages and the
PDF writers, so that a label looks the same on screen, on paper and in a batch.

Each function answers in a fixed number of queries whatever the number of documents: labels
take one query for the parcels with their order, warehouse and carrier plus one for "parcel n
of m"; packing slips one for the fulfillments plus two for all their lines. A pick list is a
document of many orders in itself: `selectors.pick_list` reads it in a few queries per pick
list. The `iter_…` variants read in chunks, so that a batch of 2,000 documents never holds more
than one chunk of rows in memory.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.templatetags.shop import mask_phone
from orders.models import Order, ShippingService

from . import selectors
from .models import DocumentKind, Fulfillment, FulfillmentState, Parcel, SizeFilter, Wave
from .selectors import PackLine, PickList

CHUNK = 200


def unique_ids(ids: Iterable) -> list[int]:
    """Ids as given (numbers or numeric text), without repeats, in their first order."""
    seen: dict[int, None] = {}
    for value in ids:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if number > 0:
            seen.setdefault(number, None)
    return list(seen)


def _in_order(rows: Iterable, ids: Sequence[int]) -> list:
    by_pk = {row.pk: row for row in rows}
    return [by_pk[pk] for pk in ids if pk in by_pk]


def _chunks(ids: Iterable, fetch) -> Iterator:
    ids = unique_ids(ids)
    for start in range(0, len(ids), CHUNK):
        yield from fetch(ids[start : start + CHUNK])


# --- shipping labels --------------------------------------------------------------------------
@dataclass
class Label:
    """One shipping label: a parcel with its order's recipient and its warehouse as sender."""

    parcel: Parcel
    number: int  # parcel n …
    count: int  # … of m, in its fulfillment

    @property
    def fulfillment(self) -> Fulfillment:
        return self.parcel.fulfillment

    @property
    def order(self) -> Order:
        return self.parcel.fulfillment.order

    @property
    def tracking_number(self) -> str:
        return self.parcel.tracking_number

    @property
    def order_number(self) -> str:
        return self.order.number

    @property
    def carrier_name(self) -> str:
        return self.parcel.carrier.name

    @property
    def service_label(self) -> str:
        service = self.parcel.service
        return str(ShippingService(service).label) if service in ShippingService else service

    @property
    def is_fragile(self) -> bool:
        return self.parcel.fulfillment.is_fragile

    @property
    def masked_phone(self) -> str:
        """Only the first three and last four digits are printed (privacy, SEC-5)."""
        return mask_phone(self.order.recipient_phone)

    @property
    def region(self) -> str:
        order = self.order
        return " ".join(part for part in (order.province, order.city, order.district) if part)

    @property
    def sender_name(self) -> str:
        return self.parcel.fulfillment.warehouse.name

    @property
    def sender_address(self) -> str:
        warehouse = self.parcel.fulfillment.warehouse
        parts = (warehouse.province, warehouse.city, warehouse.address)
        return " ".join(part for part in parts if part)

    @property
    def weight_grams(self) -> int:
        return self.parcel.weight_grams

    @property
    def packed_at(self) -> datetime:
        return self.parcel.packed_at


def labels(parcel_ids: Iterable) -> list[Label]:
    """The labels of `parcel_ids`, in the order given (unknown ids left out). Two queries."""
    ids = unique_ids(parcel_ids)
    if not ids:
        return []
    parcels = _in_order(
        Parcel.objects.filter(pk__in=ids).select_related(
            "fulfillment__order", "fulfillment__warehouse", "carrier"
        ),
        ids,
    )
    positions: dict[int, tuple[int, int]] = {}
    siblings: dict[int, list[int]] = {}
    rows = (
        Parcel.objects.filter(fulfillment_id__in={p.fulfillment_id for p in parcels})
        .order_by("packed_at", "pk")
        .values_list("fulfillment_id", "pk")
    )
    for fulfillment_id, pk in rows:
        siblings.setdefault(fulfillment_id, []).append(pk)
    for pks in siblings.values():
        for n, pk in enumerate(pks, start=1):
            positions[pk] = (n, len(pks))
    return [Label(parcel, *positions.get(parcel.pk, (1, 1))) for parcel in parcels]


def iter_labels(parcel_ids: Iterable) -> Iterator[Label]:
    """`labels()` read a chunk at a time, for batches."""
    return _chunks(parcel_ids, labels)


# --- pick lists -------------------------------------------------------------------------------
@dataclass
class PickListDocument:
    """A pick list to print: its lines in walking order and its orders' slots (FUL-1)."""

    pick_list: PickList

    @property
    def wave(self) -> Wave:
        return self.pick_list.wave

    @property
    def number(self) -> str:
        return self.wave.number

    @property
    def size_label(self) -> str:
        size = self.wave.size
        return str(SizeFilter(size).label) if size in SizeFilter else size


def pick_lists(wave_ids: Iterable) -> list[PickListDocument]:
    """The pick lists of `wave_ids` in the order given, with warehouse, picker and carrier.
    One query, plus `selectors.pick_list`'s for each pick list."""
    ids = unique_ids(wave_ids)
    if not ids:
        return []
    waves = _in_order(
        Wave.objects.filter(pk__in=ids).select_related("warehouse", "picker", "carrier"), ids
    )
    return [PickListDocument(selectors.pick_list(wave)) for wave in waves]


def iter_pick_lists(wave_ids: Iterable) -> Iterator[PickListDocument]:
    for pk in unique_ids(wave_ids):
        yield from pick_lists([pk])


# --- packing slips ----------------------------------------------------------------------------
@dataclass
class PackingSlip:
    """What is in the box, for the recipient: the order's lines shipped from one warehouse."""

    fulfillment: Fulfillment
    lines: list[PackLine]

    @property
    def order(self) -> Order:
        return self.fulfillment.order

    @property
    def order_number(self) -> str:
        return self.fulfillment.order.number

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.order.recipient_phone)

    @property
    def region(self) -> str:
        order = self.order
        return " ".join(part for part in (order.province, order.city, order.district) if part)

    @property
    def is_fragile(self) -> bool:
        return self.fulfillment.is_fragile or any(line.is_fragile for line in self.lines)

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


def packing_slips(fulfillment_ids: Iterable) -> list[PackingSlip]:
    """The packing slips of `fulfillment_ids` in the order given. Three queries."""
    ids = unique_ids(fulfillment_ids)
    if not ids:
        return []
    fulfillments = _in_order(
        Fulfillment.objects.filter(pk__in=ids)
        .exclude(state=FulfillmentState.CANCELLED)
        .select_related("order", "warehouse"),
        ids,
    )
    lines = selectors.pack_lines_of(fulfillments)
    return [PackingSlip(f, lines[f.pk]) for f in fulfillments]


def iter_packing_slips(fulfillment_ids: Iterable) -> Iterator[PackingSlip]:
    return _chunks(fulfillment_ids, packing_slips)


# --- batches by pick list ---------------------------------------------------------------------
def ids_of_waves(kind: str, wave_ids: Iterable) -> list[int]:
    """The documents of `kind` for whole pick lists, in pick-list and tote order: their
    parcels (labels), their orders (packing slips) or the pick lists themselves. One query."""
    waves = unique_ids(wave_ids)
    if not waves:
        return []
    position = {pk: n for n, pk in enumerate(waves)}
    if kind == DocumentKind.PICK_LISTS:
        found = set(Wave.objects.filter(pk__in=waves).values_list("pk", flat=True))
        return [pk for pk in waves if pk in found]
    if kind == DocumentKind.LABELS:
        rows = Parcel.objects.filter(fulfillment__wave_id__in=waves).values_list(
            "fulfillment__wave_id", "fulfillment__released_at", "fulfillment_id", "packed_at", "pk"
        )
    else:
        rows = (
            Fulfillment.objects.filter(wave_id__in=waves)
            .exclude(state=FulfillmentState.CANCELLED)
            .values_list("wave_id", "released_at", "pk", "released_at", "pk")
        )
    ordered = sorted(rows, key=lambda row: (position[row[0]], *row[1:]))
    return [row[-1] for row in ordered]
