"""Paying an order through the sandbox gateway, over HTTP, as a customer does (ORD-4, SEC-3)."""

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from orders import services as order_services
from orders.models import OrderEventKind, OrderState, PaymentMethod
from payments import services, tasks
from payments.gateways.sandbox import settle_charge
from payments.models import (
    NotificationOutcome,
    Payment,
    PaymentNotification,
    PaymentStatus,
    SandboxCharge,
)
from tests.factories import SKUFactory, UserFactory, make_order

pytestmark = pytest.mark.django_db


def start(client: Client, order) -> str:
    """POST "Pay" for the order; the sandbox page's path it redirects to."""
    response = client.post(reverse("payments:pay", args=[order.number]))
    assert response.status_code == 302, response
    path = urlsplit(response["Location"]).path
    assert path.startswith("/sandbox-gateway/pay/")
    return path


def settle(client: Client, sandbox_path: str, outcome: str, capture) -> str:
    """Press a button on the sandbox page; the notification is delivered after the commit.
    Returns the return URL the browser is sent to."""
    with capture(execute=True):
        response = client.post(sandbox_path, {"outcome": outcome})
    assert response.status_code == 302
    return response["Location"]


def test_customer_pays_through_the_sandbox_and_the_order_is_paid(
    client, deliveries, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    order = make_order(skus=[SKUFactory(price=Decimal("123.45"))])
    client.force_login(order.customer)

    sandbox_path = start(client, order)
    page = client.get(sandbox_path).content.decode()
    assert "Sandbox payment — no real money" in page
    assert order.number in page
    assert "123.45" in page
    assert "Pay successfully" in page and "Make the payment fail" in page

    return_url = settle(client, sandbox_path, "succeed", django_capture_on_commit_callbacks)

    assert [status for _url, status in deliveries] == [200]
    order.refresh_from_db()
    assert order.state == OrderState.PAID
    assert order.paid_amount == Decimal("123.45")
    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.amount == Decimal("123.45")
    charge = SandboxCharge.objects.get()
    assert payment.gateway_txn_id == charge.txn_id
    notification = PaymentNotification.objects.get()
    assert notification.payment == payment
    assert notification.outcome == NotificationOutcome.APPLIED
    assert notification.signature_valid
    assert '"amount": "123.45"' in notification.body or '"amount":"123.45"' in notification.body
    assert set(notification.headers) == {"X-Sandbox-Signature", "X-Sandbox-Timestamp"}
    assert order.events.filter(kind=OrderEventKind.PAID).count() == 1

    assert return_url.startswith("http://testserver/payments/return/sandbox/?")
    with django_assert_max_num_queries(8):
        html = client.get(return_url).content.decode()
    assert "Payment received" in html
    assert reverse("orders:my_order_detail", args=[order.number]) in html


def test_the_notification_leaves_only_after_the_sandbox_commits(
    client, deliveries, django_capture_on_commit_callbacks
):
    order = make_order()
    client.force_login(order.customer)
    sandbox_path = start(client, order)

    with django_capture_on_commit_callbacks() as callbacks:
        client.post(sandbox_path, {"outcome": "succeed"})

    assert deliveries == []
    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT
    assert len(callbacks) == 1


def test_failed_payment_leaves_the_order_payable_and_a_second_attempt_pays_it(
    client, deliveries, django_capture_on_commit_callbacks
):
    order = make_order()
    client.force_login(order.customer)

    return_url = settle(client, start(client, order), "fail", django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PAYMENT
    assert order.events.filter(kind=OrderEventKind.PAYMENT_FAILED).count() == 1
    html = client.get(return_url).content.decode()
    assert "Payment failed" in html
    assert f'action="{reverse("payments:pay", args=[order.number])}"' in html
    assert "Pay again" in html

    settle(client, start(client, order), "succeed", django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.state == OrderState.PAID
    assert list(Payment.objects.order_by("id").values_list("status", flat=True)) == [
        PaymentStatus.FAILED,
        PaymentStatus.SUCCEEDED,
    ]


def test_return_page_polls_until_the_notification_arrives(
    client, deliveries, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    order = make_order()
    client.force_login(order.customer)
    sandbox_path = start(client, order)
    with django_capture_on_commit_callbacks() as callbacks:  # notification not delivered yet
        return_url = client.post(sandbox_path, {"outcome": "succeed"})["Location"]

    html = client.get(return_url).content.decode()
    assert "Confirming your payment" in html
    assert 'hx-trigger="every 2s"' in html
    assert "Payment received" not in html

    for callback in callbacks:
        callback()
    with django_assert_max_num_queries(8):
        partial = client.get(return_url, headers={"HX-Request": "true"}).content.decode()
    assert "Payment received" in partial
    assert "<html" not in partial
    assert "hx-trigger" not in partial  # final: the polling stops


def test_a_second_press_on_the_sandbox_page_changes_nothing(
    client, deliveries, django_capture_on_commit_callbacks
):
    order = make_order()
    client.force_login(order.customer)
    sandbox_path = start(client, order)
    settle(client, sandbox_path, "succeed", django_capture_on_commit_callbacks)

    settle(client, sandbox_path, "fail", django_capture_on_commit_callbacks)

    assert len(deliveries) == 1
    assert SandboxCharge.objects.get().status == "succeeded"
    order.refresh_from_db()
    assert order.state == OrderState.PAID
    assert "This payment is settled" in client.get(sandbox_path).content.decode()


def test_a_new_attempt_replaces_the_pending_one_and_the_amount_comes_from_the_order(client):
    order = make_order(skus=[SKUFactory(price=Decimal("50.00"))])
    client.force_login(order.customer)
    start(client, order)

    client.post(reverse("payments:pay", args=[order.number]), {"amount": "0.01"})

    first, second = Payment.objects.order_by("id")
    assert first.status == PaymentStatus.CANCELLED
    assert second.status == PaymentStatus.PENDING
    assert second.amount == Decimal("50.00")
    assert first.reference != second.reference


def test_late_success_of_a_replaced_attempt_still_pays_the_order(
    client, deliveries, django_capture_on_commit_callbacks
):
    order = make_order()
    client.force_login(order.customer)
    first_page = start(client, order)
    start(client, order)  # the customer started over in another tab

    settle(client, first_page, "succeed", django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.state == OrderState.PAID


def test_guest_pays_an_order_held_by_their_session(
    client, deliveries, django_capture_on_commit_callbacks
):
    order = make_order(customer=None, contact_email="guest@example.com")
    session = client.session
    session["guest_orders"] = [order.number]
    session.save()

    return_url = settle(client, start(client, order), "succeed", django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.state == OrderState.PAID
    html = client.get(return_url).content.decode()
    assert "Payment received" in html
    assert reverse("tracking:guest_order", args=[order.number]) in html


def test_delivery_is_retried_while_the_shop_answers_5xx(monkeypatch):
    order = make_order()
    payment, _url = services.start_payment(
        order_id=order.pk, actor=order.customer, build_url=lambda path: f"http://testserver{path}"
    )
    charge = SandboxCharge.objects.get(reference=payment.reference)
    settle_charge(txn_id=charge.txn_id, succeed=True)
    answers = [503, 502, 200]
    sent = []

    def post(url, body, headers):
        sent.append(body)
        return answers.pop(0)

    monkeypatch.setattr(tasks, "post_notification", post)
    # Run the retries in place, as eager mode does, without re-raising each one.
    monkeypatch.setitem(tasks.deliver_sandbox_notification.app.conf, "task_eager_propagates", False)

    result = tasks.deliver_sandbox_notification.apply(args=[charge.pk])

    assert len(sent) == 3
    assert result.get() == 200


def test_someone_elses_order_answers_404_on_pay(client):
    order = make_order()
    client.force_login(UserFactory(role=Role.CUSTOMER))

    assert client.post(reverse("payments:pay", args=[order.number])).status_code == 404
    client.logout()
    assert client.post(reverse("payments:pay", args=[order.number])).status_code == 404
    assert not Payment.objects.exists()


def test_someone_elses_return_page_answers_404(
    client, deliveries, django_capture_on_commit_callbacks
):
    order = make_order()
    client.force_login(order.customer)
    return_url = settle(client, start(client, order), "succeed", django_capture_on_commit_callbacks)

    client.force_login(UserFactory(role=Role.CUSTOMER))

    assert client.get(return_url).status_code == 404


def test_pay_is_refused_with_a_message_when_the_order_cannot_be_paid(client):
    paid = make_order(state=OrderState.PAID)
    client.force_login(paid.customer)

    response = client.post(reverse("payments:pay", args=[paid.number]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("orders:my_order_detail", args=[paid.number])
    assert "cannot be paid now" in response.content.decode()
    cod = make_order(customer=paid.customer, payment_method=PaymentMethod.CASH_ON_DELIVERY)
    response = client.post(reverse("payments:pay", args=[cod.number]), follow=True)
    assert "cash on delivery" in response.content.decode()
    assert not Payment.objects.exists()


def test_pay_only_by_post(client):
    order = make_order()
    client.force_login(order.customer)

    assert client.get(reverse("payments:pay", args=[order.number])).status_code == 405


def test_tampered_return_link_is_refused(client, deliveries, django_capture_on_commit_callbacks):
    order = make_order()
    client.force_login(order.customer)
    return_url = settle(client, start(client, order), "fail", django_capture_on_commit_callbacks)

    forged = return_url.replace("status=failed", "status=succeeded")

    assert client.get(forged).status_code == 400
    assert client.get(reverse("payments:return", args=["sandbox"])).status_code == 400
    assert client.get(reverse("payments:return", args=["nope"])).status_code == 404


def test_csrf_is_enforced_on_pay_and_on_the_sandbox_page(
    deliveries, django_capture_on_commit_callbacks
):
    order = make_order()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(order.customer)

    assert browser.post(reverse("payments:pay", args=[order.number])).status_code == 403
    assert not Payment.objects.exists()

    # With the token from the order page's form the same request goes through.
    browser.get(reverse("orders:my_order_detail", args=[order.number]))
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        reverse("payments:pay", args=[order.number]), {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    sandbox_path = urlsplit(response["Location"]).path

    assert browser.post(sandbox_path, {"outcome": "succeed"}).status_code == 403
    assert SandboxCharge.objects.get().status == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(sandbox_path, {"outcome": "succeed", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    # The notification endpoint takes no CSRF token: the sandbox delivered it with a signature.
    assert deliveries[0][1] == 200
    order.refresh_from_db()
    assert order.state == OrderState.PAID


def test_no_pay_again_button_for_an_order_held_for_review(
    client, deliveries, django_capture_on_commit_callbacks
):
    order = make_order()
    client.force_login(order.customer)
    return_url = settle(client, start(client, order), "fail", django_capture_on_commit_callbacks)
    order_services.flag_for_review(order_id=order.pk, reason="Address looks wrong")

    html = client.get(return_url).content.decode()

    assert "Payment failed" in html
    assert reverse("payments:pay", args=[order.number]) not in html
    assert "Pay again" not in html
