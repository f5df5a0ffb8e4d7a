from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_fsm import can_proceed

from accounts.access import role_required
from accounts.roles import Role
from core.errors import DomainError
from inventory import selectors as inventory_selectors

from . import selectors, services
from .forms import CancelOrderForm, StaffOrderFilterForm
from .models import Order, OrderState

STAFF_PAGE_SIZE = 50
CUSTOMER_PAGE_SIZE = 10


# --- Customer ---------------------------------------------------------------------------------
@login_required
@require_GET
def my_orders(request: HttpRequest) -> HttpResponse:
    orders = selectors.customer_order_list(customer=request.user)
    page = Paginator(orders, CUSTOMER_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orders/my_orders.html", {"page": page})


def _own_order(request: HttpRequest, number: str) -> Order:
    try:
        return selectors.order_detail(number=number, customer=request.user)
    except Order.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def my_order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = _own_order(request, number)
    return render(
        request,
        "orders/my_order_detail.html",
        {
            "order": order,
            "can_cancel": can_proceed(order.cancel),
            "can_confirm": can_proceed(order.complete),
        },
    )


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
    return render(
        request,
        template,
        {"form": form, "page": page, "state_counts": state_counts, "query": query.urlencode()},
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
        can_proceed(order.cancel) or can_proceed(order.cancel_after_payment)
    )
    stock = inventory_selectors.demand_stock(group=services.stock_group(order.pk))
    lines = [(line, stock.get(services.stock_line(line.pk))) for line in order.lines.all()]
    return render(
        request,
        "orders/staff/order_detail.html",
        {
            "order": order,
            "lines": lines,
            "cancel_form": CancelOrderForm() if can_cancel else None,
        },
    )


@role_required(Role.SERVICE)
@require_POST
def staff_order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    order = Order.objects.filter(number=number).only("pk").first()
    if order is None:
        raise Http404
    form = CancelOrderForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the order is cancelled."))
        return redirect("staff_orders:detail", number=number)
    try:
        services.cancel_order(
            order_id=order.pk, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Order %(number)s is cancelled.") % {"number": number})
    return redirect("staff_orders:detail", number=number)
