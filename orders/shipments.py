"""Shipments and their tracking events (ORD-9, FUL-5, FUL-6).

`record_shipment` is called when a parcel is handed to a carrier (the warehouse floor);
`add_tracking_event` when a carrier reports a scan (manual entry, CSV, the API or a webhook).
Both are safe to call twice with the same input: the second call finds what the first stored.
"""

import re
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError

from .models import (
    Carrier,
    Order,
    OrderState,
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
    a replay returns the stored event with `created=False`. A "delivered" event stamps the
    shipment's `delivered_at` with the earliest delivery reported. The shipment row is locked,
    so concurrent pushes for one parcel apply one after the other.
    """
    if status not in TrackingStatus.values:
        raise ShipmentRefused(_("Unknown tracking status “%(status)s”.") % {"status": status})
    if timezone.is_naive(occurred_at):
        raise ShipmentRefused(_("The time of a tracking event needs a time zone."))
    location = (location or "").strip()[:LOCATION_MAX]
    description = (description or "").strip()[:DESCRIPTION_MAX]

    with transaction.atomic():
        shipment = (
            Shipment.objects.select_for_update().only("delivered_at").filter(pk=shipment_id).first()
        )
        if shipment is None:
            raise ShipmentRefused(_("There is no such shipment."))
        key = {
            "shipment_id": shipment_id,
            "occurred_at": occurred_at,
            "status": status,
            "description": description,
        }
        event = TrackingEvent.objects.filter(**key).first()
        if event is not None:
            return event, False
        event = TrackingEvent.objects.create(**key, location=location)
        if status == TrackingStatus.DELIVERED and (
            shipment.delivered_at is None or occurred_at < shipment.delivered_at
        ):
            shipment.delivered_at = occurred_at
            shipment.save(update_fields=["delivered_at"])
    return event, True
