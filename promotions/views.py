"""Staff screens for promotions (ORD-8): the list of coupons and threshold discounts, their
create and edit forms with each promotion's history, and switching one off. Managers change
them; customer service may look. Every change goes through `promotions.services`, which checks
the permission and keeps the audit trail (SEC-4, ORD-11).
"""

import copy
from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import role_required
from accounts.roles import Role

from . import selectors, services
from .forms import CouponForm, PromotionFilterForm, ThresholdDiscountForm
from .models import Coupon, PromotionKind, ThresholdDiscount

PAGE_SIZE = 25
VIEW_ROLES = (Role.MANAGER, Role.SERVICE)
CHANGE_ROLES = (Role.MANAGER,)


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@role_required(*VIEW_ROLES)
@require_GET
def promotion_list(request: HttpRequest) -> HttpResponse:
    form = PromotionFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    search = filters.get("search", "").strip()
    status = filters.get("status", "")
    coupons = Paginator(selectors.coupons(search=search, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    thresholds = Paginator(
        selectors.threshold_discounts(search=search, status=status), PAGE_SIZE
    ).get_page(request.GET.get("tpage"))
    return render(
        request,
        "promotions/list.html",
        {
            "form": form,
            "coupons": coupons,
            "thresholds": thresholds,
            "coupon_params": _query_without(request, "page"),
            "threshold_params": _query_without(request, "tpage"),
            "can_change": request.user.role in (*CHANGE_ROLES, Role.ADMIN),
        },
    )


def _save(request: HttpRequest, form, save) -> object | None:
    """Hand a valid form to `save(data=…, reason=…)` (a service); on a refusal, show the
    service's messages on the form and return None."""
    data = dict(form.cleaned_data)
    reason = data.pop("reason", "")
    try:
        return save(actor=request.user, data=data, reason=reason)
    except services.PromotionNotAllowed as error:
        raise PermissionDenied(error.message) from error
    except services.InvalidPromotion as error:
        for field, problems in error.errors.items():
            for problem in problems:
                form.add_error(field if field in form.fields else None, problem)
        return None


def _create(request: HttpRequest, form_class, create, *, template: str, saved: str):
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        obj = _save(request, form, create)
        if obj is not None:
            messages.success(request, saved % {"name": str(obj)})
            return redirect("promotions:list")
    return render(request, template, {"form": form, "object": None})


def _change(
    request: HttpRequest,
    form_class,
    instance,
    update,
    *,
    kind: PromotionKind,
    template: str,
    saved: str,
    extra: dict | None = None,
):
    # The form works on a copy: the page's heading keeps the saved code or name when the
    # posted values are refused.
    form = form_class(request.POST or None, instance=copy.copy(instance))
    if request.method == "POST" and form.is_valid():
        obj = _save(request, form, update)
        if obj is not None:
            messages.success(request, saved % {"name": str(obj)})
            return redirect("promotions:list")
    return render(
        request,
        template,
        {
            "form": form,
            "object": instance,
            "history": selectors.promotion_history(kind=kind, promotion_id=instance.pk),
            **(extra or {}),
        },
    )


@role_required(*CHANGE_ROLES)
@require_http_methods(["GET", "POST"])
def coupon_create(request: HttpRequest) -> HttpResponse:
    return _create(
        request,
        CouponForm,
        services.create_coupon,
        template="promotions/coupon_form.html",
        saved=_("Coupon %(name)s created."),
    )


@role_required(*CHANGE_ROLES)
@require_http_methods(["GET", "POST"])
def coupon_edit(request: HttpRequest, coupon_id: int) -> HttpResponse:
    coupon = get_object_or_404(Coupon, pk=coupon_id)
    return _change(
        request,
        CouponForm,
        coupon,
        partial(services.update_coupon, coupon_id=coupon.pk),
        kind=PromotionKind.COUPON,
        extra={"used": selectors.coupon_has_been_used(coupon.pk)},
        template="promotions/coupon_form.html",
        saved=_("Coupon %(name)s saved."),
    )


@role_required(*CHANGE_ROLES)
@require_POST
def coupon_deactivate(request: HttpRequest, coupon_id: int) -> HttpResponse:
    get_object_or_404(Coupon.objects.only("pk"), pk=coupon_id)
    try:
        coupon = services.deactivate_coupon(coupon_id=coupon_id, actor=request.user)
    except services.PromotionNotAllowed as error:
        raise PermissionDenied(error.message) from error
    messages.success(
        request, _("Coupon %(code)s switched off: it no longer applies.") % {"code": coupon.code}
    )
    return redirect("promotions:list")


@role_required(*CHANGE_ROLES)
@require_http_methods(["GET", "POST"])
def threshold_create(request: HttpRequest) -> HttpResponse:
    return _create(
        request,
        ThresholdDiscountForm,
        services.create_threshold_discount,
        template="promotions/threshold_form.html",
        saved=_("Threshold discount %(name)s created."),
    )


@role_required(*CHANGE_ROLES)
@require_http_methods(["GET", "POST"])
def threshold_edit(request: HttpRequest, promotion_id: int) -> HttpResponse:
    promotion = get_object_or_404(ThresholdDiscount, pk=promotion_id)
    return _change(
        request,
        ThresholdDiscountForm,
        promotion,
        partial(services.update_threshold_discount, promotion_id=promotion.pk),
        kind=PromotionKind.THRESHOLD,
        template="promotions/threshold_form.html",
        saved=_("Threshold discount %(name)s saved."),
    )


@role_required(*CHANGE_ROLES)
@require_POST
def threshold_deactivate(request: HttpRequest, promotion_id: int) -> HttpResponse:
    get_object_or_404(ThresholdDiscount.objects.only("pk"), pk=promotion_id)
    try:
        promotion = services.deactivate_threshold_discount(
            promotion_id=promotion_id, actor=request.user
        )
    except services.PromotionNotAllowed as error:
        raise PermissionDenied(error.message) from error
    messages.success(
        request,
        _("Threshold discount %(name)s switched off: it no longer applies.")
        % {"name": promotion.name},
    )
    return redirect("promotions:list")
