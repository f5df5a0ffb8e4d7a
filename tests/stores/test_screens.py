"""The sales channel screens (ORD-12): stores with their order counts, a marketplace store and
its column mapping for managers, the import upload, list and progress page for service and
managers; warehouse staff and customers are refused; lists keep a fixed number of queries."""

import pytest
from django.urls import reverse

from core.models import StaffAction
from orders.models import Order
from stores.mapping import PRESETS
from stores.models import ImportState, Store, StoreImport, StoreKind
from tests.factories import UserFactory, stock_sku

from .exports import export_bytes, marketplace_store, row, upload

pytestmark = pytest.mark.django_db


def client_for(client, role):
    client.force_login(UserFactory(role=role))
    return client


# --- permissions ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["warehouse", "customer", None])
def test_warehouse_staff_and_customers_are_refused_everywhere(client, role):
    store = marketplace_store()
    store_import = StoreImport.objects.create(
        store=store, uploaded_by=UserFactory(role="service"), content=b"x", sha256="0" * 64
    )
    if role:
        client.force_login(UserFactory(role=role))
    urls = [
        reverse("stores:list"),
        reverse("stores:create"),
        reverse("stores:edit", args=[store.pk]),
        reverse("stores:mapping", args=[store.pk]),
        reverse("stores:template", args=[store.pk]),
        reverse("stores:imports"),
        reverse("stores:import", args=[store_import.pk]),
        reverse("stores:import_errors", args=[store_import.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == (403 if role else 302), url
    response = client.post(
        reverse("stores:imports"), {"store": store.pk, "file": upload(b"a,b\n1,2\n")}
    )
    assert response.status_code == (403 if role else 302)
    assert StoreImport.objects.count() == 1


def test_service_imports_but_cannot_create_or_change_stores(client):
    store = marketplace_store()
    client_for(client, "service")

    assert client.get(reverse("stores:list")).status_code == 200
    assert client.get(reverse("stores:imports")).status_code == 200
    assert client.get(reverse("stores:create")).status_code == 403
    assert client.get(reverse("stores:edit", args=[store.pk])).status_code == 403
    assert client.post(reverse("stores:mapping", args=[store.pk]), {}).status_code == 403


# --- stores and their mapping -----------------------------------------------------------------
def test_a_manager_creates_a_store_that_imports_tmall_headers_out_of_the_box(client):
    client_for(client, "manager")

    response = client.post(
        reverse("stores:create"),
        {"code": "tmall-flagship", "name": "天猫旗舰店", "is_active": "on"},
    )

    store = Store.objects.get(code="tmall-flagship")
    assert response.status_code == 302
    assert response["Location"] == reverse("stores:mapping", args=[store.pk])
    assert store.kind == StoreKind.MARKETPLACE and store.is_active
    assert store.column_mapping == PRESETS["tmall"]
    assert StaffAction.objects.filter(action="store.create", target_label="tmall-flagship").exists()
    again = client.post(reverse("stores:create"), {"code": "tmall-flagship", "name": "Other"})
    assert again.status_code == 400
    assert "exists already" in again.content.decode()


def test_a_manager_renames_and_switches_off_a_store_but_not_its_code(client):
    store = marketplace_store()
    client_for(client, "manager")

    response = client.post(
        reverse("stores:edit", args=[store.pk]), {"code": "changed", "name": "Tmall outlet"}
    )

    store.refresh_from_db()
    assert response.status_code == 302
    assert (store.code, store.name, store.is_active) == ("tmall", "Tmall outlet", False)
    entry = StaffAction.objects.get(action="store.change")
    assert entry.before == {"name": "Tmall flagship", "is_active": True}
    assert entry.after == {"name": "Tmall outlet", "is_active": False}


def _mapping_post(**overrides):
    data = dict(PRESETS["english"])
    data.update(overrides)
    return data


def test_the_mapping_form_saves_a_valid_mapping_and_records_it(client):
    store = marketplace_store()
    client_for(client, "manager")

    page = client.get(reverse("stores:mapping", args=[store.pk]) + "?preset=english")
    assert 'value="order_id"' in page.content.decode()
    store.refresh_from_db()
    assert store.column_mapping == PRESETS["tmall"]  # a preset is only filled in

    response = client.post(
        reverse("stores:mapping", args=[store.pk]), _mapping_post(buyer_note="", paid_at="")
    )

    assert response.status_code == 302
    store.refresh_from_db()
    assert store.column_mapping["external_id"] == "order_id"
    assert "buyer_note" not in store.column_mapping
    entry = StaffAction.objects.get(action="store.change_mapping")
    assert entry.before["external_id"] == "订单编号"
    assert entry.after["external_id"] == "order_id"


def test_the_mapping_form_refuses_a_missing_required_column_and_a_header_used_twice(client):
    store = marketplace_store()
    client_for(client, "manager")

    response = client.post(
        reverse("stores:mapping", args=[store.pk]),
        _mapping_post(phone="", city="Province "),
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Name the column that holds this field." in page
    assert "“Province” is already the column of “Province”." in page
    store.refresh_from_db()
    assert store.column_mapping == PRESETS["tmall"]
    assert not StaffAction.objects.filter(action="store.change_mapping").exists()


def test_the_csv_template_has_the_stores_headers(client):
    store = marketplace_store(column_mapping={**PRESETS["tmall"], "paid_at": ""})
    client_for(client, "service")

    response = client.get(reverse("stores:template", args=[store.pk]))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8-sig")
    assert text.strip().split(",") == [
        header for name, header in PRESETS["tmall"].items() if name != "paid_at"
    ]


def test_the_store_list_counts_orders_in_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    sku = stock_sku(20)
    agent = UserFactory(role="service")
    for index in range(5):
        store = marketplace_store(code=f"shop-{index}", name=f"Shop {index}")
        with django_capture_on_commit_callbacks(execute=True):
            from stores.imports import request_import

            request_import(
                store=store,
                uploaded=upload(export_bytes([row(sku, f"S{index}-1"), row(sku, f"S{index}-2")])),
                actor=agent,
            )
    Store.objects.create(code="erp", name="ERP", kind=StoreKind.API)
    client_for(client, "manager")

    with django_assert_max_num_queries(8):
        response = client.get(reverse("stores:list"))

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('<td class="num">2</td>') == 5
    assert "Orders arrive through the API" in page


# --- imports ----------------------------------------------------------------------------------
def test_uploading_an_export_queues_it_and_its_page_shows_the_result(
    client, django_capture_on_commit_callbacks
):
    sku = stock_sku(10)
    store = marketplace_store()
    client_for(client, "service")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("stores:imports"),
            {"store": store.pk, "file": upload(export_bytes([row(sku, "TM-1"), row(sku, "TM-2")]))},
        )

    store_import = StoreImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("stores:import", args=[store_import.pk])
    page = client.get(response["Location"]).content.decode()
    assert "2 orders created; already imported: 0." in page
    for order in Order.objects.all():
        assert reverse("staff_orders:detail", args=[order.number]) in page


def test_a_refused_import_lists_every_bad_line_and_offers_them_as_csv(
    client, django_capture_on_commit_callbacks
):
    sku = stock_sku(10)
    store = marketplace_store()
    client_for(client, "service")
    content = export_bytes([row(sku, "TM-1"), row(sku, "TM-2", phone="12345"), {**row(sku)}])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("stores:imports"), {"store": store.pk, "file": upload(content)}
        )

    store_import = StoreImport.objects.get()
    assert store_import.state == ImportState.REFUSED
    page = client.get(response["Location"]).content.decode()
    assert "phone “12345” is not a mainland China mobile number" in page
    assert "nothing was imported" in page
    errors = client.get(reverse("stores:import_errors", args=[store_import.pk]))
    lines = errors.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Line,Problem"
    assert lines[1].startswith("3,")


def test_the_progress_part_polls_while_the_import_runs_and_reloads_when_it_ends(client):
    store = marketplace_store()
    store_import = StoreImport.objects.create(
        store=store,
        uploaded_by=UserFactory(role="service"),
        content=b"x",
        sha256="1" * 64,
        state=ImportState.IMPORTING,
        rows_total=200,
        rows_done=50,
    )
    client_for(client, "manager")
    url = reverse("stores:import", args=[store_import.pk])

    running = client.get(url, HTTP_HX_REQUEST="true")

    body = running.content.decode()
    assert 'hx-trigger="every 1s"' in body
    assert 'value="25"' in body
    assert "Imported 50 of 200 rows" in body
    assert "HX-Refresh" not in running

    StoreImport.objects.filter(pk=store_import.pk).update(state=ImportState.DONE)
    finished = client.get(url, HTTP_HX_REQUEST="true")
    assert finished["HX-Refresh"] == "true"
    assert "every 1s" not in finished.content.decode()


def test_an_upload_without_a_file_or_for_an_inactive_store_changes_nothing(client):
    inactive = marketplace_store(is_active=False)
    client_for(client, "service")

    no_file = client.post(reverse("stores:imports"), {"store": marketplace_store(code="jd").pk})
    inactive_store = client.post(
        reverse("stores:imports"), {"store": inactive.pk, "file": upload(b"a\n1\n")}
    )

    assert no_file.status_code == inactive_store.status_code == 400
    assert not StoreImport.objects.exists()


def test_the_import_list_and_page_keep_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    sku = stock_sku(100)
    agent = UserFactory(role="service")
    stores = [marketplace_store(code=f"shop-{i}", name=f"Shop {i}") for i in range(3)]
    from stores.imports import request_import

    for index in range(6):
        content = export_bytes(
            [row(sku, f"I{index}-{n}", address_line=f"文三路 {n} 号") for n in range(4)]
        )
        with django_capture_on_commit_callbacks(execute=True):
            last, _new = request_import(
                store=stores[index % 3], uploaded=upload(content), actor=agent
            )
    client_for(client, "service")

    with django_assert_max_num_queries(10):
        listing = client.get(reverse("stores:imports"))
    with django_assert_max_num_queries(10):
        filtered = client.get(reverse("stores:imports"), {"store": stores[0].pk, "state": "done"})
    with django_assert_max_num_queries(10):
        detail = client.get(reverse("stores:import", args=[last.pk]))

    assert listing.content.decode().count('href="/staff/channels/imports/') >= 6
    assert filtered.content.decode().count("Shop 0</td>") == 2
    assert detail.content.decode().count("/staff/orders/") >= 4


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped():
    from core.csv_upload import spreadsheet_safe

    assert spreadsheet_safe('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert spreadsheet_safe("-12") == "'-12"
    assert spreadsheet_safe("Line 3: fine") == "Line 3: fine"
    assert spreadsheet_safe(12) == 12
