"""Promotion-day bulk actions (FUL-7) on top of the floor's services: hold a warehouse's whole
queue, print the labels of every parcel waiting for hand-over, and read back the pick lists
just made. Release and pick-list creation are `services.release` and `services.create_waves`
themselves, which already work in a few statements whatever the number of orders.
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from . import document_jobs, selectors, services
from .models import DocumentJob, DocumentKind, FulfillmentState, Parcel, Wave

# Orders held per `services.hold` call: keeps each statement's list of ids well inside the
# databases' parameter limits on a day with tens of thousands of orders.
HOLD_CHUNK = 5_000


def _require_planner(actor) -> None:
    if not actor.has_perm("fulfillment.plan_waves"):
        raise services.FloorRefused(_("You are not allowed to do this."))


def hold_queue(*, warehouse_id: int, actor, reason: str, limit: int | None = None) -> int:
    """Hold the warehouse's queue — every order a new pick list could take, or its oldest
    `limit` — for `reason` (e.g. "promotion starts at 20:00"). One transaction: all of them
    are held, each with its timeline entry, or none. On PostgreSQL the queue rows are locked
    with SKIP LOCKED, like `services.create_waves`, so an order being put into a pick list at
    that moment is left to that pick list. Returns how many were held."""
    _require_planner(actor)
    reason = (reason or "").strip()
    if not reason:
        raise services.FloorRefused(_("Say why the orders are held."))
    if limit is not None and limit < 1:
        raise services.FloorRefused(_("Hold at least one order."))
    with transaction.atomic():
        rows = selectors.queue(warehouse_id=warehouse_id).select_for_update(
            skip_locked=True, of=("self",)
        )
        ids = list(rows.values_list("pk", flat=True)[:limit])
        if not ids:
            raise services.FloorRefused(_("The queue of this warehouse is empty: nothing to hold."))
        held = 0
        for start in range(0, len(ids), HOLD_CHUNK):
            held += services.hold(
                fulfillment_ids=ids[start : start + HOLD_CHUNK], actor=actor, reason=reason
            )
    return held


def parcels_to_label(*, warehouse_id: int, packed_since: datetime | None = None) -> QuerySet:
    """Packed parcels of the warehouse not handed over yet (optionally only those packed at or
    after `packed_since`), by carrier then packing time: the order the labels come out of the
    printer in, one pile per carrier."""
    rows = Parcel.objects.filter(
        fulfillment__warehouse_id=warehouse_id,
        fulfillment__state=FulfillmentState.PACKED,
        handed_over_at__isnull=True,
    )
    if packed_since is not None:
        rows = rows.filter(packed_at__gte=packed_since)
    return rows.order_by("carrier__code", "packed_at", "pk")


def print_labels(
    *, warehouse_id: int, actor, packed_since: datetime | None = None
) -> list[DocumentJob]:
    """Ask the worker for the labels of `parcels_to_label(...)`: one PDF batch per
    `document_jobs.MAX_DOCUMENTS` labels, all recorded in one transaction and handed to the
    worker after the commit. Returns the batches."""
    _require_planner(actor)
    ids = list(
        parcels_to_label(warehouse_id=warehouse_id, packed_since=packed_since).values_list(
            "pk", flat=True
        )
    )
    if not ids:
        raise services.FloorRefused(
            _("No packed parcel is waiting for hand-over here: there is nothing to print.")
        )
    size = document_jobs.MAX_DOCUMENTS
    with transaction.atomic():
        return [
            document_jobs.request_documents(
                kind=DocumentKind.LABELS, object_ids=ids[start : start + size], actor=actor
            )
            for start in range(0, len(ids), size)
        ]


def waves_by_ids(ids: Sequence[int]) -> list[Wave]:
    """Pick lists in the order they were made. One query."""
    return list(
        Wave.objects.filter(pk__in=list(ids)).select_related("carrier", "picker").order_by("pk")
    )
