"""Service-desk screens (ORD-6, ORD-7, ORD-11, AFS-1): the desk's home with its queues, the
exception queue and an order's resolution, the agent's address change, and the audit rules."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import role_required
from accounts.roles import Role
from core.errors import DomainError
from core.templatetags.shop import money
from orders.models import Order, OrderState

from . import audit, selectors, services, waiting
from .forms import (
    AgentAddressForm,
    AuditRuleForm,
    ClaimForm,
    ExceptionFilterForm,
    ReasonForm,
    ShippingChoiceForm,
    SubstituteForm,
)

PAGE_SIZE = 25


# --- home -------------------------------------------------------------------------------------
@role_required(Role.SERVICE)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The desk's queues, each with its count, how long its oldest item has waited, and a
    link to the queue."""
    queues = selectors.desk_queues()
    aftersales_list = reverse("aftersales:list")
    cards = [
        (
            queues["exceptions"],
            _("Exception orders"),
            reverse("servicedesk:exceptions"),
        ),
        (
            queues["new_requests"],
            _("New after-sales requests"),
            f"{aftersales_list}?state=submitted",
        ),
        (
            queues["returns"],
            _("Returns awaiting inspection"),
            f"{aftersales_list}?state=return_shipped",
        ),
        (
            queues["refunds"],
            _("Refunds to issue"),
            # The after-sales list filters by one state at a time: refunds to issue are in two
            # (a refund-only request approved, a return received), so the whole list.
            aftersales_list,
        ),
        (
            queues["tickets"],
            _("Open tickets"),
            reverse("tickets:queue") + "?status=open",
        ),
    ]
    return render(
        request,
        "servicedesk/home.html",
        {
            "cards": cards,
            "now": timezone.now(),
            "can_configure": services.may_configure_audit(request.user),
        },
    )


# --- exception queue --------------------------------------------------------------------------
@role_required(Role.SERVICE)
@require_GET
def exceptions(request: HttpRequest) -> HttpResponse:
    form = ExceptionFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    orders = selectors.exception_queue(
        agent=request.user,
        rule=data.get("rule", ""),
        claimed=data.get("claimed", ""),
        older_than_hours=int(data["age"]) if data.get("age") else None,
        newest_first=data.get("sort") == "newest",
    )
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "servicedesk/exceptions.html",
        {"form": form, "page": page, "params": query.urlencode(), "now": timezone.now()},
    )


def _exception_order(number: str) -> Order:
    order = Order.objects.select_related("customer").filter(number=number).first()
    if order is None:
        raise Http404
    return order


@role_required(Role.SERVICE)
@require_GET
def exception_detail(request: HttpRequest, number: str) -> HttpResponse:
    """One exception order: why it is held, who has it, and the two ways to resolve it."""
    order = _exception_order(number)
    return render(
        request,
        "servicedesk/exception_detail.html",
        _detail_context(order, AgentAddressForm.from_address(order, prefix="address")),
    )


def _detail_context(order: Order, release_form: AgentAddressForm) -> dict:
    return {
        "order": order,
        "in_queue": order.needs_review and order.state != OrderState.CANCELLED,
        "lines": list(order.lines.all()),
        # INV-5: after a short pick the missing units may wait for stock.
        "waiting_units": selectors.waiting_units(order.pk),
        "claim": selectors.claim_for(order.pk),
        "findings": selectors.open_findings_for(order.pk),
        "release_form": release_form,
        "cancel_form": ReasonForm(prefix="cancel"),
        "paid": order.paid_at is not None,
    }


def _back_to_order(number: str) -> HttpResponse:
    return redirect("servicedesk:exception_detail", number=number)


@role_required(Role.SERVICE)
@require_POST
def claim(request: HttpRequest, number: str) -> HttpResponse:
    order = _exception_order(number)
    form = ClaimForm(request.POST)
    take_over = form.is_valid() and form.cleaned_data["take_over"]
    try:
        services.claim_order(order_id=order.pk, agent=request.user, take_over=take_over)
    except services.ClaimedByAnother as refused:
        messages.warning(
            request, refused.message + " " + _("Take it over only if you agreed with them.")
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            (_("You took over order %(number)s.") if take_over else _("Order %(number)s is yours."))
            % {"number": number},
        )
    return _back_to_order(number)


@role_required(Role.SERVICE)
@require_POST
def unclaim(request: HttpRequest, number: str) -> HttpResponse:
    order = _exception_order(number)
    try:
        services.unclaim_order(order_id=order.pk, agent=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Order %(number)s is back in the queue.") % {"number": number})
    return redirect("servicedesk:exceptions")


@role_required(Role.SERVICE)
@require_POST
def release(request: HttpRequest, number: str) -> HttpResponse:
    """Fix the address or contact (if changed) and let the order go on."""
    order = _exception_order(number)
    form = AgentAddressForm(request.POST, prefix="address")
    if form.is_valid():
        try:
            services.fix_and_release(
                order_id=order.pk,
                address=form.shipping_address(),
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("Order %(number)s is released to the warehouse.") % {"number": number}
            )
            return redirect("servicedesk:exceptions")
    else:
        messages.error(request, _("Check the address and give a reason."))
    order.refresh_from_db()
    return render(
        request,
        "servicedesk/exception_detail.html",
        _detail_context(order, form),
        status=400 if form.errors else 200,
    )


@role_required(Role.SERVICE)
@require_POST
def cancel(request: HttpRequest, number: str) -> HttpResponse:
    """Cancel the exception order; what was paid is refunded by itself."""
    order = _exception_order(number)
    form = ReasonForm(request.POST, prefix="cancel")
    if not form.is_valid():
        messages.error(request, _("Say why the order is cancelled."))
        return _back_to_order(number)
    try:
        services.cancel_with_refund(
            order_id=order.pk, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _back_to_order(number)
    messages.success(
        request,
        _("Order %(number)s is cancelled; what was paid is refunded.") % {"number": number},
    )
    return redirect("servicedesk:exceptions")


# --- agent's address change (ORD-7, AFS-1) ----------------------------------------------------
@role_required(Role.SERVICE)
@require_http_methods(["GET", "POST"])
def change_address(request: HttpRequest, number: str) -> HttpResponse:
    """An agent changes an order's address or contact at any point before shipment."""
    if not request.user.has_perm("orders.change_order_address"):
        raise PermissionDenied
    order = _exception_order(number)
    if order.state in (OrderState.SHIPPED, OrderState.COMPLETED, OrderState.CANCELLED):
        messages.error(
            request,
            _("Order %(number)s is “%(state)s”: its address can no longer change.")
            % {"number": number, "state": order.get_state_display()},
        )
        return redirect("staff_orders:detail", number=number)
    form = AgentAddressForm.from_address(order, prefix="address")
    status = 200
    if request.method == "POST":
        form = AgentAddressForm(request.POST, prefix="address")
        if form.is_valid():
            try:
                services.change_order_address(
                    order_id=order.pk,
                    address=form.shipping_address(),
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    _("The address of order %(number)s is changed.") % {"number": number},
                )
                return redirect("staff_orders:detail", number=number)
        status = 400
    return render(
        request,
        "servicedesk/change_address.html",
        {
            "order": order,
            "form": form,
            "parcels": services.labelled_parcels(order.pk),
        },
        status=status,
    )


# --- audit rules ------------------------------------------------------------------------------
# --- lines waiting for stock (INV-5) -------------------------------------------------------------
def _waiting_action(request: HttpRequest, number: str, form, act) -> HttpResponse:
    """Validate `form`, run `act(order, cleaned_data)` and go back to the staff order page
    with what happened, or what was refused (nothing changed then)."""
    if not request.user.has_perm(waiting.PERMISSION):
        raise PermissionDenied
    order = _exception_order(number)
    if not form.is_valid():
        messages.error(request, _("Give a reason: it is kept in the order's timeline."))
    else:
        try:
            messages.success(request, act(order, form.cleaned_data))
        except DomainError as error:
            messages.error(request, error.message)
    return redirect("staff_orders:detail", number=number)


@role_required(Role.SERVICE)
@require_POST
def waiting_choice(request: HttpRequest, number: str) -> HttpResponse:
    def act(order: Order, data: dict) -> str:
        order = waiting.set_shipping_choice(
            order_id=order.pk,
            ship_partial=data["ship_partial"],
            actor=request.user,
            reason=data["reason"],
        )
        if order.ship_partial:
            return _("Order %(number)s ships what is in stock now.") % {"number": number}
        return _("Order %(number)s is sent complete.") % {"number": number}

    return _waiting_action(request, number, ShippingChoiceForm(request.POST), act)


@role_required(Role.SERVICE)
@require_POST
def waiting_drop(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    def act(order: Order, data: dict) -> str:
        less = waiting.drop_waiting_units(
            order_id=order.pk, line_id=line_id, actor=request.user, reason=data["reason"]
        )
        return _("The waiting units are dropped; the order costs %(amount)s less.") % {
            "amount": money(less)
        }

    return _waiting_action(request, number, ReasonForm(request.POST), act)


@role_required(Role.SERVICE)
@require_POST
def waiting_substitute(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    def act(order: Order, data: dict) -> str:
        line = waiting.substitute_waiting_units(
            order_id=order.pk,
            line_id=line_id,
            sku_code=data["sku_code"],
            actor=request.user,
            reason=data["reason"],
        )
        return _("%(units)d × %(code)s will be sent instead.") % {
            "units": line.quantity,
            "code": line.sku_code,
        }

    return _waiting_action(request, number, SubstituteForm(request.POST), act)


def _require_configure(request: HttpRequest) -> None:
    if not services.may_configure_audit(request.user):
        raise PermissionDenied


@role_required(Role.MANAGER, Role.SERVICE)
@require_GET
def audit_rules(request: HttpRequest) -> HttpResponse:
    """Every audit rule with its state and thresholds; managers and admins may edit them,
    agents may look."""
    rows, changes = selectors.audit_rules_with_changes()
    rules = []
    for code, spec in audit.REGISTRY.items():
        row = rows.get(code)
        values = spec.settings_from(row.params if row else None)
        rules.append(
            {
                "spec": spec,
                "enabled": row.enabled if row else spec.enabled_by_default,
                "values": [(param, values[param.name]) for param in spec.params],
                "row": row,
            }
        )
    return render(
        request,
        "servicedesk/audit_rules.html",
        {
            "rules": rules,
            "changes": changes,
            "can_configure": services.may_configure_audit(request.user),
        },
    )


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def audit_rule_edit(request: HttpRequest, code: str) -> HttpResponse:
    _require_configure(request)
    spec = audit.REGISTRY.get(code)
    if spec is None:
        raise Http404
    rows, _changes = selectors.audit_rules_with_changes(limit=0)
    row = rows.get(code)
    current = spec.settings_from(row.params if row else None)
    enabled = row.enabled if row else spec.enabled_by_default
    form = AuditRuleForm(request.POST or None, spec=spec, current=current, enabled=enabled)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_audit_rule(
                    code=code,
                    enabled=form.cleaned_data["enabled"],
                    params=form.cleaned_data["params"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("The rule “%(rule)s” is saved.") % {"rule": spec.label})
                return redirect("servicedesk:audit_rules")
        status = 400
    return render(
        request, "servicedesk/audit_rule_edit.html", {"spec": spec, "form": form}, status=status
    )
