"""The sandbox's notification over real HTTP (urllib) to a running server (ORD-4)."""

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from orders.models import OrderState
from payments import services
from payments.models import NotificationOutcome, PaymentNotification
from tests.factories import SKUFactory, make_order

pytestmark = pytest.mark.django_db(transaction=True)


def test_sandbox_delivers_its_notification_over_http_to_the_live_server(live_server, client):
    order = make_order(skus=[SKUFactory(price=Decimal("42.00"))])
    payment, url = services.start_payment(
        order_id=order.pk, actor=order.customer, build_url=lambda path: live_server.url + path
    )
    assert urlsplit(url).path == url  # the sandbox page is ours

    # The browser presses "Pay successfully"; after the commit the eager task POSTs with
    # urllib to live_server.url + /payments/notify/sandbox/.
    response = client.post(url, {"outcome": "succeed"})

    assert response.status_code == 302
    assert response["Location"].startswith(
        live_server.url + reverse("payments:return", args=["sandbox"])
    )
    order.refresh_from_db()
    assert order.state == OrderState.PAID
    notification = PaymentNotification.objects.get()
    assert notification.outcome == NotificationOutcome.APPLIED
    assert notification.payment_id == payment.pk
