"""Shipments and their tracking events (ORD-9, FUL-5, FUL-6).

`record_shipment` is called when a parcel is handed to a carrier (the warehouse floor);
`add_tracking_event` when a carrier reports a scan (manual entry, CSV, the API or a webhook).
Both are safe to call twice with the same input: the second call finds what the first stored.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError

from . import services
from .models import (
    Carrier,
    Order,
    OrderState,
    PaymentMethod,
    Shipment,
    ShippingService,
    TrackingEvent,
    TrackingStatus,
)

# Carriers' waybill numbers are letters and digits (SF1234567890123, 773012345678901, …).
TRACKING_NUMBER = re.compile(r"^[A-Z0-9]{8,30}$")
# A parcel is handed over once the order is picked; a later parcel (split order, re-shipment)
# may follow while it is shipped.
SHIPPABLE_STATES = (OrderState.PICKED, OrderState.SHIPPED)
LOCATION_MAX = TrackingEvent._meta.get_field("location").max_length
DESCRIPTION_MAX = TrackingEvent._meta.get_field("description").max_length
# Rows per query when many events are stored at once (a CSV file).
BATCH_SIZE = 1000
# Cash is collected at the door: the order has left the warehouse (as in
# `services.record_cash_on_delivery`).
CASH_COLLECTED_STATES = (OrderState.SHIPPED, OrderState.COMPLETED)


class ShipmentRefused(DomainError):
    """The shipment or tracking event cannot be recorded as asked; nothing was stored."""


def normalize_tracking_number(raw: str) -> str:
    """Upper case, without the spaces and dashes people type or scanners add."""
    return re.sub(r"[\s-]+", "", raw or "").upper()


def record_shipment(
    *,
    order_id: int,
    carrier_code: str,
    tracking_number: str,
    actor,
    service: str = ShippingService.EXPRESS,
    weight_grams: int | None = None,
    part_of_split: bool = False,
) -> Shipment:
    """Record that a parcel of the order left with `carrier_code` under `tracking_number`.

    The expected delivery is the hand-over day plus the carrier's days for `service` (FUL-5).
    `part_of_split`: the parcel is one warehouse's part of an order split across warehouses
    (INV-6), which may leave before the other warehouses have picked theirs (the order is
    still "paid"); the warehouse floor says so after checking the parcel was packed.

    Locks the order row, so that shipments of one order are recorded one at a time. The same
    carrier and number recorded again for the same order returns the shipment already stored
    (a double scan); for another order it is refused, as is a number that is not 8–30 letters
    and digits, an unknown or inactive carrier, or an order that is not picked or shipped.
    `actor` needs `orders.ship_order`; None means the system (an integration).
    """
    number = normalize_tracking_number(tracking_number)
    if not TRACKING_NUMBER.match(number):
        raise ShipmentRefused(
            _("“%(number)s” is not a tracking number: it should be 8 to 30 letters and digits.")
            % {"number": tracking_number}
        )
    if actor is not None and not actor.has_perm("orders.ship_order"):
        raise ShipmentRefused(_("You are not allowed to do this to this order."))
    carrier = Carrier.objects.filter(code=carrier_code, is_active=True).first()
    if carrier is None:
        raise ShipmentRefused(_("Unknown carrier “%(code)s”.") % {"code": carrier_code})

    with transaction.atomic():
        order = Order.objects.select_for_update().only("state", "number").get(pk=order_id)
        existing = (
            Shipment.objects.filter(carrier=carrier, tracking_number=number)
            .select_related("carrier")
            .first()
        )
        if existing is not None:
            if existing.order_id == order_id:
                return existing
            raise _already_used(carrier, number)
        allowed = SHIPPABLE_STATES + ((OrderState.PAID,) if part_of_split else ())
        if order.state not in allowed:
            raise ShipmentRefused(
                _("Order %(number)s is “%(state)s”: it cannot be shipped now.")
                % {"number": order.number, "state": order.get_state_display()}
            )
        now = timezone.now()
        # A new parcel is a change of the order for the API's changed-since feed (API-1).
        Order.objects.filter(pk=order_id).update(updated_at=now)
        try:
            with transaction.atomic():
                return Shipment.objects.create(
                    order_id=order_id,
                    carrier=carrier,
                    tracking_number=number,
                    service=service,
                    weight_grams=weight_grams,
                    shipped_at=now,
                    expected_delivery=timezone.localdate(now)
                    + timedelta(days=carrier.delivery_days(service)),
                    created_by=actor,
                )
        except IntegrityError:
            # Another order took the number between our look-up and the insert.
            raise _already_used(carrier, number) from None


def _already_used(carrier: Carrier, number: str) -> ShipmentRefused:
    return ShipmentRefused(
        _("%(carrier)s tracking number %(number)s is already used by another order.")
        % {"carrier": carrier.name, "number": number}
    )


@dataclass(frozen=True)
class NewTrackingEvent:
    """One event as a carrier reported it (manual entry, CSV row, webhook), for
    `add_tracking_events`."""

    shipment_id: int
    occurred_at: datetime
    status: str
    location: str = ""
    description: str = ""


def add_tracking_event(
    *,
    shipment_id: int,
    occurred_at: datetime,
    status: str,
    location: str = "",
    description: str = "",
) -> tuple[TrackingEvent, bool]:
    """Store one tracking event of a shipment; return it and whether it is new.

    Idempotent: the same (time, status, description) for the same shipment is stored once and
    a replay returns the stored event with `created=False`. See `add_tracking_events` for the
    locks and what a "delivered" event does.
    """
    event = NewTrackingEvent(
        shipment_id=shipment_id,
        occurred_at=occurred_at,
        status=status,
        location=location,
        description=description,
    )
    return add_tracking_events(events=[event])[0]


def add_tracking_events(*, events: Sequence[NewTrackingEvent]) -> list[tuple[TrackingEvent, bool]]:
    """Store tracking events of one or many shipments; return each with whether it is new, in
    the order given. A fixed number of queries however many events (a CSV file of 20 000).

    - All or nothing, in one transaction: an unknown status, a time without a time zone or a
      missing shipment raises `ShipmentRefused` and stores nothing.
    - Idempotent: an event is its shipment, time, status and description; one already stored,
      or given twice in `events`, is returned with `created=False` and not stored again.
    - Locks the orders of the shipments, then the shipments, each in id order (the order
      before its parcels, as `record_shipment` does), so that concurrent reports for one
      parcel or one order apply one after the other and never deadlock. An order with a new
      event counts as changed (`updated_at`) for the API's changed-since feed (API-1).
    - A new "delivered" event stamps the shipment's `delivered_at` with the earliest delivery
      reported. Once every parcel of a shipped cash-on-delivery order whose cash is not
      recorded is delivered, the outstanding amount is recorded as collected by the carrier
      (`services.record_cash_on_delivery`, by the system, "reported delivered by <carrier>"):
      once, as the order then no longer awaits its cash.
    """
    wanted = [_checked(event) for event in events]
    shipment_ids = sorted({event.shipment_id for event in wanted})
    with transaction.atomic():
        order_ids = sorted(
            {
                order_id
                for chunk in _chunks(shipment_ids)
                for order_id in Shipment.objects.filter(pk__in=chunk).values_list(
                    "order_id", flat=True
                )
            }
        )
        for chunk in _chunks(order_ids):
            list(
                Order.objects.select_for_update()
                .filter(pk__in=chunk)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        shipments: dict[int, Shipment] = {}
        known: dict[tuple, TrackingEvent] = {}
        for chunk in _chunks(shipment_ids):
            locked = (
                Shipment.objects.select_for_update()
                .filter(pk__in=chunk)
                .order_by("pk")
                .only("order_id", "carrier_id", "tracking_number", "delivered_at")
            )
            shipments.update((shipment.pk, shipment) for shipment in locked)
            for event in TrackingEvent.objects.filter(shipment_id__in=chunk):
                known[_identity(event)] = event
        if len(shipments) < len(shipment_ids):
            raise ShipmentRefused(_("There is no such shipment."))

        results: list[tuple[TrackingEvent, bool]] = []
        new: list[TrackingEvent] = []
        for wanted_event in wanted:
            event = known.get(_identity(wanted_event))
            if event is not None:
                results.append((event, False))
                continue
            event = TrackingEvent(
                shipment_id=wanted_event.shipment_id,
                occurred_at=wanted_event.occurred_at,
                status=wanted_event.status,
                location=wanted_event.location,
                description=wanted_event.description,
            )
            known[_identity(event)] = event
            new.append(event)
            results.append((event, True))
        TrackingEvent.objects.bulk_create(new, batch_size=BATCH_SIZE)
        moved = sorted({shipments[event.shipment_id].order_id for event in new})
        for chunk in _chunks(moved):
            Order.objects.filter(pk__in=chunk).update(updated_at=timezone.now())

        delivered = [event for event in new if event.status == TrackingStatus.DELIVERED]
        stamped: dict[int, Shipment] = {}
        for event in delivered:
            shipment = shipments[event.shipment_id]
            if shipment.delivered_at is None or event.occurred_at < shipment.delivered_at:
                shipment.delivered_at = event.occurred_at
                stamped[shipment.pk] = shipment
        Shipment.objects.bulk_update(stamped.values(), ["delivered_at"], batch_size=BATCH_SIZE)
        if delivered:
            # The parcel whose delivery was reported last, per order, names the carrier.
            last_parcel = {
                shipments[event.shipment_id].order_id: shipments[event.shipment_id]
                for event in delivered
            }
            _record_cash_collected(last_parcel)
    return results


def _checked(event: NewTrackingEvent) -> NewTrackingEvent:
    if event.status not in TrackingStatus.values:
        raise ShipmentRefused(_("Unknown tracking status “%(status)s”.") % {"status": event.status})
    if timezone.is_naive(event.occurred_at):
        raise ShipmentRefused(_("The time of a tracking event needs a time zone."))
    return NewTrackingEvent(
        shipment_id=event.shipment_id,
        occurred_at=event.occurred_at,
        status=event.status,
        location=(event.location or "").strip()[:LOCATION_MAX],
        description=(event.description or "").strip()[:DESCRIPTION_MAX],
    )


def _identity(event) -> tuple:
    """What makes two reports the same event (constraint `trackingevent_unique_per_shipment`);
    times compared as instants, whatever their time zone."""
    return (
        event.shipment_id,
        event.occurred_at.astimezone(UTC),
        event.status,
        event.description,
    )


def _chunks(ids: Sequence[int], size: int = BATCH_SIZE) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _record_cash_collected(last_parcel: dict[int, Shipment]) -> None:
    """Record the cash of the cash-on-delivery orders among `last_parcel`'s (all locked by the
    caller) whose every parcel is now delivered and whose cash is not recorded yet (ORD-4)."""
    undelivered = Shipment.objects.filter(order=OuterRef("pk"), delivered_at__isnull=True)
    due = [
        order
        for order in Order.objects.filter(
            pk__in=list(last_parcel),
            payment_method=PaymentMethod.CASH_ON_DELIVERY,
            paid_at__isnull=True,
            state__in=CASH_COLLECTED_STATES,
        )
        .exclude(Exists(undelivered))
        .only("payment_method", "paid_at", "state", "total_amount", "paid_amount")
        .order_by("pk")
        if order.awaits_cash()
    ]
    if not due:
        return
    carriers = Carrier.objects.in_bulk({last_parcel[order.pk].carrier_id for order in due})
    for order in due:
        parcel = last_parcel[order.pk]
        carrier = carriers[parcel.carrier_id]
        services.record_cash_on_delivery(
            order_id=order.pk,
            amount=order.total_amount - order.paid_amount,
            actor=None,
            reference=f"{carrier.code} {parcel.tracking_number}",
            reason=_("Reported delivered by %(carrier)s") % {"carrier": carrier.name},
        )
