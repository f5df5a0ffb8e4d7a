"""The after-sales request flow through its services (AFS-1 to AFS-3): who may submit what for
which order, the quantity cap, every decision and every refused transition."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.roles import Role
from aftersales import services
from aftersales.models import (
    AfterSalesRequest,
    RequestEventKind,
    RequestKind,
    RequestReason,
    RequestState,
)
from notifications.models import Notification, NotificationKind
from orders import services as order_services
from orders.models import Carrier, CarrierIntegration, Order, OrderState
from payments import services as payment_services
from payments.gateways.sandbox import settle_charge
from payments.models import SandboxCharge
from tests.factories import (
    SKUFactory,
    UserFactory,
    make_address,
    make_order,
    staff_user,
    stock_sku,
)
from tests.payments.helpers import amount_str, post_notification, signed

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64


# --- helpers shared by the after-sales tests --------------------------------------------------
def paid_online_order(
    *,
    prices=(Decimal("100.00"),),
    quantities=None,
    discounts=None,
    shipping=Decimal("0.00"),
    state=OrderState.SHIPPED,
    customer=None,
) -> Order:
    """An order paid through the sandbox gateway (so that it can be refunded), walked to
    `state` by the warehouse services."""
    quantities = quantities or [1] * len(prices)
    discounts = discounts or [Decimal("0.00")] * len(prices)
    customer = customer or UserFactory(role=Role.CUSTOMER)
    skus = [
        stock_sku(quantity + 5, sku=SKUFactory(price=price))
        for price, quantity in zip(prices, quantities, strict=True)
    ]
    order = order_services.create_order(
        customer=customer,
        lines=[
            order_services.LineRequest(sku_id=sku.pk, quantity=quantity, discount=discount)
            for sku, quantity, discount in zip(skus, quantities, discounts, strict=True)
        ],
        address=make_address(),
        shipping_amount=shipping,
    )
    payment, _url = payment_services.start_payment(
        order_id=order.pk, actor=customer, build_url=lambda path: f"http://testserver{path}"
    )
    charge = SandboxCharge.objects.get(reference=payment.reference)
    settle_charge(txn_id=charge.txn_id, succeed=True)
    body, headers = signed(
        reference=payment.reference, txn_id=charge.txn_id, amount=amount_str(payment.amount)
    )
    assert post_notification(Client(), body, headers).status_code == 200
    order.refresh_from_db()
    assert order.state == OrderState.PAID, order.review_reason
    warehouse = staff_user(Role.WAREHOUSE)
    if state in (OrderState.PICKED, OrderState.SHIPPED, OrderState.COMPLETED):
        order_services.mark_picked(order_id=order.pk, actor=warehouse)
    if state in (OrderState.SHIPPED, OrderState.COMPLETED):
        order_services.mark_shipped(order_id=order.pk, actor=warehouse)
    if state == OrderState.COMPLETED:
        order_services.complete_order(order_id=order.pk, actor=customer)
    return Order.objects.get(pk=order.pk)


def lines_of(order: Order, *quantities: int) -> list[tuple[int, int]]:
    ids = list(order.lines.order_by("pk").values_list("pk", flat=True))
    quantities = quantities or (1,) * len(ids)
    return list(zip(ids, quantities, strict=False))


def submit(order: Order, *, kind=RequestKind.RETURN_REFUND, actor=None, quantities=(), **kw):
    return services.submit_request(
        order_id=order.pk,
        kind=kind,
        reason=kw.pop("reason", RequestReason.DAMAGED),
        description=kw.pop("description", "The lid is cracked"),
        lines=kw.pop("lines", None) or lines_of(order, *quantities),
        actor=actor or order.customer,
        **kw,
    )


def agent():
    return UserFactory(role=Role.SERVICE)


def received(request: AfterSalesRequest) -> AfterSalesRequest:
    """What the warehouse's receiving does to the request's state (aftersales.returns)."""
    request.refresh_from_db()
    request.receive()
    request.save()
    return request


def carrier() -> Carrier:
    return Carrier.objects.filter(code="SBX").first() or Carrier.objects.create(
        code="SBX", name="Sandbox Express", integration=CarrierIntegration.SANDBOX
    )


def kinds_told(order: Order) -> list[str]:
    return list(
        Notification.objects.filter(order=order).order_by("pk").values_list("kind", flat=True)
    )


# --- submitting -------------------------------------------------------------------------------
def test_customer_submits_a_return_for_a_shipped_order_with_photos():
    order = make_order(state=OrderState.SHIPPED, quantities=[2])
    photo = SimpleUploadedFile("box.jpg", JPEG, content_type="image/jpeg")

    request = submit(order, quantities=(1,), photos=[photo])

    assert request.state == RequestState.SUBMITTED
    assert request.customer == order.customer == request.submitted_by
    assert [(line.order_line_id, line.quantity) for line in request.lines.all()] == lines_of(
        order, 1
    )
    stored = request.photos.get()
    assert stored.content_type == "image/jpeg" and stored.size == len(JPEG)
    assert "box" not in stored.image.name and stored.image.name.endswith(".jpg")
    assert request.events.get().kind == RequestEventKind.SUBMITTED
    assert NotificationKind.AFTERSALES_SUBMITTED in kinds_told(order)


@pytest.mark.parametrize(
    "kind",
    [RequestKind.REFUND_ONLY, RequestKind.RETURN_REFUND, RequestKind.EXCHANGE, RequestKind.RESHIP],
)
def test_goods_requests_are_refused_before_shipment(kind):
    order = make_order(state=OrderState.PAID)
    with pytest.raises(services.AfterSalesNotAllowed, match="shipped"):
        submit(order, kind=kind)
    assert not AfterSalesRequest.objects.exists()


def test_goods_requests_are_accepted_for_completed_orders():
    order = make_order(state=OrderState.COMPLETED)
    assert submit(order, kind=RequestKind.EXCHANGE).state == RequestState.SUBMITTED


def test_a_change_of_information_is_accepted_before_shipment_and_needs_the_change():
    order = make_order(state=OrderState.PAID)
    with pytest.raises(services.AfterSalesNotAllowed, match="changed"):
        submit(order, kind=RequestKind.CHANGE_INFO, lines=[(0, 0)])
    request = submit(
        order,
        kind=RequestKind.CHANGE_INFO,
        lines=[(0, 0)],
        reason=RequestReason.OTHER,
        requested_change="Deliver to my office instead",
    )
    assert request.state == RequestState.SUBMITTED
    assert not request.lines.exists()


def test_a_change_of_information_is_refused_for_a_cancelled_order():
    order = make_order(state=OrderState.CANCELLED)
    with pytest.raises(services.AfterSalesNotAllowed, match="cancelled"):
        submit(order, kind=RequestKind.CHANGE_INFO, lines=[(0, 0)], requested_change="x")


def test_someone_else_cannot_submit_but_an_agent_on_the_phone_can():
    order = make_order(state=OrderState.SHIPPED)
    for outsider in (
        UserFactory(role=Role.CUSTOMER),
        UserFactory(role=Role.WAREHOUSE),
        UserFactory(role=Role.MANAGER),
    ):
        with pytest.raises(services.AfterSalesNotAllowed, match="not allowed"):
            submit(order, actor=outsider)
    by_phone = agent()
    request = submit(order, actor=by_phone)
    assert request.customer == order.customer
    assert request.submitted_by == by_phone
    assert request.events.get().details["by_agent"] is True


def test_an_agent_may_submit_for_a_guest_order():
    order = make_order(customer=None, contact_email="guest@example.com", state="shipped")
    request = submit(order, actor=agent())
    assert request.customer is None
    note = Notification.objects.get(order=order, kind=NotificationKind.AFTERSALES_SUBMITTED)
    assert note.address == "guest@example.com"
    assert "request_url" not in note.context


def test_quantities_never_exceed_what_was_sold_minus_other_requests():
    order = make_order(state=OrderState.SHIPPED, quantities=[3])
    with pytest.raises(services.AfterSalesNotAllowed, match="At most 3"):
        submit(order, quantities=(4,))

    first = submit(order, quantities=(2,))
    with pytest.raises(services.AfterSalesNotAllowed, match="At most 1"):
        submit(order, quantities=(2,), kind=RequestKind.EXCHANGE)
    second = submit(order, quantities=(1,), kind=RequestKind.EXCHANGE)
    with pytest.raises(services.AfterSalesNotAllowed, match="At most 0"):
        submit(order, quantities=(1,))

    # Rejected and withdrawn requests no longer count.
    services.reject_request(request_id=first.pk, actor=agent(), reason="Outside the window")
    services.withdraw_request(request_id=second.pk, actor=order.customer)
    assert submit(order, quantities=(3,)).lines.get().quantity == 3


def test_lines_must_belong_to_the_order_and_one_is_needed():
    order = make_order(state=OrderState.SHIPPED)
    other = make_order(state=OrderState.SHIPPED)
    with pytest.raises(services.AfterSalesNotAllowed, match="not in this order"):
        submit(order, lines=lines_of(other))
    with pytest.raises(services.AfterSalesNotAllowed, match="at least one"):
        submit(order, lines=[(order.lines.get().pk, 0)])


def test_unknown_kind_or_reason_is_refused():
    order = make_order(state=OrderState.SHIPPED)
    with pytest.raises(services.AfterSalesNotAllowed):
        submit(order, kind="steal")
    with pytest.raises(services.AfterSalesNotAllowed):
        submit(order, reason="because")


# --- photos -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "content"), [("a.jpg", JPEG), ("a.png", PNG), ("a.webp", WEBP)])
def test_jpeg_png_and_webp_photos_are_accepted_by_their_bytes(name, content):
    order = make_order(state=OrderState.SHIPPED)
    request = submit(order, photos=[SimpleUploadedFile(name, content)])
    assert request.photos.get().content_type.startswith("image/")


def test_a_photo_that_is_not_an_image_is_refused_whatever_its_name():
    order = make_order(state=OrderState.SHIPPED)
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")
    with pytest.raises(services.InvalidPhoto, match="not a JPEG, PNG or WebP"):
        submit(order, photos=[fake])
    assert not AfterSalesRequest.objects.exists()


def test_a_photo_over_5_mb_and_a_sixth_photo_are_refused(settings):
    order = make_order(state=OrderState.SHIPPED)
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * (5 * 1024 * 1024))
    with pytest.raises(services.InvalidPhoto, match="larger than 5 MB"):
        submit(order, photos=[big])
    six = [SimpleUploadedFile(f"{n}.png", PNG) for n in range(6)]
    with pytest.raises(services.InvalidPhoto, match="At most 5 photos"):
        submit(order, photos=six)


# --- withdraw ---------------------------------------------------------------------------------
def test_the_customer_withdraws_a_request_only_while_it_waits():
    order = make_order(state=OrderState.SHIPPED)
    request = submit(order)
    with pytest.raises(services.AfterSalesNotAllowed, match="Only the customer"):
        services.withdraw_request(request_id=request.pk, actor=agent())
    services.withdraw_request(request_id=request.pk, actor=order.customer)
    request.refresh_from_db()
    assert request.state == RequestState.WITHDRAWN
    assert NotificationKind.AFTERSALES_WITHDRAWN in kinds_told(order)

    approved = submit(order)
    services.approve_request(request_id=approved.pk, actor=agent(), reason="Photos show it")
    with pytest.raises(services.AfterSalesNotAllowed, match="not possible"):
        services.withdraw_request(request_id=approved.pk, actor=order.customer)


# --- decisions --------------------------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.MANAGER, Role.CUSTOMER])
def test_only_service_agents_approve_or_reject(role):
    order = make_order(state=OrderState.SHIPPED)
    request = submit(order)
    user = UserFactory(role=role)
    with pytest.raises(services.AfterSalesNotAllowed, match="not allowed"):
        services.approve_request(request_id=request.pk, actor=user, reason="ok")
    with pytest.raises(services.AfterSalesNotAllowed, match="not allowed"):
        services.reject_request(request_id=request.pk, actor=user, reason="no")
    request.refresh_from_db()
    assert request.state == RequestState.SUBMITTED


def test_decisions_need_a_reason():
    request = submit(make_order(state=OrderState.SHIPPED))
    with pytest.raises(services.AfterSalesNotAllowed, match="why"):
        services.approve_request(request_id=request.pk, actor=agent(), reason=" ")
    with pytest.raises(services.AfterSalesNotAllowed, match="why"):
        services.reject_request(request_id=request.pk, actor=agent(), reason="")


def test_rejecting_tells_the_customer_why_and_ends_the_request():
    order = make_order(state=OrderState.SHIPPED)
    request = submit(order)
    someone = agent()
    services.reject_request(request_id=request.pk, actor=someone, reason="Used item")
    request.refresh_from_db()
    assert request.state == RequestState.REJECTED
    assert request.agent == someone and request.decision_reason == "Used item"
    note = Notification.objects.get(order=order, kind=NotificationKind.AFTERSALES_REJECTED)
    assert note.context["reason"] == "Used item"
    for act in (services.approve_request, services.reject_request):
        with pytest.raises(services.AfterSalesNotAllowed, match="not possible"):
            act(request_id=request.pk, actor=someone, reason="again")


def test_an_approved_request_cannot_be_approved_or_rejected_again():
    request = submit(make_order(state=OrderState.SHIPPED))
    someone = agent()
    services.approve_request(request_id=request.pk, actor=someone, reason="ok")
    for act in (services.approve_request, services.reject_request):
        with pytest.raises(services.AfterSalesNotAllowed, match="not possible"):
            act(request_id=request.pk, actor=someone, reason="again")


# --- the return parcel ------------------------------------------------------------------------
def test_the_customer_enters_the_return_carrier_and_tracking_number():
    order = make_order(state=OrderState.SHIPPED)
    request = submit(order)
    sbx = carrier()
    with pytest.raises(services.AfterSalesNotAllowed, match="not possible"):
        services.enter_return_shipment(
            request_id=request.pk,
            carrier_code="SBX",
            tracking_number="SF1234567890",
            actor=order.customer,
        )
    services.approve_request(request_id=request.pk, actor=agent(), reason="ok")
    with pytest.raises(services.AfterSalesNotAllowed, match="not a tracking number"):
        services.enter_return_shipment(
            request_id=request.pk, carrier_code="SBX", tracking_number="12", actor=order.customer
        )
    with pytest.raises(services.AfterSalesNotAllowed, match="carrier"):
        services.enter_return_shipment(
            request_id=request.pk,
            carrier_code="NOPE",
            tracking_number="SF1234567890",
            actor=order.customer,
        )
    with pytest.raises(services.AfterSalesNotAllowed, match="not allowed"):
        services.enter_return_shipment(
            request_id=request.pk,
            carrier_code="SBX",
            tracking_number="SF1234567890",
            actor=UserFactory(role=Role.CUSTOMER),
        )

    services.enter_return_shipment(
        request_id=request.pk,
        carrier_code="SBX",
        tracking_number="sf 1234-5678-90",
        actor=order.customer,
    )
    request.refresh_from_db()
    assert request.state == RequestState.RETURN_SHIPPED
    assert request.return_carrier == sbx
    assert request.return_tracking_number == "SF1234567890"
    assert request.return_shipped_at is not None


def test_a_refund_only_request_has_no_return_parcel():
    order = make_order(state=OrderState.SHIPPED)
    request = submit(order, kind=RequestKind.REFUND_ONLY)
    services.approve_request(request_id=request.pk, actor=agent(), reason="ok")
    carrier()
    with pytest.raises(services.AfterSalesNotAllowed, match="not possible"):
        services.enter_return_shipment(
            request_id=request.pk,
            carrier_code="SBX",
            tracking_number="SF1234567890",
            actor=order.customer,
        )


# --- change of information --------------------------------------------------------------------
def test_an_agent_applies_a_new_address_and_the_request_closes():
    order = make_order(state=OrderState.PAID)
    request = submit(
        order, kind=RequestKind.CHANGE_INFO, lines=[(0, 0)], requested_change="New address"
    )
    someone = agent()
    with pytest.raises(services.AfterSalesNotAllowed, match="not allowed"):
        services.apply_info_change(
            request_id=request.pk, actor=UserFactory(role=Role.WAREHOUSE), reason="x"
        )
    services.apply_info_change(
        request_id=request.pk,
        actor=someone,
        reason="Customer moved",
        address=make_address(address_line="文二路 1 号"),
    )
    request.refresh_from_db()
    order.refresh_from_db()
    assert request.state == RequestState.CLOSED
    assert order.address_line == "文二路 1 号"
    kinds = list(request.events.values_list("kind", flat=True))
    assert kinds == ["submitted", "approved", "info_changed", "closed"]
    assert NotificationKind.AFTERSALES_CLOSED in kinds_told(order)


def test_an_address_change_after_shipment_is_refused_and_nothing_changes():
    order = make_order(state=OrderState.SHIPPED)
    request = submit(order, kind=RequestKind.CHANGE_INFO, lines=[(0, 0)], requested_change="x")
    with pytest.raises(order_services.OrderActionNotAllowed):
        services.apply_info_change(
            request_id=request.pk, actor=agent(), reason="x", address=make_address(city="宁波市")
        )
    request.refresh_from_db()
    assert request.state == RequestState.SUBMITTED
    # The invoice title is changed by hand; the request records it and closes.
    services.apply_info_change(request_id=request.pk, actor=agent(), reason="Invoice title set")
    request.refresh_from_db()
    assert request.state == RequestState.CLOSED


def test_info_change_is_only_for_change_requests():
    request = submit(make_order(state=OrderState.SHIPPED))
    with pytest.raises(services.AfterSalesNotAllowed, match="not a change of information"):
        services.apply_info_change(request_id=request.pk, actor=agent(), reason="x")


# --- closing ----------------------------------------------------------------------------------
def test_closing_needs_an_open_decided_request_and_a_reason():
    order = make_order(state=OrderState.SHIPPED)
    request = submit(order, kind=RequestKind.EXCHANGE)
    someone = agent()
    with pytest.raises(services.AfterSalesNotAllowed, match="not possible"):
        services.close_request(request_id=request.pk, actor=someone, reason="done")
    services.approve_request(request_id=request.pk, actor=someone, reason="ok")
    with pytest.raises(services.AfterSalesNotAllowed, match="why"):
        services.close_request(request_id=request.pk, actor=someone, reason="")
    services.close_request(request_id=request.pk, actor=someone, reason="Customer kept it")
    request.refresh_from_db()
    assert request.state == RequestState.CLOSED and request.closed_at is not None
    assert NotificationKind.AFTERSALES_CLOSED in kinds_told(order)
    with pytest.raises(services.AfterSalesNotAllowed, match="not possible"):
        services.close_request(request_id=request.pk, actor=someone, reason="again")


def test_the_warehouse_or_the_system_closes_only_replacement_requests():
    order = make_order(state=OrderState.SHIPPED, quantities=[2])
    refund = submit(order, quantities=(1,))
    reship = submit(order, quantities=(1,), kind=RequestKind.RESHIP)
    someone = agent()
    for request in (refund, reship):
        services.approve_request(request_id=request.pk, actor=someone, reason="ok")
    with pytest.raises(services.AfterSalesNotAllowed, match="not allowed"):
        services.close_request(
            request_id=refund.pk, actor=UserFactory(role=Role.WAREHOUSE), reason="x"
        )
    with pytest.raises(services.AfterSalesNotAllowed, match="not allowed"):
        services.close_request(
            request_id=reship.pk, actor=UserFactory(role=Role.MANAGER), reason="x"
        )
    services.close_request(request_id=reship.pk, actor=None, reason="Replacement delivered")
    reship.refresh_from_db()
    assert reship.state == RequestState.CLOSED


def test_every_step_writes_its_event_with_states():
    order = make_order(state=OrderState.SHIPPED)
    request = submit(order)
    services.approve_request(request_id=request.pk, actor=agent(), reason="ok")
    carrier()
    services.enter_return_shipment(
        request_id=request.pk,
        carrier_code="SBX",
        tracking_number="SF1234567890",
        actor=order.customer,
    )
    events = list(request.events.values_list("kind", "from_state", "to_state"))
    assert events == [
        ("submitted", "", "submitted"),
        ("approved", "submitted", "approved"),
        ("return_shipped", "approved", "return_shipped"),
    ]


def test_notifications_wait_for_the_commit(django_capture_on_commit_callbacks):
    order = make_order(state=OrderState.SHIPPED)
    with django_capture_on_commit_callbacks() as callbacks:
        submit(order)
    assert callbacks  # the outbox row is handed to the workers only after the commit
    assert (
        Notification.objects.filter(order=order, kind=NotificationKind.AFTERSALES_SUBMITTED).count()
        == 1
    )


def test_refund_amount_of_an_exchange_is_zero():
    order = make_order(state=OrderState.SHIPPED)
    request = submit(order, kind=RequestKind.EXCHANGE)
    services.approve_request(
        request_id=request.pk, actor=agent(), reason="ok", refund_shipping=True
    )
    request.refresh_from_db()
    assert request.approved_refund == Decimal("0.00")
    assert request.refund_shipping is False


def test_agents_steps_are_kept_in_the_audit_trail_and_the_customers_are_not():
    from core.models import StaffAction

    order = make_order(state=OrderState.SHIPPED)
    request = submit(order)
    someone = agent()
    services.reject_request(request_id=request.pk, actor=someone, reason="Worn")
    (entry,) = StaffAction.objects.all()
    assert entry.actor == someone
    assert entry.action == "aftersales.rejected"
    assert entry.target_label == request.number
    assert entry.reason == "Worn"
    assert entry.before == {"state": "submitted"} and entry.after["state"] == "rejected"
