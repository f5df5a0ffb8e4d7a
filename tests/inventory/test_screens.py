"""Stock screens through HTTP (INV-2, INV-4, INV-7, SEC-1): who may see and do what, receiving
by barcode, stock-take, corrections, CSV export and import, and constant query counts."""

import csv
import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import Role, sync_roles
from inventory import csv_io, services
from inventory.ledger import ledger_differences
from inventory.models import MovementKind, Stock, StockMovement
from inventory.services import DemandLine
from tests.factories import (
    BinFactory,
    ProductFactory,
    SKUFactory,
    UserFactory,
    WarehouseFactory,
    stock_sku,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse():
    return WarehouseFactory(code="WH01")


@pytest.fixture
def shelf(warehouse):
    return BinFactory(warehouse=warehouse, code="A-01-03")


@pytest.fixture
def clerk(client):
    user = UserFactory(role=Role.WAREHOUSE)
    client.force_login(user)
    return user


def _on_hand(sku, bin_) -> int:
    row = Stock.objects.filter(sku=sku, bin=bin_).first()
    return row.on_hand if row else 0


# --- who may open what --------------------------------------------------------------------------
VIEWERS = {Role.WAREHOUSE, Role.SERVICE, Role.MANAGER, Role.ADMIN}
CHANGERS = {Role.WAREHOUSE, Role.ADMIN}
EXPORTERS = {Role.WAREHOUSE, Role.MANAGER, Role.ADMIN}


def _pages(sku_id: int) -> dict[str, set]:
    return {
        reverse("inventory:overview"): VIEWERS,
        reverse("inventory:sku", args=[sku_id]): VIEWERS,
        reverse("inventory:receive"): CHANGERS,
        reverse("inventory:count"): CHANGERS,
        reverse("inventory:import"): CHANGERS,
        reverse("inventory:export"): EXPORTERS,
    }


@pytest.mark.parametrize("role", list(Role))
def test_stock_pages_let_in_only_their_roles(client, role, shelf):
    sku = stock_sku(3, bin=shelf)
    client.force_login(UserFactory(role=role))

    for url, allowed in _pages(sku.pk).items():
        response = client.get(url)
        assert response.status_code == (200 if role in allowed else 403), (url, role)


def test_anonymous_visitor_is_sent_to_log_in_from_every_stock_page(client, shelf):
    sku = stock_sku(3, bin=shelf)

    for url in _pages(sku.pk):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.SERVICE, Role.MANAGER])
def test_only_warehouse_staff_change_stock(client, role, shelf):
    other = BinFactory(warehouse=shelf.warehouse, code="B-01-01")
    sku = stock_sku(10, bin=shelf)
    client.force_login(UserFactory(role=role))
    before = StockMovement.objects.count()

    posts = {
        reverse("inventory:receive"): {"barcode": sku.barcode, "quantity": 5, "bin": shelf.code},
        reverse("inventory:sku_transfer", args=[sku.pk]): {
            "transfer-from_bin": shelf.pk,
            "transfer-quantity": 1,
            "transfer-to_warehouse": shelf.warehouse_id,
            "transfer-to_bin": other.code,
        },
        reverse("inventory:sku_adjust", args=[sku.pk]): {
            "adjust-bin": shelf.pk,
            "adjust-change": -1,
            "adjust-reason": "x",
        },
        reverse("inventory:sku_write_off", args=[sku.pk]): {
            "write_off-bin": shelf.pk,
            "write_off-quantity": 1,
            "write_off-reason": "x",
        },
        reverse("inventory:count_sheet", args=[shelf.pk]): {
            "action": "post",
            f"count-{sku.pk}": 0,
            "reason": "x",
        },
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    upload = SimpleUploadedFile(
        "a.csv", f"sku_code,warehouse,bin,quantity\n{sku.code},WH01,A-01-03,1\n".encode()
    )
    assert client.post(reverse("inventory:import"), {"file": upload}).status_code == 403

    assert StockMovement.objects.count() == before
    assert _on_hand(sku, shelf) == 10


def test_workspace_navigation_shows_stock_to_staff(client):
    client.force_login(UserFactory(role=Role.SERVICE))

    html = client.get(reverse("staff_orders:list")).content.decode()

    assert reverse("inventory:overview") in html


def test_viewers_do_not_see_correction_forms(client, shelf):
    sku = stock_sku(4, bin=shelf)
    client.force_login(UserFactory(role=Role.MANAGER))

    html = client.get(reverse("inventory:sku", args=[sku.pk])).content.decode()

    assert reverse("inventory:sku_write_off", args=[sku.pk]) not in html
    assert reverse("inventory:receive") not in html


# --- overview and SKU page ----------------------------------------------------------------------
def test_overview_shows_totals_and_per_warehouse_figures(client, clerk, shelf):
    far = BinFactory(warehouse=WarehouseFactory(code="WH02"), code="B-02-01")
    sku = stock_sku(7, bin=shelf)
    stock_sku(5, bin=far, sku=sku)
    services.reserve(group="demand:1", lines=[DemandLine("line:1", sku.pk, 2)])

    response = client.get(reverse("inventory:overview"))

    row = next(s for s in response.context["page"].object_list if s.pk == sku.pk)
    assert (row.totals.on_hand, row.totals.reserved, row.totals.available) == (12, 2, 10)
    by_code = dict(
        zip([w.code for w in response.context["columns"]], row.by_warehouse, strict=True)
    )
    assert by_code["WH01"].on_hand + by_code["WH02"].on_hand == 12
    assert by_code["WH01"].reserved + by_code["WH02"].reserved == 2


def test_overview_filters_by_warehouse_and_searches_by_name(client, clerk, shelf):
    here = stock_sku(3, bin=shelf, sku=SKUFactory(product=ProductFactory(name="保温杯 Flask")))
    elsewhere = stock_sku(4, bin=BinFactory(warehouse=WarehouseFactory(code="WH09")))

    by_warehouse = client.get(reverse("inventory:overview"), {"warehouse": shelf.warehouse_id})
    by_name = client.get(reverse("inventory:overview"), {"search": "保温杯"})

    assert [s.pk for s in by_warehouse.context["page"].object_list] == [here.pk]
    assert [s.pk for s in by_name.context["page"].object_list] == [here.pk]
    assert elsewhere.code not in by_name.content.decode()


def test_scanned_barcode_in_the_search_opens_the_sku(client, clerk, shelf):
    sku = stock_sku(3, bin=shelf)

    response = client.get(reverse("inventory:overview"), {"search": sku.barcode})

    assert response.status_code == 302
    assert response.url == reverse("inventory:sku", args=[sku.pk])


def test_sku_page_lists_bins_and_movement_history(client, clerk, shelf):
    sku = stock_sku(9, bin=shelf)
    services.write_off(sku_id=sku.pk, bin_id=shelf.pk, quantity=2, actor=clerk, reason="Crushed")

    response = client.get(reverse("inventory:sku", args=[sku.pk]))
    html = response.content.decode()

    assert response.status_code == 200
    assert [(r.bin.code, r.on_hand, r.available) for r in response.context["bins"]] == [
        ("A-01-03", 7, 7)
    ]
    assert "Crushed" in html and clerk.email in html
    kinds = [m.kind for m in response.context["page"].object_list]
    assert kinds == [MovementKind.WRITE_OFF, MovementKind.RECEIPT]

    only_receipts = client.get(
        reverse("inventory:sku", args=[sku.pk]), {"kind": MovementKind.RECEIPT}
    )
    assert [m.kind for m in only_receipts.context["page"].object_list] == [MovementKind.RECEIPT]


# --- receiving --------------------------------------------------------------------------------
def test_receiving_by_barcode_adds_stock_with_the_delivery_note(client, clerk, shelf):
    sku = SKUFactory()

    response = client.post(
        reverse("inventory:receive"),
        {
            "warehouse": shelf.warehouse_id,
            "barcode": sku.barcode,
            "quantity": "12",
            "bin": "a-01-03",  # scanners and people type bin codes in any case
            "delivery_note": "DN-7781",
        },
        follow=True,
    )

    assert _on_hand(sku, shelf) == 12
    movement = StockMovement.objects.get(sku=sku)
    assert (movement.kind, movement.actor, movement.reference_type, movement.reference_id) == (
        MovementKind.RECEIPT,
        clerk,
        "receipt",
        "DN-7781",
    )
    html = response.content.decode()
    assert f"Received 12 × {sku.code}" in html and "into A-01-03" in html
    assert "DN-7781" in html  # today's receipts below the form
    assert ledger_differences() == []


def test_receiving_with_htmx_answers_the_panel_with_a_fresh_form(client, clerk, shelf):
    sku = SKUFactory()

    response = client.post(
        reverse("inventory:receive"),
        {"warehouse": shelf.warehouse_id, "barcode": sku.barcode, "quantity": 2, "bin": shelf.code},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert "<html" not in html
    assert 'data-scan-result="ok"' in html
    assert response.context["form"].is_bound is False
    assert _on_hand(sku, shelf) == 2


@pytest.mark.parametrize(
    ("barcode", "bin_code", "message"),
    [
        ("6990000000000", "A-01-03", "Unknown barcode 6990000000000"),
        (None, "Z-99-99", "There is no bin Z-99-99 in this warehouse."),
        (None, "", "Scan or choose the bin."),
    ],
)
def test_a_bad_scan_is_told_and_changes_nothing(client, clerk, shelf, barcode, bin_code, message):
    sku = stock_sku(1, bin=shelf)
    before = StockMovement.objects.count()

    response = client.post(
        reverse("inventory:receive"),
        {
            "warehouse": shelf.warehouse_id,
            "barcode": barcode or sku.barcode,
            "quantity": 5,
            "bin": bin_code,
        },
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert StockMovement.objects.count() == before
    assert _on_hand(sku, shelf) == 1


def test_a_bin_of_another_warehouse_is_refused(client, clerk, shelf):
    other = BinFactory(warehouse=WarehouseFactory(), code="C-01-01")
    sku = SKUFactory()

    response = client.post(
        reverse("inventory:receive"),
        {"warehouse": shelf.warehouse_id, "barcode": sku.barcode, "quantity": 5, "bin": other.code},
    )

    assert "There is no bin C-01-01 in this warehouse." in response.content.decode()
    assert not StockMovement.objects.exists()


def test_wrong_scan_is_marked_for_the_beep(client, clerk, shelf):
    response = client.get(reverse("inventory:scan_lookup"), {"barcode": "NOPE"})

    assert 'data-scan-result="error"' in response.content.decode()


# --- stock-take ---------------------------------------------------------------------------------
def _sheet_url(bin_):
    return reverse("inventory:count_sheet", args=[bin_.pk])


def test_scanning_a_bin_opens_its_blind_counting_sheet(client, clerk, shelf):
    sku = stock_sku(5, bin=shelf)

    start = client.get(reverse("inventory:count"), {"bin": shelf.code})
    assert start.status_code == 302 and start.url == _sheet_url(shelf)

    sheet = client.get(_sheet_url(shelf))
    assert sku.code in sheet.content.decode()
    assert [line["counted"] for line in sheet.context["lines"]] == [0]  # book figure hidden


def test_each_scan_counts_one_and_an_unknown_scan_counts_nothing(client, clerk, shelf):
    sku = stock_sku(5, bin=shelf)

    first = client.post(_sheet_url(shelf), {"scan": sku.barcode, f"count-{sku.pk}": "3"})
    unknown = client.post(_sheet_url(shelf), {"scan": "NOPE", f"count-{sku.pk}": "4"})

    assert first.context["sheet"].counts == {sku.pk: 4}
    assert 'data-scan-result="error"' in unknown.content.decode()
    assert unknown.context["sheet"].counts == {sku.pk: 4}
    assert not StockMovement.objects.filter(kind=MovementKind.STOCK_TAKE).exists()


def test_stock_take_shows_differences_then_posts_them(client, clerk, shelf):
    short = stock_sku(5, bin=shelf)
    right = stock_sku(3, bin=shelf)
    found = SKUFactory()  # on no book in this bin, found there

    scanned = client.post(
        _sheet_url(shelf),
        {"scan": found.barcode, f"count-{short.pk}": "4", f"count-{right.pk}": "3"},
    )
    assert scanned.context["sheet"].counts[found.pk] == 1

    counts = {f"count-{short.pk}": "4", f"count-{right.pk}": "3", f"count-{found.pk}": "1"}
    review = client.post(
        _sheet_url(shelf), {**counts, "reason": "Monthly count", "action": "review"}
    )
    assert review.context["step"] == "review"
    assert {line["sku"].pk: line["difference"] for line in review.context["differences"]} == {
        short.pk: -1,
        found.pk: 1,
    }
    assert not StockMovement.objects.filter(kind=MovementKind.STOCK_TAKE).exists()

    posted = client.post(
        _sheet_url(shelf), {**counts, "reason": "Monthly count", "action": "post"}, follow=True
    )

    assert (_on_hand(short, shelf), _on_hand(right, shelf), _on_hand(found, shelf)) == (4, 3, 1)
    movements = StockMovement.objects.filter(kind=MovementKind.STOCK_TAKE)
    assert {(m.sku_id, m.on_hand_change, m.reason) for m in movements} == {
        (short.pk, -1, "Monthly count"),
        (found.pk, 1, "Monthly count"),
    }
    assert posted.redirect_chain[-1][0] == reverse("inventory:count_result")
    assert len(posted.context["movements"]) == 2
    assert ledger_differences() == []


def test_stock_take_needs_a_reason(client, clerk, shelf):
    sku = stock_sku(5, bin=shelf)

    response = client.post(_sheet_url(shelf), {f"count-{sku.pk}": "2", "action": "post"})

    assert response.context["step"] == "count"
    assert "Say why the bin is counted" in response.content.decode()
    assert _on_hand(sku, shelf) == 5


def test_stock_take_below_the_reserved_units_is_refused_with_the_services_message(
    client, clerk, shelf
):
    sku = stock_sku(5, bin=shelf)
    services.reserve(group="demand:1", lines=[DemandLine("line:1", sku.pk, 3)])

    response = client.post(
        _sheet_url(shelf), {f"count-{sku.pk}": "1", "reason": "Count", "action": "post"}
    )

    assert "3 are reserved for orders" in response.content.decode()
    assert _on_hand(sku, shelf) == 5


# --- corrections --------------------------------------------------------------------------------
def test_transfer_moves_free_units_to_a_scanned_bin(client, clerk, shelf):
    target = BinFactory(warehouse=shelf.warehouse, code="B-02-02")
    sku = stock_sku(6, bin=shelf)

    response = client.post(
        reverse("inventory:sku_transfer", args=[sku.pk]),
        {
            "transfer-from_bin": shelf.pk,
            "transfer-quantity": 4,
            "transfer-to_warehouse": shelf.warehouse_id,
            "transfer-to_bin": "b-02-02",
            "transfer-reason": "Tidy up",
        },
        follow=True,
    )

    assert (_on_hand(sku, shelf), _on_hand(sku, target)) == (2, 4)
    assert "Moved 4 × " in response.content.decode()


def test_refused_transfer_shows_the_services_message_and_changes_nothing(client, clerk, shelf):
    target = BinFactory(warehouse=shelf.warehouse, code="B-01-01")
    sku = stock_sku(6, bin=shelf)
    services.reserve(group="demand:1", lines=[DemandLine("line:1", sku.pk, 5)])

    response = client.post(
        reverse("inventory:sku_transfer", args=[sku.pk]),
        {
            "transfer-from_bin": shelf.pk,
            "transfer-quantity": 3,
            "transfer-to_warehouse": shelf.warehouse_id,
            "transfer-to_bin": target.code,
        },
    )

    assert response.status_code == 200
    assert "Only 1 unit(s) in bin A-01-03 are free to move" in response.content.decode()
    assert response.context["open_form"] == "transfer"
    assert (_on_hand(sku, shelf), _on_hand(sku, target)) == (6, 0)


def test_adjust_and_write_off_need_a_reason_and_record_it(client, clerk, shelf):
    sku = stock_sku(10, bin=shelf)
    url = reverse("inventory:sku_adjust", args=[sku.pk])

    no_reason = client.post(url, {"adjust-bin": shelf.pk, "adjust-change": "-2"})
    assert no_reason.context["forms"]["adjust"].errors["reason"]
    assert _on_hand(sku, shelf) == 10

    client.post(url, {"adjust-bin": shelf.pk, "adjust-change": "-2", "adjust-reason": "Miscount"})
    client.post(
        reverse("inventory:sku_write_off", args=[sku.pk]),
        {"write_off-bin": shelf.pk, "write_off-quantity": 3, "write_off-reason": "Water damage"},
    )

    assert _on_hand(sku, shelf) == 5
    assert list(
        StockMovement.objects.exclude(kind=MovementKind.RECEIPT)
        .order_by("id")
        .values_list("kind", "on_hand_change", "reason")
    ) == [
        (MovementKind.ADJUSTMENT, -2, "Miscount"),
        (MovementKind.WRITE_OFF, -3, "Water damage"),
    ]


# --- CSV export ---------------------------------------------------------------------------------
def _rows(response) -> list[list[str]]:
    assert response.streaming
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_export_lists_every_sku_in_every_bin_with_a_bom_for_excel(client, shelf):
    client.force_login(UserFactory(role=Role.MANAGER))
    other = BinFactory(warehouse=shelf.warehouse, code="A-01-04")
    sku = SKUFactory(product=ProductFactory(name="保温杯"), color="红色", code="CUP-1")
    stock_sku(7, bin=shelf, sku=sku)
    stock_sku(2, bin=other, sku=sku)
    services.reserve(group="demand:1", lines=[DemandLine("line:1", sku.pk, 1)])

    response = client.get(reverse("inventory:export"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = _rows(response)
    assert rows[0] == csv_io.EXPORT_HEADER
    by_bin = {row[4]: row for row in rows[1:]}
    assert by_bin["A-01-03"] == [
        "CUP-1",
        sku.barcode,
        "保温杯 红色",
        "WH01",
        "A-01-03",
        "7",
        "1",
        "6",
    ]
    assert by_bin["A-01-04"][5:] == ["2", "0", "2"]


def test_export_query_count_does_not_grow(client, django_assert_max_num_queries, shelf):
    client.force_login(UserFactory(role=Role.WAREHOUSE))
    for _ in range(3):
        stock_sku(1, bin=shelf)
    with django_assert_max_num_queries(6) as few:
        _rows(client.get(reverse("inventory:export")))
    for n in range(40):
        stock_sku(1, bin=BinFactory(warehouse=shelf.warehouse, code=f"E-{n:02d}"))
    with django_assert_max_num_queries(6) as many:
        rows = _rows(client.get(reverse("inventory:export")))

    assert len(rows) == 44
    assert len(many) == len(few)


# --- CSV import ---------------------------------------------------------------------------------
def _upload(text: str, name: str = "opening.csv", encoding: str = "utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def test_import_reports_every_bad_row_by_line_and_imports_nothing(client, clerk, shelf):
    BinFactory(warehouse=shelf.warehouse, code="A-01-04")
    good, other = SKUFactory(code="GOOD-1"), SKUFactory(code="GOOD-2")
    text = (
        "sku_code,warehouse,bin,quantity\n"
        "GOOD-1,WH01,A-01-03,10\n"  # line 2: fine
        "NOPE-9,WH01,A-01-03,1\n"  # 3: unknown SKU
        "GOOD-2,WH77,A-01-03,1\n"  # 4: unknown warehouse
        "GOOD-2,WH01,Z-09-09,1\n"  # 5: unknown bin
        "GOOD-2,WH01,A-01-04,0\n"  # 6: not positive
        "GOOD-2,WH01,A-01-04,2.5\n"  # 7: not a whole number
        "\n"  # 8: blank lines are skipped
        "GOOD-1,WH01,a-01-03,4\n"  # 9: duplicate of line 2
    )

    response = client.post(reverse("inventory:import"), {"file": _upload(text)})

    check = response.context["check"]
    assert [error.line for error in check.errors] == [3, 4, 5, 6, 7, 9]
    html = response.content.decode()
    assert "6 rows have errors; nothing was imported." in html
    assert "unknown SKU code “NOPE-9”" in html
    assert "unknown warehouse “WH77”" in html
    assert "unknown bin “Z-09-09” in warehouse WH01" in html
    assert "duplicate of line 2" in html
    assert not StockMovement.objects.exists()
    assert (_on_hand(good, shelf), _on_hand(other, shelf)) == (0, 0)


def test_a_clean_import_receives_every_row_as_opening_stock(client, clerk, shelf):
    second = BinFactory(warehouse=shelf.warehouse, code="A-01-04")
    by_code, by_barcode = SKUFactory(code="GOOD-1"), SKUFactory()
    text = (
        "\ufeffSKU Code;Barcode;Warehouse;Bin;Quantity\n"
        f"good-1;;WH01;A-01-03;24\n"
        f";{by_barcode.barcode};wh01;A-01-04;6\n"
    )

    response = client.post(
        reverse("inventory:import"), {"file": _upload(text, "期初库存.csv")}, follow=True
    )

    assert (_on_hand(by_code, shelf), _on_hand(by_barcode, second)) == (24, 6)
    movements = StockMovement.objects.all()
    assert {(m.kind, m.reference_type, m.reference_id, m.actor_id) for m in movements} == {
        (MovementKind.RECEIPT, "opening_stock", "期初库存.csv", clerk.pk)
    }
    assert "Imported 2 rows, 30 units from 期初库存.csv" in response.content.decode()
    assert ledger_differences() == []

    again = client.post(reverse("inventory:import"), {"file": _upload(text, "期初库存.csv")})
    assert "was already imported" in again.content.decode()
    assert StockMovement.objects.count() == 2


def test_import_is_one_transaction(client, clerk, shelf, monkeypatch):
    first, second = SKUFactory(code="GOOD-1"), SKUFactory(code="GOOD-2")

    def fail_after_the_writes(*args, **kwargs):
        raise services.StockError("The bin is full.")

    # Fails after every row was written: the whole import must be undone.
    monkeypatch.setattr(services, "_after_change", fail_after_the_writes)
    text = "sku_code,warehouse,bin,quantity\nGOOD-1,WH01,A-01-03,5\nGOOD-2,WH01,A-01-03,5\n"

    response = client.post(reverse("inventory:import"), {"file": _upload(text)})

    assert "Nothing was imported: The bin is full." in response.content.decode()
    assert (_on_hand(first, shelf), _on_hand(second, shelf)) == (0, 0)
    assert not StockMovement.objects.exists()


def test_import_refuses_a_file_over_the_size_limit(client, clerk, shelf, monkeypatch):
    monkeypatch.setattr(csv_io, "IMPORT_MAX_BYTES", 1024)
    text = "sku_code,warehouse,bin,quantity\n" + "SKU-1,WH01,A-01-03,1\n" * 60  # 1.3 KB

    response = client.post(reverse("inventory:import"), {"file": _upload(text)})

    assert "The file is 2 KB; the limit is 1 KB. Split it into smaller files." in (
        response.content.decode()
    )
    assert not StockMovement.objects.exists()


def test_import_refuses_a_file_with_too_many_rows(client, clerk, shelf, monkeypatch):
    monkeypatch.setattr(csv_io, "IMPORT_MAX_ROWS", 3)
    SKUFactory(code="SKU-1")
    text = "sku_code,warehouse,bin,quantity\n" + "SKU-1,WH01,A-01-03,1\n" * 4

    response = client.post(reverse("inventory:import"), {"file": _upload(text)})

    assert "The file has more than 3 rows. Split it into smaller files." in (
        response.content.decode()
    )
    assert not StockMovement.objects.exists()


def test_import_without_the_needed_columns_says_which_are_missing(client, clerk, shelf):
    response = client.post(reverse("inventory:import"), {"file": _upload("sku,qty\nA,1\n")})

    assert "lacks the column(s): warehouse, bin" in response.content.decode()


# --- admin ------------------------------------------------------------------------------------
def test_admin_shows_stock_and_ledger_but_never_changes_them(client, shelf):
    # A fresh test database may hold the admin group without the inventory permissions (the
    # roles migration does not depend on inventory's); sync_roles is what seed_demo runs too.
    sync_roles(Group, Permission)
    stock_sku(2, bin=shelf)
    client.force_login(UserFactory(role=Role.ADMIN))

    for name in ("warehouse", "bin", "stock", "stockmovement", "allocation"):
        assert client.get(reverse(f"admin:inventory_{name}_changelist")).status_code == 200
    for name in ("stock", "stockmovement", "allocation"):
        assert client.get(reverse(f"admin:inventory_{name}_add")).status_code == 403
    movement = StockMovement.objects.get()
    change = client.post(
        reverse("admin:inventory_stockmovement_change", args=[movement.pk]),
        {"on_hand_change": 99},
    )
    assert change.status_code == 403
    assert client.get(reverse("admin:inventory_warehouse_add")).status_code == 200


# --- query counts -------------------------------------------------------------------------------
def _queries(client, django_assert_max_num_queries, url, limit, **params):
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured)


def _stock_many(n: int, bins) -> None:
    for _ in range(n):
        sku = stock_sku(3, bin=bins[0])
        for bin_ in bins[1:]:
            stock_sku(2, bin=bin_, sku=sku)


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.MANAGER])
def test_overview_query_count_does_not_grow(client, django_assert_max_num_queries, role):
    client.force_login(UserFactory(role=role))
    bins = [BinFactory(), BinFactory(), BinFactory()]  # three warehouses
    url = reverse("inventory:overview")
    _stock_many(2, bins)
    few = _queries(client, django_assert_max_num_queries, url, 10)

    _stock_many(60, bins)  # more than a page
    many = _queries(client, django_assert_max_num_queries, url, 10)
    filtered = _queries(
        client, django_assert_max_num_queries, url, 10, warehouse=bins[0].warehouse_id
    )

    assert many == few
    assert filtered <= few


def test_sku_page_query_count_does_not_grow(client, django_assert_max_num_queries):
    clerk = UserFactory(role=Role.WAREHOUSE)
    client.force_login(clerk)
    warehouse = WarehouseFactory()
    small_bin = BinFactory(warehouse=warehouse)
    small = stock_sku(5, bin=small_bin)
    large_bins = [
        BinFactory(warehouse=w) for w in (warehouse, WarehouseFactory()) for _ in range(6)
    ]
    large = stock_sku(5, bin=large_bins[0])
    for bin_ in large_bins[1:]:
        stock_sku(4, bin=bin_, sku=large)
    for _ in range(45):
        services.adjust(sku_id=large.pk, bin_id=large_bins[0].pk, change=1, actor=clerk, reason="+")
    services.reserve(group="demand:1", lines=[DemandLine("line:1", large.pk, 3)])

    few = _queries(
        client, django_assert_max_num_queries, reverse("inventory:sku", args=[small.pk]), 14
    )
    many = _queries(
        client, django_assert_max_num_queries, reverse("inventory:sku", args=[large.pk]), 14
    )
    assert many == few
    assert StockMovement.objects.filter(sku=large).count() > 50  # more than a page


def test_stock_take_sheet_query_count_does_not_grow(client, django_assert_max_num_queries, shelf):
    client.force_login(UserFactory(role=Role.WAREHOUSE))
    empty = BinFactory(warehouse=shelf.warehouse, code="B-01-01")
    stock_sku(1, bin=empty)
    for _ in range(25):
        stock_sku(2, bin=shelf)

    few = _queries(client, django_assert_max_num_queries, _sheet_url(empty), 10)
    many = _queries(client, django_assert_max_num_queries, _sheet_url(shelf), 10)

    assert many == few
