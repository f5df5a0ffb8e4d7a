"""Printed documents of the floor (FUL-4): labels, pick lists and packing slips as HTML and PDF,
singly and in background batches, read back from the PDF with pypdf.

The floor's rows are written here with the ORM (an order paid through the services, then its
fulfillment, pick list and parcels), so that these tests do not depend on the picking and
packing services."""

from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from fulfillment import document_data, document_jobs, documents
from fulfillment.models import (
    DocumentJob,
    DocumentKind,
    Fulfillment,
    JobState,
    PackageType,
    Parcel,
    Wave,
)
from fulfillment.selectors import pack_lines
from inventory.models import Bin
from orders.models import Carrier, ShippingService
from tests.factories import (
    SKUFactory,
    UserFactory,
    WarehouseFactory,
    make_address,
    make_order,
    stock_sku,
)

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
MASKED = "138****5678"
LABEL_WIDTH_PT = 283.46  # 100 mm
LABEL_HEIGHT_PT = 425.20  # 150 mm


# --- the floor, written directly ----------------------------------------------------------------
@dataclass
class Shelf:
    warehouse: object
    bins: list[Bin]
    carrier: Carrier
    staff: object


@pytest.fixture
def shelf() -> Shelf:
    warehouse = WarehouseFactory(
        name="杭州一号仓", province="浙江省", city="杭州市", address="余杭区仓前街道 8 号"
    )
    bins = [
        Bin.objects.create(warehouse=warehouse, code=f"A-{n:02d}", walk_order=n)
        for n in range(1, 41)
    ]
    carrier = Carrier.objects.create(code="DOC-SF", name="顺丰速运")
    return Shelf(warehouse, bins, carrier, UserFactory(role="warehouse"))


@pytest.fixture(autouse=True)
def documents_dir(settings, tmp_path):
    settings.DOCUMENTS_DIR = tmp_path / "documents"
    return settings.DOCUMENTS_DIR


def floor_order(shelf: Shelf, *, lines: int = 1, fragile: bool = True, first_bin: int = 0):
    """A paid order of `lines` SKUs (two units each) stocked in the shelf's bins, and its
    fulfillment in the shelf's warehouse."""
    skus = [
        stock_sku(
            10,
            bin=shelf.bins[(first_bin + n) % len(shelf.bins)],
            sku=SKUFactory(is_fragile=fragile and n == 0, color="蓝色", size="M"),
        )
        for n in range(lines)
    ]
    order = make_order(
        skus=skus,
        quantities=[2] * lines,
        state="paid",
        stock=False,
        address=make_address(recipient_phone=PHONE),
    )
    fulfillment, _created = Fulfillment.objects.get_or_create(
        order=order,
        warehouse=shelf.warehouse,
        defaults={"released_at": timezone.now(), "units": 2 * lines, "is_fragile": fragile},
    )
    Fulfillment.objects.filter(pk=fulfillment.pk).update(
        units=2 * lines, is_fragile=fragile, packed_at=timezone.now()
    )
    fulfillment.refresh_from_db()
    return fulfillment


def add_parcels(shelf: Shelf, fulfillment: Fulfillment, count: int = 1) -> list[Parcel]:
    start = Parcel.objects.count()
    return Parcel.objects.bulk_create(
        Parcel(
            fulfillment=fulfillment,
            package_type=PackageType.BOX_S,
            weight_grams=1250,
            carrier=shelf.carrier,
            service=ShippingService.EXPRESS,
            tracking_number=f"SF{start + n:012d}",
            packed_by=shelf.staff,
            packed_at=timezone.now(),
        )
        for n in range(count)
    )


def make_wave(shelf: Shelf, fulfillments: list[Fulfillment]) -> Wave:
    wave = Wave.objects.create(
        warehouse=shelf.warehouse,
        picker=shelf.staff,
        carrier=shelf.carrier,
        created_at=timezone.now(),
        created_by=shelf.staff,
        order_count=len(fulfillments),
        unit_count=sum(f.units for f in fulfillments),
    )
    Fulfillment.objects.filter(pk__in=[f.pk for f in fulfillments]).update(wave=wave)
    return wave


def pdf_of(response) -> PdfReader:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return PdfReader(BytesIO(body))


def text_of(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def floor_user_without_planning():
    """Staff who work the floor but do not plan it: `work_floor` alone."""
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="work_floor"))
    return user


# --- PDFs -------------------------------------------------------------------------------------
def test_label_pdf_is_100_by_150_mm_and_carries_tracking_and_order_numbers(client, shelf):
    fulfillment = floor_order(shelf)
    first, second = add_parcels(shelf, fulfillment, 2)
    client.force_login(shelf.staff)

    response = client.get(reverse("floor:label_pdf", args=[second.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = pdf_of(response)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(LABEL_WIDTH_PT, abs=0.1)
    assert float(box.height) == pytest.approx(LABEL_HEIGHT_PT, abs=0.1)
    text = text_of(reader)
    assert second.tracking_number in text
    assert fulfillment.order.number in text
    assert MASKED in text and PHONE not in text
    assert "Parcel 2 of 2" in text
    assert "1.25 kg" in text
    assert "FRAGILE" in text


def test_pick_list_pdf_lists_every_order_and_flows_onto_several_pages(client, shelf):
    fulfillments = [floor_order(shelf, lines=12, first_bin=n * 12) for n in range(4)]
    wave = make_wave(shelf, fulfillments)
    client.force_login(shelf.staff)

    response = client.get(reverse("floor:pick_list_pdf", args=[wave.pk]))

    assert response.status_code == 200
    reader = pdf_of(response)
    assert len(reader.pages) >= 2
    text = text_of(reader)
    assert wave.number in text
    for fulfillment in fulfillments:
        assert fulfillment.order.number in text
    assert "A-01" in text and "A-40" in text


def test_packing_slip_pdf_shows_the_order_and_its_lines(client, shelf):
    fulfillment = floor_order(shelf, lines=3)
    client.force_login(shelf.staff)

    response = client.get(reverse("floor:packing_slip_pdf", args=[fulfillment.pk]))

    reader = pdf_of(response)
    text = text_of(reader)
    assert fulfillment.order.number in text
    for line in pack_lines(fulfillment):
        assert line.sku_code in text
    assert "fragile" in text.lower()
    assert MASKED in text


def test_progress_is_reported_every_25_labels_and_at_the_end(shelf):
    fulfillment = floor_order(shelf)
    parcels = add_parcels(shelf, fulfillment, 60)
    heard: list[int] = []

    count = documents.write_labels(
        document_data.iter_labels([p.pk for p in parcels]), BytesIO(), progress=heard.append
    )

    assert count == 60
    assert heard == [25, 50, 60]


# --- HTML -------------------------------------------------------------------------------------
def test_html_label_has_svg_barcodes_a_masked_phone_and_print_css(client, shelf):
    fulfillment = floor_order(shelf)
    (parcel,) = add_parcels(shelf, fulfillment)
    client.force_login(shelf.staff)

    response = client.get(reverse("floor:label", args=[parcel.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<svg class="barcode"') == 2  # tracking and order numbers
    assert "<rect" in html
    assert MASKED in html and PHONE not in html
    assert "size: 100mm 150mm" in html
    assert "window.print()" in html
    assert parcel.tracking_number in html and fulfillment.order.number in html


def test_barcode_svg_is_empty_for_what_code_128_cannot_carry():
    assert documents.barcode_svg("中文") == ""
    assert documents.barcode_svg("SF0001").startswith("<svg")


def test_label_page_for_20_parcels_takes_a_constant_number_of_queries(
    client, shelf, django_assert_max_num_queries
):
    parcels = []
    for _n in range(20):
        parcels += add_parcels(shelf, floor_order(shelf))
    client.force_login(shelf.staff)
    url = reverse("floor:labels") + "?ids=" + ",".join(str(p.pk) for p in parcels)

    with django_assert_max_num_queries(8):
        response = client.get(url)

    assert response.status_code == 200
    assert response.content.decode().count('class="sheet label"') == 20


def test_pick_list_page_with_many_lines_takes_a_constant_number_of_queries(
    client, shelf, django_assert_max_num_queries
):
    fulfillments = [floor_order(shelf, lines=10, first_bin=n * 10) for n in range(4)]
    wave = make_wave(shelf, fulfillments)
    client.force_login(shelf.staff)

    with django_assert_max_num_queries(9):
        response = client.get(reverse("floor:pick_list", args=[wave.pk]))

    html = response.content.decode()
    assert html.count('class="bin"') == 40
    assert wave.number in html
    assert "[4] " + fulfillments[3].order.number in html


# --- batches ----------------------------------------------------------------------------------
def test_500_labels_make_one_500_page_pdf_in_the_background(
    client, shelf, django_capture_on_commit_callbacks
):
    parcels = []
    for _n in range(10):
        parcels += add_parcels(shelf, floor_order(shelf), 50)
    client.force_login(shelf.staff)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("floor:batch"),
            {"kind": DocumentKind.LABELS, "ids": [p.pk for p in parcels]},
        )

    job = DocumentJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("floor:job", args=[job.pk])
    assert job.state == JobState.DONE
    assert job.done == job.total == 500
    download = client.get(reverse("floor:job_download", args=[job.pk]))
    reader = pdf_of(download)
    assert len(reader.pages) == 500
    assert parcels[0].tracking_number in reader.pages[0].extract_text()
    assert parcels[-1].tracking_number in reader.pages[-1].extract_text()


def test_a_batch_by_pick_list_number_prints_its_parcels(
    client, shelf, django_capture_on_commit_callbacks
):
    fulfillments = [floor_order(shelf), floor_order(shelf)]
    parcels = add_parcels(shelf, fulfillments[0], 2) + add_parcels(shelf, fulfillments[1])
    wave = make_wave(shelf, fulfillments)
    client.force_login(shelf.staff)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("floor:batch"), {"kind": DocumentKind.LABELS, "waves": wave.number})

    job = DocumentJob.objects.get()
    assert job.object_ids == [p.pk for p in parcels]
    assert job.state == JobState.DONE


def test_more_than_2000_documents_are_refused_with_a_clear_message(client, shelf):
    client.force_login(shelf.staff)

    # Many ids travel as one comma-separated value (a form holds at most 1,000 fields).
    ids = ",".join(str(pk) for pk in range(1, 2002))
    response = client.post(reverse("floor:batch"), {"kind": DocumentKind.LABELS, "ids": ids})

    assert response.status_code == 400
    assert "at most 2,000 documents" in response.content.decode()
    assert not DocumentJob.objects.exists()


def test_job_page_polls_until_done_then_offers_the_pdf(client, shelf):
    fulfillment = floor_order(shelf)
    (parcel,) = add_parcels(shelf, fulfillment)
    job = DocumentJob.objects.create(
        kind=DocumentKind.LABELS, object_ids=[parcel.pk], total=1, requested_by=shelf.staff
    )
    client.force_login(shelf.staff)
    url = reverse("floor:job", args=[job.pk])

    waiting = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in waiting and "<progress" in waiting

    assert document_jobs.render_job(job.pk) is True
    assert document_jobs.render_job(job.pk) is False  # done: a second delivery does nothing

    done = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done
    assert reverse("floor:job_download", args=[job.pk]) in done
    assert "<html" not in done  # the status part alone, swapped in by htmx


# --- who may print ----------------------------------------------------------------------------
def test_customers_are_refused_and_visitors_sent_to_log_in(client, shelf):
    (parcel,) = add_parcels(shelf, floor_order(shelf))
    url = reverse("floor:label_pdf", args=[parcel.pk])

    assert client.get(url).status_code == 302
    client.force_login(UserFactory(role="customer"))
    assert client.get(url).status_code == 403
    assert client.get(reverse("floor:batch")).status_code == 403


@pytest.mark.parametrize("role", ["warehouse", "manager"])
def test_floor_staff_and_planners_may_print(client, shelf, role):
    (parcel,) = add_parcels(shelf, floor_order(shelf))
    client.force_login(UserFactory(role=role))

    assert client.get(reverse("floor:label", args=[parcel.pk])).status_code == 200


def test_a_batch_is_downloaded_by_its_requester_and_planners_only(client, shelf):
    (parcel,) = add_parcels(shelf, floor_order(shelf))
    job = DocumentJob.objects.create(
        kind=DocumentKind.LABELS, object_ids=[parcel.pk], total=1, requested_by=shelf.staff
    )
    document_jobs.render_job(job.pk)
    url = reverse("floor:job_download", args=[job.pk])

    client.force_login(floor_user_without_planning())
    assert client.get(url).status_code == 403
    assert client.get(reverse("floor:job", args=[job.pk])).status_code == 403
    client.force_login(shelf.staff)
    assert client.get(url).status_code == 200
    client.force_login(UserFactory(role="manager"))
    assert client.get(url).status_code == 200


def test_tidying_hands_over_lost_batches_again_and_deletes_old_files(shelf):
    (parcel,) = add_parcels(shelf, floor_order(shelf))
    lost = DocumentJob.objects.create(
        kind=DocumentKind.LABELS, object_ids=[parcel.pk], total=1, requested_by=shelf.staff
    )
    old = DocumentJob.objects.create(
        kind=DocumentKind.LABELS, object_ids=[parcel.pk], total=1, requested_by=shelf.staff
    )
    document_jobs.render_job(old.pk)
    old_file = document_jobs.job_path(DocumentJob.objects.get(pk=old.pk))
    long_ago = timezone.now() - timedelta(days=8)
    DocumentJob.objects.filter(pk=lost.pk).update(created_at=long_ago)
    DocumentJob.objects.filter(pk=old.pk).update(finished_at=long_ago)

    assert document_jobs.tidy_jobs() == (1, 1)  # eager: the lost batch is rendered at once

    assert DocumentJob.objects.get(pk=lost.pk).state == JobState.DONE
    assert not old_file.exists()
    assert document_jobs.job_path(DocumentJob.objects.get(pk=old.pk)) is None
