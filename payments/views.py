"""Payment screens and the gateway's callback (ORD-4, SEC-3).

- pay: a visitor who may see the order (its customer, or the guest whose session holds it)
  starts a payment attempt and is sent to the gateway;
- notify: the gateway's server-to-server notification — the only thing that marks an order
  paid; no CSRF token (a server sends it), an HMAC signature instead;
- return: where the payer's browser comes back; shows the status, never changes it;
- sandbox_pay: the sandbox gateway's own payment page.
"""

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from orders.access import get_order_for_viewer
from orders.models import Order

from . import selectors, services
from .gateways import InvalidNotification, UnknownGateway, get_gateway, sandbox
from .models import SandboxCharge, SandboxChargeStatus


def order_page_url(request: HttpRequest, order: Order) -> str:
    """The order's page for this visitor: "my order" for a customer, the tracking page for a
    guest."""
    if request.user.is_authenticated:
        return reverse("orders:my_order_detail", args=[order.number])
    return reverse("tracking:guest_order", args=[order.number])


@require_POST
def pay(request: HttpRequest, number: str) -> HttpResponse:
    order = get_order_for_viewer(request, number)
    try:
        _payment, url = services.start_payment(
            order_id=order.pk,
            actor=request.user if request.user.is_authenticated else None,
            build_url=request.build_absolute_uri,
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(order_page_url(request, order))
    return redirect(url)


@csrf_exempt  # server to server: verified by the gateway's HMAC signature instead
@require_POST
def notify(request: HttpRequest, gateway: str) -> HttpResponse:
    try:
        services.handle_notification(
            gateway_name=gateway, body=request.body, headers=request.headers
        )
    except UnknownGateway:
        raise Http404 from None
    except InvalidNotification as error:
        return HttpResponseBadRequest(error.reason, content_type="text/plain")
    # Unknown references are answered "ok" too: sending them again would not help.
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def payment_return(request: HttpRequest, gateway: str) -> HttpResponse:
    try:
        info = get_gateway(gateway).parse_return(query=request.GET)
    except UnknownGateway:
        raise Http404 from None
    except InvalidNotification:
        return HttpResponseBadRequest(_("This payment link is not valid."))
    payment = selectors.payment_for_return(gateway=gateway, reference=info.reference)
    if payment is None:
        raise Http404
    order = get_order_for_viewer(request, payment.order.number)
    payment.order = order
    status = selectors.return_status(payment)
    context = {
        "payment": payment,
        "order": order,
        "status": status,
        "order_url": order_page_url(request, order),
        "can_pay_again": status in ("failed", "replaced") and selectors.can_pay_online(order),
        "poll_url": request.get_full_path(),
    }
    template = "payments/_return_status.html" if request.htmx else "payments/return.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def sandbox_pay(request: HttpRequest, txn_id: str) -> HttpResponse:
    """The sandbox gateway's payment page: anyone holding the (unguessable) transaction id may
    settle it, once, as with a hosted payment page."""
    charge = get_object_or_404(SandboxCharge, txn_id=txn_id)
    if request.method == "POST":
        choice = request.POST.get("outcome")
        if choice not in ("succeed", "fail"):
            return HttpResponseBadRequest(_("Choose how the payment ends."))
        sandbox.settle_charge(txn_id=charge.txn_id, succeed=choice == "succeed")
        charge.refresh_from_db()
        return redirect(sandbox.return_url_for(charge))
    return render(
        request,
        "payments/sandbox_pay.html",
        {
            "charge": charge,
            "settled": charge.status != SandboxChargeStatus.PENDING,
            "return_url": (
                sandbox.return_url_for(charge)
                if charge.status != SandboxChargeStatus.PENDING
                else ""
            ),
        },
    )
