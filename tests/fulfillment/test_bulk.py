"""Promotion day (FUL-7, issue 7 §8): bulk release and hold, bulk pick lists and bulk labels over
thousands of orders in a bounded number of queries, and the pre-event stock check against
figures worked out by hand."""

import csv
import io
import math
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from core.models import StaffAction
from fulfillment import bulk, document_jobs, selectors, services
from fulfillment.models import (
    DocumentJob,
    DocumentKind,
    Fulfillment,
    FulfillmentState,
    PackageType,
    Parcel,
    SizeFilter,
    Wave,
)
from fulfillment.readiness import readiness
from inventory import services as inventory_services
from inventory.models import Allocation, Backorder, RegionPriority, Stock
from orders import services as order_services
from orders.models import Order, OrderEvent, OrderEventKind, OrderState, ShippingService
from tests.factories import SKUFactory, UserFactory, make_address, make_order, stock_sku

from .kit import make_floor, paid_order, stocked

pytestmark = pytest.mark.django_db

BIG = 2_000


@pytest.fixture
def floor():
    return make_floor()


@pytest.fixture
def planner():
    return UserFactory(role=Role.WAREHOUSE)


@pytest.fixture
def planner_client(client, planner):
    client.force_login(planner)
    return client


def seed_paid_orders(warehouse, count, *, held=False, units=1, tag="P"):
    """`count` paid orders, each with its fulfillment in `warehouse`, oldest first, inserted in
    bulk. Placing them through `make_order` (order, lines, reservation, payment, events) would
    take minutes for 2,000; the queue and the bulk services read only the order's state and
    review flag and the fulfillment's own columns, which these rows have."""
    customer = UserFactory(role=Role.CUSTOMER)
    start = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    address = vars(make_address())
    orders = Order.objects.bulk_create(
        [
            Order(
                number=f"{tag}{warehouse.pk:03d}{i:07d}",
                customer=customer,
                goods_amount=Decimal("10.00"),
                total_amount=Decimal("10.00"),
                paid_amount=Decimal("10.00"),
                state=OrderState.PAID,
                created_at=start,
                paid_at=start,
                **address,
            )
            for i in range(count)
        ],
        batch_size=500,
    )
    return Fulfillment.objects.bulk_create(
        [
            Fulfillment(
                order=order,
                warehouse=warehouse,
                released_at=start + timedelta(seconds=i),
                held=held,
                hold_reason="Promotion" if held else "",
                units=units,
            )
            for i, order in enumerate(orders)
        ],
        batch_size=500,
    )


def event_inserts(count: int) -> int:
    """Statements inserting `count` timeline entries: inserts of 500 rows, fewer on SQLite,
    whose statements take at most 999 parameters."""
    fields = [f for f in OrderEvent._meta.concrete_fields if not f.primary_key]
    per_insert = min(500, connection.ops.bulk_batch_size(fields, [None] * count))
    return math.ceil(count / per_insert)


def trail_statements(count: int) -> int:
    """Statements keeping the staff actions on `count` orders in the audit trail (SEC-4): the
    orders read for their numbers, then inserts of 500 entries, fewer on SQLite."""
    fields = [f for f in StaffAction._meta.concrete_fields if not f.primary_key]
    per_insert = min(500, connection.ops.bulk_batch_size(fields, [None] * count))
    return 1 + math.ceil(count / per_insert)


# --- bulk release and hold --------------------------------------------------------------------
def test_releasing_2000_held_orders_takes_a_bounded_number_of_queries(
    floor, planner, django_assert_max_num_queries
):
    held = seed_paid_orders(floor.warehouse, BIG, held=True)

    # Permissions, select, update, the orders' states, then the timeline entries.
    with django_assert_max_num_queries(8 + event_inserts(BIG) + trail_statements(BIG)):
        released = services.release(actor=planner, warehouse_id=floor.warehouse.pk)

    assert released == BIG
    assert selectors.queue(warehouse_id=floor.warehouse.pk).count() == BIG
    assert (
        OrderEvent.objects.filter(
            kind=OrderEventKind.WAREHOUSE_RELEASED, order_id__in=[f.order_id for f in held]
        ).count()
        == BIG
    )


def test_the_release_form_lets_the_oldest_orders_go_first_in_a_few_queries(
    floor, planner_client, django_assert_max_num_queries
):
    held = seed_paid_orders(floor.warehouse, BIG, held=True)

    with django_assert_max_num_queries(20 + event_inserts(1500) + trail_statements(1500)):
        response = planner_client.post(
            reverse("floor:bulk_release"), {"warehouse": floor.warehouse.pk, "count": 1500}
        )

    assert response.status_code == 302
    still_held = set(
        Fulfillment.objects.filter(held=True).values_list("pk", flat=True).order_by("pk")
    )
    assert still_held == {f.pk for f in held[1500:]}  # the newest 500
    page = planner_client.get(response.url).content.decode()
    assert "1,500 held orders released" in page


def test_release_all_and_nothing_to_release(floor, planner_client):
    seed_paid_orders(floor.warehouse, 3, held=True)

    planner_client.post(
        reverse("floor:bulk_release"), {"warehouse": floor.warehouse.pk, "everything": "on"}
    )
    assert not Fulfillment.objects.filter(held=True).exists()

    response = planner_client.post(
        reverse("floor:bulk_release"),
        {"warehouse": floor.warehouse.pk, "everything": "on"},
        follow=True,
    )
    assert "nothing was released" in response.content.decode()


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "Say how many held orders to release"),
        ({"count": 5, "everything": "on"}, "not both"),
        ({"count": 0}, "greater than or equal to 1"),
        ({"count": "many"}, "Enter a whole number"),
    ],
)
def test_a_bad_release_form_changes_nothing_and_says_why(floor, planner_client, data, message):
    seed_paid_orders(floor.warehouse, 3, held=True)

    response = planner_client.post(
        reverse("floor:bulk_release"), {"warehouse": floor.warehouse.pk, **data}
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Fulfillment.objects.filter(held=True).count() == 3


def test_an_inactive_or_unknown_warehouse_is_refused(floor, planner_client):
    seed_paid_orders(floor.warehouse, 2, held=True)
    closed = make_floor().warehouse
    closed.is_active = False
    closed.save()

    for warehouse in (closed.pk, 999_999, "x"):
        response = planner_client.post(
            reverse("floor:bulk_release"), {"warehouse": warehouse, "everything": "on"}
        )
        assert response.status_code == 400
        assert "Choose an active warehouse" in response.content.decode()
    assert Fulfillment.objects.filter(held=True).count() == 2


def test_holding_the_queue_of_2000_orders_is_a_bounded_number_of_queries(
    floor, planner, django_assert_max_num_queries
):
    seed_paid_orders(floor.warehouse, BIG)
    other = make_floor()
    elsewhere = seed_paid_orders(other.warehouse, 2, tag="E")

    with django_assert_max_num_queries(11 + event_inserts(BIG) + trail_statements(BIG)):
        held = bulk.hold_queue(
            warehouse_id=floor.warehouse.pk, actor=planner, reason="Promotion at 20:00"
        )

    assert held == BIG
    assert selectors.queue(warehouse_id=floor.warehouse.pk).count() == 0
    assert set(Fulfillment.objects.filter(held=True).values_list("hold_reason", flat=True)) == {
        "Promotion at 20:00"
    }
    assert not Fulfillment.objects.filter(pk__in=[f.pk for f in elsewhere], held=True).exists()
    assert OrderEvent.objects.filter(kind=OrderEventKind.WAREHOUSE_HELD).count() == BIG


def test_holding_in_chunks_is_still_all_or_nothing(floor, planner, monkeypatch):
    seed_paid_orders(floor.warehouse, 7)
    monkeypatch.setattr(bulk, "HOLD_CHUNK", 3)

    assert bulk.hold_queue(warehouse_id=floor.warehouse.pk, actor=planner, reason="Later") == 7
    assert OrderEvent.objects.filter(kind=OrderEventKind.WAREHOUSE_HELD).count() == 7


def test_hold_the_oldest_orders_of_the_queue_through_the_form(floor, planner_client):
    fulfillments = seed_paid_orders(floor.warehouse, 5)

    response = planner_client.post(
        reverse("floor:bulk_hold"),
        {"warehouse": floor.warehouse.pk, "reason": "Stock count first", "count": 2},
        follow=True,
    )

    assert "2 orders of the queue" in response.content.decode()
    assert set(Fulfillment.objects.filter(held=True).values_list("pk", flat=True)) == {
        fulfillments[0].pk,
        fulfillments[1].pk,
    }


def test_holding_needs_a_reason_and_an_empty_queue_is_said_so(floor, planner, planner_client):
    seed_paid_orders(floor.warehouse, 2)

    response = planner_client.post(
        reverse("floor:bulk_hold"), {"warehouse": floor.warehouse.pk, "reason": "   "}
    )
    assert response.status_code == 400
    assert not Fulfillment.objects.filter(held=True).exists()

    with pytest.raises(services.FloorRefused, match="Say why"):
        bulk.hold_queue(warehouse_id=floor.warehouse.pk, actor=planner, reason="")
    bulk.hold_queue(warehouse_id=floor.warehouse.pk, actor=planner, reason="Wait")
    with pytest.raises(services.FloorRefused, match="empty"):
        bulk.hold_queue(warehouse_id=floor.warehouse.pk, actor=planner, reason="Wait")


def test_only_planners_may_hold_the_queue(floor):
    seed_paid_orders(floor.warehouse, 2)
    agent = UserFactory(role=Role.SERVICE)

    with pytest.raises(services.FloorRefused, match="not allowed"):
        bulk.hold_queue(warehouse_id=floor.warehouse.pk, actor=agent, reason="No")
    assert not Fulfillment.objects.filter(held=True).exists()


# --- bulk pick lists --------------------------------------------------------------------------
def test_one_pick_list_of_2000_orders_takes_a_bounded_number_of_queries(
    floor, planner, django_assert_max_num_queries
):
    fulfillments = seed_paid_orders(floor.warehouse, BIG)

    with django_assert_max_num_queries(8 + 1):  # + its entry in the audit trail (SEC-4)
        (wave,) = services.create_waves(
            warehouse_id=floor.warehouse.pk, actor=planner, wave_size=BIG, max_waves=1
        )

    assert (wave.order_count, wave.unit_count) == (BIG, BIG)
    assert Fulfillment.objects.filter(wave=wave).count() == BIG
    assert selectors.queue(warehouse_id=floor.warehouse.pk).count() == 0
    assert {f.pk for f in fulfillments} == set(
        Fulfillment.objects.filter(wave=wave).values_list("pk", flat=True)
    )


def test_forty_pick_lists_of_fifty_from_2000_orders_through_the_form(
    floor, planner_client, django_assert_max_num_queries
):
    fulfillments = seed_paid_orders(floor.warehouse, BIG)

    # create_waves: the queue read, one insert of all the lists, one update per list.
    with django_assert_max_num_queries(40 + 20):
        response = planner_client.post(
            reverse("floor:bulk_waves"),
            {
                "warehouse": floor.warehouse.pk,
                "size": SizeFilter.ANY,
                "wave_size": 50,
                "max_waves": 40,
            },
        )

    assert response.status_code == 302
    waves = list(Wave.objects.order_by("pk"))
    assert [w.order_count for w in waves] == [50] * 40
    # Oldest orders first, in the first list; every order in exactly one list.
    first = set(Fulfillment.objects.filter(wave=waves[0]).values_list("pk", flat=True))
    assert first == {f.pk for f in fulfillments[:50]}
    assert Fulfillment.objects.filter(wave__isnull=True).count() == 0

    with django_assert_max_num_queries(12):
        page = planner_client.get(response.url).content.decode()
    assert "40 pick lists made last time: 2000 orders, 2000 units" in page
    assert reverse("floor:pick_list", args=[waves[0].pk]) in page
    assert reverse("floor:batch") in page
    assert page.count('name="ids"') == 40


def test_pick_lists_by_carrier_cut_off_and_size(floor, planner_client):
    singles = seed_paid_orders(floor.warehouse, 4, units=1)
    multis = seed_paid_orders(floor.warehouse, 3, units=3, tag="M")
    Fulfillment.objects.filter(pk=singles[0].pk).update(carrier=None)
    Fulfillment.objects.exclude(pk=singles[0].pk).update(carrier=floor.carrier)
    cutoff = timezone.localtime(singles[2].released_at)

    planner_client.post(
        reverse("floor:bulk_waves"),
        {
            "warehouse": floor.warehouse.pk,
            "carrier": floor.carrier.pk,
            "cutoff": cutoff.strftime("%Y-%m-%dT%H:%M:%S"),
            "size": SizeFilter.SINGLE,
            "wave_size": 1,
            "max_waves": 10,
        },
    )

    picked = set(Fulfillment.objects.filter(wave__isnull=False).values_list("pk", flat=True))
    assert picked == {singles[1].pk, singles[2].pk}
    assert not Fulfillment.objects.filter(pk__in=[f.pk for f in multis], wave__isnull=False)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"wave_size": 0, "max_waves": 1}, "greater than or equal to 1"),
        ({"wave_size": 50, "max_waves": 500}, "less than or equal to 200"),
        ({"wave_size": 50, "max_waves": 1, "size": "huge"}, "Select a valid choice"),
        ({"wave_size": 50, "max_waves": 1, "cutoff": "yesterday"}, "Enter a valid date/time"),
        ({"wave_size": 50, "max_waves": 1, "carrier": 999_999}, "Select a valid choice"),
    ],
)
def test_a_bad_pick_list_form_makes_nothing_and_says_why(floor, planner_client, data, message):
    seed_paid_orders(floor.warehouse, 3)

    response = planner_client.post(
        reverse("floor:bulk_waves"), {"warehouse": floor.warehouse.pk, "size": "any", **data}
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Wave.objects.exists()


def test_an_empty_queue_makes_no_pick_list_and_says_so(floor, planner_client):
    response = planner_client.post(
        reverse("floor:bulk_waves"),
        {"warehouse": floor.warehouse.pk, "size": "any", "wave_size": 10, "max_waves": 2},
        follow=True,
    )

    assert "nothing to pick" in response.content.decode()
    assert not Wave.objects.exists()


# --- bulk labels ------------------------------------------------------------------------------
def packed_parcels(floor, count, *, packed_at=None, tag="L"):
    """`count` packed parcels waiting for hand-over, inserted in bulk (see seed_paid_orders)."""
    packer = UserFactory(role=Role.WAREHOUSE)
    fulfillments = seed_paid_orders(floor.warehouse, count, tag=tag)
    now = packed_at or timezone.now()
    Fulfillment.objects.filter(pk__in=[f.pk for f in fulfillments]).update(
        state=FulfillmentState.PACKED, picked_at=now, packed_at=now
    )
    return Parcel.objects.bulk_create(
        [
            Parcel(
                fulfillment=fulfillment,
                package_type=PackageType.BOX_S,
                weight_grams=500,
                carrier=floor.carrier,
                service=ShippingService.EXPRESS,
                tracking_number=f"SBX{tag}{fulfillment.pk:09d}",
                packed_by=packer,
                packed_at=now,
            )
            for fulfillment in fulfillments
        ]
    )


def test_the_labels_of_every_parcel_waiting_go_to_one_print_batch(floor, planner_client):
    waiting = packed_parcels(floor, 4)
    Parcel.objects.filter(pk=waiting[0].pk).update(handed_over_at=timezone.now())
    elsewhere = packed_parcels(make_floor(), 2, tag="X")

    response = planner_client.post(reverse("floor:bulk_labels"), {"warehouse": floor.warehouse.pk})

    job = DocumentJob.objects.get()
    assert response.url == reverse("floor:job", args=[job.pk])
    assert job.kind == DocumentKind.LABELS
    assert sorted(job.object_ids) == sorted(p.pk for p in waiting[1:])
    assert not set(job.object_ids) & {p.pk for p in elsewhere}


def test_labels_of_parcels_packed_since_a_time(floor, planner_client):
    earlier = packed_parcels(floor, 2, packed_at=timezone.now() - timedelta(hours=3))
    later = packed_parcels(floor, 3, tag="N")
    since = timezone.localtime() - timedelta(hours=1)

    planner_client.post(
        reverse("floor:bulk_labels"),
        {"warehouse": floor.warehouse.pk, "packed_since": since.strftime("%Y-%m-%dT%H:%M")},
    )

    assert sorted(DocumentJob.objects.get().object_ids) == sorted(p.pk for p in later)
    assert not set(DocumentJob.objects.get().object_ids) & {p.pk for p in earlier}


def test_more_labels_than_a_batch_holds_go_to_several_batches(floor, planner_client, monkeypatch):
    monkeypatch.setattr(document_jobs, "MAX_DOCUMENTS", 3)
    parcels = packed_parcels(floor, 7)

    response = planner_client.post(reverse("floor:bulk_labels"), {"warehouse": floor.warehouse.pk})

    assert response.url == reverse("floor:batch")
    jobs = list(DocumentJob.objects.order_by("pk"))
    assert [job.total for job in jobs] == [3, 3, 1]
    assert sorted(pk for job in jobs for pk in job.object_ids) == sorted(p.pk for p in parcels)


def test_no_parcel_waiting_prints_nothing_and_says_so(floor, planner_client):
    response = planner_client.post(
        reverse("floor:bulk_labels"), {"warehouse": floor.warehouse.pk}, follow=True
    )
    assert "nothing to print" in response.content.decode()

    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    packed_parcels(floor, 1)
    response = planner_client.post(
        reverse("floor:bulk_labels"), {"warehouse": floor.warehouse.pk, "packed_since": future}
    )
    assert response.status_code == 400
    assert "still to come" in response.content.decode()
    assert not DocumentJob.objects.exists()


# --- the pre-event stock check ----------------------------------------------------------------
@pytest.fixture
def promotion():
    """Two warehouses; 浙江省 (every test address) is served by the first.

    Glass: 5 in the first warehouse, 2 in the second.
      - paid order A, 3 glasses: reserved in the first; 1 of them picked since;
      - unpaid order B, 1 glass: reserved in the first;
      - paid order C, 6 glasses with waiting allowed: 1 left in the first, 2 in the second,
        3 wait for stock;
      - unpaid order D, 2 glasses with waiting allowed: both wait.
    Plate: no stock; paid order E, 1 plate, waits.
    Mug: 10 in the first warehouse; paid order F, 2 mugs; a cancelled order's mug came back.
    Thresholds: mug 9 in the first warehouse, glass 1 over all, bowl 5 (20 in stock).
    """
    first, second = make_floor(), make_floor()
    RegionPriority.objects.create(province="浙江省", warehouse=first.warehouse, priority=1)
    glass = stocked(first, 5, code="Z-GLASS")
    stock_sku(2, bin=second.bins[0], sku=glass)
    plate = SKUFactory(code="A-PLATE")
    mug = stocked(first, 10, code="M-MUG")
    bowl = stocked(first, 20, code="B-BOWL")

    order_a = paid_order([glass], [3])
    make_order(skus=[glass], stock=False)
    customer = UserFactory(role=Role.CUSTOMER)

    def waiting_order(sku, quantity):
        return order_services.create_order(
            customer=customer,
            lines=[order_services.LineRequest(sku.pk, quantity)],
            address=make_address(),
            allow_backorder=True,
        )

    order_c = waiting_order(glass, 6)
    order_services.record_payment(order_id=order_c.pk, amount=order_c.total_amount)
    waiting_order(glass, 2)
    order_e = waiting_order(plate, 1)
    order_services.record_payment(order_id=order_e.pk, amount=order_e.total_amount)
    paid_order([mug], [2])
    make_order(skus=[mug], state=OrderState.CANCELLED, stock=False)

    allocation = Allocation.objects.get(group=f"order:{order_a.pk}")
    inventory_services.pick(allocation_id=allocation.pk, quantity=1)

    manager = UserFactory(role=Role.MANAGER)
    inventory_services.set_threshold(
        sku_id=mug.pk, warehouse_id=first.warehouse.pk, threshold=9, actor=manager
    )
    inventory_services.set_threshold(sku_id=glass.pk, warehouse_id=None, threshold=1, actor=manager)
    inventory_services.set_threshold(
        sku_id=bowl.pk, warehouse_id=first.warehouse.pk, threshold=5, actor=manager
    )
    assert Backorder.objects.filter(filled_at__isnull=True).count() == 3
    return {
        "first": first.warehouse,
        "second": second.warehouse,
        "glass": glass,
        "plate": plate,
        "mug": mug,
    }


def figures(cell):
    return {
        "reserved_paid": cell.reserved_paid,
        "backordered_paid": cell.backordered_paid,
        "may_still_come": cell.may_still_come,
        "on_hand": cell.on_hand,
        "free": cell.free,
        "shortfall": cell.shortfall,
        "shortfall_if_all_pay": cell.shortfall_if_all_pay,
    }


def test_the_stock_check_over_all_warehouses_matches_the_hand_count(
    promotion, django_assert_max_num_queries
):
    with django_assert_max_num_queries(7):
        check = readiness()

    glass, plate = check.short
    assert (glass.sku, plate.sku) == (promotion["glass"], promotion["plate"])
    # Paid: 2 unpicked of A + 1 + 2 of C reserved, 3 of C waiting; 4 + 2 on hand (1 picked).
    assert figures(glass.figures) == {
        "reserved_paid": 5,
        "backordered_paid": 3,
        "may_still_come": 3,  # B's reserved glass and D's two waiting
        "on_hand": 6,
        "free": 0,
        "shortfall": 2,
        "shortfall_if_all_pay": 5,
    }
    breakdown = {warehouse: figures(cell) for warehouse, cell in glass.breakdown}
    assert breakdown[promotion["first"]] == {
        "reserved_paid": 3,
        "backordered_paid": 3,  # 浙江省 is served by the first warehouse
        "may_still_come": 3,
        "on_hand": 4,
        "free": 0,
        "shortfall": 2,
        "shortfall_if_all_pay": 5,
    }
    assert breakdown[promotion["second"]] == {
        "reserved_paid": 2,
        "backordered_paid": 0,
        "may_still_come": 0,
        "on_hand": 2,
        "free": 0,
        "shortfall": 0,
        "shortfall_if_all_pay": 0,
    }
    assert (plate.figures.shortfall, plate.figures.shortfall_if_all_pay) == (1, 1)
    assert (check.units_short, check.units_short_if_all_pay) == (3, 6)
    # Mug under its warehouse threshold (8 free < 9), glass under its total one (0 < 1).
    low = {(row.sku, row.warehouse): (row.figures.free, row.threshold) for row in check.low}
    assert low == {
        (promotion["mug"], promotion["first"]): (8, 9),
        (promotion["glass"], None): (0, 1),
    }


def test_the_stock_check_of_one_warehouse(promotion):
    first = readiness(warehouse_id=promotion["first"].pk)
    second = readiness(warehouse_id=promotion["second"].pk)

    assert [(row.sku, row.figures.shortfall) for row in first.short] == [
        (promotion["glass"], 2),
        (promotion["plate"], 1),
    ]
    assert [(row.sku, row.warehouse) for row in first.low] == [
        (promotion["mug"], promotion["first"])
    ]
    assert (second.short, second.low) == ([], [])


def test_the_stock_check_sorts(promotion):
    def codes(sort):
        return [row.sku.code for row in readiness(sort=sort).short]

    assert codes("shortfall") == ["Z-GLASS", "A-PLATE"]
    assert codes("if_all_pay") == ["Z-GLASS", "A-PLATE"]
    assert codes("sku") == ["A-PLATE", "Z-GLASS"]
    assert codes("free") == ["A-PLATE", "Z-GLASS"]  # both 0: by code
    assert codes("nonsense") == ["Z-GLASS", "A-PLATE"]


def test_the_stock_check_screen_and_its_csv(promotion, planner_client):
    page = planner_client.get(reverse("floor:readiness"), {"sort": "sku"}).content.decode()
    assert page.index("A-PLATE") < page.index("Z-GLASS")
    assert "M-MUG" in page  # under its threshold
    assert "B-BOWL" not in page

    response = planner_client.get(reverse("floor:readiness_csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_sku = {(row["sku_code"], row["warehouse"]): row for row in rows}
    assert set(by_sku) == {
        ("Z-GLASS", ""),
        ("A-PLATE", ""),
        ("M-MUG", promotion["first"].code),
    }
    glass = by_sku[("Z-GLASS", "")]
    assert (glass["demanded"], glass["on_hand"], glass["shortfall"]) == ("8", "6", "2")
    assert (glass["shortfall_if_all_pay"], glass["low_stock"]) == ("5", "1")


def test_a_bad_stock_check_filter_says_so(promotion, planner_client):
    response = planner_client.get(reverse("floor:readiness"), {"warehouse": "999999"})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def seed_demand(floor, count, tag):
    """`count` paid orders, each reserving one unit of one of three new SKUs and waiting for
    more, inserted in bulk for the query-count guards (the figures are not checked here)."""
    fulfillments = seed_paid_orders(floor.warehouse, count, tag=tag)
    skus = [SKUFactory() for _ in range(3)]
    stock = [
        Stock.objects.create(sku=sku, bin=floor.bins[0], on_hand=count, reserved=count)
        for sku in skus
    ]
    Allocation.objects.bulk_create(
        Allocation(
            group=f"order:{f.order_id}",
            line=f"order_line:{f.pk}",
            stock=stock[i % len(stock)],
            quantity=1,
        )
        for i, f in enumerate(fulfillments)
    )
    Backorder.objects.bulk_create(
        Backorder(
            group=f"order:{f.order_id}",
            line=f"order_line:{f.pk}",
            sku=skus[i % len(skus)],
            quantity=2,
            province="浙江省",
            priority_at=timezone.now(),
        )
        for i, f in enumerate(fulfillments)
    )
    packed_parcels(floor, count // 10, tag=f"{tag}L")
    Fulfillment.objects.filter(pk__in=[f.pk for f in fulfillments[: count // 2]]).update(held=True)


SCREENS = ["floor:bulk", "floor:bulk_waves", "floor:bulk_labels", "floor:readiness"]


def query_count(client, url, params) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return len(queries)


@pytest.mark.parametrize("name", [*SCREENS, "floor:readiness_csv"])
def test_the_screens_make_as_many_queries_for_100_orders_as_for_10(floor, planner_client, name):
    url = reverse(name)
    params = {"warehouse": floor.warehouse.pk} if name != "floor:readiness_csv" else {}
    seed_demand(floor, 10, "S")
    planner_client.post(
        reverse("floor:bulk_waves"),
        {"warehouse": floor.warehouse.pk, "size": "any", "wave_size": 2, "max_waves": 2},
    )
    small = query_count(planner_client, url, params)

    seed_demand(floor, 100, "T")
    planner_client.post(
        reverse("floor:bulk_waves"),
        {"warehouse": floor.warehouse.pk, "size": "any", "wave_size": 5, "max_waves": 20},
    )
    large = query_count(planner_client, url, params)

    assert large == small
    assert small <= 16


# --- who may ----------------------------------------------------------------------------------
POSTS = ["floor:bulk_release", "floor:bulk_hold", "floor:bulk_waves", "floor:bulk_labels"]


@pytest.mark.parametrize("name", [*SCREENS, "floor:readiness_csv", *POSTS])
def test_strangers_log_in_and_customers_and_agents_are_refused(client, floor, name):
    seed_paid_orders(floor.warehouse, 2, held=True)
    data = {"warehouse": floor.warehouse.pk, "everything": "on", "reason": "x", "wave_size": 1}
    send = client.post if name in POSTS else client.get

    response = send(reverse(name), data)
    assert response.status_code == 302
    assert "login" in response.url
    for role in (Role.CUSTOMER, Role.SERVICE):
        client.force_login(UserFactory(role=role))
        assert send(reverse(name), data).status_code == 403
    assert Fulfillment.objects.filter(held=True).count() == 2
    assert not Wave.objects.exists()


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.MANAGER])
@pytest.mark.parametrize("name", SCREENS)
def test_the_warehouse_role_and_managers_plan_the_promotion(client, floor, role, name):
    client.force_login(UserFactory(role=role))
    assert client.get(reverse(name)).status_code == 200


def test_every_bulk_action_needs_its_csrf_token(floor, planner):
    seed_paid_orders(floor.warehouse, 2, held=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(planner)

    for name in POSTS:
        response = client.post(
            reverse(name),
            {"warehouse": floor.warehouse.pk, "everything": "on", "reason": "x"},
        )
        assert response.status_code == 403
    assert Fulfillment.objects.filter(held=True).count() == 2


# --- two planners at once ---------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_holding_the_queue_while_pick_lists_are_cut_never_holds_an_order_on_a_list():
    floor = make_floor()
    seed_paid_orders(floor.warehouse, 300)
    planners = [UserFactory(role=Role.WAREHOUSE) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(call) -> None:
        try:
            barrier.wait()
            call()
            outcomes.append("done")
        except services.FloorRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    calls = [
        lambda: bulk.hold_queue(
            warehouse_id=floor.warehouse.pk, actor=planners[0], reason="Promotion"
        ),
        lambda: services.create_waves(
            warehouse_id=floor.warehouse.pk, actor=planners[1], wave_size=100, max_waves=3
        ),
    ]
    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    assert "done" in outcomes
    assert not Fulfillment.objects.filter(held=True, wave__isnull=False).exists()
    # Every order ended up held or on a pick list.
    assert Fulfillment.objects.filter(held=False, wave__isnull=True).count() == 0
