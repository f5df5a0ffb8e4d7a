"""After-sales screens (AFS-2 to AFS-4): the customer's requests under /account/aftersales/
and the agents' desk under /staff/aftersales/. Views are thin: a form, a service or a selector,
and a message saying what happened."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_fsm import can_proceed

from accounts.access import role_required
from accounts.roles import Role
from core.errors import DomainError
from orders import access as order_access
from orders.models import Order, OrderState

from . import selectors, services
from .forms import (
    ApproveForm,
    ReasonForm,
    RefundForm,
    RequestForm,
    ReturnShipmentForm,
    StaffFilterForm,
)
from .models import (
    REFUND_KINDS,
    AfterSalesRequest,
    RequestKind,
    RequestPhoto,
    RequestState,
)

CUSTOMER_PAGE_SIZE = 10
STAFF_PAGE_SIZE = 50
VIEW_PERMISSION = "aftersales.view_aftersalesrequest"
STAFF_ROLES = (Role.SERVICE, Role.WAREHOUSE, Role.MANAGER)
REQUESTABLE_STATES = (OrderState.SHIPPED, OrderState.COMPLETED)


def _pk(number: str) -> int:
    pk = AfterSalesRequest.pk_from_number(number)
    if pk is None:
        raise Http404
    return pk


def _submit(request: HttpRequest, order: Order, form: RequestForm) -> AfterSalesRequest | None:
    data = form.cleaned_data
    try:
        return services.submit_request(
            order_id=order.pk,
            kind=data["kind"],
            reason=data["reason"],
            description=data["description"],
            lines=data["lines"],
            photos=data.get("photos") or [],
            actor=request.user,
            requested_change=data["requested_change"],
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return None


def _request_form(request: HttpRequest, order: Order) -> RequestForm:
    covered = services.covered_quantities(order_id=order.pk)
    if request.method == "POST":
        return RequestForm(request.POST, request.FILES, order=order, covered=covered)
    return RequestForm(order=order, covered=covered)


def _photo_response(photo: RequestPhoto) -> FileResponse:
    try:
        handle = photo.image.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=photo.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- Customer ---------------------------------------------------------------------------------
def _own_request(request: HttpRequest, number: str) -> AfterSalesRequest:
    """The signed-in customer's request `number`, else 404 (SEC-2)."""
    try:
        return selectors.request_detail(pk=_pk(number), customer=request.user)
    except AfterSalesRequest.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def my_requests(request: HttpRequest) -> HttpResponse:
    requests = selectors.customer_request_list(customer=request.user)
    page = Paginator(requests, CUSTOMER_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "aftersales/my_request_list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def my_request_new(request: HttpRequest, number: str) -> HttpResponse:
    """Start a request from one of the customer's orders."""
    order = order_access.get_order_for_viewer(request, number)
    if order.customer_id != request.user.pk:
        raise Http404
    if order.state == OrderState.CANCELLED:
        messages.error(request, _("This order is cancelled: there is nothing to ask for."))
        return redirect("orders:my_order_detail", number=number)
    form = _request_form(request, order)
    if request.method == "POST" and form.is_valid():
        created = _submit(request, order, form)
        if created is not None:
            messages.success(
                request,
                _("Your request %(number)s is sent. Customer service will look at it soon.")
                % {"number": created.number},
            )
            return redirect("my_aftersales:detail", number=created.number)
    return render(request, "aftersales/request_form.html", {"order": order, "form": form})


@login_required
@require_GET
def my_request_detail(request: HttpRequest, number: str) -> HttpResponse:
    item = _own_request(request, number)
    return render(
        request,
        "aftersales/my_request_detail.html",
        {
            "item": item,
            "refunds": selectors.refunds_of(item),
            "can_withdraw": can_proceed(item.withdraw),
            "return_form": ReturnShipmentForm() if can_proceed(item.ship_return) else None,
        },
    )


@login_required
@require_POST
def my_request_withdraw(request: HttpRequest, number: str) -> HttpResponse:
    item = _own_request(request, number)
    try:
        services.withdraw_request(request_id=item.pk, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Request %(number)s is withdrawn.") % {"number": number})
    return redirect("my_aftersales:detail", number=number)


@login_required
@require_POST
def my_request_return_shipment(request: HttpRequest, number: str) -> HttpResponse:
    item = _own_request(request, number)
    form = ReturnShipmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the carrier and type the tracking number."))
    else:
        try:
            services.enter_return_shipment(
                request_id=item.pk,
                carrier_code=form.cleaned_data["carrier"].code,
                tracking_number=form.cleaned_data["tracking_number"],
                actor=request.user,
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("Thank you: we will tell you when your parcel has arrived.")
            )
    return redirect("my_aftersales:detail", number=number)


@login_required
@require_GET
def my_request_photo(request: HttpRequest, pk: int) -> HttpResponse:
    photo = (
        RequestPhoto.objects.filter(pk=pk, request__customer=request.user)
        .select_related("request")
        .first()
    )
    if photo is None:
        raise Http404
    return _photo_response(photo)


# --- Staff ------------------------------------------------------------------------------------
def _check_view(request: HttpRequest) -> None:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied


@role_required(*STAFF_ROLES)
@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    _check_view(request)
    form = StaffFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    requests = selectors.staff_request_list(
        state=filters.get("state") or "",
        kind=filters.get("kind") or "",
        older_than_days=filters.get("age"),
        search=filters.get("search") or "",
    )
    page = Paginator(requests, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.state_counts()
    state_counts = [(value, label, counts.get(value, 0)) for value, label in RequestState.choices]
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "aftersales/staff/request_list.html",
        {
            "form": form,
            "page": page,
            "state_counts": state_counts,
            "current_state": filters.get("state") or "",
            "query": urlencode(query),
        },
    )


@role_required(*STAFF_ROLES)
@require_GET
def staff_detail(request: HttpRequest, number: str) -> HttpResponse:
    _check_view(request)
    try:
        item = selectors.request_detail(pk=_pk(number))
    except AfterSalesRequest.DoesNotExist:
        raise Http404 from None
    user = request.user
    may_decide = user.has_perm(services.DECIDE_PERMISSION)
    may_refund = may_decide and user.has_perm(services.REFUND_PERMISSION)
    can_approve = may_decide and can_proceed(item.approve)
    refund_ready = (
        item.kind in REFUND_KINDS and item.state == services.REFUND_READY_STATE[item.kind]
    )
    preview = selectors.refund_preview(item) if can_approve and item.kind in REFUND_KINDS else None
    preview_shipping = (
        selectors.refund_preview(item, refund_shipping=True)
        if can_approve and item.kind in REFUND_KINDS
        else None
    )
    if preview is not None:
        amounts = dict(preview.line_amounts)
        for line in item.lines.all():
            line.preview = amounts.get(line.pk)
    is_info = item.kind == RequestKind.CHANGE_INFO
    return render(
        request,
        "aftersales/staff/request_detail.html",
        {
            "item": item,
            "order": item.order,
            "refunds": selectors.refunds_of(item),
            "preview": preview,
            "preview_shipping": preview_shipping,
            "approve_form": ApproveForm() if can_approve and not is_info else None,
            "reject_form": ReasonForm(auto_id="reject_%s")
            if may_decide and can_proceed(item.reject)
            else None,
            "refund_form": RefundForm() if may_refund and refund_ready else None,
            "info_form": ReasonForm(auto_id="info_%s")
            if may_decide
            and is_info
            and item.state in (RequestState.SUBMITTED, RequestState.APPROVED)
            else None,
            "close_form": ReasonForm(auto_id="close_%s")
            if may_decide and can_proceed(item.close) and not is_info
            else None,
        },
    )


def _staff_action(request: HttpRequest, number: str, form_class, act, done: str):
    """One agent action on a request: check the form (every action has a reason), run the
    service, say what happened (or why not), back to the request."""
    pk = _pk(number)
    if not AfterSalesRequest.objects.filter(pk=pk).exists():
        raise Http404
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why: every action on a request needs a reason."))
    else:
        try:
            act(pk, form.cleaned_data)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done % {"number": number})
    return redirect("aftersales:detail", number=number)


@role_required(Role.SERVICE)
@require_POST
def staff_approve(request: HttpRequest, number: str) -> HttpResponse:
    return _staff_action(
        request,
        number,
        ApproveForm,
        lambda pk, data: services.approve_request(
            request_id=pk,
            actor=request.user,
            reason=data["reason"],
            refund_shipping=data["refund_shipping"],
        ),
        _("Request %(number)s is approved; the customer is told."),
    )


@role_required(Role.SERVICE)
@require_POST
def staff_reject(request: HttpRequest, number: str) -> HttpResponse:
    return _staff_action(
        request,
        number,
        ReasonForm,
        lambda pk, data: services.reject_request(
            request_id=pk, actor=request.user, reason=data["reason"]
        ),
        _("Request %(number)s is rejected; the customer is told why."),
    )


@role_required(Role.SERVICE)
@require_POST
def staff_refund(request: HttpRequest, number: str) -> HttpResponse:
    return _staff_action(
        request,
        number,
        RefundForm,
        lambda pk, data: services.issue_refund(
            request_id=pk,
            actor=request.user,
            reason=data["reason"],
            payout_reference=data["payout_reference"],
        ),
        _("The refund of request %(number)s is issued and the request closed."),
    )


@role_required(Role.SERVICE)
@require_POST
def staff_apply_info(request: HttpRequest, number: str) -> HttpResponse:
    return _staff_action(
        request,
        number,
        ReasonForm,
        lambda pk, data: services.apply_info_change(
            request_id=pk, actor=request.user, reason=data["reason"]
        ),
        _("The change of request %(number)s is recorded and the request closed."),
    )


@role_required(Role.SERVICE)
@require_POST
def staff_close(request: HttpRequest, number: str) -> HttpResponse:
    return _staff_action(
        request,
        number,
        ReasonForm,
        lambda pk, data: services.close_request(
            request_id=pk, actor=request.user, reason=data["reason"]
        ),
        _("Request %(number)s is closed."),
    )


@role_required(Role.SERVICE)
@require_http_methods(["GET", "POST"])
def staff_new(request: HttpRequest, number: str) -> HttpResponse:
    """An agent takes a request on the phone, from the staff order page."""
    if not request.user.has_perm(services.ADD_PERMISSION):
        raise PermissionDenied
    order = Order.objects.filter(number=number).first()
    if order is None:
        raise Http404
    form = _request_form(request, order)
    if request.method == "POST" and form.is_valid():
        created = _submit(request, order, form)
        if created is not None:
            messages.success(
                request, _("Request %(number)s is recorded.") % {"number": created.number}
            )
            return redirect("aftersales:detail", number=created.number)
    return render(request, "aftersales/staff/request_form.html", {"order": order, "form": form})


@role_required(*STAFF_ROLES)
@require_GET
def staff_photo(request: HttpRequest, pk: int) -> HttpResponse:
    _check_view(request)
    photo = RequestPhoto.objects.filter(pk=pk).first()
    if photo is None:
        raise Http404
    return _photo_response(photo)
