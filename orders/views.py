import hmac
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_fsm import can_proceed

from accounts.access import role_required
from accounts.roles import Role
from addresses import selectors as address_selectors
from addresses.forms import AddressFieldsForm
from core.errors import DomainError
from core.http import client_ip
from core.throttle import take_try
from inventory import selectors as inventory_selectors

from . import access, selectors, services
from .forms import (
    MY_ORDER_TABS,
    CancelOrderForm,
    CashCollectedForm,
    GuestLookupForm,
    MyOrdersFilterForm,
    ReleaseHeldOrderForm,
    StaffOrderFilterForm,
    TrackingEventForm,
    normalize_phone,
)
from .models import Order, OrderEventKind, OrderState, TrackingEvent

STAFF_PAGE_SIZE = 50
ADD_TRACKING = "orders.add_trackingevent"
CUSTOMER_PAGE_SIZE = 10


# --- Customer ---------------------------------------------------------------------------------
@login_required
@require_GET
def my_orders(request: HttpRequest) -> HttpResponse:
    form = MyOrdersFilterForm(request.GET or None)
    tab = form.cleaned_data["tab"] if form.is_valid() else ""
    orders = selectors.customer_order_list(customer=request.user, tab=tab)
    page = Paginator(orders, CUSTOMER_PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.customer_tab_counts(customer=request.user)
    tabs = [(value, label, counts[value]) for value, label in MY_ORDER_TABS]
    params = urlencode({"tab": tab}) if tab else ""
    return render(
        request,
        "orders/my_orders.html",
        {"page": page, "tabs": tabs, "tab": tab, "params": params},
    )


def _own_order(request: HttpRequest, number: str) -> Order:
    """The signed-in customer's order `number`, else 404 (SEC-2)."""
    return access.get_order_for_viewer(request, number)


def _detail_context(order: Order) -> dict:
    """What the customer's and the guest's order pages both show (ORD-9)."""
    selectors.with_storefront_detail(order)
    # INV-5: how many units of each line still wait for stock (only before picking, two
    # queries whatever the number of lines).
    stock = {}
    if order.state in (OrderState.PENDING_PAYMENT, OrderState.PAID):
        stock = inventory_selectors.demand_stock(group=services.stock_group(order.pk))
    for line in order.lines.all():
        figures = stock.get(services.stock_line(line.pk))
        line.waiting_units = figures.waiting if figures else 0
    payment_failed = any(
        event.kind == OrderEventKind.PAYMENT_FAILED for event in order.events.all()
    )
    return {
        "order": order,
        "timeline": selectors.customer_timeline(order),
        "shipments": order.shipments.all(),
        "can_pay": order.awaits_online_payment(),
        "payment_failed": payment_failed,
        "under_review": order.needs_review and order.state != OrderState.CANCELLED,
    }


@login_required
@require_GET
def my_order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = _own_order(request, number)
    context = _detail_context(order)
    context.update(
        can_cancel=can_proceed(order.cancel) or can_proceed(order.cancel_cash_on_delivery),
        can_confirm=can_proceed(order.complete),
        can_change_address=not order.warehouse_started(),
    )
    return render(request, "orders/my_order_detail.html", context)


@login_required
@require_POST
def my_order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    order = _own_order(request, number)
    try:
        services.cancel_order(
            order_id=order.pk, actor=request.user, reason=_("Cancelled by the customer")
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Order %(number)s is cancelled.") % {"number": number})
    return redirect("orders:my_order_detail", number=number)


@login_required
@require_POST
def my_order_confirm_receipt(request: HttpRequest, number: str) -> HttpResponse:
    order = _own_order(request, number)
    try:
        services.complete_order(order_id=order.pk, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Thank you! Order %(number)s is complete.") % {"number": number}
        )
    return redirect("orders:my_order_detail", number=number)


# --- Guest order lookup (ORD-9, SEC-2) ---------------------------------------------------------
def _take_lookup_try(request: HttpRequest, number: str = "") -> bool:
    """Count one look-up try from this client, and of this order number when given; False
    once either is over the limit for the window. Per number too, so that many addresses
    cannot together try every phone for one order."""
    window = settings.ORDER_LOOKUP_WINDOW_SECONDS
    if number:
        limit = settings.ORDER_LOOKUP_MAX_TRIES_PER_ORDER
        return take_try("order-lookup-number", number, limit=limit, window=window)
    limit = settings.ORDER_LOOKUP_MAX_TRIES
    return take_try("order-lookup", client_ip(request), limit=limit, window=window)


def _matching_order(*, number: str, phone: str) -> Order | None:
    """The order numbered `number` if `phone` is its recipient's phone, else None. A wrong
    number and a wrong phone take the same path, so neither can be told from the other."""
    order = (
        Order.objects.filter(number=number).only("pk", "number", "customer", "recipient_phone")
    ).first()
    expected = normalize_phone(order.recipient_phone) if order is not None else "-"
    same_phone = hmac.compare_digest(phone.encode(), expected.encode())
    return order if order is not None and same_phone else None


@require_http_methods(["GET", "POST"])
def guest_lookup(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "orders/lookup.html", {"form": GuestLookupForm()})
    if not _take_lookup_try(request):
        minutes = max(1, round(settings.ORDER_LOOKUP_WINDOW_SECONDS / 60))
        return render(request, "orders/lookup_throttled.html", {"minutes": minutes}, status=429)
    form = GuestLookupForm(request.POST)
    if form.is_valid() and not _take_lookup_try(request, form.cleaned_data["number"]):
        minutes = max(1, round(settings.ORDER_LOOKUP_WINDOW_SECONDS / 60))
        return render(request, "orders/lookup_throttled.html", {"minutes": minutes}, status=429)
    if form.is_valid():
        order = _matching_order(
            number=form.cleaned_data["number"], phone=form.cleaned_data["phone"]
        )
        if order is not None:
            return _open_looked_up_order(request, order)
        form.add_error(
            None,
            _(
                "We could not find an order with this number and phone number. "
                "Please check both and try again."
            ),
        )
    return render(request, "orders/lookup.html", {"form": form})


def _open_looked_up_order(request: HttpRequest, order: Order) -> HttpResponse:
    """Where a visitor who gave the right number and phone goes. Only they learn whose
    account the order is in: they have already shown they know it."""
    if request.user.is_authenticated:
        if order.customer_id == request.user.pk:
            return redirect("orders:my_order_detail", number=order.number)
        messages.info(
            request,
            _(
                "Order %(number)s is not in the account you are logged in to. "
                "Log out to look it up as a guest, or log in to the account it was placed with."
            )
            % {"number": order.number},
        )
        return redirect("tracking:lookup")
    if order.customer_id is not None:
        messages.info(
            request,
            _("Order %(number)s was placed with an account: log in to see it.")
            % {"number": order.number},
        )
        target = reverse("orders:my_order_detail", args=[order.number])
        return redirect(f"{reverse('login')}?{urlencode({'next': target})}")
    access.grant_guest_access(request, order.number)
    return redirect("tracking:guest_order", number=order.number)


@require_GET
def guest_order(request: HttpRequest, number: str) -> HttpResponse:
    """A looked-up (or just placed) guest order, read-only (ORD-9)."""
    if request.user.is_authenticated:
        return redirect("orders:my_order_detail", number=number)
    order = access.get_order_for_viewer(request, number)
    return render(request, "orders/guest_order.html", _detail_context(order))


# --- Staff ------------------------------------------------------------------------------------
STAFF_ROLES = (Role.WAREHOUSE, Role.SERVICE, Role.MANAGER)


@role_required(*STAFF_ROLES)
@require_GET
def staff_order_list(request: HttpRequest) -> HttpResponse:
    form = StaffOrderFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    orders = selectors.staff_order_list(**{k: v for k, v in filters.items() if v})
    page = Paginator(orders, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.state_counts()
    state_counts = [(value, label, counts.get(value, 0)) for value, label in OrderState.choices]
    query = request.GET.copy()
    query.pop("page", None)
    template = "orders/staff/_order_rows.html" if request.htmx else "orders/staff/order_list.html"
    # A report's figure drilled down to its orders names the product or SKU it is about.
    subjects = selectors.line_subjects(product=filters.get("product"), sku=filters.get("sku"))
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "state_counts": state_counts,
            "query": query.urlencode(),
            "subjects": subjects,
        },
    )


@role_required(*STAFF_ROLES)
@require_GET
def staff_order_detail(request: HttpRequest, number: str) -> HttpResponse:
    try:
        order = selectors.order_detail(number=number)
    except Order.DoesNotExist:
        raise Http404 from None
    # Offered where a transition allows it; the service still decides.
    can_cancel = request.user.has_perm("orders.cancel_order") and (
        can_proceed(order.cancel)
        or can_proceed(order.cancel_cash_on_delivery)
        or can_proceed(order.cancel_after_payment)
    )
    can_release = order.needs_review and request.user.has_perm("orders.release_held_order")
    stock = inventory_selectors.demand_stock(group=services.stock_group(order.pk))
    lines = [(line, stock.get(services.stock_line(line.pk))) for line in order.lines.all()]
    # INV-5: an agent may split, drop or substitute what still waits for stock.
    waiting = [(line, figures) for line, figures in lines if figures and figures.waiting]
    can_resolve_waiting = (
        bool(waiting)
        and request.user.has_perm("orders.resolve_waiting_lines")
        and order.state in (OrderState.PENDING_PAYMENT, OrderState.PAID)
    )
    can_record_cash = (
        request.user.has_perm("orders.record_cash_payment")
        and order.awaits_cash()
        and order.state in (OrderState.SHIPPED, OrderState.COMPLETED)
    )
    parcels = _parcels_with_tracking(order, can_add=request.user.has_perm(ADD_TRACKING))
    # An agent may change where the order goes until it ships (ORD-7, AFS-1): the service
    # desk's screen does it, as it knows what the warehouse floor has already labelled.
    can_change_address = request.user.has_perm("orders.change_order_address") and order.state in (
        OrderState.PENDING_PAYMENT,
        OrderState.PAID,
        OrderState.PICKED,
    )
    return render(
        request,
        "orders/staff/order_detail.html",
        {
            "order": order,
            "lines": lines,
            "parcels": parcels,
            "cancel_form": CancelOrderForm() if can_cancel else None,
            "release_form": ReleaseHeldOrderForm() if can_release else None,
            "can_change_address": can_change_address,
            "waiting": waiting if can_resolve_waiting else [],
            "cash_form": (
                CashCollectedForm(initial={"amount": order.total_amount})
                if can_record_cash
                else None
            ),
        },
    )


def _parcels_with_tracking(order: Order, *, can_add: bool) -> list[tuple]:
    """(shipment, its tracking events newest first, a form to add one or None) per parcel,
    in one query for all the events (FUL-6)."""
    shipments = list(order.shipments.all())
    prefetch_related_objects(
        shipments,
        Prefetch("tracking_events", queryset=TrackingEvent.objects.order_by("-occurred_at", "-id")),
    )
    now = timezone.now()
    return [
        (
            shipment,
            shipment.tracking_events.all(),
            TrackingEventForm(auto_id=f"id_track{shipment.pk}_%s", initial={"occurred_at": now})
            if can_add
            else None,
        )
        for shipment in shipments
    ]


def _staff_action(request, number: str, form_class, invalid: str, act, done: str):
    """One staff action on an order's page: check the form, run the service, say what
    happened (its refusal in the user's words), back to the order."""
    order = Order.objects.filter(number=number).only("pk").first()
    if order is None:
        raise Http404
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, invalid)
    else:
        try:
            act(order.pk, form.cleaned_data)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done % {"number": number})
    return redirect("staff_orders:detail", number=number)


@role_required(Role.SERVICE)
@require_POST
def staff_order_release(request: HttpRequest, number: str) -> HttpResponse:
    return _staff_action(
        request,
        number,
        ReleaseHeldOrderForm,
        _("Say why the order may go on."),
        lambda order_id, data: services.release_held_order(
            order_id=order_id, actor=request.user, reason=data["reason"]
        ),
        _("Order %(number)s is released."),
    )


@role_required(Role.SERVICE)
@require_POST
def staff_order_record_cash(request: HttpRequest, number: str) -> HttpResponse:
    return _staff_action(
        request,
        number,
        CashCollectedForm,
        _("Enter the amount collected."),
        lambda order_id, data: services.record_cash_on_delivery(
            order_id=order_id,
            amount=data["amount"],
            actor=request.user,
            reference=data["reference"],
        ),
        _("The cash for order %(number)s is recorded."),
    )


@role_required(Role.SERVICE)
@require_POST
def staff_order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    return _staff_action(
        request,
        number,
        CancelOrderForm,
        _("Say why the order is cancelled."),
        lambda order_id, data: services.cancel_order(
            order_id=order_id, actor=request.user, reason=data["reason"]
        ),
        _("Order %(number)s is cancelled."),
    )


def _address_change_refusal(order: Order) -> str:
    """Why the customer may not change the address now, or "" (ORD-7). The service checks
    again under its lock; this keeps the page from offering what it would refuse."""
    if order.state == OrderState.CANCELLED:
        return _("Order %(number)s is cancelled.") % {"number": order.number}
    if order.warehouse_started():
        return _(
            "The warehouse has started on order %(number)s; "
            "please ask customer service to change the address."
        ) % {"number": order.number}
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def my_order_change_address(request: HttpRequest, number: str) -> HttpResponse:
    """Change where the order goes while the warehouse has not started (ORD-7): type a new
    address, or pick one from the address book."""
    order = _own_order(request, number)
    refusal = _address_change_refusal(order)
    if refusal:
        messages.error(request, refusal)
        return redirect("orders:my_order_detail", number=number)
    saved = list(address_selectors.addresses_for(request.user))
    form = AddressFieldsForm.from_address(order, prefix="address")
    if request.method == "POST":
        address = None
        if "saved_address" in request.POST:
            chosen = next((a for a in saved if str(a.pk) == request.POST["saved_address"]), None)
            if chosen is None:
                messages.error(request, _("Choose one of your saved addresses."))
            else:
                address = chosen.as_shipping_address()
        else:
            form = AddressFieldsForm(request.POST, prefix="address")
            if form.is_valid():
                address = form.shipping_address()
        if address is not None:
            try:
                services.change_address(order_id=order.pk, address=address, actor=request.user)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    _("Order %(number)s will be delivered to the new address.")
                    % {"number": number},
                )
            return redirect("orders:my_order_detail", number=number)
    return render(
        request,
        "orders/change_address.html",
        {"order": order, "form": form, "saved_addresses": saved},
    )
