"""The marketplace order import (ORD-12, issue 10 item 2): a store's CSV export is checked as a
whole, then each order is placed, paid, audited and sent to the warehouse; bad rows import
nothing and are each reported by line; the same file twice creates nothing new."""

from decimal import Decimal

import pytest
from django.utils import timezone

from core.models import StaffAction
from fulfillment.models import Fulfillment
from notifications.models import Notification
from orders.models import Channel, Order, OrderState, PaymentMethod
from stores import imports
from stores.mapping import PRESETS
from stores.models import ImportedOrder, ImportState, StoreImport
from tests.factories import UserFactory, stock_sku

from .exports import export_bytes, marketplace_store, row, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(role="service")


def run(store, content: bytes, actor, capture, name="export.csv") -> StoreImport:
    """Upload `content` and let the worker (eager) run it after the commit."""
    with capture(execute=True):
        store_import, _new = imports.request_import(
            store=store, uploaded=upload(content, name), actor=actor
        )
    return StoreImport.objects.get(pk=store_import.pk)


def test_a_tmall_export_imports_with_the_default_mapping_paid_audited_and_at_the_warehouse(
    agent, django_capture_on_commit_callbacks
):
    kettle, cup = stock_sku(10), stock_sku(10)
    store = marketplace_store(column_mapping={})  # no mapping of its own: the default one
    content = export_bytes(
        [
            row(kettle, "TM-1001", quantity=2, unit_price="129.00"),
            row(
                cup, "TM-1002", unit_price="39.90", recipient_name="李娜", phone="+86 139-1234-5678"
            ),
        ]
    )

    done = run(store, content, agent, django_capture_on_commit_callbacks)

    assert done.state == ImportState.DONE, done.errors
    assert (done.rows_total, done.rows_done) == (2, 2)
    assert (done.orders_created, done.orders_known, done.orders_failed) == (2, 0, 0)
    assert done.errors == [] and done.finished_at is not None
    order = Order.objects.get(store=store, external_id="TM-1001")
    assert order.channel == Channel.MARKETPLACE
    assert order.state == OrderState.PAID
    assert order.total_amount == order.paid_amount == Decimal("266.00")
    assert order.lines.get().unit_price == Decimal("129.00")
    assert not order.needs_review  # audited and passed
    assert Fulfillment.objects.filter(order=order).exists()
    # Paid when the marketplace took the money, for the reports' days.
    assert timezone.localtime(order.paid_at).strftime("%Y-%m-%d %H:%M") == "2026-11-20 10:15"
    other = Order.objects.get(external_id="TM-1002")
    assert other.recipient_phone == "13912345678"
    assert other.contact_email.endswith("@marketplace.invalid")
    # Nobody to tell: the marketplace talks to its buyers.
    assert not Notification.objects.filter(order__in=[order, other]).exists()
    assert set(
        ImportedOrder.objects.filter(created=True).values_list("order__external_id", flat=True)
    ) == {
        "TM-1001",
        "TM-1002",
    }
    assert StaffAction.objects.filter(action="store.import_orders", actor=agent).count() == 1


def test_a_gb18030_export_separated_by_semicolons_imports(
    agent, django_capture_on_commit_callbacks
):
    sku = stock_sku(5)
    store = marketplace_store()
    content = export_bytes(
        [row(sku, "TM-9", buyer_note="请用顺丰，谢谢", address_line="人民路 1 号")],
        encoding="gb18030",
        delimiter=";",
    )
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")

    done = run(store, content, agent, django_capture_on_commit_callbacks)

    assert done.state == ImportState.DONE, done.errors
    order = Order.objects.get(external_id="TM-9")
    assert (order.customer_note, order.address_line) == ("请用顺丰，谢谢", "人民路 1 号")


def test_an_export_with_english_headers_imports_with_that_mapping(
    agent, django_capture_on_commit_callbacks
):
    sku = stock_sku(5)
    store = marketplace_store(column_mapping=dict(PRESETS["english"]))
    content = export_bytes(
        [row(sku, "EN-1", buyer_email="Buyer@Example.com", payment_method="cod")],
        headers=PRESETS["english"],
    )

    done = run(store, content, agent, django_capture_on_commit_callbacks)

    assert done.state == ImportState.DONE, done.errors
    order = Order.objects.get(external_id="EN-1")
    assert order.payment_method == PaymentMethod.CASH_ON_DELIVERY
    assert order.state == OrderState.PAID and order.paid_amount == 0
    assert order.contact_email == "buyer@example.com"


def test_the_rows_of_one_order_make_one_order_with_its_lines_and_discounts(
    agent, django_capture_on_commit_callbacks
):
    kettle, cup = stock_sku(5), stock_sku(5)
    store = marketplace_store()
    # 2 × 129.00 − 20.00 + 1 × 39.90 + 10.00 shipping = 287.90
    order_fields = {"shipping_fee": "10.00", "order_total": "287.90"}
    content = export_bytes(
        [
            row(
                kettle, "TM-7", quantity=2, unit_price="129.00", line_discount="20", **order_fields
            ),
            row(cup, "TM-7", unit_price="39.90", **order_fields),
            row(cup, "TM-8"),
        ]
    )

    done = run(store, content, agent, django_capture_on_commit_callbacks)

    assert done.state == ImportState.DONE, done.errors
    assert (done.rows_total, done.orders_total, done.orders_created) == (3, 2, 2)
    order = Order.objects.get(external_id="TM-7")
    assert order.lines.count() == 2
    assert order.discount_amount == Decimal("20.00")
    assert order.shipping_amount == Decimal("10.00")
    assert order.total_amount == Decimal("287.90")
    assert ImportedOrder.objects.get(order=order).first_line == 2


def test_bad_rows_import_nothing_and_each_is_reported_by_its_line(
    agent, django_capture_on_commit_callbacks
):
    sku = stock_sku(50)
    off_sale = stock_sku(5)
    off_sale.is_active = False
    off_sale.save()
    store = marketplace_store()
    rows = [
        row(sku, "OK-1"),  # line 2: fine
        row(sku, "", order_total="107.00"),  # 3: no order id
        {**row(sku, "B-2"), "sku_code": "NOPE-1"},  # 4: unknown SKU
        row(off_sale, "B-3"),  # 5: not on sale
        {**row(sku, "B-4"), "quantity": "0"},  # 6
        {**row(sku, "B-5"), "quantity": "1.5"},  # 7
        row(sku, "B-6", unit_price="99.999"),  # 8: three decimal places
        row(sku, "B-7", shipping_fee="-8.00"),  # 9: negative
        row(sku, "B-8", phone="010-12345678"),  # 10: a landline
        row(sku, "B-9", district="朝阳区"),  # 11: not a district of 杭州市
        row(sku, "B-10", address_line=""),  # 12
        row(sku, "B-11", payment_method="IOU"),  # 13
        row(sku, "B-12", paid_at="yesterday"),  # 14
        row(sku, "OK-2"),  # 15: fine
    ]
    content = export_bytes(rows)

    done = run(store, content, agent, django_capture_on_commit_callbacks)

    assert done.state == ImportState.REFUSED
    assert not Order.objects.exists()
    lines = [error["line"] for error in done.errors]
    assert lines == list(range(3, 15))
    messages = {error["line"]: error["message"] for error in done.errors}
    assert "no order id" in messages[3]
    assert "unknown SKU code “NOPE-1”" in messages[4]
    assert "not on sale" in messages[5]
    assert "quantity “0”" in messages[6]
    assert "quantity “1.5”" in messages[7]
    assert "“99.999” is not an amount" in messages[8]
    assert "“-8.00” is not an amount" in messages[9]
    assert "phone “010-12345678”" in messages[10]
    assert "朝阳区" in messages[11]
    assert "no address line" in messages[12]
    assert "payment method “IOU”" in messages[13]
    assert "paid at “yesterday”" in messages[14]
    assert imports.result_message(done) == "12 problems found; nothing was imported."


def test_an_order_whose_amounts_do_not_add_up_is_refused(agent, django_capture_on_commit_callbacks):
    sku = stock_sku(5)
    store = marketplace_store()
    content = export_bytes(
        [
            row(sku, "TM-1"),
            row(sku, "TM-2", quantity=2, unit_price="50.00", order_total="100.00"),
        ]
    )

    done = run(store, content, agent, django_capture_on_commit_callbacks)

    assert done.state == ImportState.REFUSED
    assert not Order.objects.exists()
    assert done.errors == [
        {
            "line": 3,
            "message": "order TM-2 (lines 3): the lines (100.00) and shipping (8.00) add up to "
            "108.00, but the order total is 100.00",
        }
    ]


def test_rows_of_one_order_that_disagree_on_the_address_are_refused(
    agent, django_capture_on_commit_callbacks
):
    sku = stock_sku(5)
    store = marketplace_store()
    content = export_bytes(
        [
            row(sku, "TM-1", order_total="206.00"),
            row(sku, "TM-1", order_total="206.00", city="宁波市"),
        ]
    )

    done = run(store, content, agent, django_capture_on_commit_callbacks)

    assert done.state == ImportState.REFUSED
    assert len(done.errors) == 2  # 宁波市 has no 西湖区 either
    assert done.errors[1]["line"] == 3
    assert "order TM-1: city differ(s) from line 2" in done.errors[1]["message"]


def test_a_file_without_a_mapped_column_is_refused_as_a_whole(
    agent, django_capture_on_commit_callbacks
):
    sku = stock_sku(5)
    store = marketplace_store()
    headers = {k: v for k, v in PRESETS["tmall"].items() if k != "phone"}
    content = export_bytes([row(sku)], headers=headers)

    done = run(store, content, agent, django_capture_on_commit_callbacks)

    assert done.state == ImportState.REFUSED
    assert done.errors == [
        {
            "line": 0,
            "message": "The header row lacks the column(s): “联系手机”. Check the store's column "
            "mapping or download its template.",
        }
    ]


def test_the_same_file_twice_creates_nothing_new(agent, django_capture_on_commit_callbacks):
    sku = stock_sku(10)
    store = marketplace_store()
    content = export_bytes([row(sku, "TM-1"), row(sku, "TM-2"), row(sku, "TM-3")])

    first = run(store, content, agent, django_capture_on_commit_callbacks)
    second = run(store, content, agent, django_capture_on_commit_callbacks, name="again.csv")

    assert first.pk != second.pk
    assert (first.orders_created, first.orders_known) == (3, 0)
    assert (second.orders_created, second.orders_known) == (0, 3)
    assert Order.objects.count() == 3
    assert "already imported: 3" in imports.result_message(second)
    assert ImportedOrder.objects.filter(store_import=second, created=False).count() == 3


def test_the_same_file_uploaded_while_the_first_waits_finds_the_first(agent):
    sku = stock_sku(10)
    store = marketplace_store()
    content = export_bytes([row(sku, "TM-1")])

    first, new = imports.request_import(store=store, uploaded=upload(content), actor=agent)
    again, again_new = imports.request_import(store=store, uploaded=upload(content), actor=agent)
    other_store = marketplace_store(code="jd", name="JD")
    elsewhere, elsewhere_new = imports.request_import(
        store=other_store, uploaded=upload(content), actor=agent
    )

    assert (new, again_new, elsewhere_new) == (True, False, True)
    assert again.pk == first.pk
    assert elsewhere.pk != first.pk
    assert StoreImport.objects.count() == 2


def test_an_order_short_of_stock_is_reported_and_the_others_go_on(
    agent, django_capture_on_commit_callbacks
):
    plenty, scarce = stock_sku(10), stock_sku(1)
    store = marketplace_store()
    content = export_bytes(
        [
            row(plenty, "TM-1"),
            row(scarce, "TM-2", quantity=2, unit_price="10.00"),
            row(plenty, "TM-3"),
        ]
    )

    done = run(store, content, agent, django_capture_on_commit_callbacks)

    assert done.state == ImportState.DONE
    assert (done.orders_created, done.orders_failed) == (2, 1)
    assert set(Order.objects.values_list("external_id", flat=True)) == {"TM-1", "TM-3"}
    assert len(done.errors) == 1
    assert done.errors[0]["line"] == 3
    assert done.errors[0]["message"].startswith("order TM-2 (lines 3) was not imported: Not enough")

    # The stock arrives; the same file again places only the missing order.
    stock_sku(5, sku=scarce)
    again = run(store, content, agent, django_capture_on_commit_callbacks)
    assert (again.orders_created, again.orders_known, again.orders_failed) == (1, 2, 0)
    assert Order.objects.count() == 3


def test_an_imported_order_above_the_audits_value_limit_is_held(
    agent, django_capture_on_commit_callbacks
):
    sku = stock_sku(5)
    store = marketplace_store()
    content = export_bytes([row(sku, "BIG-1", unit_price="25000.00")])

    done = run(store, content, agent, django_capture_on_commit_callbacks)

    order = Order.objects.get(external_id="BIG-1")
    assert done.state == ImportState.DONE
    assert order.state == OrderState.PAID
    assert order.needs_review
    assert "above the limit" in order.review_reason
    assert "max_value" in order.audit_findings.values_list("code", flat=True)


def test_an_inactive_store_or_a_big_file_is_refused_at_upload(agent, settings):
    store = marketplace_store(is_active=False)
    with pytest.raises(imports.UploadRefused):
        imports.request_import(store=store, uploaded=upload(b"x"), actor=agent)

    active = marketplace_store(code="jd", name="JD")
    too_big = b"a" * (imports.IMPORT_MAX_BYTES + 1)
    with pytest.raises(imports.UploadRefused, match="limit is 5120 KB"):
        imports.request_import(store=active, uploaded=upload(too_big), actor=agent)
    assert not StoreImport.objects.exists()


def test_a_store_switched_off_before_the_worker_runs_imports_nothing(agent):
    sku = stock_sku(5)
    store = marketplace_store()
    waiting, _new = imports.request_import(
        store=store, uploaded=upload(export_bytes([row(sku)])), actor=agent
    )
    store.is_active = False
    store.save()

    imports.run_import(waiting.pk)

    waiting.refresh_from_db()
    assert waiting.state == ImportState.REFUSED
    assert waiting.errors[0]["message"] == "This store is inactive: it cannot import orders."
    assert not Order.objects.exists()


def test_running_an_import_again_does_nothing_once_it_is_finished(
    agent, django_capture_on_commit_callbacks
):
    sku = stock_sku(5)
    store = marketplace_store()
    done = run(store, export_bytes([row(sku)]), agent, django_capture_on_commit_callbacks)

    assert imports.run_import(done.pk) is False
    assert Order.objects.count() == 1


def test_an_import_whose_enqueue_was_lost_is_handed_over_again(agent, settings):
    from datetime import timedelta

    from django.utils import timezone

    sku = stock_sku(5)
    store = marketplace_store()
    # No on_commit capture: the hand-over at commit never happens.
    lost, _new = imports.request_import(
        store=store, uploaded=upload(export_bytes([row(sku)])), actor=agent
    )
    StoreImport.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - timedelta(minutes=11))

    assert imports.tidy_imports() == 1

    lost.refresh_from_db()
    assert lost.state == ImportState.DONE
    assert Order.objects.count() == 1
