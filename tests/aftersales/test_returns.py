"""The warehouse receives and inspects returned goods (AFS-3, issue 8 item 4): sellable units
back to a bin through the ledger, damaged ones recorded on the request only, more or fewer than
expected accepted and shown, wrong states refused, warehouse staff only, received once."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts.roles import Role
from aftersales import returns
from aftersales.models import (
    AfterSalesRequest,
    RequestEvent,
    RequestEventKind,
    RequestKind,
    RequestState,
)
from aftersales.returns import Inspected, ReturnRefused
from inventory.models import MovementKind, Stock, StockMovement
from notifications.models import Notification, NotificationKind
from tests.factories import BinFactory, SKUFactory, UserFactory, WarehouseFactory

from .returns_kit import make_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def inspector():
    return UserFactory(role=Role.WAREHOUSE)


@pytest.fixture
def shelf():
    """A storage bin in a warehouse of its own, where returned units go."""
    return BinFactory(warehouse=WarehouseFactory(), code="R-01-01")


def on_hand(sku, bin_) -> int:
    row = Stock.objects.filter(sku=sku, bin=bin_).first()
    return row.on_hand if row else 0


def receive(request, inspector, shelf=None, note="", **lines):
    """receive_return with counts by line index: line0=(sellable, damaged)."""
    request_lines = list(request.lines.order_by("pk"))
    found = {
        request_lines[int(key.removeprefix("line"))].pk: Inspected(*value)
        for key, value in lines.items()
    }
    return returns.receive_return(
        request_id=request.pk,
        found=found,
        bin_id=shelf.pk if shelf else None,
        actor=inspector,
        note=note,
    )


# --- the service ------------------------------------------------------------------------------
def test_sellable_units_go_back_to_the_bin_through_the_ledger_and_damaged_are_only_recorded(
    inspector, shelf, django_capture_on_commit_callbacks
):
    sku = SKUFactory()
    request = make_request(skus=[sku], quantities=[3])

    with django_capture_on_commit_callbacks():
        received = receive(request, inspector, shelf, line0=(2, 1))

    assert received.state == RequestState.RECEIVED
    assert received.received_at is not None
    line = request.lines.get()
    assert (line.received_sellable, line.received_damaged) == (2, 1)
    # Only the sellable units come back into stock, as a "return" in the ledger.
    assert on_hand(sku, shelf) == 2
    movement = StockMovement.objects.get(kind=MovementKind.RETURN, sku=sku)
    assert (movement.on_hand_change, movement.bin_id, movement.actor) == (2, shelf.pk, inspector)
    assert (movement.reference_type, movement.reference_id) == (
        "aftersales_request",
        str(request.pk),
    )
    assert not StockMovement.objects.filter(sku=sku, kind=MovementKind.WRITE_OFF).exists()
    call_command("check_stock_ledger")

    event = RequestEvent.objects.get(request=request, kind=RequestEventKind.RECEIVED)
    assert (event.from_state, event.to_state, event.actor) == (
        RequestState.RETURN_SHIPPED,
        RequestState.RECEIVED,
        inspector,
    )
    assert event.details["lines"] == [
        {"line": line.pk, "sku": sku.code, "expected": 3, "sellable": 2, "damaged": 1}
    ]
    assert event.details["bin"] == "R-01-01"
    assert event.details["not_as_expected"] is False

    notice = Notification.objects.get(kind=NotificationKind.AFTERSALES_RECEIVED)
    assert notice.recipient == request.customer
    assert notice.context["request"] == request.number
    assert "2" in notice.context["reason"]


def test_all_damaged_needs_no_bin_and_changes_no_stock(inspector):
    sku = SKUFactory()
    request = make_request(skus=[sku], quantities=[2])
    before = StockMovement.objects.count()

    receive(request, inspector, line0=(0, 2))

    assert StockMovement.objects.count() == before
    assert request.lines.get().received_damaged == 2


def test_more_or_fewer_units_than_expected_are_accepted_and_shown(inspector, shelf):
    first, second = SKUFactory(), SKUFactory()
    request = make_request(skus=[first, second], quantities=[2, 1])

    receive(request, inspector, shelf, line0=(3, 0), line1=(0, 0), note="Second item missing")

    event = RequestEvent.objects.get(request=request, kind=RequestEventKind.RECEIVED)
    assert event.details["not_as_expected"] is True
    assert event.reason == "Second item missing"
    assert [(d["expected"], d["sellable"]) for d in event.details["lines"]] == [(2, 3), (1, 0)]
    assert on_hand(first, shelf) == 3


def test_a_parcel_may_be_received_before_its_tracking_number_is_entered(inspector, shelf):
    request = make_request(state=RequestState.APPROVED)
    assert receive(request, inspector, shelf, line0=(1, 0)).state == RequestState.RECEIVED


def test_sellable_units_need_a_storage_bin(inspector):
    request = make_request()
    with pytest.raises(ReturnRefused, match="bin"):
        receive(request, inspector, line0=(1, 0))
    staging = BinFactory(is_staging=True)
    with pytest.raises(ReturnRefused, match="no such bin"):
        receive(request, inspector, staging, line0=(1, 0))
    request.refresh_from_db()
    assert request.state == RequestState.RETURN_SHIPPED


def test_nothing_counted_needs_a_note(inspector):
    request = make_request()
    with pytest.raises(ReturnRefused, match="Nothing was counted"):
        receive(request, inspector, line0=(0, 0))
    assert receive(request, inspector, line0=(0, 0), note="Parcel came empty").state == (
        RequestState.RECEIVED
    )


@pytest.mark.parametrize(
    ("kind", "state", "words"),
    [
        (RequestKind.REFUND_ONLY, RequestState.APPROVED, "no goods come back"),
        (RequestKind.RESHIP, RequestState.APPROVED, "no goods come back"),
        (RequestKind.RETURN_REFUND, RequestState.SUBMITTED, "not approved yet"),
        (RequestKind.RETURN_REFUND, RequestState.REJECTED, "was rejected"),
        (RequestKind.EXCHANGE, RequestState.WITHDRAWN, "was withdrawn"),
        (RequestKind.RETURN_REFUND, RequestState.RECEIVED, "already received"),
        (RequestKind.RETURN_REFUND, RequestState.CLOSED, "already received"),
    ],
)
def test_requests_not_expecting_goods_now_are_refused(inspector, shelf, kind, state, words):
    request = make_request(kind=kind, state=state)
    before = StockMovement.objects.count()
    with pytest.raises(ReturnRefused, match=words):
        receive(request, inspector, shelf, line0=(1, 0))
    request.refresh_from_db()
    assert request.state == state
    assert StockMovement.objects.count() == before
    assert not RequestEvent.objects.filter(request=request).exists()


def test_the_same_return_is_received_once(inspector, shelf):
    sku = SKUFactory()
    request = make_request(skus=[sku])
    receive(request, inspector, shelf, line0=(1, 0))
    with pytest.raises(ReturnRefused, match="already received"):
        receive(request, inspector, shelf, line0=(1, 0))
    assert on_hand(sku, shelf) == 1


def test_only_those_who_inspect_returns_may_receive(shelf):
    request = make_request()
    for role in (Role.SERVICE, Role.MANAGER, Role.CUSTOMER):
        with pytest.raises(ReturnRefused, match="not allowed"):
            receive(request, UserFactory(role=role), shelf, line0=(1, 0))
    assert receive(request, UserFactory(role=Role.ADMIN), shelf, line0=(1, 0))


def test_counts_must_be_of_this_request_and_not_negative(inspector, shelf):
    request = make_request()
    other = make_request()
    with pytest.raises(ReturnRefused, match="not part of this request"):
        returns.receive_return(
            request_id=request.pk,
            found={other.lines.get().pk: Inspected(1, 0)},
            bin_id=shelf.pk,
            actor=inspector,
        )
    with pytest.raises(ReturnRefused, match="whole numbers"):
        receive(request, inspector, shelf, line0=(-1, 0))


# --- the screens ------------------------------------------------------------------------------
def test_scanning_the_return_parcel_opens_its_sheet_and_items_are_counted_by_scan(
    client, inspector, shelf
):
    sku = SKUFactory()
    request = make_request(skus=[sku], quantities=[2], tracking_number="SF1234567890")
    client.force_login(inspector)
    start = reverse("returns:start")

    response = client.get(start, {"scan": "sf 1234-567890", "warehouse": shelf.warehouse_id})
    sheet = reverse("returns:inspect", args=[request.pk])
    assert response.status_code == 302 and response.url == sheet
    # The request number works too.
    assert client.get(start, {"scan": request.number.lower()}).url == sheet

    line = request.lines.get()
    posted = {"action": "scan", "scan": sku.barcode, f"sellable-{line.pk}": "1"}
    response = client.post(sheet, posted)
    assert response.status_code == 200
    assert f'name="sellable-{line.pk}" value="2"' in response.content.decode()
    assert 'data-scan-result="ok"' in response.content.decode()

    response = client.post(sheet, {**posted, "scan": "6999999999994"})
    assert 'data-scan-result="error"' in response.content.decode()
    assert "not in this return" in response.content.decode()

    response = client.post(
        sheet,
        {
            "action": "receive",
            f"sellable-{line.pk}": "1",
            f"damaged-{line.pk}": "1",
            "bin": "r-01-01",
            "warehouse": shelf.warehouse_id,
        },
    )
    assert response.status_code == 302 and response.url == start
    request.refresh_from_db()
    assert request.state == RequestState.RECEIVED
    assert on_hand(sku, shelf) == 1
    page = client.get(start).content.decode()
    assert "Received" in page and request.number in page


def test_a_bin_of_another_warehouse_is_refused_on_the_sheet(client, inspector, shelf):
    request = make_request()
    elsewhere = BinFactory(code="X-09-09")
    client.force_login(inspector)
    line = request.lines.get()
    response = client.post(
        reverse("returns:inspect", args=[request.pk]),
        {
            "action": "receive",
            f"sellable-{line.pk}": "1",
            "bin": elsewhere.code,
            "warehouse": shelf.warehouse_id,
        },
    )
    assert response.status_code == 200
    assert "There is no bin X-09-09 in this warehouse." in response.content.decode()
    request.refresh_from_db()
    assert request.state == RequestState.RETURN_SHIPPED


def test_the_sheet_of_a_request_not_expecting_goods_says_why_and_has_no_form(client, inspector):
    request = make_request(kind=RequestKind.RETURN_REFUND, state=RequestState.REJECTED)
    client.force_login(inspector)
    page = client.get(reverse("returns:inspect", args=[request.pk])).content.decode()
    assert "was rejected" in page
    assert 'value="receive"' not in page


def test_an_unknown_scan_is_answered_in_red(client, inspector, shelf):
    client.force_login(inspector)
    page = client.get(reverse("returns:start"), {"scan": "NOPE123"}).content.decode()
    assert 'data-scan-result="error"' in page and "NOPE123" in page


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.SERVICE, Role.MANAGER])
def test_the_warehouse_screens_are_for_those_who_inspect_returns(client, role):
    request = make_request()
    client.force_login(UserFactory(role=role))
    assert client.get(reverse("returns:start")).status_code == 403
    assert client.get(reverse("returns:inspect", args=[request.pk])).status_code == 403
    assert client.post(reverse("returns:inspect", args=[request.pk])).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("returns:start"))
    assert response.status_code == 302 and "login" in response.url


def test_the_returns_expected_list_keeps_its_queries_as_it_grows(
    client, inspector, shelf, django_assert_max_num_queries
):
    client.force_login(inspector)
    make_request()
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("returns:start"))
    for _ in range(4):
        make_request(state=RequestState.APPROVED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("returns:start")).content.decode()
    assert "5 returns expected" in page


def test_the_inspection_sheet_keeps_its_queries_with_many_lines(
    client, inspector, shelf, django_assert_max_num_queries
):
    client.force_login(inspector)
    small = make_request()
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("returns:inspect", args=[small.pk]))
    large = make_request(skus=[SKUFactory() for _ in range(5)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("returns:inspect", args=[large.pk])).status_code == 200


# --- two inspectors at once (PostgreSQL) --------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_inspectors_submitting_the_same_return_receive_it_once():
    sku = SKUFactory()
    request = make_request(skus=[sku], quantities=[2])
    shelf = BinFactory(code="R-02-01")
    inspectors = [UserFactory(role=Role.WAREHOUSE) for _ in range(2)]
    line_id = request.lines.get().pk
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(inspector) -> None:
        try:
            barrier.wait()
            returns.receive_return(
                request_id=request.pk,
                found={line_id: Inspected(2, 0)},
                bin_id=shelf.pk,
                actor=inspector,
            )
            result = "received"
        except ReturnRefused:
            result = "refused"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=submit, args=(user,)) for user in inspectors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "stuck (deadlock?)"

    assert sorted(outcomes) == ["received", "refused"]
    assert on_hand(sku, shelf) == 2
    assert StockMovement.objects.filter(kind=MovementKind.RETURN, sku=sku).count() == 1
    assert RequestEvent.objects.filter(request=request, kind=RequestEventKind.RECEIVED).count() == 1
    assert AfterSalesRequest.objects.get(pk=request.pk).state == RequestState.RECEIVED
    call_command("check_stock_ledger")
