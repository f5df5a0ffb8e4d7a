"""Address book screens and the division options endpoint (ORD-3). Views stay thin: forms
validate, `services` write, `selectors` read."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError
from core.http import safe_next

from . import divisions, selectors, services
from .forms import AddressForm
from .models import Address

RESET_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _next_url(request: HttpRequest) -> str:
    """Where to go back to after a change (?next= from checkout), if it is one of ours."""
    return safe_next(request)


def _done(request: HttpRequest) -> HttpResponse:
    return redirect(_next_url(request) or "addresses:list")


def _own_address(request: HttpRequest, pk: int) -> Address:
    try:
        return selectors.address_for(request.user, pk)
    except Address.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def address_list(request: HttpRequest) -> HttpResponse:
    addresses = list(selectors.addresses_for(request.user))
    return render(
        request,
        "addresses/address_list.html",
        {
            "addresses": addresses,
            "can_add": len(addresses) < services.MAX_ADDRESSES,
            "max_addresses": services.MAX_ADDRESSES,
            "next": _next_url(request),
        },
    )


def _form_page(request, form, *, address=None) -> HttpResponse:
    return render(
        request,
        "addresses/address_form.html",
        {"form": form, "address": address, "next": _next_url(request)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def address_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = AddressForm(request.POST)
        if form.is_valid():
            try:
                services.create_address(customer=request.user, data=form.cleaned_data)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The address is saved in your address book."))
                return _done(request)
    else:
        form = AddressForm()
    return _form_page(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request: HttpRequest, pk: int) -> HttpResponse:
    address = _own_address(request, pk)
    if request.method == "POST":
        form = AddressForm(request.POST)
    else:
        form = AddressForm.from_address(address)
    if address.is_default:
        # The default stays the default until another address is chosen.
        del form.fields["is_default"]
    if form.is_bound and form.is_valid():
        try:
            services.update_address(
                customer=request.user, address_id=address.pk, data=form.cleaned_data
            )
        except Address.DoesNotExist:
            raise Http404 from None
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The address is updated."))
            return _done(request)
    return _form_page(request, form, address=address)


@login_required
@require_POST
def address_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.delete_address(customer=request.user, address_id=pk)
    except Address.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The address is deleted."))
    return _done(request)


@login_required
@require_POST
def address_make_default(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        address = services.set_default_address(customer=request.user, address_id=pk)
    except Address.DoesNotExist:
        raise Http404 from None
    messages.success(
        request,
        _("Orders will now go to %(name)s, %(region)s by default.")
        % {"name": address.recipient_name, "region": address.region_display},
    )
    return _done(request)


def _parent_code(request: HttpRequest) -> str:
    """`parent`, or the value a cascading select sends under its own (maybe prefixed) name."""
    if "parent" in request.GET:
        return request.GET["parent"]
    for key, value in request.GET.items():
        if key in ("province", "city") or key.endswith(("-province", "-city")):
            return value
    return ""


@require_GET
@cache_control(public=True, max_age=86400)
def division_options(request: HttpRequest) -> HttpResponse:
    """`<option>`s of the cities of a province or the districts of a city, for the cascading
    selects (public: guests use it at checkout). Unknown input gets the placeholder alone.
    With `reset=<element id>`, an out-of-band swap empties that select too (the districts
    when the province changes)."""
    parent = _parent_code(request)[:12]
    reset = request.GET.get("reset", "")
    if not reset or len(reset) > 100 or not set(reset) <= RESET_ID_CHARS:
        reset = ""
    html = render_to_string(
        "addresses/_division_options.html",
        {"options": divisions.children(parent), "reset": reset},
    )
    response = HttpResponse(html)
    # The placeholder is translated, and the language may come from a cookie.
    patch_vary_headers(response, ["Accept-Language", "Cookie"])
    return response
