"""Managers' screen for shipping rules (/staff/shipping/)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import role_required
from accounts.roles import Role
from core.errors import DomainError

from . import services
from .forms import ShippingRuleForm
from .models import ShippingRule


@role_required(Role.MANAGER)
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = ShippingRule.objects.order_by("-is_active", "priority", "id")
    return render(request, "checkout/staff/shipping_rules.html", {"rules": rules})


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    rule = get_object_or_404(ShippingRule, pk=rule_id) if rule_id else None
    form = ShippingRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_shipping_rule(
                actor=request.user, data=form.cleaned_data, rule_id=rule_id
            )
        except DomainError as error:
            messages.error(request, error.message)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Shipping rule “%(name)s” saved.") % {"name": saved.name})
            return redirect("shipping:list")
    return render(
        request,
        "checkout/staff/shipping_rule_form.html",
        {"form": form, "rule": rule},
        status=400 if form.errors else 200,
    )
