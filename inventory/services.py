"""The only way stock changes (INV-3, INV-4, INV-6).

Every service runs in one transaction and, before it changes anything, locks with one
`select_for_update()` ordered by primary key *every* stock row of the SKUs it touches (all
bins, the packing areas too). Stock locks are taken in that one statement and never added to
later, and other rows (allocations of one order, backorders) are locked only around it in a
fixed order, so no two services can wait on each other in a cycle, whatever order their lines
come in. A service then re-checks the numbers it locked, changes them and writes one
`StockMovement` per row changed. The database constraints (on-hand ≥ 0,
0 ≤ reserved ≤ on-hand) are the last guard. A service that cannot do its work raises a
`StockError` and leaves nothing half-done.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import SKU
from core.audit import record_staff_action
from core.errors import DomainError

from . import signals
from .models import (
    SELLABLE_STOCK,
    Allocation,
    AllocationState,
    Backorder,
    Bin,
    MovementKind,
    RegionPriority,
    Stock,
    StockAlert,
    StockAlertKind,
    StockMovement,
    StockThreshold,
    Warehouse,
)
from .signals import backorder_filled


class StockError(DomainError):
    """A stock operation the numbers do not allow."""


@dataclass(frozen=True)
class Shortage:
    sku_id: int
    wanted: int
    available: int


class OutOfStock(StockError):
    """Not enough available stock for one or more lines; nothing was reserved."""

    def __init__(self, shortages: Sequence[Shortage]):
        self.shortages = list(shortages)
        super().__init__(
            _("Not enough stock: %(lines)s")
            % {
                "lines": "; ".join(
                    _("SKU %(sku)s wanted %(wanted)d, available %(available)d")
                    % {"sku": s.sku_id, "wanted": s.wanted, "available": s.available}
                    for s in self.shortages
                )
            }
        )


@dataclass(frozen=True)
class DemandLine:
    """One line to reserve: `line` is the caller's reference (e.g. an order line id).
    `may_wait`: with `reserve(backorder_since=…)`, whether this line's missing units may wait
    for stock (the customer chose so) or must refuse the whole demand."""

    line: str
    sku_id: int
    quantity: int
    may_wait: bool = True


@dataclass
class Reservation:
    """What `reserve` promised: allocations grouped by warehouse, one shipment each (INV-6),
    and the backorders for what could not be reserved yet (INV-5)."""

    group: str
    by_warehouse: dict[int, list[Allocation]] = field(default_factory=dict)
    backorders: list[Backorder] = field(default_factory=list)

    @property
    def warehouse_ids(self) -> list[int]:
        return list(self.by_warehouse)

    @property
    def is_split(self) -> bool:
        return len(self.by_warehouse) > 1


# --- helpers ----------------------------------------------------------------------------------
def _record(
    stock: Stock,
    *,
    kind: str,
    on_hand: int = 0,
    reserved: int = 0,
    actor=None,
    reason: str = "",
    reference: tuple[str, str] = ("", ""),
) -> StockMovement:
    """Apply a change to a locked stock row and write its ledger row."""
    stock.on_hand += on_hand
    stock.reserved += reserved
    stock.save(update_fields=["on_hand", "reserved"])
    return StockMovement.objects.create(
        kind=kind,
        sku_id=stock.sku_id,
        bin_id=stock.bin_id,
        on_hand_change=on_hand,
        reserved_change=reserved,
        actor=actor,
        reason=reason,
        reference_type=reference[0],
        reference_id=str(reference[1]),
    )


def _lock_rows(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Stock]:
    """Lock every stock row of the SKUs in `pairs` (sku_id, bin_id) in pk order, creating the
    asked-for rows that are missing first. Returns all the locked rows by (sku_id, bin_id).

    Locking all of a SKU's rows at once serialises the services that touch one SKU, which is
    what makes the later steps (filling backorders, checking alerts) safe without taking more
    stock locks."""
    pairs = set(pairs)
    if not pairs:
        return {}
    Stock.objects.bulk_create(
        [Stock(sku_id=sku_id, bin_id=bin_id) for sku_id, bin_id in pairs],
        ignore_conflicts=True,
        batch_size=500,
    )
    return {(row.sku_id, row.bin_id): row for row in _lock_skus({s for s, _ in pairs})}


def _lock_skus(sku_ids: Iterable[int]) -> list[Stock]:
    """Every stock row of the SKUs with its bin and warehouse, locked in pk order (only the
    stock rows: bins and warehouses are read, not locked)."""
    return list(
        Stock.objects.filter(sku_id__in=set(sku_ids))
        .select_related("bin__warehouse")
        .select_for_update(of=("self",))
        .order_by("pk")
    )


def _sellable(row: Stock) -> bool:
    return not row.bin.is_staging and row.bin.is_active and row.bin.warehouse.is_active


def _staging_bin_ids(warehouse_ids: Iterable[int]) -> dict[int, int]:
    """The packing-area bin of each warehouse, created on first use."""
    ids = {}
    for warehouse_id in set(warehouse_ids):
        staging, _created = Bin.objects.get_or_create(
            warehouse_id=warehouse_id,
            is_staging=True,
            defaults={"code": "STAGING", "walk_order": 999_999},
        )
        ids[warehouse_id] = staging.pk
    return ids


def _after_commit(func, /, **kwargs):
    """`func(**kwargs)` as a named callable for `on_commit(..., robust=True)`, which logs a
    failing callback by its `__qualname__` (a `functools.partial` has none)."""

    def call() -> None:
        func(**kwargs)

    call.__qualname__ = f"{getattr(func, '__qualname__', func)}(…)"
    return call


def _positive(quantity: int) -> None:
    if quantity < 1:
        raise StockError(_("The quantity must be at least 1."))


def _reason_required(reason: str) -> str:
    if not reason.strip():
        raise StockError(_("Say why the stock is changed."))
    return reason.strip()


def _storage_bin(bin_id: int) -> Bin:
    try:
        return Bin.objects.select_related("warehouse").get(
            pk=bin_id, is_staging=False, is_active=True, warehouse__is_active=True
        )
    except Bin.DoesNotExist:
        raise StockError(_("There is no such bin.")) from None


# --- low-stock alerts (INV-7) -------------------------------------------------------------------
def _check_alerts(sku_ids: Iterable[int]) -> None:
    """Raise an alert for each threshold the SKUs' available stock is now below (once per
    crossing: at most one open alert per SKU and scope), and clear the alerts of those back at
    or above it. Managers are told by a task after commit."""
    thresholds = list(StockThreshold.objects.filter(sku_id__in=set(sku_ids)))
    if not thresholds:
        return
    free_by_warehouse = {
        (row["sku_id"], row["bin__warehouse_id"]): row["free"]
        for row in Stock.objects.filter(SELLABLE_STOCK, sku_id__in={t.sku_id for t in thresholds})
        .order_by()
        .values("sku_id", "bin__warehouse_id")
        .annotate(free=Sum(F("on_hand") - F("reserved")))
    }
    free_total: dict[int, int] = defaultdict(int)
    for (sku_id, _warehouse), free in free_by_warehouse.items():
        free_total[sku_id] += free
    open_alerts = {
        (alert.sku_id, alert.scope): alert
        for alert in StockAlert.objects.filter(
            sku_id__in={t.sku_id for t in thresholds}, cleared_at__isnull=True
        )
    }
    for threshold in thresholds:
        if threshold.warehouse_id:
            free = free_by_warehouse.get((threshold.sku_id, threshold.warehouse_id), 0)
        else:
            free = free_total[threshold.sku_id]
        scope = StockAlert.scope_for(threshold.warehouse_id)
        alert = open_alerts.get((threshold.sku_id, scope))
        if free >= threshold.threshold:
            if alert is not None:
                alert.cleared_at = timezone.now()
                alert.save(update_fields=["cleared_at"])
            continue
        kind = StockAlertKind.STOCK_OUT if free <= 0 else StockAlertKind.LOW_STOCK
        if alert is not None:
            if alert.kind != kind:
                alert.kind = kind
                alert.save(update_fields=["kind"])
            continue
        try:
            with transaction.atomic():
                alert = StockAlert.objects.create(
                    sku_id=threshold.sku_id,
                    warehouse_id=threshold.warehouse_id,
                    scope=scope,
                    kind=kind,
                    available=free,
                    threshold=threshold.threshold,
                )
        except IntegrityError:
            continue  # a concurrent change raised it first
        # In this transaction: the managers' messages are written with the alert (an outbox),
        # so a broker that is down loses nothing and fails nothing.
        signals.stock_alert_raised.send(sender=StockAlert, alert_id=alert.pk)


def _after_change(sku_ids: Iterable[int], *, freed: bool, actor=None) -> None:
    """What follows any change of available stock: freed units go to waiting backorders
    first (INV-5), then thresholds are checked (INV-7)."""
    if freed:
        fill_backorders(sku_ids=sku_ids, actor=actor)  # checks the alerts itself
    else:
        _check_alerts(sku_ids)


# --- reservation and allocation ----------------------------------------------------------------
def warehouse_preference(province: str) -> list[int]:
    """Active warehouses in the order they should serve `province`: its configured priority
    first, then the others by code (one query)."""
    priority = RegionPriority.objects.filter(province=province, warehouse=OuterRef("pk")).values(
        "priority"
    )[:1]
    return list(
        Warehouse.objects.filter(is_active=True)
        .annotate(priority=Subquery(priority))
        .order_by(F("priority").asc(nulls_last=True), "code")
        .values_list("pk", flat=True)
    )


class _Pool:
    """The locked sellable rows of some SKUs, drawn from in a chosen warehouse order and, in
    each warehouse, in walking order."""

    def __init__(self, rows: list[Stock]):
        self.by_warehouse: dict[int, list[Stock]] = defaultdict(list)
        for row in sorted(rows, key=lambda r: (r.bin.walk_order, r.bin.code, r.pk)):
            self.by_warehouse[row.bin.warehouse_id].append(row)

    def free(self, warehouse_id: int, sku_id: int) -> int:
        return sum(r.available for r in self.by_warehouse[warehouse_id] if r.sku_id == sku_id)

    def total(self, sku_id: int) -> int:
        return sum(self.free(w, sku_id) for w in self.by_warehouse)

    def warehouse_order(self, province: str, wanted: dict[int, int]) -> list[int]:
        """INV-6: the first preferred warehouse that has everything, alone; else all of them
        in order of preference."""
        preference = warehouse_preference(province)
        for warehouse_id in preference:
            if all(self.free(warehouse_id, sku) >= units for sku, units in wanted.items()):
                return [warehouse_id]
        return preference

    def take(
        self,
        *,
        order: list[int],
        group: str,
        line: str,
        sku_id: int,
        quantity: int,
        actor,
        reservation: "Reservation",
    ) -> int:
        """Reserve up to `quantity` units; returns how many could be reserved."""
        remaining = quantity
        for warehouse_id in order:
            for row in self.by_warehouse[warehouse_id]:
                if remaining == 0:
                    return quantity
                if row.sku_id != sku_id or row.available <= 0:
                    continue
                units = min(remaining, row.available)
                _record(
                    row,
                    kind=MovementKind.RESERVATION,
                    reserved=units,
                    actor=actor,
                    reference=("demand_line", line),
                )
                allocation = Allocation.objects.create(
                    group=group, line=line, stock=row, quantity=units
                )
                reservation.by_warehouse.setdefault(warehouse_id, []).append(allocation)
                remaining -= units
        return quantity - remaining


def reserve(
    *,
    group: str,
    lines: Sequence[DemandLine],
    province: str = "",
    actor=None,
    backorder_since=None,
) -> Reservation:
    """Reserve the lines of one demand (an order), from one warehouse when one can serve all
    of it — the first in `warehouse_preference(province)` that can — else split across
    warehouses in that order (INV-6). Within a warehouse, bins are drawn in walking order.

    All or nothing (INV-3): if any line is short, `OutOfStock` lists the shortages and nothing
    is reserved. With `backorder_since` (when the order was paid), what is there is reserved
    and the missing units of the lines that `may_wait` become backorders that arriving stock
    fills, oldest first (INV-5); a short line that may not wait still refuses it all.

    Locks every sellable stock row of the SKUs (in pk order) before deciding, so two buyers
    of the last unit are served one after the other and the second is refused.
    """
    if not lines:
        raise StockError(_("Nothing to reserve."))
    for line in lines:
        _positive(line.quantity)
    wanted: dict[int, int] = defaultdict(int)
    for line in lines:
        wanted[line.sku_id] += line.quantity

    with transaction.atomic():
        pool = _Pool([row for row in _lock_skus(wanted) if _sellable(row)])
        shortages = [
            Shortage(sku_id, units, pool.total(sku_id))
            for sku_id, units in wanted.items()
            if pool.total(sku_id) < units
        ]
        refused = [
            shortage
            for shortage in shortages
            if backorder_since is None
            or not all(line.may_wait for line in lines if line.sku_id == shortage.sku_id)
        ]
        if refused:
            raise OutOfStock(refused)

        order = pool.warehouse_order(province, wanted)
        reservation = Reservation(group=group)
        for line in lines:
            reserved = pool.take(
                order=order,
                group=group,
                line=line.line,
                sku_id=line.sku_id,
                quantity=line.quantity,
                actor=actor,
                reservation=reservation,
            )
            if reserved < line.quantity:
                reservation.backorders.append(
                    Backorder.objects.create(
                        group=group,
                        line=line.line,
                        sku_id=line.sku_id,
                        quantity=line.quantity - reserved,
                        province=province,
                        priority_at=backorder_since,
                    )
                )
        _check_alerts(wanted)
    return reservation


@dataclass(frozen=True)
class Reallocated:
    """What `reallocate_missing` did with the missing units."""

    released: int
    reserved_again: int
    waiting: int


def reallocate_missing(
    *,
    group: str,
    sku_id: int,
    bin_id: int,
    quantity: int,
    actor,
    reason: str,
    province: str = "",
    backorder_since=None,
) -> Reallocated:
    """`quantity` units of a SKU reserved for `group` in a bin are not there (a short pick):
    their reservation leaves that bin, the bin's books drop them (an adjustment with the
    reason, so that nobody else is sold units that are not there; a count that finds them
    brings them back), and they are reserved again in other bins — the same warehouse first,
    then the delivery province's order — and what cannot be waits for stock as a backorder
    (INV-5), with the demand's place in the queue (`backorder_since`). The newest
    reservations give way first. Locks the allocations, then every row of the SKU, as
    `release` does."""
    _positive(quantity)
    reason = _reason_required(reason)
    with transaction.atomic():
        allocations = [
            a
            for a in Allocation.objects.select_for_update()
            .filter(
                group=group,
                stock__sku_id=sku_id,
                stock__bin_id=bin_id,
                state__in=[AllocationState.RESERVED, AllocationState.PICKED],
            )
            .select_related("stock__bin")
            .order_by("-pk")
            if a.picked < a.quantity
        ]
        unpicked = sum(a.quantity - a.picked for a in allocations)
        if quantity > unpicked:
            raise StockError(_("Only %(left)d units are still to pick there.") % {"left": unpicked})
        rows = _lock_skus({sku_id})
        (short_row,) = [row for row in rows if row.bin_id == bin_id]
        warehouse_id = short_row.bin.warehouse_id
        pool = _Pool([row for row in rows if _sellable(row) and row.bin_id != bin_id])
        left = quantity
        again = waiting = 0
        for allocation in allocations:
            if left == 0:
                break
            units = min(left, allocation.quantity - allocation.picked)
            left -= units
            _record(
                short_row,
                kind=MovementKind.RELEASE,
                reserved=-units,
                actor=actor,
                reason=reason,
                reference=("demand_line", allocation.line),
            )
            _record(
                short_row,
                kind=MovementKind.ADJUSTMENT,
                on_hand=-units,
                actor=actor,
                reason=reason,
                reference=("demand_line", allocation.line),
            )
            if allocation.picked == 0 and units == allocation.quantity:
                allocation.state = AllocationState.RELEASED
            else:
                allocation.quantity -= units
                if allocation.picked == allocation.quantity:
                    allocation.state = AllocationState.PICKED
            allocation.save(update_fields=["quantity", "state"])
            order = pool.warehouse_order(province, {sku_id: units})
            order = [warehouse_id, *(w for w in order if w != warehouse_id)]
            reserved = pool.take(
                order=order,
                group=group,
                line=allocation.line,
                sku_id=sku_id,
                quantity=units,
                actor=actor,
                reservation=Reservation(group=group),
            )
            again += reserved
            if reserved < units:
                waiting += units - reserved
                Backorder.objects.create(
                    group=group,
                    line=allocation.line,
                    sku_id=sku_id,
                    quantity=units - reserved,
                    province=province,
                    priority_at=backorder_since or timezone.now(),
                )
        _check_alerts({sku_id})
        return Reallocated(released=quantity, reserved_again=again, waiting=waiting)


def cancel_backorders(*, group: str, line: str) -> int:
    """The units of a demand line still waiting for stock are no longer wanted (an agent
    dropped or substituted them, INV-5): its open backorders close, so that arriving stock
    passes them by. What was already reserved stays. Returns the units no longer waited for."""
    with transaction.atomic():
        waiting = list(
            Backorder.objects.select_for_update()
            .filter(group=group, line=line, filled_at__isnull=True, cancelled_at__isnull=True)
            .order_by("pk")
        )
        if not waiting:
            return 0
        Backorder.objects.filter(pk__in=[b.pk for b in waiting]).update(cancelled_at=timezone.now())
        return sum(b.waiting for b in waiting)


def fill_backorders(*, sku_ids: Iterable[int], actor=None) -> list[tuple[Backorder, int]]:
    """Give free stock of the SKUs to their open backorders, the longest-waiting first
    (INV-5). Returns each backorder served with the units it got; `backorder_filled` is sent
    for each after commit."""
    sku_ids = set(sku_ids)
    served: list[tuple[Backorder, int]] = []
    with transaction.atomic():
        # Stock rows first, then backorders: the order every service follows.
        pool = _Pool([row for row in _lock_skus(sku_ids) if _sellable(row)])
        waiting = list(
            Backorder.objects.select_for_update()
            .filter(sku_id__in=sku_ids, filled_at__isnull=True, cancelled_at__isnull=True)
            .order_by("priority_at", "pk")
        )
        if not waiting:
            _check_alerts(sku_ids)
            return served
        now = timezone.now()
        for backorder in waiting:
            if pool.total(backorder.sku_id) == 0:
                continue
            order = pool.warehouse_order(backorder.province, {backorder.sku_id: backorder.waiting})
            units = pool.take(
                order=order,
                group=backorder.group,
                line=backorder.line,
                sku_id=backorder.sku_id,
                quantity=backorder.waiting,
                actor=actor,
                reservation=Reservation(group=backorder.group),
            )
            if not units:
                continue
            backorder.filled += units
            if backorder.waiting == 0:
                backorder.filled_at = now
            backorder.save(update_fields=["filled", "filled_at"])
            served.append((backorder, units))
            transaction.on_commit(
                _after_commit(
                    backorder_filled.send,
                    sender=Backorder,
                    group=backorder.group,
                    line=backorder.line,
                    sku_id=backorder.sku_id,
                    units=units,
                    complete=backorder.filled_at is not None,
                ),
                robust=True,
            )
        _check_alerts(sku_ids)
    return served


def _locked_allocations(group: str, states: Sequence[str]) -> list[Allocation]:
    return list(
        Allocation.objects.select_for_update()
        .filter(group=group, state__in=states)
        .select_related("stock__bin")
        .order_by("pk")
    )


def _rows_for(allocations: Sequence[Allocation]) -> tuple[dict, dict[int, int]]:
    """Lock the storage rows of `allocations` and the matching packing-area rows together."""
    staging = _staging_bin_ids(a.stock.bin.warehouse_id for a in allocations)
    pairs = {(a.stock.sku_id, a.stock.bin_id) for a in allocations}
    pairs |= {(a.stock.sku_id, staging[a.stock.bin.warehouse_id]) for a in allocations}
    return _lock_rows(pairs), staging


def release(*, group: str, actor=None, reason: str = "") -> int:
    """Give back everything of `group` not yet shipped (a cancelled or intercepted order):
    reserved units become available again, picked units go from the packing area back to their
    bin. Idempotent: a second call finds nothing to release. Returns the units released."""
    with transaction.atomic():
        allocations = _locked_allocations(group, [AllocationState.RESERVED, AllocationState.PICKED])
        rows, staging = _rows_for(allocations) if allocations else ({}, {})
        Backorder.objects.filter(
            group=group, filled_at__isnull=True, cancelled_at__isnull=True
        ).update(cancelled_at=timezone.now())
        if not allocations:
            return 0
        for allocation in allocations:
            sku_id, bin_id = allocation.stock.sku_id, allocation.stock.bin_id
            storage = rows[(sku_id, bin_id)]
            note = {"actor": actor, "reason": reason, "reference": ("demand_line", allocation.line)}
            unpicked = allocation.quantity - allocation.picked
            if unpicked:
                _record(storage, kind=MovementKind.RELEASE, reserved=-unpicked, **note)
            if allocation.picked:
                staged = rows[(sku_id, staging[allocation.stock.bin.warehouse_id])]
                picked = allocation.picked
                _record(
                    staged, kind=MovementKind.RELEASE, on_hand=-picked, reserved=-picked, **note
                )
                _record(storage, kind=MovementKind.RETURN, on_hand=picked, **note)
            allocation.state = AllocationState.RELEASED
            allocation.save(update_fields=["state"])
        _after_change({a.stock.sku_id for a in allocations}, freed=True, actor=actor)
        return sum(a.quantity for a in allocations)


def _move_to_packing(allocation: Allocation, quantity: int, rows, staging, actor) -> None:
    sku_id = allocation.stock.sku_id
    storage = rows[(sku_id, allocation.stock.bin_id)]
    staged = rows[(sku_id, staging[allocation.stock.bin.warehouse_id])]
    note = {"actor": actor, "reference": ("demand_line", allocation.line)}
    _record(storage, kind=MovementKind.PICK, on_hand=-quantity, reserved=-quantity, **note)
    _record(staged, kind=MovementKind.PICK, on_hand=quantity, reserved=quantity, **note)
    allocation.picked += quantity
    allocation.state = AllocationState.PICKED
    allocation.save(update_fields=["picked", "state"])


def pick(*, allocation_id: int, quantity: int, actor=None) -> Allocation:
    """Take `quantity` units of a reservation out of its bin into the packing area. The units
    stay promised (reserved) there until they ship or are released."""
    _positive(quantity)
    with transaction.atomic():
        allocation = (
            Allocation.objects.select_for_update()
            .select_related("stock__bin")
            .get(pk=allocation_id)
        )
        if allocation.state not in (AllocationState.RESERVED, AllocationState.PICKED):
            raise StockError(_("This reservation is no longer open."))
        if allocation.picked + quantity > allocation.quantity:
            raise StockError(
                _("Too many: %(left)d left to pick.")
                % {"left": allocation.quantity - allocation.picked}
            )
        rows, staging = _rows_for([allocation])
        _move_to_packing(allocation, quantity, rows, staging, actor)
        return allocation


def pick_all(*, group: str, actor=None) -> int:
    """Pick whatever of `group` is still in its bins (the whole demand is now picked).
    Refused while a line still waits for stock, and when nothing was ever reserved; a demand
    whose parts have all shipped already (INV-5) has nothing left to pick. Returns the units
    picked now."""
    with transaction.atomic():
        allocations = _locked_allocations(group, [AllocationState.RESERVED, AllocationState.PICKED])
        rows, staging = _rows_for(allocations) if allocations else ({}, {})
        if Backorder.objects.filter(
            group=group, filled_at__isnull=True, cancelled_at__isnull=True
        ).exists():
            raise StockError(_("Some lines still wait for stock."))
        if not allocations:
            if Allocation.objects.filter(group=group, state=AllocationState.SHIPPED).exists():
                return 0
            raise StockError(_("Nothing is reserved to pick."))
        picked = 0
        for allocation in allocations:
            remaining = allocation.quantity - allocation.picked
            if remaining:
                _move_to_packing(allocation, remaining, rows, staging, actor)
                picked += remaining
        return picked


def ship(*, group: str, actor=None, part: str = "", missing_ok: bool = False) -> int:
    """Consume the picked units of `group` at shipment: they leave the packing area and the
    warehouse. With `part`, only the allocations of that part (one warehouse's parcels of an
    order split across warehouses, INV-6, or what left first of an order shipped as its stock
    arrives, INV-5). Every reservation shipped must be fully picked. Returns the units shipped;
    nothing left to ship is refused unless `missing_ok` (the last part was already consumed at
    its hand-over)."""
    with transaction.atomic():
        allocations = _locked_allocations(group, [AllocationState.RESERVED, AllocationState.PICKED])
        if part:
            allocations = [a for a in allocations if a.part == part]
        if not allocations:
            if missing_ok:
                return 0
            raise StockError(_("Nothing is waiting to ship."))
        if any(a.picked < a.quantity for a in allocations):
            raise StockError(_("Not everything has been picked yet."))
        rows, staging = _rows_for(allocations)
        for allocation in allocations:
            staged = rows[(allocation.stock.sku_id, staging[allocation.stock.bin.warehouse_id])]
            _record(
                staged,
                kind=MovementKind.SHIPMENT,
                on_hand=-allocation.quantity,
                reserved=-allocation.quantity,
                actor=actor,
                reference=("demand_line", allocation.line),
            )
            allocation.state = AllocationState.SHIPPED
            allocation.save(update_fields=["state"])
        return sum(a.quantity for a in allocations)


# --- goods in and out, corrections -------------------------------------------------------------
def _put_away(
    *, kind: str, sku_id: int, bin_id: int, quantity: int, actor, reference, reason: str
) -> Stock:
    _positive(quantity)
    _storage_bin(bin_id)
    with transaction.atomic():
        row = _lock_rows([(sku_id, bin_id)])[(sku_id, bin_id)]
        _record(row, kind=kind, on_hand=quantity, actor=actor, reason=reason, reference=reference)
        record_staff_action(
            actor=actor,
            action=f"stock.{kind}",
            target=lambda: row.sku,
            reason=reason,
            label=lambda: f"{row.sku.code} @ {row.bin.code}",
            before={"on_hand": row.on_hand - quantity},
            after={"on_hand": row.on_hand},
        )
        _after_change([sku_id], freed=True, actor=actor)
        return row


def receive(
    *,
    sku_id: int,
    bin_id: int,
    quantity: int,
    actor=None,
    reference: tuple[str, str] = ("", ""),
    reason: str = "",
) -> Stock:
    """Goods arrive in a bin (INV-7); waiting backorders get them first (INV-5)."""
    return _put_away(
        kind=MovementKind.RECEIPT,
        sku_id=sku_id,
        bin_id=bin_id,
        quantity=quantity,
        actor=actor,
        reference=reference,
        reason=reason,
    )


def receive_many(
    *,
    lines: Sequence[tuple[int, int, int]],
    actor=None,
    reference: tuple[str, str] = ("", ""),
    reason: str = "",
) -> int:
    """Receive many (sku_id, bin_id, quantity) lines at once — a delivery or an opening-stock
    file — in one transaction with batched writes. All or nothing. Returns the units."""
    if not lines:
        raise StockError(_("Nothing to receive."))
    for _sku, _bin, quantity in lines:
        _positive(quantity)
    bin_ids = {bin_id for _sku, bin_id, _quantity in lines}
    if Bin.objects.filter(pk__in=bin_ids, is_staging=False).count() != len(bin_ids):
        raise StockError(_("There is no such bin."))
    with transaction.atomic():
        rows = _lock_rows((sku_id, bin_id) for sku_id, bin_id, _quantity in lines)
        movements = []
        for sku_id, bin_id, quantity in lines:
            rows[(sku_id, bin_id)].on_hand += quantity
            movements.append(
                StockMovement(
                    kind=MovementKind.RECEIPT,
                    sku_id=sku_id,
                    bin_id=bin_id,
                    on_hand_change=quantity,
                    actor=actor,
                    reason=reason,
                    reference_type=reference[0],
                    reference_id=str(reference[1]),
                )
            )
        touched = {(sku_id, bin_id) for sku_id, bin_id, _quantity in lines}
        Stock.objects.bulk_update([rows[key] for key in touched], ["on_hand"], batch_size=500)
        StockMovement.objects.bulk_create(movements, batch_size=1000)
        _after_change({sku_id for sku_id, _bin, _quantity in lines}, freed=True, actor=actor)
    return sum(quantity for _sku, _bin, quantity in lines)


def return_to_stock(
    *,
    sku_id: int,
    bin_id: int,
    quantity: int,
    actor=None,
    reference: tuple[str, str] = ("", ""),
    reason: str = "",
) -> Stock:
    """Sellable goods sent back by a customer go back on the shelf (AFS-3)."""
    return _put_away(
        kind=MovementKind.RETURN,
        sku_id=sku_id,
        bin_id=bin_id,
        quantity=quantity,
        actor=actor,
        reference=reference,
        reason=reason,
    )


def _take_available(row: Stock, quantity: int) -> None:
    if quantity > row.available:
        raise StockError(
            _(
                "Only %(available)d unit(s) in bin %(bin)s are free to move; "
                "%(reserved)d are reserved."
            )
            % {"available": row.available, "bin": row.bin.code, "reserved": row.reserved}
        )


def write_off(*, sku_id: int, bin_id: int, quantity: int, actor, reason: str) -> Stock:
    """Damaged or lost goods leave the stock. Reserved units cannot be written off."""
    _positive(quantity)
    reason = _reason_required(reason)
    bin_ = _storage_bin(bin_id)
    with transaction.atomic():
        row = _lock_rows([(sku_id, bin_id)])[(sku_id, bin_id)]
        row.bin = bin_
        _take_available(row, quantity)
        _record(row, kind=MovementKind.WRITE_OFF, on_hand=-quantity, actor=actor, reason=reason)
        record_staff_action(
            actor=actor,
            action="stock.write_off",
            target=lambda: row.sku,
            reason=reason,
            label=lambda: f"{row.sku.code} @ {row.bin.code}",
            before={"on_hand": row.on_hand + quantity},
            after={"on_hand": row.on_hand},
        )
        _after_change([sku_id], freed=False)
        return row


def adjust(*, sku_id: int, bin_id: int, change: int, actor, reason: str) -> Stock:
    """Correct the on-hand of a bin by `change` units (positive or negative), with a reason."""
    if change == 0:
        raise StockError(_("An adjustment must change the quantity."))
    reason = _reason_required(reason)
    bin_ = _storage_bin(bin_id)
    with transaction.atomic():
        row = _lock_rows([(sku_id, bin_id)])[(sku_id, bin_id)]
        row.bin = bin_
        if change < 0:
            _take_available(row, -change)
        _record(row, kind=MovementKind.ADJUSTMENT, on_hand=change, actor=actor, reason=reason)
        record_staff_action(
            actor=actor,
            action="stock.adjust",
            target=lambda: row.sku,
            reason=reason,
            label=lambda: f"{row.sku.code} @ {row.bin.code}",
            before={"on_hand": row.on_hand - change},
            after={"on_hand": row.on_hand},
        )
        _after_change([sku_id], freed=change > 0, actor=actor)
        return row


def transfer(
    *, sku_id: int, from_bin_id: int, to_bin_id: int, quantity: int, actor, reason: str = ""
) -> tuple[Stock, Stock]:
    """Move free units between two bins, in one warehouse or between warehouses."""
    _positive(quantity)
    if from_bin_id == to_bin_id:
        raise StockError(_("Choose two different bins."))
    source_bin, _target_bin = _storage_bin(from_bin_id), _storage_bin(to_bin_id)
    with transaction.atomic():
        rows = _lock_rows([(sku_id, from_bin_id), (sku_id, to_bin_id)])
        source, target = rows[(sku_id, from_bin_id)], rows[(sku_id, to_bin_id)]
        source.bin = source_bin
        _take_available(source, quantity)
        _record(source, kind=MovementKind.TRANSFER, on_hand=-quantity, actor=actor, reason=reason)
        _record(target, kind=MovementKind.TRANSFER, on_hand=quantity, actor=actor, reason=reason)
        record_staff_action(
            actor=actor,
            action="stock.transfer",
            target=lambda: source.sku,
            reason=reason,
            label=lambda: f"{source.sku.code} {source.bin.code} → {target.bin.code}",
            after={"quantity": quantity},
        )
        _after_change([sku_id], freed=False)
        return source, target


def post_stock_take(
    *,
    bin_id: int,
    counts: dict[int, int],
    actor,
    reason: str,
    counted_since: int | None = None,
) -> list[StockMovement]:
    """Post a count of one bin (盘点): every SKU counted at a different quantity than the books
    say gets a stock-take movement for the difference. SKUs on the books but not in `counts`
    are counted as 0. A count below the units reserved there is refused: those units are
    promised to orders and must be released or re-allocated first.

    `counted_since` is the bin's last on-hand ledger row when counting began
    (`selectors.last_movement_id`): if goods came or went since, the count is refused, since
    posting it would undo those movements."""
    reason = _reason_required(reason)
    bin_ = _storage_bin(bin_id)
    if any(quantity < 0 for quantity in counts.values()):
        raise StockError(_("A count cannot be negative."))
    with transaction.atomic():
        booked = set(Stock.objects.filter(bin_id=bin_id).values_list("sku_id", flat=True))
        rows = _lock_rows((sku_id, bin_id) for sku_id in booked | set(counts))
        rows = {key: row for key, row in rows.items() if key[1] == bin_id}
        if (
            counted_since is not None
            and StockMovement.objects.filter(bin_id=bin_id, pk__gt=counted_since)
            .exclude(on_hand_change=0)
            .exists()
        ):
            raise StockError(
                _("Goods came into or left bin %(bin)s while it was counted: count it again.")
                % {"bin": bin_.code}
            )
        movements = []
        for (sku_id, _bin), row in sorted(rows.items()):
            counted = counts.get(sku_id, 0)
            if counted < row.reserved:
                raise StockError(
                    _("Bin %(bin)s: %(counted)d counted but %(reserved)d are reserved for orders.")
                    % {"bin": bin_.code, "counted": counted, "reserved": row.reserved}
                )
            difference = counted - row.on_hand
            if difference:
                movements.append(
                    _record(
                        row,
                        kind=MovementKind.STOCK_TAKE,
                        on_hand=difference,
                        actor=actor,
                        reason=reason,
                        reference=("stock_take", str(bin_id)),
                    )
                )
        record_staff_action(
            actor=actor,
            action="stock.stock_take",
            target=bin_,
            reason=reason,
            after={"changes": {m.sku_id: m.on_hand_change for m in movements}},
        )
        if movements:
            found = any(m.on_hand_change > 0 for m in movements)
            _after_change({m.sku_id for m in movements}, freed=found, actor=actor)
        return movements


def set_threshold(*, sku_id: int, warehouse_id: int | None, threshold: int, actor) -> None:
    """Set the low-stock threshold of a SKU (in one warehouse, or over all with None); 0
    removes it. The SKU's alerts are re-checked at once."""
    if threshold < 0:
        raise StockError(_("A threshold cannot be negative."))
    with transaction.atomic():
        record_staff_action(
            actor=actor,
            action="stock.set_threshold",
            target=lambda: SKU.objects.get(pk=sku_id),
            after={"warehouse_id": warehouse_id, "threshold": threshold},
        )
        if threshold == 0:
            StockThreshold.objects.filter(sku_id=sku_id, warehouse_id=warehouse_id).delete()
            StockAlert.objects.filter(
                sku_id=sku_id, scope=StockAlert.scope_for(warehouse_id), cleared_at__isnull=True
            ).update(cleared_at=timezone.now())
            return
        StockThreshold.objects.update_or_create(
            sku_id=sku_id, warehouse_id=warehouse_id, defaults={"threshold": threshold}
        )
        _check_alerts([sku_id])
