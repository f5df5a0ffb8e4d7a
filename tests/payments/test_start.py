"""Starting a payment: the attempt is committed before the gateway is called, and a gateway
that fails leaves a harmless pending attempt and a clear message (ORD-4)."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.urls import reverse

from payments import services
from payments.gateways.sandbox import SandboxGateway
from payments.models import Payment, PaymentStatus
from tests.factories import make_order


@pytest.mark.django_db(transaction=True)
def test_the_gateway_is_called_after_the_attempt_is_committed_and_no_lock_is_held(monkeypatch):
    order = make_order()
    seen = {}
    real_start = SandboxGateway.start

    def start(self, *, payment, return_url, notify_url):
        seen["in_transaction"] = connection.in_atomic_block
        seen["stored"] = Payment.objects.filter(pk=payment.pk, status="pending").exists()
        return real_start(self, payment=payment, return_url=return_url, notify_url=notify_url)

    monkeypatch.setattr(SandboxGateway, "start", start)

    services.start_payment(order_id=order.pk, actor=order.customer, build_url=lambda path: path)

    assert seen == {"in_transaction": False, "stored": True}


@pytest.mark.django_db
def test_a_gateway_that_fails_to_start_leaves_a_pending_attempt_and_says_so(client, monkeypatch):
    order = make_order()
    client.force_login(order.customer)
    real_start = SandboxGateway.start

    def unreachable(self, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(SandboxGateway, "start", unreachable)
    response = client.post(reverse("payments:pay", args=[order.number]))

    assert response.status_code == 302
    assert response["Location"] == reverse("orders:my_order_detail", args=[order.number])
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "could not be reached" in message and "No money was taken" in message
    stranded = Payment.objects.get()
    assert stranded.status == PaymentStatus.PENDING

    # The next attempt replaces it.
    monkeypatch.setattr(SandboxGateway, "start", real_start)
    response = client.post(reverse("payments:pay", args=[order.number]))

    assert response["Location"].startswith("/sandbox-gateway/pay/")
    stranded.refresh_from_db()
    assert stranded.status == PaymentStatus.CANCELLED
    assert Payment.objects.filter(status=PaymentStatus.PENDING).count() == 1


@pytest.mark.django_db
def test_start_payment_raises_gateway_unavailable_as_a_refusal(monkeypatch):
    order = make_order()
    monkeypatch.setattr(SandboxGateway, "start", lambda self, **kwargs: 1 / 0)

    with pytest.raises(services.PaymentNotAllowed):
        services.start_payment(order_id=order.pk, actor=order.customer, build_url=lambda p: p)
