"""Refunds of after-sales requests (AFS-4): per line to the cent, shipping once per order,
through the gateway, capped and idempotent (also under concurrent clicks on PostgreSQL), and
manual payouts for cash-on-delivery orders."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from accounts.roles import Role
from aftersales import services
from aftersales.models import RequestEventKind, RequestKind, RequestState
from notifications.models import Notification, NotificationKind
from orders import services as order_services
from orders.models import OrderEventKind, OrderState, PaymentMethod
from payments import services as payment_services
from payments.models import Payment, Refund, RefundStatus, SandboxRefund
from tests.factories import UserFactory, make_order
from tests.payments.helpers import deliveries  # noqa: F401  (fixture)

from .test_flow import agent, lines_of, paid_online_order, received, submit

pytestmark = pytest.mark.django_db

D = Decimal


def approve(request, *, shipping=False, actor=None):
    return services.approve_request(
        request_id=request.pk, actor=actor or agent(), reason="Confirmed", refund_shipping=shipping
    )


# --- amounts ----------------------------------------------------------------------------------
def test_two_requests_for_the_units_of_one_line_refund_its_net_amount():
    order = make_order(state=OrderState.SHIPPED, quantities=[3])
    line = order.lines.get()
    first = submit(order, kind=RequestKind.REFUND_ONLY, quantities=(2,))
    second = submit(order, kind=RequestKind.REFUND_ONLY, quantities=(1,))
    per_unit = (line.net_amount / 3).quantize(D("0.01"))
    approve(first)
    approve(second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.approved_refund == per_unit * 2
    assert first.approved_refund + second.approved_refund == line.net_amount


def test_refunds_per_line_to_the_cent_with_and_without_shipping():
    order = paid_online_order(
        prices=(D("10.00"), D("25.50")),
        quantities=[3, 1],
        discounts=[D("0.01"), D("0.00")],
        shipping=D("8.00"),
    )
    assert order.total_amount == D("63.49")
    line_a, line_b = order.lines.order_by("pk")
    assert line_a.net_amount == D("29.99")

    first = submit(order, kind=RequestKind.REFUND_ONLY, lines=[(line_a.pk, 2), (line_b.pk, 1)])
    approve(first, shipping=True)
    first.refresh_from_db()
    amounts = {line.order_line_id: line.refund_amount for line in first.lines.all()}
    assert amounts == {line_a.pk: D("20.00"), line_b.pk: D("25.50")}
    assert first.refund_shipping is True
    assert first.approved_refund == D("53.50")

    # The last unit takes what is left of its line; the shipping is refunded once per order.
    second = submit(order, kind=RequestKind.REFUND_ONLY, lines=[(line_a.pk, 1)])
    with pytest.raises(services.AfterSalesNotAllowed, match="already refunded"):
        approve(second, shipping=True)
    approve(second)
    second.refresh_from_db()
    assert second.approved_refund == D("9.99")
    assert first.approved_refund + second.approved_refund == order.total_amount


def test_the_last_unit_approved_first_takes_a_unit_price_and_the_line_still_adds_up():
    order = make_order(state=OrderState.SHIPPED, quantities=[3])
    first = submit(order, kind=RequestKind.REFUND_ONLY, quantities=(1,))
    second = submit(order, kind=RequestKind.RETURN_REFUND, quantities=(2,))
    approve(second)
    approve(first)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.approved_refund + second.approved_refund == order.lines.get().net_amount


def test_an_approval_refunds_no_shipping_unless_asked():
    order = paid_online_order(prices=(D("50.00"),), shipping=D("6.00"))
    request = submit(order, kind=RequestKind.REFUND_ONLY)
    approve(request)
    request.refresh_from_db()
    assert request.approved_refund == D("50.00")
    assert request.refund_shipping is False


# --- issuing ----------------------------------------------------------------------------------
def test_a_refund_goes_through_the_gateway_with_the_agent_and_closes_the_request():
    order = paid_online_order(prices=(D("100.00"),), shipping=D("10.00"))
    request = submit(order, kind=RequestKind.REFUND_ONLY)
    approve(request, shipping=True)
    someone = agent()

    services.issue_refund(request_id=request.pk, actor=someone, reason="Damaged in transit")

    refund = Refund.objects.get()
    assert refund.amount == D("110.00")
    assert refund.actor == someone
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.reference.startswith(f"AS{request.pk}-")
    assert SandboxRefund.objects.count() == 1
    request.refresh_from_db()
    assert request.state == RequestState.CLOSED
    kinds = list(request.events.values_list("kind", flat=True))
    assert kinds[-2:] == [RequestEventKind.REFUNDED, RequestEventKind.CLOSED]
    refunded = request.events.get(kind=RequestEventKind.REFUNDED)
    assert refunded.details["amount"] == "110.00"
    assert refunded.details["refunds"] == [refund.reference]
    assert refunded.actor == someone
    assert order.events.filter(kind=OrderEventKind.REFUNDED).count() == 1
    note = Notification.objects.get(order=order, kind=NotificationKind.AFTERSALES_REFUNDED)
    assert note.context["amount"] == "110.00"


def test_a_second_click_refunds_nothing_more():
    order = paid_online_order(prices=(D("80.00"),))
    request = submit(order, kind=RequestKind.REFUND_ONLY)
    approve(request)
    someone = agent()
    services.issue_refund(request_id=request.pk, actor=someone)
    with pytest.raises(services.AfterSalesNotAllowed, match="not possible"):
        services.issue_refund(request_id=request.pk, actor=someone)
    assert Refund.objects.count() == 1
    assert SandboxRefund.objects.count() == 1


def test_a_refund_made_before_a_lost_close_is_found_again_not_repeated():
    """The gateway refunded but the request was not closed (the worker died in between):
    asking again finds the refund by its reference and only closes the request."""
    order = paid_online_order(prices=(D("80.00"),))
    request = submit(order, kind=RequestKind.REFUND_ONLY)
    approve(request)
    someone = agent()
    payment = Payment.objects.get(order=order)
    payment_services.refund_payment(
        payment_id=payment.pk,
        amount=D("80.00"),
        actor=someone,
        reason="first click",
        reference=f"AS{request.pk}-P{payment.pk}-1",
    )

    services.issue_refund(request_id=request.pk, actor=someone)

    assert Refund.objects.count() == 1
    assert SandboxRefund.objects.count() == 1
    request.refresh_from_db()
    assert request.state == RequestState.CLOSED


def test_a_refund_never_exceeds_what_was_paid_minus_earlier_refunds():
    order = paid_online_order(prices=(D("100.00"),))
    payment = Payment.objects.get(order=order)
    payment_services.refund_payment(
        payment_id=payment.pk, amount=D("90.00"), actor=agent(), reason="goodwill"
    )
    request = submit(order, kind=RequestKind.REFUND_ONLY)
    approve(request)

    with pytest.raises(payment_services.RefundNotAllowed, match="10.00"):
        services.issue_refund(request_id=request.pk, actor=agent())

    request.refresh_from_db()
    assert request.state == RequestState.APPROVED
    assert Refund.objects.count() == 1


def test_a_return_is_refunded_only_once_its_goods_are_received():
    order = paid_online_order(prices=(D("60.00"),))
    request = submit(order, kind=RequestKind.RETURN_REFUND)
    approve(request)
    someone = agent()
    with pytest.raises(services.AfterSalesNotAllowed, match="not possible"):
        services.issue_refund(request_id=request.pk, actor=someone)
    received(request)
    services.issue_refund(request_id=request.pk, actor=someone)
    request.refresh_from_db()
    assert request.state == RequestState.CLOSED
    assert Refund.objects.get().amount == D("60.00")


def test_requests_that_refund_no_money_cannot_be_refunded():
    order = make_order(state=OrderState.SHIPPED)
    request = submit(order, kind=RequestKind.EXCHANGE)
    approve(request)
    with pytest.raises(services.AfterSalesNotAllowed, match="not for a refund"):
        services.issue_refund(request_id=request.pk, actor=agent())


def test_a_submitted_request_cannot_be_refunded():
    order = paid_online_order()
    request = submit(order, kind=RequestKind.REFUND_ONLY)
    with pytest.raises(services.AfterSalesNotAllowed, match="not possible"):
        services.issue_refund(request_id=request.pk, actor=agent())


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.MANAGER, Role.CUSTOMER])
def test_warehouse_managers_and_customers_cannot_issue_refunds(role):
    order = paid_online_order()
    request = submit(order, kind=RequestKind.REFUND_ONLY)
    approve(request)
    with pytest.raises(services.AfterSalesNotAllowed, match="not allowed"):
        services.issue_refund(request_id=request.pk, actor=UserFactory(role=role))
    with pytest.raises(services.AfterSalesNotAllowed, match="not allowed"):
        services.issue_refund(request_id=request.pk, actor=order.customer)
    assert not Refund.objects.exists()


# --- cash on delivery -------------------------------------------------------------------------
def cod_order(*, collected=True):
    order = make_order(
        state=OrderState.SHIPPED, payment_method=PaymentMethod.CASH_ON_DELIVERY, quantities=[2]
    )
    if collected:
        order_services.record_cash_on_delivery(
            order_id=order.pk, amount=order.total_amount, actor=agent(), reference="COD-1"
        )
    order.refresh_from_db()
    return order


def test_a_cash_on_delivery_refund_is_a_manual_payout_with_its_reference():
    order = cod_order()
    request = submit(order, kind=RequestKind.REFUND_ONLY, quantities=(1,))
    approve(request)
    someone = agent()
    with pytest.raises(services.AfterSalesNotAllowed, match="reference"):
        services.issue_refund(request_id=request.pk, actor=someone)

    services.issue_refund(
        request_id=request.pk, actor=someone, reason="Paid back", payout_reference="BANK-778"
    )

    request.refresh_from_db()
    assert request.state == RequestState.CLOSED
    payout = request.events.get(kind=RequestEventKind.REFUNDED)
    assert payout.actor == someone
    assert payout.details == {
        "amount": str(request.approved_refund),
        "method": "manual",
        "reference": "BANK-778",
        "agent": someone.pk,
    }
    assert not Refund.objects.exists()
    event = order.events.get(kind=OrderEventKind.REFUNDED)
    assert event.details["reference"] == "BANK-778"
    note = Notification.objects.get(order=order, kind=NotificationKind.AFTERSALES_REFUNDED)
    assert note.context["manual"] is True


def test_manual_payouts_never_exceed_the_cash_collected():
    order = cod_order(collected=False)
    request = submit(order, kind=RequestKind.REFUND_ONLY, quantities=(1,))
    approve(request)
    with pytest.raises(services.AfterSalesNotAllowed, match="At most"):
        services.issue_refund(request_id=request.pk, actor=agent(), payout_reference="BANK-1")
    request.refresh_from_db()
    assert request.state == RequestState.APPROVED


def test_two_payouts_of_one_order_add_up_to_the_cash_collected():
    order = cod_order()
    first = submit(order, kind=RequestKind.REFUND_ONLY, quantities=(1,))
    second = submit(order, kind=RequestKind.REFUND_ONLY, quantities=(1,))
    for request in (first, second):
        approve(request)
        services.issue_refund(request_id=request.pk, actor=agent(), payout_reference="BANK")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.approved_refund + second.approved_refund == order.paid_amount


# --- concurrency (PostgreSQL) -----------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_refund_clicks_at_once_refund_once(deliveries):  # noqa: F811
    """The sandbox's own payment delivery goes through the test client (`deliveries`)."""
    order = paid_online_order(prices=(D("120.00"),))
    request = submit(order, kind=RequestKind.REFUND_ONLY, lines=lines_of(order))
    approve(request)
    someone = agent()
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def click() -> None:
        try:
            barrier.wait()
            services.issue_refund(request_id=request.pk, actor=someone, reason="click")
        except services.AfterSalesNotAllowed as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(errors) <= 1
    assert Refund.objects.count() == 1
    assert Refund.objects.get().amount == D("120.00")
    assert SandboxRefund.objects.count() == 1
    request.refresh_from_db()
    assert request.state == RequestState.CLOSED
    assert request.events.filter(kind=RequestEventKind.REFUNDED).count() == 1
    assert order.events.filter(kind=OrderEventKind.REFUNDED).count() == 1
