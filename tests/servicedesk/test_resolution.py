"""Resolving exception orders (ORD-6, ORD-11): claims and take-overs, fix and release,
cancel with a refund through the sandbox gateway — each with its reason in the timeline."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from fulfillment.models import Fulfillment, FulfillmentState
from orders.models import Order, OrderEvent, OrderEventKind, OrderState
from payments import services as payment_services
from payments.gateways.sandbox import settle_charge
from payments.models import Refund, RefundStatus, SandboxCharge, SandboxRefund
from servicedesk import services
from servicedesk.models import AuditFinding, Claim
from tests.factories import SKUFactory, UserFactory, make_address, make_order
from tests.payments.helpers import amount_str, post_notification, signed

from .helpers import exception_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(client):
    user = UserFactory(role=Role.SERVICE)
    client.force_login(user)
    return user


def address_post(order: Order, reason: str, **changes) -> dict:
    """The fix-and-release form's fields: the order's address (codes from the division data)
    with `changes`, and the reason."""
    from addresses.forms import initial_from_address

    initial = initial_from_address(order)
    data = {
        "recipient_name": order.recipient_name,
        "recipient_phone": order.recipient_phone,
        "province": initial.get("province", ""),
        "city": initial.get("city", ""),
        "district": initial.get("district", ""),
        "address_line": order.address_line,
        "postcode": order.postcode,
        **changes,
    }
    return {**{f"address-{k}": v for k, v in data.items()}, "address-reason": reason}


# --- claims -----------------------------------------------------------------------------------
def test_an_agent_claims_an_order_and_another_must_confirm_to_take_it_over(client, agent):
    order = exception_order()
    url = reverse("servicedesk:claim", args=[order.number])

    assert client.post(url).status_code == 302
    assert Claim.objects.get(order=order).agent == agent

    other = UserFactory(role=Role.SERVICE)
    other_client = Client()
    other_client.force_login(other)
    response = other_client.post(url, follow=True)
    assert "already working on this order" in response.content.decode()
    assert Claim.objects.get(order=order).agent == agent

    other_client.post(url, {"take_over": "on"})
    assert Claim.objects.get(order=order).agent == other
    from core.models import StaffAction

    assert StaffAction.objects.get(action="order.take_over").actor == other


def test_a_claim_refused_for_an_order_not_in_the_queue(agent):
    order = make_order(state=OrderState.PAID)
    with pytest.raises(services.DeskActionNotAllowed):
        services.claim_order(order_id=order.pk, agent=agent)


def test_an_agent_puts_an_order_back(client, agent):
    order = exception_order()
    services.claim_order(order_id=order.pk, agent=agent)
    client.post(reverse("servicedesk:unclaim", args=[order.number]))
    assert not Claim.objects.exists()


def test_warehouse_staff_cannot_claim():
    order = exception_order()
    with pytest.raises(services.DeskActionNotAllowed):
        services.claim_order(order_id=order.pk, agent=UserFactory(role=Role.WAREHOUSE))


# --- fix and release --------------------------------------------------------------------------
def test_fixing_the_phone_and_releasing_sends_the_order_to_the_warehouse(client, agent):
    order = exception_order(address=make_address(recipient_phone="123"))
    url = reverse("servicedesk:release", args=[order.number])
    assert (
        client.get(reverse("servicedesk:exception_detail", args=[order.number])).status_code == 200
    )

    response = client.post(
        url, address_post(order, "Called the customer: right number", recipient_phone="13900001111")
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert not order.needs_review and order.review_reason == ""
    assert order.recipient_phone == "13900001111"
    changed = OrderEvent.objects.get(order=order, kind=OrderEventKind.ADDRESS_CHANGED)
    released = OrderEvent.objects.get(order=order, kind=OrderEventKind.RELEASED)
    for event in (changed, released):
        assert event.actor == agent and event.reason == "Called the customer: right number"
    assert changed.details["before"]["recipient_phone"] == "123"
    assert not AuditFinding.objects.filter(order=order, cleared_at__isnull=True).exists()
    assert not Claim.objects.filter(order=order).exists()
    fulfillment = Fulfillment.objects.get(order=order)
    assert fulfillment.state == FulfillmentState.READY


def test_release_without_a_reason_or_with_a_bad_address_changes_nothing(client, agent):
    order = exception_order()
    url = reverse("servicedesk:release", args=[order.number])
    assert client.post(url, address_post(order, "")).status_code == 400
    assert client.post(url, address_post(order, "ok", recipient_phone="12")).status_code == 400
    order.refresh_from_db()
    assert order.needs_review
    assert not OrderEvent.objects.filter(order=order, kind=OrderEventKind.RELEASED).exists()


def test_an_order_claimed_by_another_agent_cannot_be_released_without_taking_it_over(agent):
    order = exception_order()
    services.claim_order(order_id=order.pk, agent=UserFactory(role=Role.SERVICE))
    with pytest.raises(services.ClaimedByAnother):
        services.fix_and_release(
            order_id=order.pk, address=make_address(), actor=agent, reason="Checked"
        )
    order.refresh_from_db()
    assert order.needs_review


# --- cancel with refund -----------------------------------------------------------------------
def pay_through_sandbox(order: Order) -> None:
    payment, _url = payment_services.start_payment(
        order_id=order.pk, actor=order.customer, build_url=lambda path: f"http://testserver{path}"
    )
    charge = SandboxCharge.objects.get(reference=payment.reference)
    settle_charge(txn_id=charge.txn_id, succeed=True)
    body, headers = signed(
        reference=payment.reference, txn_id=charge.txn_id, amount=amount_str(payment.amount)
    )
    assert post_notification(Client(), body, headers).status_code == 200


def test_cancelling_an_exception_order_refunds_it_through_the_gateway(
    client, agent, django_capture_on_commit_callbacks
):
    order = make_order(skus=[SKUFactory(price=Decimal("66.60"))], customer_note="请打电话")
    pay_through_sandbox(order)
    order.refresh_from_db()
    assert order.state == OrderState.PAID and order.needs_review

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("servicedesk:cancel", args=[order.number]),
            {"cancel-reason": "Customer no longer wants it"},
        )

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED
    cancelled = OrderEvent.objects.get(order=order, kind=OrderEventKind.CANCELLED)
    assert cancelled.actor == agent and cancelled.reason == "Customer no longer wants it"
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.SUCCEEDED and refund.amount == Decimal("66.60")
    assert SandboxRefund.objects.get().amount == Decimal("66.60")
    assert Fulfillment.objects.get(order=order).state == FulfillmentState.CANCELLED


def test_cancelling_needs_a_reason(client, agent):
    order = exception_order()
    client.post(reverse("servicedesk:cancel", args=[order.number]), {"cancel-reason": ""})
    order.refresh_from_db()
    assert order.state == OrderState.PAID
