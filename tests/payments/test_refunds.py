"""Refunds go back through the gateway and never exceed what was paid (AFS-4)."""

from decimal import Decimal

import pytest

from accounts.roles import Role
from payments import services
from payments.gateways.sandbox import settle_charge
from payments.models import Payment, RefundStatus, SandboxCharge, SandboxRefund
from tests.factories import SKUFactory, UserFactory, make_order

from .helpers import amount_str, post_notification, signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(client) -> Payment:
    order = make_order(skus=[SKUFactory(price=Decimal("100.00"))])
    payment, _url = services.start_payment(
        order_id=order.pk, actor=order.customer, build_url=lambda path: f"http://testserver{path}"
    )
    # The sandbox's own books must hold the charge for it to refund: settle it there.
    charge = SandboxCharge.objects.get(reference=payment.reference)
    settle_charge(txn_id=charge.txn_id, succeed=True)
    body, headers = signed(
        reference=payment.reference, txn_id=charge.txn_id, amount=amount_str(payment.amount)
    )
    assert post_notification(client, body, headers).status_code == 200
    payment.refresh_from_db()
    return payment


@pytest.fixture
def agent():
    return UserFactory(role=Role.SERVICE)


def test_refunds_within_the_paid_amount_go_through_the_gateway(paid, agent):
    first = services.refund_payment(
        payment_id=paid.pk, amount=Decimal("30.00"), actor=agent, reason="Damaged box"
    )
    second = services.refund_payment(
        payment_id=paid.pk, amount=Decimal("70.00"), actor=agent, reason="Returned"
    )

    assert first.status == second.status == RefundStatus.SUCCEEDED
    assert first.actor == agent
    assert first.gateway_refund_id.startswith("SBR")
    assert sum(r.amount for r in SandboxRefund.objects.all()) == Decimal("100.00")
    assert services.refundable_amount(paid) == Decimal("0.00")


def test_refund_above_what_is_left_is_refused(paid, agent):
    services.refund_payment(payment_id=paid.pk, amount=Decimal("60.00"), actor=agent, reason="x")

    with pytest.raises(services.RefundNotAllowed, match="40.00"):
        services.refund_payment(
            payment_id=paid.pk, amount=Decimal("40.01"), actor=agent, reason="too much"
        )

    assert paid.refunds.count() == 1
    assert SandboxRefund.objects.count() == 1


def test_refund_needs_the_permission_and_a_reason(paid):
    customer = UserFactory(role=Role.CUSTOMER)
    with pytest.raises(services.RefundNotAllowed):
        services.refund_payment(
            payment_id=paid.pk, amount=Decimal("1.00"), actor=customer, reason="x"
        )
    with pytest.raises(services.RefundNotAllowed):
        services.refund_payment(
            payment_id=paid.pk,
            amount=Decimal("1.00"),
            actor=UserFactory(role=Role.SERVICE),
            reason=" ",
        )
    assert not paid.refunds.exists()


def test_an_unpaid_attempt_cannot_be_refunded(agent):
    order = make_order()
    payment, _url = services.start_payment(
        order_id=order.pk, actor=order.customer, build_url=lambda path: path
    )

    with pytest.raises(services.RefundNotAllowed):
        services.refund_payment(
            payment_id=payment.pk, amount=Decimal("1.00"), actor=agent, reason="x"
        )


def test_a_refund_is_in_the_orders_timeline_once_and_the_customer_sees_it(client, paid, agent):
    from orders.models import OrderEventKind

    refund = services.refund_payment(
        payment_id=paid.pk, amount=Decimal("30.00"), actor=agent, reason="Damaged box"
    )
    services.refund_payment(  # the same reference again: the same refund, no second entry
        payment_id=paid.pk,
        amount=Decimal("30.00"),
        actor=agent,
        reason="Damaged box",
        reference=refund.reference,
    )

    order = paid.order
    event = order.events.get(kind=OrderEventKind.REFUNDED)
    assert event.details == {"amount": "30.00", "reference": refund.reference}
    client.force_login(order.customer)
    page = client.get(f"/account/orders/{order.number}/").content.decode()
    assert "Refunded ¥30.00" in page
