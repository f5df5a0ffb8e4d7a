"""Administrators' screens for API keys (/staff/api-keys/, API-1): list the keys, issue one for
a sales channel with scopes (its full key shown once), revoke one with a reason, and create the
sales channel of a system connected through the API."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import permission_required
from core.errors import DomainError

from . import selectors, services
from .forms import ApiStoreForm, IssueKeyForm, KeyFilterForm, RevokeKeyForm
from .models import ApiKey

PAGE_SIZE = 50


@permission_required("api.view_apikey")
@require_GET
def key_list(request: HttpRequest) -> HttpResponse:
    form = KeyFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    keys = selectors.key_list(
        store_id=filters["store"].pk if filters.get("store") else None,
        status=filters.get("status", ""),
    )
    page = Paginator(keys, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "api/staff/key_list.html",
        {
            "page": page,
            "form": form,
            "params": query.urlencode(),
            "filtered": any(filters.values()),
            "has_api_store": selectors.api_stores_exist(),
        },
    )


@permission_required("api.issue_apikey")
@require_http_methods(["GET", "POST"])
def issue_key(request: HttpRequest) -> HttpResponse:
    form = IssueKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.issue_api_key(
                actor=request.user,
                store_id=form.cleaned_data["store"].pk,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            response = render(
                request,
                "api/staff/key_issued.html",
                {"api_key": issued.api_key, "token": issued.token},
            )
            # The key is on this page only: no cache may keep it.
            response["Cache-Control"] = "no-store"
            return response
    return render(
        request,
        "api/staff/key_form.html",
        {"form": form, "has_stores": form.fields["store"].queryset.exists()},
        status=400 if form.errors else 200,
    )


@permission_required("api.revoke_apikey")
@require_http_methods(["GET", "POST"])
def revoke_key(request: HttpRequest, key_id: int) -> HttpResponse:
    api_key = get_object_or_404(ApiKey.objects.select_related("store"), pk=key_id)
    form = RevokeKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.revoke_api_key(
                actor=request.user, key_id=api_key.pk, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("API key “%(name)s” revoked: requests with it are refused from now on.")
                % {"name": api_key.name},
            )
            return redirect("api_keys:list")
    return render(
        request,
        "api/staff/key_revoke.html",
        {"api_key": api_key, "form": form},
        status=400 if form.errors else 200,
    )


@permission_required("api.issue_apikey")
@require_http_methods(["GET", "POST"])
def create_store(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("stores.add_store"):
        raise PermissionDenied
    form = ApiStoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            store = services.create_api_store(
                actor=request.user, code=form.cleaned_data["code"], name=form.cleaned_data["name"]
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Sales channel “%(name)s” created: you can issue its API key now.")
                % {"name": store.name},
            )
            return redirect("api_keys:issue")
    return render(
        request,
        "api/staff/store_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )
