"""Random sequences of stock services keep the books (INV-3, INV-4, INV-6).

A Hypothesis state machine drives receive, reserve, release, pick, ship, write-off,
adjustment, transfer, stock-take and return-to-stock over a small fixed world (two warehouses,
five storage bins, three SKUs) and keeps its own model of every stock row and allocation.
After every step it checks that:

- every stock row has 0 ≤ reserved ≤ on-hand, and each packing-area row holds only promised
  units (on-hand = reserved);
- the rows equal the model, and `ledger_differences()` is empty (INV-4);
- `availability()` per SKU equals received + returned ± adjustments and counts − written off
  − shipped − still promised;
- the units reserved per SKU equal the open allocations, and picked ≤ quantity for each;
- allocations equal the model (state, picked), so a released or shipped demand stays closed.

The model also says which operations the rules refuse (more than is free, over-picking,
shipping before everything is picked, a count below what is reserved, no reason, …): a service
must refuse exactly those with a `StockError` and change nothing when it does. A reservation
must be all or nothing (INV-3) and drawn as INV-6 says: from the first warehouse (by code, no
region given) that has the whole demand, else across warehouses; bins in walking order.

Each example starts from empty stock; the catalogue, warehouses and bins are made once.
"""

import os
from collections import defaultdict
from dataclasses import dataclass

import pytest
from django.db.models import Count, Max
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from inventory import services
from inventory.ledger import ledger_differences
from inventory.models import Allocation, AllocationState, Bin, Stock, StockMovement
from inventory.selectors import availability
from inventory.services import DemandLine, OutOfStock, StockError
from tests.factories import BinFactory, SKUFactory, UserFactory, WarehouseFactory

# Not transactional: each service's atomic block is then a savepoint, and a refusal rolls back
# to it just as a transaction would; the examples run several times faster.
pytestmark = pytest.mark.django_db

# 30 examples of up to 20 steps: about 10 s on SQLite and 15 s on PostgreSQL on two cores.
# A failure is reported at once with the steps that led to it. Shrinking it to the fewest steps
# replays sequences against the database for up to five minutes, so it is asked for:
# HYPOTHESIS_SHRINK=1 (with the `@reproduce_failure` line the failure printed, to start there).
MACHINE_SETTINGS = settings(
    max_examples=30,
    stateful_step_count=20,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the working tree
    print_blob=True,
    phases=[p for p in Phase if p != Phase.shrink or os.environ.get("HYPOTHESIS_SHRINK") == "1"],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SKU_COUNT = 3
# Walking orders deliberately differ from the order of creation.
WALK_ORDERS = {"PA": (30, 10, 20), "PB": (20, 10)}
STORAGE_BIN_COUNT = sum(len(walks) for walks in WALK_ORDERS.values())
OPEN = (AllocationState.RESERVED, AllocationState.PICKED)
REFUSED = object()

skus = st.integers(0, SKU_COUNT - 1)
storage_bins = st.integers(0, STORAGE_BIN_COUNT - 1)
# One past the storage bins stands for a packing-area bin, which takes no goods directly.
any_bins = st.integers(0, STORAGE_BIN_COUNT)
reasons = st.sampled_from(["Damaged in the bin", "Recounted", "Found behind the shelf", ""])
# Which demand or allocation, counted back from the newest (modulo how many there are), so
# that the steps of one order (reserve, pick, ship) often follow one another.
recent = st.integers(0, 3)
# Whether a quantity taken out of a bin is cut down to what is free there (when any is): half
# the attempts fit, half may ask for too much.
within_free = st.booleans()
# Any demand (modulo how many there are): releases often find one already closed.
any_one = st.integers(0, 1_000)


@dataclass(frozen=True)
class World:
    sku_ids: tuple[int, ...]
    warehouse_ids: tuple[int, ...]  # by code: the preference when no region is given
    storage_bin_ids: tuple[int, ...]
    bins_in_walking_order: dict[int, tuple[int, ...]]  # warehouse → its storage bins
    warehouse_of: dict[int, int]  # bin → warehouse, packing areas included
    staging_of: dict[int, int]  # warehouse → its packing-area bin
    clerk: object  # the warehouse user who does everything


@dataclass
class ModelAllocation:
    group: str
    line: str
    sku_id: int
    bin_id: int
    quantity: int
    picked: int = 0
    state: str = AllocationState.RESERVED

    @property
    def is_open(self) -> bool:
        return self.state in OPEN


def make_world() -> World:
    warehouses, bins_in_walking_order, warehouse_of, staging_of = [], {}, {}, {}
    for code, walks in WALK_ORDERS.items():
        warehouse = WarehouseFactory(code=code)
        warehouses.append(warehouse.pk)
        bins = [BinFactory(warehouse=warehouse, walk_order=walk) for walk in walks]
        bins.sort(key=lambda b: (b.walk_order, b.code, b.pk))
        bins_in_walking_order[warehouse.pk] = tuple(b.pk for b in bins)
        staging = Bin.objects.create(
            warehouse=warehouse, code="STAGING", walk_order=999_999, is_staging=True
        )
        staging_of[warehouse.pk] = staging.pk
        for bin_id in [*bins_in_walking_order[warehouse.pk], staging.pk]:
            warehouse_of[bin_id] = warehouse.pk
    return World(
        sku_ids=tuple(SKUFactory().pk for _ in range(SKU_COUNT)),
        warehouse_ids=tuple(warehouses),
        storage_bin_ids=tuple(b for w in warehouses for b in bins_in_walking_order[w]),
        bins_in_walking_order=bins_in_walking_order,
        warehouse_of=warehouse_of,
        staging_of=staging_of,
        clerk=UserFactory(role="warehouse"),
    )


def books_snapshot() -> tuple:
    """Everything a stock service may change."""
    return (
        sorted(Stock.objects.values_list("sku_id", "bin_id", "on_hand", "reserved")),
        StockMovement.objects.aggregate(count=Count("pk"), last=Max("pk")),
        sorted(Allocation.objects.values_list("pk", "quantity", "picked", "state")),
    )


class StockBooks(RuleBasedStateMachine):
    world: World  # set by the test

    def __init__(self):
        super().__init__()
        Allocation.objects.all().delete()
        StockMovement.objects.all().delete()
        Stock.objects.all().delete()
        w = self.world
        self.rows: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
        self.allocations: dict[int, ModelAllocation] = {}
        self.groups: list[str] = []
        self.came_in = dict.fromkeys(w.sku_ids, 0)  # receipts, returns, adjustments, counts
        self.written_off = dict.fromkeys(w.sku_ids, 0)
        self.shipped = dict.fromkeys(w.sku_ids, 0)

    # --- helpers --------------------------------------------------------------------------
    @property
    def clerk(self):
        return self.world.clerk

    def free(self, sku_id: int, bin_id: int) -> int:
        on_hand, reserved = self.rows.get((sku_id, bin_id), (0, 0))
        return on_hand - reserved

    def change(self, sku_id: int, bin_id: int, *, on_hand: int = 0, reserved: int = 0) -> None:
        row = self.rows[(sku_id, bin_id)]
        row[0] += on_hand
        row[1] += reserved

    def take_from(self, sku: int, where: int, wanted: int, within: bool) -> tuple[int, int, int]:
        """(sku_id, bin_id, quantity) to take out of a storage bin. With `within`, a bin with free
        units of the SKU is chosen if there is one, and no more than is free there is taken."""
        w = self.world
        sku_id, bin_id = w.sku_ids[sku], w.storage_bin_ids[where]
        if within:
            stocked = [b for b in w.storage_bin_ids if self.free(sku_id, b) > 0]
            if stocked:
                bin_id = stocked[where % len(stocked)]
                wanted = min(wanted, self.free(sku_id, bin_id))
        return sku_id, bin_id, wanted

    def group_allocations(self, group: str) -> list[ModelAllocation]:
        return [a for a in self.allocations.values() if a.group == group]

    def attempt(self, refused: bool, service, *, error: type[StockError] = StockError, **kwargs):
        """Call `service(**kwargs)`: a `StockError` must come exactly when the model says the
        rules refuse, and then leave the books as they were."""
        before = books_snapshot() if refused else None  # an unforeseen refusal fails anyway
        try:
            result = service(**kwargs)
        except StockError as exc:
            event(f"{service.__name__}: refused")
            assert refused, f"{service.__name__} refused although the rules allow it: {exc}"
            assert isinstance(exc, error), f"expected {error.__name__}, got {exc!r}"
            assert books_snapshot() == before, f"the refusal ({exc}) changed the books"
            return REFUSED
        event(f"{service.__name__}: done")
        assert not refused, f"{service.__name__} done although the rules refuse it"
        return result

    # --- goods in -------------------------------------------------------------------------
    def _goods_in(self, service, sku: int, where: int, quantity: int) -> None:
        w = self.world
        sku_id = w.sku_ids[sku]
        if where < STORAGE_BIN_COUNT:
            bin_id = w.storage_bin_ids[where]
        else:
            bin_id = w.staging_of[w.warehouse_ids[0]]
        result = self.attempt(
            bin_id not in w.storage_bin_ids,
            service,
            sku_id=sku_id,
            bin_id=bin_id,
            quantity=quantity,
            actor=self.clerk,
        )
        if result is not REFUSED:
            self.change(sku_id, bin_id, on_hand=quantity)
            self.came_in[sku_id] += quantity

    @initialize(
        opening=st.lists(st.tuples(skus, storage_bins, st.integers(1, 20)), min_size=3, max_size=8)
    )
    def opening_stock(self, opening):
        for sku, where, quantity in opening:
            self._goods_in(services.receive, sku, where, quantity)

    @rule(sku=skus, where=any_bins, quantity=st.integers(1, 10))
    def receive(self, sku, where, quantity):
        self._goods_in(services.receive, sku, where, quantity)

    @rule(sku=skus, where=any_bins, quantity=st.integers(1, 4))
    def return_to_stock(self, sku, where, quantity):
        self._goods_in(services.return_to_stock, sku, where, quantity)

    # --- demand ---------------------------------------------------------------------------
    def plan_reservation(self, lines: list[DemandLine]):
        """What INV-3/INV-6 say `reserve` does: (shortages, [(line, bin, units)])."""
        w = self.world
        wanted: dict[int, int] = defaultdict(int)
        for line in lines:
            wanted[line.sku_id] += line.quantity
        free = {(s, b): self.free(s, b) for s in w.sku_ids for b in w.storage_bin_ids}

        def free_in(warehouse_id, sku_id):
            return sum(free[(sku_id, b)] for b in w.bins_in_walking_order[warehouse_id])

        total = {s: sum(free_in(wh, s) for wh in w.warehouse_ids) for s in wanted}
        shortages = {(s, units, total[s]) for s, units in wanted.items() if total[s] < units}
        if shortages:
            return shortages, None
        whole = [
            wh
            for wh in w.warehouse_ids
            if all(free_in(wh, s) >= units for s, units in wanted.items())
        ]
        order = whole[:1] or list(w.warehouse_ids)
        plan = []
        for line in lines:
            remaining = line.quantity
            for warehouse_id in order:
                for bin_id in w.bins_in_walking_order[warehouse_id]:
                    take = min(remaining, free[(line.sku_id, bin_id)])
                    if take > 0:
                        free[(line.sku_id, bin_id)] -= take
                        plan.append((line.line, bin_id, take))
                        remaining -= take
        return set(), plan

    @rule(wants=st.lists(st.tuples(skus, st.integers(1, 12)), min_size=1, max_size=3))
    def reserve(self, wants):
        self._reserve(wants)

    @rule(sku=skus, quantity=st.integers(1, 3))
    def reserve_one_line(self, sku, quantity):
        """Most orders are one small line; a second way in keeps orders (and shipments) common."""
        self._reserve([(sku, quantity)])

    def _reserve(self, wants: list[tuple[int, int]]) -> None:
        w = self.world
        group = f"order:{len(self.groups) + 1}"
        lines = [
            DemandLine(f"{group}:line:{i}", w.sku_ids[sku], quantity)
            for i, (sku, quantity) in enumerate(wants, start=1)
        ]
        shortages, plan = self.plan_reservation(lines)
        reservation = self.attempt(
            bool(shortages), services.reserve, group=group, lines=lines, error=OutOfStock
        )
        if reservation is REFUSED:
            return
        got = [
            (a.line, a.stock.bin_id, a.quantity)
            for allocations in reservation.by_warehouse.values()
            for a in allocations
        ]
        assert sorted(got) == sorted(plan), "not drawn as INV-6 says"
        assert sorted(reservation.warehouse_ids) == sorted(
            {w.warehouse_of[b] for _l, b, _q in plan}
        )
        self.groups.append(group)
        created = Allocation.objects.filter(group=group).select_related("stock").order_by("pk")
        assert sorted((a.line, a.stock.bin_id, a.quantity) for a in created) == sorted(plan)
        for allocation in created:
            sku_id, bin_id = allocation.stock.sku_id, allocation.stock.bin_id
            self.allocations[allocation.pk] = ModelAllocation(
                group, allocation.line, sku_id, bin_id, allocation.quantity
            )
            self.change(sku_id, bin_id, reserved=allocation.quantity)

    @precondition(lambda self: self.groups)
    @rule(which=any_one)
    def release(self, which):
        group = self.groups[which % len(self.groups)]
        open_ = [a for a in self.group_allocations(group) if a.is_open]
        released = self.attempt(False, services.release, group=group, reason="Cancelled")
        assert released == sum(a.quantity for a in open_)
        for a in open_:
            staging = self.world.staging_of[self.world.warehouse_of[a.bin_id]]
            self.change(a.sku_id, a.bin_id, reserved=-(a.quantity - a.picked), on_hand=a.picked)
            self.change(a.sku_id, staging, on_hand=-a.picked, reserved=-a.picked)
            a.state = AllocationState.RELEASED
        if open_:
            before = books_snapshot()
            assert services.release(group=group, reason="Cancelled twice") == 0
            assert books_snapshot() == before, "releasing a released demand changed the books"
            self.attempt(True, services.ship, group=group, actor=self.clerk)

    def _pick(self, allocation_id: int, quantity: int) -> None:
        a = self.allocations[allocation_id]
        refused = not a.is_open or quantity < 1 or a.picked + quantity > a.quantity
        result = self.attempt(
            refused, services.pick, allocation_id=allocation_id, quantity=quantity, actor=self.clerk
        )
        if result is REFUSED:
            return
        staging = self.world.staging_of[self.world.warehouse_of[a.bin_id]]
        self.change(a.sku_id, a.bin_id, on_hand=-quantity, reserved=-quantity)
        self.change(a.sku_id, staging, on_hand=quantity, reserved=quantity)
        a.picked += quantity
        a.state = AllocationState.PICKED
        assert (result.picked, result.state) == (a.picked, a.state)

    @precondition(lambda self: self.allocations)
    @rule(which=recent, how=st.sampled_from(["rest", "some", "too many"]), units=st.integers(1, 3))
    def pick(self, which, how, units):
        ids = sorted(self.allocations)
        allocation_id = ids[-1 - which % len(ids)]
        a = self.allocations[allocation_id]
        left = a.quantity - a.picked
        quantity = {"rest": left or units, "some": min(units, left) or units}.get(how, left + units)
        self._pick(allocation_id, quantity)

    @precondition(lambda self: self.groups)
    @rule(which=recent, pick_the_rest_first=st.sampled_from([True, True, False]))
    def ship(self, which, pick_the_rest_first):
        """Ship one of the newest open demands (any demand when none is open), mostly after
        picking what is left of it: else shipments would seldom find everything picked."""
        open_groups = [
            g for g in self.groups if any(a.is_open for a in self.group_allocations(g))
        ] or self.groups
        group = open_groups[-1 - which % len(open_groups)]
        if pick_the_rest_first:
            for allocation_id, a in sorted(self.allocations.items()):
                if a.group == group and a.is_open and a.picked < a.quantity:
                    self._pick(allocation_id, a.quantity - a.picked)
        open_ = [a for a in self.group_allocations(group) if a.is_open]
        refused = not open_ or any(a.picked < a.quantity for a in open_)
        shipped = self.attempt(refused, services.ship, group=group, actor=self.clerk)
        if shipped is REFUSED:
            return
        assert shipped == sum(a.quantity for a in open_)
        for a in open_:
            staging = self.world.staging_of[self.world.warehouse_of[a.bin_id]]
            self.change(a.sku_id, staging, on_hand=-a.quantity, reserved=-a.quantity)
            self.shipped[a.sku_id] += a.quantity
            a.state = AllocationState.SHIPPED
        self.attempt(True, services.ship, group=group, actor=self.clerk)
        assert self.attempt(False, services.release, group=group, reason="Too late") == 0

    # --- corrections ----------------------------------------------------------------------
    @rule(
        sku=skus, where=storage_bins, quantity=st.integers(1, 6), within=within_free, reason=reasons
    )
    def write_off(self, sku, where, quantity, within, reason):
        sku_id, bin_id, quantity = self.take_from(sku, where, quantity, within)
        refused = not reason or quantity > self.free(sku_id, bin_id)
        result = self.attempt(
            refused,
            services.write_off,
            sku_id=sku_id,
            bin_id=bin_id,
            quantity=quantity,
            actor=self.clerk,
            reason=reason,
        )
        if result is not REFUSED:
            self.change(sku_id, bin_id, on_hand=-quantity)
            self.written_off[sku_id] += quantity

    @rule(
        sku=skus, where=storage_bins, change=st.integers(-5, 5), within=within_free, reason=reasons
    )
    def adjust(self, sku, where, change, within, reason):
        if change < 0:
            sku_id, bin_id, taken = self.take_from(sku, where, -change, within)
            change = -taken
        else:
            sku_id, bin_id = self.world.sku_ids[sku], self.world.storage_bin_ids[where]
        refused = not reason or change == 0 or -change > self.free(sku_id, bin_id)
        result = self.attempt(
            refused,
            services.adjust,
            sku_id=sku_id,
            bin_id=bin_id,
            change=change,
            actor=self.clerk,
            reason=reason,
        )
        if result is not REFUSED:
            self.change(sku_id, bin_id, on_hand=change)
            self.came_in[sku_id] += change

    @rule(
        sku=skus,
        origin=storage_bins,
        destination=storage_bins,
        quantity=st.integers(1, 6),
        within=within_free,
    )
    def transfer(self, sku, origin, destination, quantity, within):
        sku_id, from_bin, quantity = self.take_from(sku, origin, quantity, within)
        to_bin = self.world.storage_bin_ids[destination]
        refused = from_bin == to_bin or quantity > self.free(sku_id, from_bin)
        result = self.attempt(
            refused,
            services.transfer,
            sku_id=sku_id,
            from_bin_id=from_bin,
            to_bin_id=to_bin,
            quantity=quantity,
            actor=self.clerk,
            reason="Replenish the pick face",
        )
        if result is not REFUSED:
            self.change(sku_id, from_bin, on_hand=-quantity)
            self.change(sku_id, to_bin, on_hand=quantity)

    @rule(
        where=storage_bins,
        # The count's difference from the books per SKU; None: the SKU is not counted (= 0).
        differences=st.lists(
            st.sampled_from([0, 0, 1, -1, 2, -3, None]), min_size=SKU_COUNT, max_size=SKU_COUNT
        ),
        reason=reasons,
    )
    def post_stock_take(self, where, differences, reason):
        w = self.world
        bin_id = w.storage_bin_ids[where]
        counts = {
            sku_id: max(0, self.rows.get((sku_id, bin_id), (0, 0))[0] + difference)
            for sku_id, difference in zip(w.sku_ids, differences, strict=True)
            if difference is not None
        }
        booked = {s: self.rows.get((s, bin_id), (0, 0)) for s in w.sku_ids}
        refused = not reason or any(
            counts.get(s, 0) < reserved for s, (_o, reserved) in booked.items()
        )
        movements = self.attempt(
            refused,
            services.post_stock_take,
            bin_id=bin_id,
            counts=counts,
            actor=self.clerk,
            reason=reason,
        )
        if movements is REFUSED:
            return
        expected = {
            (s, bin_id, counts.get(s, 0) - on_hand)
            for s, (on_hand, _r) in booked.items()
            if counts.get(s, 0) != on_hand
        }
        posted = {(m.sku_id, m.bin_id, m.on_hand_change) for m in movements}
        assert posted == expected, "a count posts the differences of the counted bin, only"
        for sku_id, _bin, difference in expected:
            self.change(sku_id, bin_id, on_hand=difference)
            self.came_in[sku_id] += difference

    # --- what must hold after every step --------------------------------------------------
    @invariant()
    def books_balance(self):
        w = self.world
        rows = list(Stock.objects.values_list("sku_id", "bin_id", "on_hand", "reserved"))
        for sku_id, bin_id, on_hand, reserved in rows:
            assert on_hand >= 0 and 0 <= reserved <= on_hand, (sku_id, bin_id, on_hand, reserved)
            if bin_id in w.staging_of.values():
                assert on_hand == reserved, "unpromised units in a packing area"
        assert {(s, b): (o, r) for s, b, o, r in rows if (o, r) != (0, 0)} == {
            key: tuple(row) for key, row in self.rows.items() if row != [0, 0]
        }
        assert ledger_differences() == []

        allocations = {
            pk: (group, line, sku_id, bin_id, quantity, picked, state)
            for pk, group, line, sku_id, bin_id, quantity, picked, state in (
                Allocation.objects.values_list(
                    "pk", "group", "line", "stock__sku_id", "stock__bin_id", "quantity", "picked",
                    "state",
                )
            )
        }  # fmt: skip
        assert all(picked <= quantity for *_, quantity, picked, _state in allocations.values())
        assert allocations == {
            pk: (a.group, a.line, a.sku_id, a.bin_id, a.quantity, a.picked, a.state)
            for pk, a in self.allocations.items()
        }

        promised = dict.fromkeys(w.sku_ids, 0)
        for a in self.allocations.values():
            if a.is_open:
                promised[a.sku_id] += a.quantity
        reserved = dict.fromkeys(w.sku_ids, 0)
        for sku_id, _bin, _on_hand, units in rows:
            reserved[sku_id] += units
        assert reserved == promised
        assert availability(sku_ids=w.sku_ids) == {
            s: self.came_in[s] - self.written_off[s] - self.shipped[s] - promised[s]
            for s in w.sku_ids
        }


def test_random_sequences_of_stock_services_keep_the_books():
    machine = type("StockBooksInTestWorld", (StockBooks,), {"world": make_world()})
    run_state_machine_as_test(machine, settings=MACHINE_SETTINGS)
