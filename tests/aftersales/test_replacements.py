"""Exchanges and re-shipments send a replacement (AFS-3, issue 8 item 6): a zero-amount order
that reserves stock, reaches the warehouse queue by itself, is picked, packed and handed over
like any other, and closes its request when it ships."""

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from accounts.roles import Role
from aftersales import replacements, returns
from aftersales.models import RequestEvent, RequestEventKind, RequestKind, RequestState
from aftersales.replacements import ReplacementRefused
from fulfillment import selectors as floor_selectors
from fulfillment import services as floor_services
from inventory.models import Allocation, AllocationState
from notifications.models import Notification, NotificationKind
from orders import services as order_services
from orders.models import Channel, Order, OrderEventKind, OrderState
from tests.factories import UserFactory, make_order
from tests.fulfillment.kit import (
    fulfillment_of,
    make_floor,
    pack_everything,
    pick_everything,
    pick_list_for,
    stocked,
)

from .returns_kit import make_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(role=Role.SERVICE)


@pytest.fixture
def floor():
    return make_floor()


def shipped_order(floor, units: int = 1, spare: int = 5):
    """A shipped order of one SKU stocked on the floor, with `spare` units left there."""
    sku = stocked(floor, units + spare)
    return make_order(skus=[sku], quantities=[units], state=OrderState.SHIPPED), sku


def test_a_reshipment_places_a_zero_amount_order_that_reserves_stock_and_reaches_the_queue(
    agent, floor
):
    original, sku = shipped_order(floor, units=2)
    request = make_request(kind=RequestKind.RESHIP, state=RequestState.APPROVED, order=original)

    sent = replacements.send_replacement(request_id=request.pk, actor=agent)

    replacement = Order.objects.get(pk=sent.replacement_order_id)
    assert sent.state == RequestState.REPLACING
    assert replacement.state == OrderState.PAID
    assert replacement.total_amount == replacement.paid_amount == 0
    assert replacement.goods_amount == replacement.discount_amount == sku.price * 2
    assert replacement.customer == original.customer
    assert (replacement.recipient_name, replacement.address_line, replacement.province) == (
        original.recipient_name,
        original.address_line,
        original.province,
    )
    assert [(line.sku_id, line.quantity) for line in replacement.lines.all()] == [(sku.pk, 2)]
    assert replacement.events.filter(kind=OrderEventKind.PAID).get().details["replacement"]

    allocation = Allocation.objects.get(group=f"order:{replacement.pk}")
    assert (allocation.stock.sku_id, allocation.quantity, allocation.state) == (
        sku.pk,
        2,
        AllocationState.RESERVED,
    )
    queued = floor_selectors.queue(warehouse_id=floor.warehouse.pk)
    assert list(queued.values_list("order_id", flat=True)) == [replacement.pk]

    event = RequestEvent.objects.get(request=request, kind=RequestEventKind.REPLACEMENT)
    assert (event.actor, event.from_state, event.to_state) == (
        agent,
        RequestState.APPROVED,
        RequestState.REPLACING,
    )
    assert event.details["order"] == replacement.number
    notice = Notification.objects.get(kind=NotificationKind.AFTERSALES_REPLACEMENT)
    assert notice.recipient == original.customer
    assert replacement.number in notice.context["reason"]
    # Not a sale: its own channel, and no "order placed" or "payment received" to the customer.
    assert replacement.channel == Channel.REPLACEMENT
    assert not replacement.notifications.filter(
        kind__in=[NotificationKind.ORDER_PLACED, NotificationKind.PAYMENT_RECEIVED]
    ).exists()


def test_the_replacement_is_picked_packed_and_shipped_and_closes_the_request(agent, floor):
    staff = UserFactory(role=Role.WAREHOUSE)
    original, _sku = shipped_order(floor)
    request = make_request(kind=RequestKind.RESHIP, state=RequestState.APPROVED, order=original)
    replacement = replacements.send_replacement(request_id=request.pk, actor=agent)
    order = replacement.replacement_order

    pick_everything(pick_list_for(floor, [order], staff), staff)
    parcel = pack_everything(fulfillment_of(order, floor.warehouse), staff, floor.carrier)
    request.refresh_from_db()
    assert request.state == RequestState.REPLACING
    handed = floor_services.record_hand_over(code=parcel.tracking_number, actor=staff)

    assert handed.order_shipped
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    request.refresh_from_db()
    assert request.state == RequestState.CLOSED
    assert request.closed_at is not None
    closed = RequestEvent.objects.get(request=request, kind=RequestEventKind.CLOSED)
    assert (closed.actor, closed.details["order"]) == (None, order.number)
    assert Notification.objects.filter(kind=NotificationKind.AFTERSALES_CLOSED).count() == 1
    call_command("check_stock_ledger")


def test_an_exchange_sends_its_replacement_once_the_return_is_received(agent, floor):
    original, _sku = shipped_order(floor)
    request = make_request(
        kind=RequestKind.EXCHANGE, state=RequestState.RETURN_SHIPPED, order=original
    )
    with pytest.raises(ReplacementRefused, match="received"):
        replacements.send_replacement(request_id=request.pk, actor=agent)

    approved_only = make_request(
        kind=RequestKind.EXCHANGE,
        state=RequestState.APPROVED,
        order=make_order(skus=[_sku], state=OrderState.SHIPPED),
    )
    with pytest.raises(ReplacementRefused, match="once the warehouse has received"):
        replacements.send_replacement(request_id=approved_only.pk, actor=agent)

    returns.receive_return(
        request_id=request.pk,
        found={request.lines.get().pk: returns.Inspected(0, 1)},
        bin_id=None,
        actor=UserFactory(role=Role.WAREHOUSE),
    )
    sent = replacements.send_replacement(request_id=request.pk, actor=agent)
    assert sent.state == RequestState.REPLACING
    assert sent.replacement_order.state == OrderState.PAID


@pytest.mark.parametrize("kind", [RequestKind.REFUND_ONLY, RequestKind.RETURN_REFUND])
def test_requests_resolved_by_money_send_nothing(agent, kind):
    request = make_request(kind=kind, state=RequestState.APPROVED)
    with pytest.raises(ReplacementRefused, match="nothing is sent again"):
        replacements.send_replacement(request_id=request.pk, actor=agent)


@pytest.mark.parametrize(
    "state", [RequestState.SUBMITTED, RequestState.REJECTED, RequestState.CLOSED]
)
def test_a_replacement_is_refused_outside_approved_or_received(agent, state):
    request = make_request(kind=RequestKind.RESHIP, state=state)
    with pytest.raises(ReplacementRefused, match="no replacement can be sent now"):
        replacements.send_replacement(request_id=request.pk, actor=agent)
    assert not Order.objects.exclude(pk=request.order_id).exists()


def test_a_second_click_sends_nothing_more(agent, floor):
    original, _sku = shipped_order(floor)
    request = make_request(kind=RequestKind.RESHIP, state=RequestState.APPROVED, order=original)
    sent = replacements.send_replacement(request_id=request.pk, actor=agent)
    with pytest.raises(ReplacementRefused, match=sent.replacement_order.number):
        replacements.send_replacement(request_id=request.pk, actor=agent)
    assert Order.objects.count() == 2


def test_out_of_stock_refuses_the_replacement_and_creates_nothing(agent, floor):
    original, sku = shipped_order(floor, units=2, spare=1)
    request = make_request(kind=RequestKind.RESHIP, state=RequestState.APPROVED, order=original)

    with pytest.raises(ReplacementRefused) as refused:
        replacements.send_replacement(request_id=request.pk, actor=agent)

    assert "cannot be sent yet" in refused.value.message
    assert "1 left, 2 wanted" in refused.value.message
    request.refresh_from_db()
    assert (request.state, request.replacement_order_id) == (RequestState.APPROVED, None)
    assert Order.objects.count() == 1
    assert not RequestEvent.objects.filter(request=request).exists()
    call_command("check_stock_ledger")


def test_a_zero_amount_order_is_the_only_one_accepted_without_payment(floor):
    sku = stocked(floor, 1)
    order = make_order(skus=[sku])
    with pytest.raises(order_services.OrderActionNotAllowed):
        order_services.accept_replacement(order_id=order.pk)
    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT


def test_warehouse_staff_and_customers_may_not_send_replacements(floor):
    original, _sku = shipped_order(floor)
    request = make_request(kind=RequestKind.RESHIP, state=RequestState.APPROVED, order=original)
    for user in (UserFactory(role=Role.WAREHOUSE), original.customer):
        with pytest.raises(ReplacementRefused, match="not allowed"):
            replacements.send_replacement(request_id=request.pk, actor=user)


# --- the agent's button -------------------------------------------------------------------------
def test_the_button_sends_the_replacement_and_comes_back_with_what_was_done(client, agent, floor):
    original, _sku = shipped_order(floor)
    request = make_request(kind=RequestKind.RESHIP, state=RequestState.APPROVED, order=original)
    client.force_login(agent)
    url = reverse("returns:send_replacement", args=[request.pk])

    response = client.post(url, {"next": "/staff/desk/"}, follow=False)
    assert response.status_code == 302 and response.url == "/staff/desk/"
    request.refresh_from_db()
    assert request.state == RequestState.REPLACING

    response = client.post(url, {"next": "https://evil.example.com/"})
    assert response.url == reverse("staff_orders:detail", args=[original.number])
    page = client.get(response.url).content.decode()
    assert "already sent" in page


def test_the_button_answers_403_to_the_warehouse_and_refuses_get(client, floor):
    request = make_request(kind=RequestKind.RESHIP, state=RequestState.APPROVED)
    url = reverse("returns:send_replacement", args=[request.pk])
    client.force_login(UserFactory(role=Role.WAREHOUSE))
    assert client.post(url).status_code == 403
    client.force_login(UserFactory(role=Role.SERVICE))
    assert client.get(url).status_code == 405


def test_the_include_offers_the_button_to_agents_then_links_the_replacement(agent, floor):
    original, _sku = shipped_order(floor)
    request = make_request(kind=RequestKind.RESHIP, state=RequestState.APPROVED, order=original)
    http = RequestFactory().get("/staff/aftersales/1/")
    http.user = agent
    template = "aftersales/warehouse/_replacement_action.html"

    html = render_to_string(template, {"after_sales": request}, request=http)
    assert reverse("returns:send_replacement", args=[request.pk]) in html

    http.user = UserFactory(role=Role.WAREHOUSE)
    assert "<form" not in render_to_string(template, {"after_sales": request}, request=http)

    sent = replacements.send_replacement(request_id=request.pk, actor=agent)
    html = render_to_string(template, {"after_sales": sent}, request=http)
    assert sent.replacement_order.number in html and "<form" not in html
