"""What warehouse staff do (FUL-1 to FUL-5, FUL-7): the only way the floor's rows change.

Every scan is one service call in one transaction. The row it works on is locked first (the
pick list for picking, the fulfillment for packing and hand-over), so two scanners on the same
pick list or parcel apply one after the other, and a refused scan changes nothing: it raises
`ScanRefused` with a `kind` the screen turns into colour and sound, and a message for people.
Stock moves only through `inventory.services` (pick, ship) and orders move only through
`orders.services` (picked, shipped, flagged), so the ledger and the timeline stay whole.

Locking order, the same everywhere, so that no two services wait on each other in a cycle:
pick list → order rows (pk order) → fulfillment rows (pk order) → allocations and stock
(inventory's own order). Cancelling an order (order → stock → fulfillments) never locks a pick
list: a list whose last order was stopped is closed by the next scan or page view of it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.audit import record_staff_action, record_staff_actions
from core.errors import DomainError
from inventory import services as inventory_services
from inventory.models import Allocation, Backorder
from inventory.selectors import sku_by_scan
from orders import services as order_services
from orders import signals as order_signals
from orders.models import (
    Carrier,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderState,
    Shipment,
    ShippingService,
)
from orders.services import stock_group
from orders.shipments import (
    TRACKING_NUMBER,
    ShipmentRefused,
    normalize_tracking_number,
    record_shipment,
)

from . import selectors
from .carriers import CarrierRefused, gateway_for
from .models import (
    OPEN_STATES,
    ActivityKind,
    FloorActivity,
    Fulfillment,
    FulfillmentState,
    PackageType,
    Parcel,
    ShortPick,
    ShortReason,
    SizeFilter,
    Wave,
    WaveState,
)


class FloorRefused(DomainError):
    """A floor action the rules refuse; nothing was changed."""


class ScanRefused(FloorRefused):
    """A scan refused on the spot. `kind` says why, for the screen's colour and sound:
    unknown (no such barcode), wrong_item, too_many, held (put aside), stopped (cancelled
    order: stop), closed (pick list or order not open), already (scanned before)."""

    def __init__(self, message: str, *, kind: str):
        super().__init__(message)
        self.kind = kind


class WeightMismatch(FloorRefused):
    """The parcels weigh more than the tolerance off what the goods weigh. The packer weighs
    again, or confirms the weight is right."""

    def __init__(self, *, expected: int, actual: int):
        self.expected = expected
        self.actual = actual
        super().__init__(
            _(
                "The parcels weigh %(actual)s kg but the goods should weigh about %(expected)s "
                "kg. Check the contents and weigh again, or confirm the weight."
            )
            % {"actual": _kg(actual), "expected": _kg(expected)}
        )


def _kg(grams: int) -> str:
    return f"{grams / 1000:.2f}"


def _require(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise FloorRefused(_("You are not allowed to do this."))


def _activity(kind: str, fulfillment: Fulfillment, actor, *, units: int = 0, wave=None) -> None:
    FloorActivity.objects.create(
        kind=kind,
        actor=actor,
        at=timezone.now(),
        warehouse_id=fulfillment.warehouse_id,
        fulfillment=fulfillment,
        wave=wave,
        units=units,
    )


def _events(order_ids: Sequence[int], kind: str, actor, reason: str = "", details=None) -> None:
    """One timeline entry per order, in one insert (bulk actions of FUL-7)."""
    now = timezone.now()
    states = dict(Order.objects.filter(pk__in=set(order_ids)).values_list("pk", "state"))
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order_id=order_id,
                created_at=now,
                actor=actor,
                kind=kind,
                from_state=states[order_id],
                to_state=states[order_id],
                reason=reason[:500],
                details=details or {},
            )
            for order_id in sorted(set(order_ids))
        ],
        batch_size=500,
    )


# --- reaching the floor (FUL-1) ---------------------------------------------------------------
def bring_to_floor(*, order_id: int) -> list[Fulfillment]:
    """Give the order's reserved units not on the floor yet a fulfillment per warehouse
    (INV-6), in the queue by itself unless `WAREHOUSE_HOLD_NEW_ORDERS`. Called when the order
    is paid or accepted for cash on delivery, and again when stock for a waiting line arrives
    or an agent substitutes one (INV-5): new units join the warehouse's fulfillment still in
    the queue, which takes the new figures, or, once that one is on a pick list or further,
    make another part (an order shipped as its stock arrives). A part set aside by a short
    pick counts as in the queue; one left with nothing to pick (its units reserved elsewhere
    or waiting for stock) is closed. Idempotent; returns the order's fulfillments."""
    with transaction.atomic():
        Order.objects.select_for_update().filter(pk=order_id).values_list("pk").get()
        fulfillments = list(
            Fulfillment.objects.select_for_update().filter(order_id=order_id).order_by("pk")
        )
        arriving: dict[int, list[int]] = {}
        for pk, warehouse_id in (
            Allocation.objects.filter(
                group=stock_group(order_id), part="", state__in=selectors.OPEN_ALLOCATIONS
            )
            .order_by("pk")
            .values_list("pk", "stock__bin__warehouse_id")
        ):
            arriving.setdefault(warehouse_id, []).append(pk)
        # Parts not on a pick list: new units join them. A part set aside by a short pick
        # counts, as it goes back to the queue once customer service releases it.
        queued = {
            f.warehouse_id: f
            for f in fulfillments
            if (f.state == FulfillmentState.READY and f.wave_id is None)
            or f.state == FulfillmentState.SHORT
        }
        carrier_id = (
            Carrier.objects.filter(is_default=True, is_active=True)
            .values_list("pk", flat=True)
            .first()
        )
        hold = settings.WAREHOUSE_HOLD_NEW_ORDERS
        now = timezone.now()
        for warehouse_id, allocation_ids in sorted(arriving.items()):
            fulfillment = queued.get(warehouse_id)
            if fulfillment is None:
                fulfillment = Fulfillment.objects.create(
                    order_id=order_id,
                    warehouse_id=warehouse_id,
                    carrier_id=carrier_id,
                    released_at=now,
                    held=hold,
                    hold_reason=_("Waiting for release") if hold else "",
                )
                fulfillments.append(fulfillment)
                queued[warehouse_id] = fulfillment
            Allocation.objects.filter(pk__in=allocation_ids).update(part=fulfillment.part)
        touched = list(queued.values())
        figures = {
            row["part"]: row
            for row in Allocation.objects.filter(
                part__in=[f.part for f in touched], state__in=selectors.OPEN_ALLOCATIONS
            )
            .values("part")
            .annotate(
                units=Sum("quantity"),
                weight=Sum(F("quantity") * F("stock__sku__weight_grams")),
                fragile=Count("pk", filter=Q(stock__sku__is_fragile=True)),
            )
            .order_by("part")
        }
        for fulfillment in touched:
            row = figures.get(fulfillment.part)
            if row is None:  # nothing of the order is left to pick here (INV-5)
                fulfillment.stopped_from = fulfillment.state
                fulfillment.close_empty()
                fulfillment.cancelled_at = now
                fulfillment.save()
                continue
            fulfillment.units = row["units"]
            fulfillment.expected_weight_grams = row["weight"] or 0
            fulfillment.is_fragile = row["fragile"] > 0
            Fulfillment.objects.filter(pk=fulfillment.pk).update(
                units=fulfillment.units,
                expected_weight_grams=fulfillment.expected_weight_grams,
                is_fragile=fulfillment.is_fragile,
            )
        return fulfillments


# --- hold and release (FUL-1, FUL-7) ----------------------------------------------------------
def hold(*, fulfillment_ids: Sequence[int], actor, reason: str) -> int:
    """Keep orders out of new pick lists. Only orders in the queue (not picked, in no pick
    list) can be held. Returns how many were held."""
    _require(actor, "fulfillment.plan_waves")
    reason = reason.strip()
    if not reason:
        raise FloorRefused(_("Say why the orders are held."))
    with transaction.atomic():
        rows = Fulfillment.objects.filter(
            pk__in=list(fulfillment_ids),
            state=FulfillmentState.READY,
            wave__isnull=True,
            held=False,
        )
        pairs = list(rows.values_list("pk", "order_id"))
        Fulfillment.objects.filter(pk__in=[pk for pk, _o in pairs], held=False).update(
            held=True, hold_reason=reason[:200]
        )
        _events([o for _pk, o in pairs], OrderEventKind.WAREHOUSE_HELD, actor, reason)
        record_staff_actions(
            actor=actor,
            action="floor.hold",
            targets=Order.objects.filter(pk__in=[o for _pk, o in pairs]),
            reason=reason,
            after={"held": True},
        )
    return len(pairs)


def release(
    *,
    actor,
    fulfillment_ids: Sequence[int] | None = None,
    warehouse_id: int | None = None,
    limit: int | None = None,
) -> int:
    """Let held orders into the queue: the chosen ones, or the oldest `limit` held in a
    warehouse (a promotion day's batches, FUL-7). A few statements whatever the number."""
    _require(actor, "fulfillment.plan_waves")
    if fulfillment_ids is None and warehouse_id is None:
        raise FloorRefused(_("Choose the orders or the warehouse to release."))
    with transaction.atomic():
        rows = Fulfillment.objects.filter(held=True, state=FulfillmentState.READY)
        if fulfillment_ids is not None:
            rows = rows.filter(pk__in=list(fulfillment_ids))
        if warehouse_id is not None:
            rows = rows.filter(warehouse_id=warehouse_id)
        rows = rows.order_by("released_at", "pk")
        pairs = list((rows[:limit] if limit else rows).values_list("pk", "order_id"))
        Fulfillment.objects.filter(pk__in=[pk for pk, _o in pairs]).update(
            held=False, hold_reason=""
        )
        _events([o for _pk, o in pairs], OrderEventKind.WAREHOUSE_RELEASED, actor)
        record_staff_actions(
            actor=actor,
            action="floor.release",
            targets=Order.objects.filter(pk__in=[o for _pk, o in pairs]),
            before={"held": True},
            after={"held": False},
        )
    return len(pairs)


# --- pick lists (FUL-1, FUL-7) ----------------------------------------------------------------
def create_waves(
    *,
    warehouse_id: int,
    actor,
    carrier_id: int | None = None,
    cutoff: datetime | None = None,
    size: str = SizeFilter.ANY,
    wave_size: int | None = None,
    max_waves: int = 1,
    picker=None,
    fulfillment_ids: Sequence[int] | None = None,
) -> list[Wave]:
    """Cut pick lists from the warehouse's queue, oldest orders first: up to `max_waves` lists
    of `wave_size` orders chosen by carrier, cut-off and single/multi-item (or exactly the
    `fulfillment_ids`, e.g. one order's own pick list). 2 + `max_waves` statements whatever
    the number of orders. On PostgreSQL the chosen rows are locked with SKIP LOCKED, so two
    planners at once never put an order into two lists."""
    _require(actor, "fulfillment.plan_waves")
    wave_size = wave_size or settings.WAVE_SIZE
    if wave_size < 1 or max_waves < 1:
        raise FloorRefused(_("A pick list needs at least one order."))
    if size not in SizeFilter.values:
        raise FloorRefused(_("Unknown order size filter."))
    with transaction.atomic():
        rows = selectors.queue(
            warehouse_id=warehouse_id, carrier_id=carrier_id, cutoff=cutoff, size=size
        )
        if fulfillment_ids is not None:
            rows = rows.filter(pk__in=list(fulfillment_ids))
        chosen = list(
            rows.select_for_update(skip_locked=True, of=("self",)).values_list("pk", "units")[
                : wave_size * max_waves
            ]
        )
        if not chosen:
            raise FloorRefused(_("No order in the queue matches: nothing to pick."))
        chunks = [chosen[i : i + wave_size] for i in range(0, len(chosen), wave_size)]
        now = timezone.now()
        waves = Wave.objects.bulk_create(
            [
                Wave(
                    warehouse_id=warehouse_id,
                    carrier_id=carrier_id,
                    cutoff=cutoff,
                    size=size,
                    picker=picker,
                    order_count=len(chunk),
                    unit_count=sum(units for _pk, units in chunk),
                    created_at=now,
                    created_by=actor,
                )
                for chunk in chunks
            ]
        )
        for wave, chunk in zip(waves, chunks, strict=True):
            Fulfillment.objects.filter(pk__in=[pk for pk, _units in chunk]).update(wave=wave)
        record_staff_actions(
            actor=actor,
            action="floor.create_wave",
            targets=waves,
            after={
                "warehouse_id": warehouse_id,
                "carrier_id": carrier_id,
                "cutoff": cutoff,
                "size": size,
                "picker": picker,
            },
        )
    return waves


def cancel_wave(*, wave_id: int, actor) -> Wave:
    """Dissolve a pick list nobody has started: its orders go back to the queue."""
    _require(actor, "fulfillment.plan_waves")
    with transaction.atomic():
        wave = Wave.objects.select_for_update().get(pk=wave_id)
        if wave.state != WaveState.OPEN:
            raise FloorRefused(
                _("Pick list %(number)s is “%(state)s”: it can no longer be cancelled.")
                % {"number": wave.number, "state": wave.get_state_display()}
            )
        wave.cancel()
        wave.finished_at = timezone.now()
        wave.save()
        Fulfillment.objects.filter(wave=wave, state=FulfillmentState.READY).update(wave=None)
        record_staff_action(
            actor=actor,
            action="floor.cancel_wave",
            target=wave,
            before={"state": WaveState.OPEN},
            after={"state": wave.state},
        )
    return wave


# --- picking (FUL-2) --------------------------------------------------------------------------
def start_picking(*, code: str, actor) -> Wave:
    """The picker scanned a pick list's barcode: it is theirs now (a colleague's unfinished
    list can be taken over)."""
    _require(actor, "fulfillment.work_floor")
    pk = Wave.pk_from_number(code)
    with transaction.atomic():
        wave = Wave.objects.select_for_update().filter(pk=pk).first() if pk else None
        if wave is None:
            raise ScanRefused(
                _("“%(code)s” is not a pick list.") % {"code": code.strip()}, kind="unknown"
            )
        if wave.state not in (WaveState.OPEN, WaveState.PICKING):
            raise ScanRefused(
                _("Pick list %(number)s is “%(state)s”.")
                % {"number": wave.number, "state": wave.get_state_display()},
                kind="closed",
            )
        if wave.state == WaveState.OPEN:
            wave.start()
            wave.started_at = timezone.now()
        wave.picker = actor
        wave.save()
    return wave


@dataclass(frozen=True)
class PickScan:
    """An accepted pick scan: which order's tote the unit goes into, and what is left."""

    sku_code: str
    name: str
    bin_code: str
    slot: int
    order_number: str
    line_left: int
    order_done: bool
    wave_done: bool


def _locked_wave(wave_id: int, actor) -> Wave:
    _require(actor, "fulfillment.work_floor")
    wave = Wave.objects.select_for_update().filter(pk=wave_id).first()
    if wave is None or wave.state != WaveState.PICKING:
        raise ScanRefused(_("Scan the pick list first."), kind="closed")
    return wave


def _close_wave_if_done(wave: Wave) -> bool:
    """Finish a pick list none of whose orders is left to pick."""
    if wave.state not in (WaveState.OPEN, WaveState.PICKING):
        return wave.state == WaveState.DONE
    if Fulfillment.objects.filter(wave=wave, state=FulfillmentState.READY).exists():
        return False
    wave.finish()
    wave.finished_at = timezone.now()
    wave.save()
    return True


def close_wave_if_done(*, wave_id: int) -> bool:
    """Finish a pick list whose orders were all picked, set aside or stopped meanwhile."""
    with transaction.atomic():
        wave = Wave.objects.select_for_update().get(pk=wave_id)
        return _close_wave_if_done(wave)


def record_pick_scan(*, wave_id: int, code: str, actor) -> PickScan:
    """One unit scanned off a shelf: it goes to the oldest order of the pick list still
    missing that SKU, out of its bin into the packing area through the ledger. A barcode that
    is no SKU, a SKU not on the list, or one unit too many is refused on the spot."""
    code = (code or "").strip()
    with transaction.atomic():
        wave = _locked_wave(wave_id, actor)
        sku = sku_by_scan(code)
        if sku is None:
            raise ScanRefused(_("Unknown barcode “%(code)s”.") % {"code": code}, kind="unknown")
        fulfillments = [
            f for f in selectors.wave_fulfillments(wave) if f.state == FulfillmentState.READY
        ]
        slots = {f.pk: n for n, f in enumerate(fulfillments, start=1)}
        allocations = selectors.allocations_of(fulfillments)
        of_sku = [
            (fulfillment, allocation)
            for fulfillment in fulfillments
            for allocation in allocations[fulfillment.pk]
            if allocation.stock.sku_id == sku.pk
        ]
        if not of_sku:
            raise ScanRefused(
                _("Wrong item: %(sku)s %(name)s is not on this pick list.")
                % {"sku": sku.code, "name": sku.product.name},
                kind="wrong_item",
            )
        open_units = [(f, a) for f, a in of_sku if a.picked < a.quantity]
        pickable = [(f, a) for f, a in open_units if not f.order.needs_review]
        if not pickable:
            if open_units:
                order = open_units[0][0].order
                raise ScanRefused(
                    _("Order %(number)s is held by customer service: put the item aside.")
                    % {"number": order.number},
                    kind="held",
                )
            raise ScanRefused(
                _("Too many: every %(sku)s on this pick list is already picked.")
                % {"sku": sku.code},
                kind="too_many",
            )
        # The walk's order first (allocations come in bin walking order), then the oldest order.
        fulfillment, allocation = min(
            pickable,
            key=lambda pair: (
                pair[1].stock.bin.walk_order,
                pair[1].stock.bin.code,
                slots[pair[0].pk],
            ),
        )
        order = Order.objects.select_for_update().get(pk=fulfillment.order_id)
        locked = Fulfillment.objects.select_for_update().get(pk=fulfillment.pk)
        if order.needs_review:
            raise ScanRefused(
                _("Order %(number)s is held by customer service: put the item aside.")
                % {"number": order.number},
                kind="held",
            )
        if locked.state != FulfillmentState.READY:
            raise ScanRefused(
                _("Order %(number)s is “%(state)s”: put the item back.")
                % {"number": order.number, "state": locked.get_state_display()},
                kind="stopped" if locked.state == FulfillmentState.CANCELLED else "closed",
            )
        try:
            inventory_services.pick(allocation_id=allocation.pk, quantity=1, actor=actor)
        except inventory_services.StockError as refused:
            raise ScanRefused(refused.message, kind="closed") from None
        allocation.picked += 1
        _activity(ActivityKind.PICK, locked, actor, units=1, wave=wave)
        order_done = all(a.picked >= a.quantity for a in allocations[fulfillment.pk])
        if order_done:
            locked.finish_picking()
            locked.picked_at = timezone.now()
            locked.save()
            _order_picked_if_complete(order.pk, actor)
        line_left = sum(
            a.quantity - a.picked for f, a in of_sku if a.stock.bin_id == allocation.stock.bin_id
        )
        return PickScan(
            sku_code=sku.code,
            name=sku.product.name,
            bin_code=allocation.stock.bin.code,
            slot=slots[fulfillment.pk],
            order_number=fulfillment.order.number,
            line_left=line_left,
            order_done=order_done,
            wave_done=_close_wave_if_done(wave),
        )


def _order_picked_if_complete(order_id: int, actor) -> None:
    """The order becomes picked, with its event, once every warehouse's part is (FUL-2) and
    nothing of it still waits for stock (INV-5: an order shipping as its stock arrives stays
    paid until its last part)."""
    if _waits_for_stock(order_id):
        return
    states = set(
        Fulfillment.objects.filter(order_id=order_id)
        .exclude(state=FulfillmentState.CANCELLED)
        .values_list("state", flat=True)
    )
    done = {FulfillmentState.PICKED, FulfillmentState.PACKED, FulfillmentState.SHIPPED}
    order_state = Order.objects.filter(pk=order_id).values_list("state", flat=True).get()
    if states and states <= done and order_state == OrderState.PAID:
        order_services.mark_picked(order_id=order_id, actor=actor)


def settle(*, order_id: int) -> None:
    """What the order waited for changed outside the floor (an agent dropped or substituted
    waiting units, INV-5): its new units join the floor, an emptied part closes, and the order
    moves on as the floor would have moved it — picked once every part is, shipped once every
    part has left. The system acts (no person's scan did it)."""
    bring_to_floor(order_id=order_id)
    _order_picked_if_complete(order_id, None)
    if _waits_for_stock(order_id):
        return
    parts = set(
        Fulfillment.objects.filter(order_id=order_id)
        .exclude(state=FulfillmentState.CANCELLED)
        .values_list("state", flat=True)
    )
    state = Order.objects.filter(pk=order_id).values_list("state", flat=True).get()
    if parts == {FulfillmentState.SHIPPED} and state == OrderState.PICKED:
        order_services.mark_shipped(order_id=order_id, actor=None)


def report_short_pick(
    *,
    wave_id: int,
    sku_id: int,
    bin_id: int,
    quantity: int,
    reason: str,
    actor,
    note: str = "",
) -> list[ShortPick]:
    """The picker found `quantity` fewer units of a SKU in a bin than the list asks for. The
    newest orders needing them are set aside (short) and go to customer service as exception
    orders. Their missing units leave the bin's reservations at once, so that the bin can be
    counted, and are reserved again in other bins or wait for stock; customer service decides
    (INV-5: wait, ship what is there, drop or substitute) and releases the order.
    The other orders of the list go on."""
    if reason not in ShortReason.values:
        raise FloorRefused(_("Choose why the units are missing."))
    if quantity < 1:
        raise FloorRefused(_("Say how many units are missing."))
    with transaction.atomic():
        wave = _locked_wave(wave_id, actor)
        fulfillments = [
            f for f in selectors.wave_fulfillments(wave) if f.state == FulfillmentState.READY
        ]
        allocations = selectors.allocations_of(fulfillments)
        open_here = [
            (f, a)
            for f in reversed(fulfillments)  # the newest orders give way first
            for a in allocations[f.pk]
            if a.stock.sku_id == sku_id and a.stock.bin_id == bin_id and a.picked < a.quantity
        ]
        left = sum(a.quantity - a.picked for _f, a in open_here)
        if quantity > left:
            raise FloorRefused(
                ngettext(
                    "Only %(left)d unit is left to pick there.",
                    "Only %(left)d units are left to pick there.",
                    left,
                )
                % {"left": left}
            )
        now = timezone.now()
        missing = quantity
        shorts: dict[int, ShortPick] = {}
        for fulfillment, allocation in open_here:
            if missing <= 0:
                break
            units = min(missing, allocation.quantity - allocation.picked)
            missing -= units
            short = shorts.get(fulfillment.pk)
            if short is not None:
                short.quantity += units
                continue
            shorts[fulfillment.pk] = ShortPick(
                fulfillment=fulfillment,
                wave=wave,
                sku_id=sku_id,
                bin_id=bin_id,
                quantity=units,
                reason=reason,
                note=note.strip()[:200],
                reported_by=actor,
                reported_at=now,
            )
        touched = {f.pk: f.order_id for f, _a in open_here if f.pk in shorts}
        orders = {
            order.pk: order
            for order in Order.objects.select_for_update()
            .filter(pk__in=touched.values())
            .only("pk", "province", "paid_at")
            .order_by("pk")
        }
        for fulfillment_id, short in sorted(shorts.items()):
            locked = Fulfillment.objects.select_for_update().get(pk=fulfillment_id)
            locked.report_short()
            locked.save()
            short.save()
            _activity(ActivityKind.SHORT, locked, actor, units=short.quantity, wave=wave)
            bin_code = open_here[0][1].stock.bin.code
            sku_code = open_here[0][1].stock.sku.code
            message = _("Short pick: %(units)d × %(sku)s missing in bin %(bin)s (%(reason)s)") % {
                "units": short.quantity,
                "sku": sku_code,
                "bin": bin_code,
                "reason": ShortReason(reason).label,
            }
            OrderEvent.objects.create(
                order_id=locked.order_id,
                created_at=now,
                actor=actor,
                kind=OrderEventKind.SHORT_PICK,
                from_state=OrderState.PAID,
                to_state=OrderState.PAID,
                reason=message,
                details={"sku": sku_code, "bin": bin_code, "units": short.quantity},
            )
            # The missing units leave the bin's reservations (so that it can be counted) and
            # are reserved again elsewhere, or wait for stock (INV-5).
            order = orders[locked.order_id]
            inventory_services.reallocate_missing(
                group=stock_group(order.pk),
                sku_id=sku_id,
                bin_id=bin_id,
                quantity=short.quantity,
                actor=actor,
                reason=message,
                province=order.province,
                backorder_since=order.paid_at,
            )
            order_services.flag_for_review(order_id=locked.order_id, reason=message, actor=actor)
        record_staff_action(
            actor=actor,
            action="floor.short_pick",
            target=wave,
            reason=ShortReason(reason).label,
            after={"sku_id": sku_id, "bin_id": bin_id, "quantity": quantity, "note": note.strip()},
        )
        _close_wave_if_done(wave)
        return list(shorts.values())


def resume_after_review(*, order_id: int) -> int:
    """Customer service released an order set aside by a short pick: its fulfillments go back
    to the queue for a new pick list (what was picked stays in the packing area), with the
    units reserved again in other bins; a part with nothing left to pick closes."""
    if not Fulfillment.objects.filter(order_id=order_id, state=FulfillmentState.SHORT).exists():
        # A part set aside may have closed meanwhile (its units reserved elsewhere or dropped).
        ShortPick.objects.filter(fulfillment__order_id=order_id, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
        return 0
    with transaction.atomic():
        # First the units reserved again join their parts, and empty parts close.
        bring_to_floor(order_id=order_id)
        resumed = 0
        for fulfillment in Fulfillment.objects.select_for_update().filter(
            order_id=order_id, state=FulfillmentState.SHORT
        ):
            fulfillment.resume()
            fulfillment.wave = None
            fulfillment.save()
            resumed += 1
        ShortPick.objects.filter(fulfillment__order_id=order_id, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
        return resumed


# --- packing (FUL-3) --------------------------------------------------------------------------
def _locked_for_packing(fulfillment_id: int, actor) -> Fulfillment:
    _require(actor, "fulfillment.work_floor")
    fulfillment = (
        Fulfillment.objects.select_for_update(of=("self",))
        .select_related("order")
        .filter(pk=fulfillment_id)
        .first()
    )
    if fulfillment is None:
        raise ScanRefused(_("There is no such order on the floor."), kind="unknown")
    number = fulfillment.order.number
    if fulfillment.state == FulfillmentState.CANCELLED:
        raise ScanRefused(
            _("STOP: order %(number)s was cancelled. Do not pack it; put the goods back.")
            % {"number": number},
            kind="stopped",
        )
    if fulfillment.order.needs_review:
        raise ScanRefused(
            _("Order %(number)s is held by customer service: put it aside.") % {"number": number},
            kind="held",
        )
    if fulfillment.state != FulfillmentState.PICKED:
        raise ScanRefused(
            _("Order %(number)s is “%(state)s”: it cannot be packed now.")
            % {"number": number, "state": fulfillment.get_state_display()},
            kind="closed",
        )
    return fulfillment


@dataclass(frozen=True)
class PackScan:
    sku_code: str
    name: str
    is_fragile: bool
    line_left: int
    all_confirmed: bool


def record_pack_scan(*, fulfillment_id: int, code: str, actor) -> PackScan:
    """The packer confirms one unit going into the parcel. An item not in the order or one
    too many is refused on the spot."""
    code = (code or "").strip()
    with transaction.atomic():
        fulfillment = _locked_for_packing(fulfillment_id, actor)
        sku = sku_by_scan(code)
        if sku is None:
            raise ScanRefused(_("Unknown barcode “%(code)s”.") % {"code": code}, kind="unknown")
        lines = selectors.pack_lines(fulfillment)
        line = next((line for line in lines if line.sku_id == sku.pk), None)
        if line is None:
            raise ScanRefused(
                _("Wrong item: %(sku)s %(name)s is not in order %(number)s.")
                % {"sku": sku.code, "name": sku.product.name, "number": fulfillment.order.number},
                kind="wrong_item",
            )
        if line.done:
            raise ScanRefused(
                _("Too many: the order has %(quantity)d × %(sku)s, all confirmed.")
                % {"quantity": line.quantity, "sku": sku.code},
                kind="too_many",
            )
        counts = dict(fulfillment.packed_counts)
        counts[str(sku.pk)] = line.confirmed + 1
        Fulfillment.objects.filter(pk=fulfillment.pk).update(packed_counts=counts)
        left = sum(line.quantity - counts.get(str(line.sku_id), line.confirmed) for line in lines)
        return PackScan(
            sku_code=sku.code,
            name=line.name,
            is_fragile=line.is_fragile,
            line_left=line.quantity - line.confirmed - 1,
            all_confirmed=left == 0,
        )


def add_parcel(
    *,
    fulfillment_id: int,
    package_type: str,
    weight_grams: int,
    carrier_id: int,
    service: str,
    actor,
    tracking_number: str = "",
    last: bool = True,
    weight_confirmed: bool = False,
) -> Parcel:
    """A weighed, labelled parcel of the order. Every unit must have been confirmed by scan
    first. With `last`, packing is finished: the parcels together must weigh within
    `PACKING_WEIGHT_TOLERANCE_PERCENT` of the goods, or the packer confirms the weight. The
    tracking number is the one typed or scanned, else the carrier's gateway books one."""
    if package_type not in PackageType.values:
        raise FloorRefused(_("Choose the package."))
    if service not in ShippingService.values:
        raise FloorRefused(_("Choose express or freight."))
    if not weight_grams or weight_grams <= 0:
        raise FloorRefused(_("Weigh the parcel: the weight must be more than 0."))
    with transaction.atomic():
        fulfillment = _locked_for_packing(fulfillment_id, actor)
        carrier = Carrier.objects.filter(pk=carrier_id, is_active=True).first()
        if carrier is None:
            raise FloorRefused(_("Choose an active carrier."))
        lines = selectors.pack_lines(fulfillment)
        unconfirmed = sum(line.quantity - line.confirmed for line in lines)
        if unconfirmed > 0:
            raise FloorRefused(
                ngettext(
                    "Scan every item first: %(count)d unit is not confirmed.",
                    "Scan every item first: %(count)d units are not confirmed.",
                    unconfirmed,
                )
                % {"count": unconfirmed}
            )
        if last:
            earlier = fulfillment.parcels.aggregate(total=Sum("weight_grams"))["total"] or 0
            _check_weight(
                fulfillment.expected_weight_grams, earlier + weight_grams, weight_confirmed
            )
        number = _tracking_number(carrier, service, weight_grams, fulfillment, tracking_number)
        now = timezone.now()
        try:
            with transaction.atomic():
                parcel = Parcel.objects.create(
                    fulfillment=fulfillment,
                    package_type=package_type,
                    weight_grams=weight_grams,
                    carrier=carrier,
                    service=service,
                    tracking_number=number,
                    packed_by=actor,
                    packed_at=now,
                )
        except IntegrityError:
            raise _number_used(carrier, number) from None
        _activity(ActivityKind.PACK, fulfillment, actor, units=fulfillment.units if last else 0)
        if last:
            fulfillment.finish_packing()
            fulfillment.packed_at = now
            fulfillment.carrier = carrier
            fulfillment.save()
        return parcel


def _check_weight(expected: int, actual: int, confirmed: bool) -> None:
    if confirmed or not expected:
        return
    tolerance = expected * settings.PACKING_WEIGHT_TOLERANCE_PERCENT / 100
    if abs(actual - expected) > tolerance:
        raise WeightMismatch(expected=expected, actual=actual)


def _number_used(carrier: Carrier, number: str) -> FloorRefused:
    return FloorRefused(
        _("%(carrier)s tracking number %(number)s is already on another parcel.")
        % {"carrier": carrier.name, "number": number}
    )


def _tracking_number(
    carrier: Carrier, service: str, weight: int, fulfillment: Fulfillment, typed: str
) -> str:
    if typed.strip():
        number = normalize_tracking_number(typed)
        if not TRACKING_NUMBER.match(number):
            raise FloorRefused(
                _("“%(number)s” is not a tracking number: it should be 8 to 30 letters and digits.")
                % {"number": typed.strip()}
            )
    else:
        try:
            number = gateway_for(carrier).book(
                carrier=carrier,
                service=service,
                weight_grams=weight,
                order_number=fulfillment.order.number,
            )
        except CarrierRefused as refused:
            raise FloorRefused(refused.message) from None
    if Shipment.objects.filter(carrier=carrier, tracking_number=number).exists():
        raise _number_used(carrier, number)
    return number


def remove_parcel(*, parcel_id: int, actor) -> None:
    """Undo a parcel of an order still being packed (a wrong weight, a torn label)."""
    with transaction.atomic():
        parcel = Parcel.objects.filter(pk=parcel_id).first()
        if parcel is None:
            raise FloorRefused(_("There is no such parcel."))
        fulfillment = _locked_for_packing(parcel.fulfillment_id, actor)
        Parcel.objects.filter(pk=parcel.pk, fulfillment=fulfillment).delete()


# --- hand-over (FUL-5) ------------------------------------------------------------------------
@dataclass(frozen=True)
class HandOver:
    tracking_number: str
    carrier_name: str
    order_number: str
    parcels_left: int
    order_shipped: bool


def record_hand_over(*, code: str, actor) -> HandOver:
    """The carrier's driver takes a parcel: its scan records the shipment. When the order's
    last parcel from this warehouse goes, its units leave the ledger; when every warehouse's
    part has gone the order is shipped and the customer told carrier, tracking number and
    expected delivery. Scanning a parcel twice is refused and changes nothing."""
    _require(actor, "fulfillment.work_floor")
    number = normalize_tracking_number(code)
    with transaction.atomic():
        match = list(
            Parcel.objects.filter(tracking_number=number).values_list("pk", "fulfillment_id")[:2]
        )
        if not match:
            raise ScanRefused(
                _("“%(code)s” is no parcel of ours.") % {"code": code.strip()}, kind="unknown"
            )
        if len(match) > 1:
            raise ScanRefused(
                _("Two carriers use %(number)s: hand these parcels over from the order page.")
                % {"number": number},
                kind="unknown",
            )
        parcel_id, fulfillment_id = match[0]
        order_id = Fulfillment.objects.values_list("order_id", flat=True).get(pk=fulfillment_id)
        Order.objects.select_for_update().filter(pk=order_id).values_list("pk").get()
        fulfillment = (
            Fulfillment.objects.select_for_update(of=("self",))
            .select_related("order")
            .get(pk=fulfillment_id)
        )
        parcel = Parcel.objects.select_related("carrier").get(pk=parcel_id)
        order = fulfillment.order
        if parcel.handed_over_at is not None:
            raise ScanRefused(
                _("Parcel %(number)s was already handed over at %(time)s.")
                % {
                    "number": number,
                    "time": timezone.localtime(parcel.handed_over_at).strftime("%H:%M"),
                },
                kind="already",
            )
        if fulfillment.state == FulfillmentState.CANCELLED:
            raise ScanRefused(
                _("STOP: order %(number)s was cancelled. Keep this parcel; unpack it.")
                % {"number": order.number},
                kind="stopped",
            )
        if order.needs_review:
            raise ScanRefused(
                _("Order %(number)s is held by customer service: keep this parcel.")
                % {"number": order.number},
                kind="held",
            )
        if fulfillment.state != FulfillmentState.PACKED:
            raise ScanRefused(
                _("Order %(number)s is not fully packed yet.") % {"number": order.number},
                kind="closed",
            )
        if fulfillment.relabel_since is not None:
            raise ScanRefused(
                _(
                    "The address of order %(number)s changed after it was labelled: keep the "
                    "parcel, print its new label on the packing screen and stick it over the old."
                )
                % {"number": order.number},
                kind="held",
            )
        try:
            shipment = _record_shipment(parcel, order, actor)
        except ShipmentRefused as refused:
            raise FloorRefused(refused.message) from None
        now = timezone.now()
        Parcel.objects.filter(pk=parcel.pk).update(
            shipment=shipment, handed_over_by=actor, handed_over_at=now
        )
        _activity(ActivityKind.HAND_OVER, fulfillment, actor)
        left = fulfillment.parcels.filter(handed_over_at__isnull=True).count()
        order_shipped = False
        if left == 0:
            order_shipped = _ship_fulfillment(fulfillment, actor, now)
        return HandOver(
            tracking_number=number,
            carrier_name=parcel.carrier.name,
            order_number=order.number,
            parcels_left=left,
            order_shipped=order_shipped,
        )


def _record_shipment(parcel: Parcel, order: Order, actor) -> Shipment:
    return record_shipment(
        order_id=order.pk,
        carrier_code=parcel.carrier.code,
        tracking_number=parcel.tracking_number,
        actor=actor,
        service=parcel.service,
        weight_grams=parcel.weight_grams,
        part_of_split=True,
    )


def _waits_for_stock(order_id: int) -> bool:
    """Units of the order still wait for stock, or got it and are not on the floor yet (the
    arrival's `bring_to_floor` runs after its commit): the order is not complete here."""
    group = stock_group(order_id)
    return (
        Backorder.objects.filter(
            group=group, filled_at__isnull=True, cancelled_at__isnull=True
        ).exists()
        or Allocation.objects.filter(
            group=group, part="", state__in=selectors.OPEN_ALLOCATIONS
        ).exists()
    )


def _ship_fulfillment(fulfillment: Fulfillment, actor, now) -> bool:
    """This part has left: consume its units; ship the order if it was the last part and
    nothing waits for stock, else tell the customer this part is on its way. Returns whether
    the order shipped."""
    fulfillment.hand_over()
    fulfillment.shipped_at = now
    fulfillment.save()
    inventory_services.ship(
        group=stock_group(fulfillment.order_id), part=fulfillment.part, actor=actor
    )
    open_parts = (
        Fulfillment.objects.filter(order_id=fulfillment.order_id)
        .exclude(state__in=[FulfillmentState.SHIPPED, FulfillmentState.CANCELLED])
        .exists()
    )
    if not open_parts and not _waits_for_stock(fulfillment.order_id):
        order_services.mark_shipped(order_id=fulfillment.order_id, actor=actor)
        return True
    shipment_ids = list(
        fulfillment.parcels.exclude(shipment=None).values_list("shipment_id", flat=True)
    )
    order = Order.objects.only("state").get(pk=fulfillment.order_id)
    OrderEvent.objects.create(
        order_id=fulfillment.order_id,
        created_at=now,
        actor=actor,
        kind=OrderEventKind.PART_SHIPPED,
        from_state=order.state,
        to_state=order.state,
        details={"warehouse": fulfillment.warehouse_id, "shipments": shipment_ids},
    )
    order_signals.order_part_shipped.send(
        sender=Order, order_id=fulfillment.order_id, actor=actor, shipment_ids=shipment_ids
    )
    return False


# --- address changed after labelling (ORD-7) --------------------------------------------------
def labels_outdated(*, order_id: int) -> int:
    """The order's address changed: every part of it with parcels still in the warehouse needs
    new labels before hand-over. Returns the parts concerned."""
    labelled = (
        Fulfillment.objects.filter(
            order_id=order_id,
            state__in=[FulfillmentState.PICKED, FulfillmentState.PACKED],
            parcels__isnull=False,
            parcels__handed_over_at__isnull=True,
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    return Fulfillment.objects.filter(pk__in=list(labelled)).update(relabel_since=timezone.now())


def confirm_relabelled(*, fulfillment_id: int, actor) -> None:
    """The packer printed the new labels and stuck them on: the parcels may go."""
    _require(actor, "fulfillment.work_floor")
    updated = Fulfillment.objects.filter(pk=fulfillment_id, relabel_since__isnull=False).update(
        relabel_since=None
    )
    if not updated:
        raise FloorRefused(_("This order's labels are up to date."))


# --- interception (ORD-7) ---------------------------------------------------------------------
def stop_for_order(*, order_id: int, actor) -> int:
    """The order was cancelled: whatever the floor still had of it stops. Its stock has
    already gone back through the ledger; picked or packed goods must be put back by hand,
    and the warehouse home lists them until someone confirms. Returns the parts stopped."""
    with transaction.atomic():
        now = timezone.now()
        stopped = list(
            Fulfillment.objects.select_for_update()
            .filter(order_id=order_id, state__in=list(OPEN_STATES))
            .order_by("pk")
        )
        started = any(f.wave_id or f.state != FulfillmentState.READY for f in stopped)
        for fulfillment in stopped:
            fulfillment.stopped_from = fulfillment.state
            fulfillment.stop()
            fulfillment.cancelled_at = now
            if fulfillment.stopped_from not in (FulfillmentState.PICKED, FulfillmentState.PACKED):
                fulfillment.put_back_at = now  # nothing left its bin
            fulfillment.save()
        if started:  # the timeline says so only when the floor had begun on it
            _events([order_id], OrderEventKind.INTERCEPTED, actor)
        return len(stopped)


def confirm_put_back(*, fulfillment_id: int, actor) -> None:
    """The goods of a stopped order are back in their bins."""
    _require(actor, "fulfillment.work_floor")
    updated = Fulfillment.objects.filter(
        pk=fulfillment_id, state=FulfillmentState.CANCELLED, put_back_at__isnull=True
    ).update(put_back_at=timezone.now())
    if not updated:
        raise FloorRefused(_("Nothing is waiting to be put back for this order."))
    record_staff_action(
        actor=actor,
        action="floor.put_back",
        target=lambda: Fulfillment.objects.select_related("order").get(pk=fulfillment_id).order,
        after={"put_back": True},
    )
