"""Receiving and inspecting returned goods in the warehouse (AFS-3; issue 8 item 4).

The warehouse scans the return parcel's tracking number (or the request number, AS00000012),
counts for each line of the request the units that can be sold again and the damaged ones,
and puts the sellable units in a bin. `receive_return` then, in one transaction:

- puts the sellable units back on the shelf through `inventory.services.return_to_stock` (a
  "return" row in the ledger, referenced ("aftersales_request", pk)); waiting backorders get
  them first, as with any goods in;
- records the damaged units on the request line only: they left the stock when the order
  shipped and never come back into it, so there is nothing to write off (the inventory has no
  bin for damaged goods);
- moves the request to "received" with a "received" event listing what was expected and what
  came, and tells the customer.

More or fewer units than expected are accepted and shown to the agent, who decides the refund
or the replacement. The request row is locked first: two inspectors submitting the same parcel
receive it once; the second is told it was already received.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from core.errors import DomainError
from inventory import services as inventory_services
from inventory.models import Bin, Stock
from notifications.models import NotificationKind
from orders.shipments import normalize_tracking_number

from . import services
from .models import (
    RETURN_KINDS,
    AfterSalesRequest,
    RequestEvent,
    RequestEventKind,
    RequestLine,
    RequestState,
)

INSPECT_PERMISSION = "aftersales.inspect_return"
MAX_UNITS = 10_000
STOCK_REFERENCE = "aftersales_request"

# Requests whose goods the warehouse may receive now.
AWAITING_STATES = (RequestState.APPROVED, RequestState.RETURN_SHIPPED)


class ReturnRefused(DomainError):
    """The return cannot be received as asked; nothing was changed."""


@dataclass(frozen=True)
class Inspected:
    """What the inspector found for one request line."""

    sellable: int = 0
    damaged: int = 0


# --- reading (the receiving screen) ------------------------------------------------------------
def awaiting_receipt() -> QuerySet[AfterSalesRequest]:
    """Returns and exchanges the warehouse may receive, those already on their way first, then
    oldest first (two queries with the order; lines are counted by the screen's page)."""
    return (
        AfterSalesRequest.objects.filter(kind__in=RETURN_KINDS, state__in=AWAITING_STATES)
        .select_related("order", "return_carrier")
        .order_by("-state", "return_shipped_at", "created_at", "pk")
    )


def find_by_scan(code: str) -> list[AfterSalesRequest]:
    """The requests a scan names: a request number (AS00000012), a return parcel's tracking
    number, or the number of the order the goods came from (its return requests, newest
    first). Empty when nothing matches."""
    code = (code or "").strip()
    if not code:
        return []
    rows = AfterSalesRequest.objects.select_related("order")
    pk = AfterSalesRequest.pk_from_number(code)
    if pk is not None:
        return list(rows.filter(pk=pk))
    tracking = normalize_tracking_number(code)
    found = list(
        rows.filter(
            Q(return_tracking_number__iexact=tracking) | Q(return_tracking_number__iexact=code)
        ).order_by("-created_at", "-pk")[:20]
    )
    if found:
        return found
    return list(
        rows.filter(order__number__iexact=code, kind__in=RETURN_KINDS).order_by(
            "-created_at", "-pk"
        )[:20]
    )


def request_for_inspection(request_id: int) -> AfterSalesRequest:
    """The request with its order, carrier and lines (their SKUs) for the inspection sheet."""
    return (
        AfterSalesRequest.objects.select_related("order", "return_carrier")
        .prefetch_related("lines__order_line__sku__product")
        .get(pk=request_id)
    )


def refusal(request: AfterSalesRequest) -> str:
    """Why the warehouse may not receive this request now, in words for the inspector; empty
    when it may."""
    if not request.expects_return():
        return _(
            "Request %(number)s is “%(kind)s”: no goods come back for it. Keep the parcel "
            "aside and tell customer service."
        ) % {"number": request.number, "kind": request.get_kind_display()}
    if request.received_at is not None or request.state in (
        RequestState.RECEIVED,
        RequestState.REPLACING,
        RequestState.CLOSED,
    ):
        when = (
            timezone.localtime(request.received_at).strftime("%Y-%m-%d %H:%M")
            if request.received_at
            else ""
        )
        return _("The return of %(number)s was already received %(when)s.") % {
            "number": request.number,
            "when": when,
        }
    if request.state == RequestState.REJECTED:
        return _(
            "Request %(number)s was rejected: do not accept these goods; tell customer service."
        ) % {"number": request.number}
    if request.state == RequestState.WITHDRAWN:
        return _(
            "Request %(number)s was withdrawn by the customer: do not accept these goods; "
            "tell customer service."
        ) % {"number": request.number}
    if request.state == RequestState.SUBMITTED:
        return _(
            "Request %(number)s is not approved yet: keep the parcel aside until customer "
            "service decides."
        ) % {"number": request.number}
    if not can_proceed(request.receive):
        return _("Request %(number)s is “%(state)s”: its return cannot be received now.") % {
            "number": request.number,
            "state": request.get_state_display(),
        }
    return ""


# --- writing -----------------------------------------------------------------------------------
def _checked_counts(
    lines: list[RequestLine], found: Mapping[int, Inspected], note: str
) -> dict[int, Inspected]:
    unknown = set(found) - {line.pk for line in lines}
    if unknown:
        raise ReturnRefused(_("Some counted lines are not part of this request."))
    counts = {line.pk: found.get(line.pk, Inspected()) for line in lines}
    for inspected in counts.values():
        for units in (inspected.sellable, inspected.damaged):
            if not isinstance(units, int) or units < 0 or units > MAX_UNITS:
                raise ReturnRefused(
                    _("Enter whole numbers of units between 0 and %(max)d.") % {"max": MAX_UNITS}
                )
    if not any(c.sellable or c.damaged for c in counts.values()) and not note:
        raise ReturnRefused(_("Nothing was counted. If the parcel came empty, say so in the note."))
    return counts


def _storage_bin(bin_id: int | None, counts: dict[int, Inspected]) -> Bin | None:
    if not any(c.sellable for c in counts.values()):
        return None
    if bin_id is None:
        raise ReturnRefused(_("Scan or choose the bin the sellable units go to."))
    bin_ = (
        Bin.objects.select_related("warehouse")
        .filter(pk=bin_id, is_staging=False, is_active=True, warehouse__is_active=True)
        .first()
    )
    if bin_ is None:
        raise ReturnRefused(_("There is no such bin."))
    return bin_


def _lock_stock_of(sku_ids: set[int], bin_: Bin) -> None:
    """Lock every stock row of the returned SKUs in one statement, in pk order (creating the
    rows of this bin first), as every inventory service does: the one `return_to_stock` per
    line that follows then only takes locks it already holds, so two returns of the same SKUs
    in another order cannot wait on each other."""
    Stock.objects.bulk_create(
        [Stock(sku_id=sku_id, bin_id=bin_.pk) for sku_id in sku_ids], ignore_conflicts=True
    )
    list(Stock.objects.select_for_update().filter(sku_id__in=sku_ids).order_by("pk").values("pk"))


def receive_return(
    *,
    request_id: int,
    found: Mapping[int, Inspected],
    bin_id: int | None,
    actor,
    note: str = "",
) -> AfterSalesRequest:
    """Receive and inspect the returned goods of a return or an exchange (AFS-3).

    `found` maps request line ids to what came: units sellable and damaged (a line left out
    came with nothing). Sellable units go to `bin_id` through the ledger; damaged ones are
    recorded on the line only. The request moves to "received" (from "approved" too: a parcel
    may arrive before its tracking number is entered), with a "received" event and a message
    to the customer.

    Refused with `ReturnRefused`, changing nothing: an actor without
    `aftersales.inspect_return`, a request that expects no return, one not approved, rejected,
    withdrawn or already received, negative counts, sellable units without a storage bin."""
    if actor is None or not actor.has_perm(INSPECT_PERMISSION):
        raise ReturnRefused(_("You are not allowed to receive returns."))
    note = (note or "").strip()[:500]
    with transaction.atomic():
        request = (
            AfterSalesRequest.objects.select_for_update(of=("self",))
            .select_related("order", "order__customer")
            .get(pk=request_id)
        )
        refused = refusal(request)
        if refused:
            raise ReturnRefused(refused)
        lines = list(request.lines.select_related("order_line").order_by("pk"))
        counts = _checked_counts(lines, found, note)
        bin_ = _storage_bin(bin_id, counts)

        back = sorted(
            (line.order_line.sku_id, counts[line.pk].sellable)
            for line in lines
            if counts[line.pk].sellable
        )
        if back:
            _lock_stock_of({sku_id for sku_id, _units in back}, bin_)
        for sku_id, units in back:
            try:
                inventory_services.return_to_stock(
                    sku_id=sku_id,
                    bin_id=bin_.pk,
                    quantity=units,
                    actor=actor,
                    reference=(STOCK_REFERENCE, str(request.pk)),
                    reason=_("Return %(number)s") % {"number": request.number},
                )
            except inventory_services.StockError as error:
                raise ReturnRefused(error.message) from None

        details_lines = []
        for line in lines:
            inspected = counts[line.pk]
            line.received_sellable = inspected.sellable
            line.received_damaged = inspected.damaged
            details_lines.append(
                {
                    "line": line.pk,
                    "sku": line.order_line.sku_code,
                    "expected": line.quantity,
                    "sellable": inspected.sellable,
                    "damaged": inspected.damaged,
                }
            )
        RequestLine.objects.bulk_update(lines, ["received_sellable", "received_damaged"])

        from_state = request.state
        now = timezone.now()
        request.receive()
        request.received_at = now
        request.save()
        differs = any(d["sellable"] + d["damaged"] != d["expected"] for d in details_lines)
        RequestEvent.objects.create(
            request=request,
            created_at=now,
            actor=actor,
            kind=RequestEventKind.RECEIVED,
            from_state=from_state,
            to_state=request.state,
            reason=note,
            details={
                "lines": details_lines,
                "bin": bin_.code if bin_ else "",
                "warehouse": bin_.warehouse.code if bin_ else "",
                "not_as_expected": differs,
            },
        )
        _tell_customer_received(request, details_lines)
    return request


def _received_summary(lines: list[dict]) -> str:
    sellable = sum(line["sellable"] for line in lines)
    damaged = sum(line["damaged"] for line in lines)
    expected = sum(line["expected"] for line in lines)
    return _(
        "Units expected: %(expected)d. Received in good condition: %(sellable)d. "
        "Received damaged: %(damaged)d."
    ) % {"expected": expected, "sellable": sellable, "damaged": damaged}


def _tell_customer_received(request: AfterSalesRequest, lines: list[dict]) -> None:
    tell_customer(
        request,
        kind=NotificationKind.AFTERSALES_RECEIVED,
        key=f"aftersales_received:{request.pk}",
        reason=lambda: _received_summary(lines),
    )


def tell_customer(request: AfterSalesRequest, *, kind: str, key: str, reason=None) -> None:
    """Tell the request's customer about a warehouse step (see `services.notify_customer`)."""
    services.notify_customer(request, kind=kind, key=key, reason=reason)
