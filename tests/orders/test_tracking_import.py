"""Tracking events uploaded as CSV (FUL-6): every row checked first and every bad row listed by
its line number; nothing stored until the file is clean; the same file again adds nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from orders import tracking_io
from orders.models import (
    Carrier,
    OrderEvent,
    OrderEventKind,
    OrderState,
    PaymentMethod,
    TrackingEvent,
    TrackingStatus,
)
from orders.shipments import record_shipment
from tests.factories import UserFactory, make_order, staff_user

pytestmark = pytest.mark.django_db

URL = "/staff/orders/tracking/import/"
HEADER = "carrier,tracking_number,time,status,location,description"


def ship(order, number="SF1234567890123", carrier="SF"):
    return record_shipment(
        order_id=order.pk,
        carrier_code=carrier,
        tracking_number=number,
        actor=staff_user(Role.WAREHOUSE),
    )


def csv_file(*lines: str, header: str = HEADER, encoding: str = "utf-8", name="track.csv"):
    text = "\n".join([header, *lines]) + "\n"
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def upload(client, file):
    return client.post(URL, {"file": file})


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def warehouse_client(client):
    client.force_login(UserFactory(role=Role.WAREHOUSE))
    return client


@pytest.fixture
def parcel():
    return ship(make_order(state=OrderState.SHIPPED))


def test_the_reverse_url_is_the_documented_one():
    assert reverse("staff_orders:tracking_import") == URL


# --- a clean file -----------------------------------------------------------------------------
def test_a_clean_file_is_imported_and_the_same_file_again_adds_nothing(warehouse_client, parcel):
    zto = ship(make_order(state=OrderState.SHIPPED), number="773100001234", carrier="ZTO")
    lines = [
        "SF,SF1234567890123,2025-03-01 14:30,collected,杭州西湖区营业部,顺丰速运 已收取快件",
        "sf,sf 1234 5678 90123,2025-03-01T20:05:00+08:00,In transit,杭州转运中心,",
        "顺丰速运,SF1234567890123,2025-03-02T01:10:00Z,派送中,杭州文三路营业点,派送中",
        "ZTO,773100001234,2025/3/2 9:05,out_for_delivery,,",
    ]

    response = upload(warehouse_client, csv_file(*lines))

    assert response.status_code == 302
    assert response["Location"] == URL
    assert texts(response) == ["track.csv: 4 new tracking events stored; 0 were already known."]
    events = list(TrackingEvent.objects.filter(shipment=parcel).order_by("occurred_at"))
    assert [(e.status, e.occurred_at) for e in events] == [
        (TrackingStatus.COLLECTED, datetime(2025, 3, 1, 6, 30, tzinfo=UTC)),
        (TrackingStatus.IN_TRANSIT, datetime(2025, 3, 1, 12, 5, tzinfo=UTC)),
        (TrackingStatus.OUT_FOR_DELIVERY, datetime(2025, 3, 2, 1, 10, tzinfo=UTC)),
    ]
    assert events[0].location == "杭州西湖区营业部"
    assert zto.tracking_events.get().occurred_at == datetime(2025, 3, 2, 1, 5, tzinfo=UTC)

    again = upload(warehouse_client, csv_file(*lines))

    assert texts(again)[-1] == "track.csv: 0 new tracking events stored; 4 were already known."
    assert TrackingEvent.objects.count() == 4


def test_a_file_with_some_known_events_stores_only_the_new_ones(warehouse_client, parcel):
    first = "SF,SF1234567890123,2025-03-01 14:30,collected,,"
    upload(warehouse_client, csv_file(first))

    response = upload(
        warehouse_client,
        csv_file(first, "SF,SF1234567890123,2025-03-01 18:00,in_transit,,", first),
    )

    assert texts(response)[-1] == "track.csv: 1 new tracking event stored; 2 were already known."
    assert TrackingEvent.objects.count() == 2


def test_gb18030_file_from_a_chinese_spreadsheet_with_semicolons(warehouse_client, parcel):
    file = csv_file(
        "SF;SF1234567890123;2025-03-01 14:30;已签收;杭州;本人签收",
        header=HEADER.replace(",", ";"),
        encoding="gb18030",
    )

    upload(warehouse_client, file)

    event = TrackingEvent.objects.get()
    assert event.status == TrackingStatus.DELIVERED
    assert event.description == "本人签收"
    parcel.refresh_from_db()
    assert parcel.delivered_at == event.occurred_at


@pytest.mark.parametrize(
    ("written", "status"),
    [
        ("collected", "collected"),
        ("IN_TRANSIT", "in_transit"),
        ("in transit", "in_transit"),
        ("Out for delivery", "out_for_delivery"),
        ("快递已揽收", "collected"),
        ("运输中", "in_transit"),
        ("派送异常", "exception"),
        ("Delivered", "delivered"),
    ],
)
def test_status_as_code_english_or_chinese_label(written, status):
    assert tracking_io.parse_status(written) == status


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("2025-03-01 14:30", datetime(2025, 3, 1, 6, 30, tzinfo=UTC)),
        ("2025-03-01T14:30:15", datetime(2025, 3, 1, 6, 30, 15, tzinfo=UTC)),
        ("2025-03-01T14:30:00+09:00", datetime(2025, 3, 1, 5, 30, tzinfo=UTC)),
        ("2025-03-01T06:30:00Z", datetime(2025, 3, 1, 6, 30, tzinfo=UTC)),
        ("2025/3/1 14:30", datetime(2025, 3, 1, 6, 30, tzinfo=UTC)),
        ("2025-03-01", None),
        ("01/03/2025 14:30", None),
        ("soon", None),
    ],
)
def test_times_in_iso_8601_or_local_minutes(written, utc):
    assert tracking_io.parse_time(written) == utc


# --- bad rows ---------------------------------------------------------------------------------
def test_every_bad_row_is_listed_by_line_number_and_nothing_is_stored(warehouse_client, parcel):
    ship(make_order(state=OrderState.SHIPPED), number="773100001234", carrier="ZTO")
    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    file = csv_file(
        "SF,SF1234567890123,2025-03-01 14:30,collected,,",  # 2: fine
        "UPS,SF1234567890123,2025-03-01 15:30,in_transit,,",  # 3
        "SF,773100001234,2025-03-01 15:30,in_transit,,",  # 4: a ZTO number
        "SF,SF0000000000000,2025-03-01 15:30,in_transit,,",  # 5
        "",  # 6: blank lines are skipped, not counted as rows
        "SF,SF1234567890123,01/03/2025,in_transit,,",  # 7
        "SF,SF1234567890123,2025-03-01 16:30,lost,,",  # 8
        f"SF,SF1234567890123,{tomorrow},in_transit,,",  # 9
        ",,,,,x",  # 10
        "SF,SF1234567890123,2025-03-01 17:30,in_transit,," + "x" * 301,  # 11
    )

    response = upload(warehouse_client, file)

    assert response.status_code == 200
    errors = [(e.line, e.message) for e in response.context["check"].errors]
    assert [line for line, _message in errors] == [3, 4, 5, 7, 8, 9, 10, 11]
    by_line = dict(errors)
    assert by_line[3] == "unknown carrier “UPS”"
    assert by_line[4] == "no SF shipment has tracking number 773100001234"
    assert by_line[5] == "no SF shipment has tracking number SF0000000000000"
    assert "time “01/03/2025” is not a date and time" in by_line[7]
    assert by_line[8].startswith("unknown status “lost”; use one of: collected, in_transit")
    assert by_line[9].endswith("is in the future")
    assert by_line[10] == "no carrier; no tracking number; no time; no status"
    assert by_line[11] == "the description is longer than 300 characters"
    html = response.content.decode()
    assert "8 rows have errors; nothing was imported." in html
    assert "unknown carrier “UPS”" in html
    assert not TrackingEvent.objects.exists()


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("carrier,number,time,status", "lacks the column(s): tracking_number"),
        ("tracking_number,time", "lacks the column(s): carrier, status"),
    ],
)
def test_a_file_without_the_required_columns_is_refused(warehouse_client, parcel, header, says):
    response = upload(warehouse_client, csv_file("SF,SF1234567890123", header=header))

    assert says in response.content.decode()
    assert not TrackingEvent.objects.exists()


def test_a_header_without_rows_and_an_empty_file_are_refused(warehouse_client):
    assert "The file has a header but no rows." in (
        upload(warehouse_client, csv_file()).content.decode()
    )
    empty = SimpleUploadedFile("empty.csv", b"", content_type="text/csv")
    assert upload(warehouse_client, empty).status_code == 200
    assert not TrackingEvent.objects.exists()


def test_a_file_over_the_row_limit_is_refused_whole(warehouse_client, parcel, monkeypatch):
    monkeypatch.setattr(tracking_io, "IMPORT_MAX_ROWS", 3)
    rows = [f"SF,SF1234567890123,2025-03-01 1{n}:00,in_transit,," for n in range(4)]

    response = upload(warehouse_client, csv_file(*rows))

    assert "The file has more than 3 rows. Split it into smaller files." in (
        response.content.decode()
    )
    assert not TrackingEvent.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    warehouse_client, parcel, monkeypatch
):
    monkeypatch.setattr(tracking_io, "IMPORT_MAX_BYTES", 1024)
    rows = [f"SF,SF1234567890123,2025-03-01 10:{n:02d},in_transit,,{'x' * 40}" for n in range(40)]

    response = upload(warehouse_client, csv_file(*rows))

    assert "The file is 4 KB; the limit is 1 KB. Split it into smaller files." in (
        response.content.decode()
    )
    assert not TrackingEvent.objects.exists()


# --- permissions and the link -----------------------------------------------------------------
@pytest.mark.parametrize(("role", "status"), [(Role.CUSTOMER, 403), (Role.MANAGER, 403)])
def test_customers_and_staff_without_the_permission_cannot_import(client, parcel, role, status):
    client.force_login(UserFactory(role=role))

    assert client.get(URL).status_code == status
    response = upload(client, csv_file("SF,SF1234567890123,2025-03-01 14:30,collected,,"))

    assert response.status_code == status
    assert not TrackingEvent.objects.exists()


def test_a_visitor_is_sent_to_log_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_order_list_links_to_the_import_for_those_who_may_use_it(client):
    client.force_login(UserFactory(role=Role.SERVICE))
    assert URL in client.get(reverse("staff_orders:list")).content.decode()

    client.force_login(UserFactory(role=Role.MANAGER))
    assert URL not in client.get(reverse("staff_orders:list")).content.decode()


# --- delivered cash-on-delivery ---------------------------------------------------------------
def test_a_delivered_row_records_the_cash_of_a_cash_on_delivery_order_once(warehouse_client):
    order = make_order(state=OrderState.SHIPPED, payment_method=PaymentMethod.CASH_ON_DELIVERY)
    ship(order)
    file = "SF,SF1234567890123,2025-03-01 14:30,delivered,杭州,本人签收"

    upload(warehouse_client, csv_file(file))
    upload(warehouse_client, csv_file(file))

    order.refresh_from_db()
    assert order.paid_amount == order.total_amount
    cash = OrderEvent.objects.filter(order=order, kind=OrderEventKind.CASH_COLLECTED)
    assert [event.reason for event in cash] == ["Reported delivered by 顺丰速运"]


# --- query counts -----------------------------------------------------------------------------
def _parcels(n: int) -> list[str]:
    numbers = []
    for i in range(n):
        number = f"SF{i:013d}"
        ship(make_order(state=OrderState.SHIPPED), number=number)
        numbers.append(number)
    return numbers


def _queries(client, django_assert_max_num_queries, file, limit) -> int:
    with django_assert_max_num_queries(limit) as captured:
        client.post(URL, {"file": file})
    return len(captured)


def test_checking_a_file_makes_the_same_queries_for_3_rows_as_for_60(
    warehouse_client, django_assert_max_num_queries
):
    numbers = _parcels(20)

    def bad_file(n):
        rows = [f"SF,{numbers[i % 20]},2025-03-01 1{i % 10}:{i % 60:02d},lost,," for i in range(n)]
        return csv_file(*rows)

    few = _queries(warehouse_client, django_assert_max_num_queries, bad_file(3), 8)
    many = _queries(warehouse_client, django_assert_max_num_queries, bad_file(60), 8)

    assert few == many
    assert not TrackingEvent.objects.exists()


def test_importing_makes_the_same_queries_for_3_rows_as_for_60(
    warehouse_client, django_assert_max_num_queries
):
    numbers = _parcels(20)

    def clean_file(n, minute):
        rows = [
            f"SF,{numbers[i % 20]},2025-03-01 1{i % 10}:{minute:02d},in_transit,,{i}"
            for i in range(n)
        ]
        return csv_file(*rows)

    few = _queries(warehouse_client, django_assert_max_num_queries, clean_file(3, 1), 15)
    many = _queries(warehouse_client, django_assert_max_num_queries, clean_file(60, 2), 15)

    assert few == many
    assert TrackingEvent.objects.count() == 63


def test_carriers_are_matched_by_code_or_name_without_case(parcel):
    Carrier.objects.filter(code="SF").update(is_active=False)  # still delivering old parcels
    rows = [
        (2, {"carrier": "sf", "tracking_number": "SF1234567890123", "time": "2025-03-01 14:30",
             "status": "collected", "location": "", "description": ""}),
        (3, {"carrier": "顺丰速运", "tracking_number": "SF1234567890123",
             "time": "2025-03-01 15:30", "status": "collected", "location": "",
             "description": ""}),
    ]  # fmt: skip

    check = tracking_io.check_rows(rows)

    assert check.errors == []
    assert [event.shipment_id for event in check.events] == [parcel.pk, parcel.pk]
