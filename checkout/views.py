import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from addresses import divisions
from addresses import selectors as address_selectors
from addresses import services as address_services
from addresses.forms import AddressFieldsForm
from core.errors import DomainError
from core.http import client_ip, safe_next
from core.throttle import take_try
from orders import access as order_access
from payments import selectors as payment_selectors

from . import pricing, services
from .cart import current_cart
from .forms import AddToCartForm, CartQuantityForm, CheckoutForm, sign_seen


def _is_customer(request: HttpRequest) -> bool:
    return request.user.is_authenticated


# --- cart -------------------------------------------------------------------------------------
@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    cart = current_cart(request)
    province = ""
    if _is_customer(request):
        default = address_selectors.default_address(request.user)
        province = default.province if default else ""
    quote = pricing.quote(items=services.cart_items(cart), province=province, customer=request.user)
    return render(request, "checkout/cart.html", {"quote": quote})


def _back_to(request: HttpRequest, fallback: str) -> str:
    return safe_next(request) or fallback


@require_POST
def add(request: HttpRequest) -> HttpResponse:
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect(_back_to(request, reverse("checkout:cart")))
    try:
        line = services.add_to_cart(
            cart=current_cart(request, create=True),
            sku_id=form.cleaned_data["sku"],
            quantity=form.cleaned_data["quantity"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_back_to(request, reverse("checkout:cart")))
    messages.success(
        request,
        _("Added to your cart: %(item)s × %(quantity)d.")
        % {"item": line.sku, "quantity": form.cleaned_data["quantity"]},
    )
    return redirect(_back_to(request, reverse("checkout:cart")))


@require_POST
def update_line(request: HttpRequest, sku_id: int) -> HttpResponse:
    form = CartQuantityForm(request.POST)
    cart = current_cart(request)
    if not form.is_valid():
        messages.error(request, next(iter(form.errors.values()))[0])
    elif cart is None:
        messages.error(request, _("This item is not in your cart."))
    else:
        try:
            services.set_quantity(cart=cart, sku_id=sku_id, quantity=form.cleaned_data["quantity"])
        except DomainError as error:
            messages.error(request, error.message)
    return redirect("checkout:cart")


@require_POST
def wait_for_stock(request: HttpRequest, sku_id: int) -> HttpResponse:
    cart = current_cart(request)
    if cart is None:
        messages.error(request, _("This item is not in your cart."))
        return redirect("checkout:cart")
    wait = request.POST.get("wait") == "1"
    try:
        services.set_waiting(cart=cart, sku_id=sku_id, wait=wait)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if wait:
            messages.success(
                request,
                _(
                    "Noted: the order will wait for the missing units. At checkout, choose "
                    "one parcel when everything is in, or what is in stock first."
                ),
            )
    return redirect("checkout:cart")


# --- checkout ---------------------------------------------------------------------------------
def _province_of(form: CheckoutForm, address_form: AddressFieldsForm) -> str:
    chosen = form.chosen_address()
    if chosen is not None:
        return chosen.province
    code = (
        address_form.data.get(address_form.add_prefix("province")) if address_form.is_bound else ""
    )
    division = divisions.get(code) if code else None
    return division.name if division else ""


def _render_checkout(request, form, address_form, quote, status=200) -> HttpResponse:
    # The summary partial carries `seen`: what this page shows, whatever was posted before.
    template = "checkout/_summary.html" if request.htmx else "checkout/checkout.html"
    return render(
        request,
        template,
        {
            "form": form,
            "address_form": address_form,
            "quote": quote,
            "seen": sign_seen(quote.seen_prices()),
            "show_new_address": form.uses_new_address(),
        },
        status=status,
    )


def _already_placed(request: HttpRequest):
    """The order an earlier submit of this same page placed, if this visitor may see it."""
    try:
        token = uuid.UUID(request.POST.get("checkout_token", ""))
    except ValueError:
        return None
    return order_access.viewable_orders(request).filter(checkout_token=token).first()


@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and (order := _already_placed(request)) is not None:
        # Double click, back button, retry: the order exists; show it, place nothing.
        messages.info(request, _("This order was already placed; here it is."))
        return redirect("checkout:placed", number=order.number)
    cart = current_cart(request)
    items = services.cart_items(cart)
    if not items:
        messages.info(request, _("Your cart is empty."))
        return redirect("checkout:cart")
    addresses = address_selectors.addresses_for(request.user) if _is_customer(request) else []
    email = request.user.email if _is_customer(request) else ""

    if request.method == "GET":
        default = next((a for a in addresses if a.is_default), None)
        form = CheckoutForm(
            addresses=addresses,
            initial={
                "contact_email": email,
                "saved_address": str(default.pk) if default else "new",
                "checkout_token": uuid.uuid4(),
            },
        )
        address_form = AddressFieldsForm(prefix="address")
        quote = pricing.quote(
            items=items, province=default.province if default else "", customer=request.user
        )
        if quote.problems:
            messages.warning(request, _("Some items in your cart need your choice first."))
            return redirect("checkout:cart")
        return _render_checkout(request, form, address_form, quote)

    data = request.POST.copy()
    if email:
        data["contact_email"] = email  # a customer's orders go to their account's address
    coupon = data.get("coupon_code", "").strip().upper()
    if coupon and not take_try(
        "coupon-code",
        client_ip(request),
        limit=settings.COUPON_TRIES_PER_WINDOW,
        window=settings.COUPON_TRIES_WINDOW_SECONDS,
    ):
        # Codes are not to be guessed one after another; the rest of the page still works.
        messages.error(request, _("Too many coupon codes tried. Please wait a few minutes."))
        data["coupon_code"] = coupon = ""
    form = CheckoutForm(data, addresses=addresses)
    address_form = AddressFieldsForm(data, prefix="address")
    province = _province_of(form, address_form)

    if data.get("action") != "place":  # "apply": price again with the coupon and address
        quote = pricing.quote(
            items=items, province=province, coupon_code=coupon, customer=request.user, email=email
        )
        if coupon and quote.coupon_error:
            messages.error(request, quote.coupon_error)
        return _render_checkout(request, form, address_form, quote)

    valid = form.is_valid()
    if form.uses_new_address():
        valid = address_form.is_valid() and valid
    if not valid:
        quote = pricing.quote(
            items=items, province=province, coupon_code=coupon, customer=request.user, email=email
        )
        messages.error(request, _("Please correct the marked fields."))
        return _render_checkout(request, form, address_form, quote, status=400)

    chosen = form.chosen_address()
    address = chosen.as_shipping_address() if chosen else address_form.shipping_address()
    try:
        placed = services.place_order(
            cart=cart,
            customer=request.user if _is_customer(request) else None,
            contact_email=form.cleaned_data["contact_email"],
            address=address,
            payment_method=form.cleaned_data["payment_method"],
            coupon_code=form.cleaned_data["coupon_code"],
            seen=form.cleaned_data["seen"],
            checkout_token=form.cleaned_data["checkout_token"],
            customer_note=form.cleaned_data["customer_note"],
            ship_partial=form.cleaned_data["ship_partial"],
        )
    except services.CheckoutChanged as changed:
        messages.error(request, changed.message)
        return _render_checkout(request, form, address_form, changed.quote, status=409)
    except DomainError as error:
        messages.error(request, error.message)
        quote = pricing.quote(
            items=services.cart_items(cart),
            province=province,
            coupon_code=coupon,
            customer=request.user,
            email=email,
        )
        if quote.is_empty:
            return redirect("checkout:cart")
        return _render_checkout(request, form, address_form, quote, status=409)

    order = placed.order
    if placed.repeated and not order_access.viewable_orders(request).filter(pk=order.pk).exists():
        # The page's token belongs to an order this visitor did not place.
        messages.error(request, _("This checkout page has expired. Please check out again."))
        return redirect("checkout:cart")
    if not _is_customer(request):
        order_access.grant_guest_access(request, order.number)
    elif (
        chosen is None
        and form.cleaned_data["save_address"]
        and not placed.repeated
        and not _already_saved(request.user, address)
    ):
        try:
            address_services.create_address(customer=request.user, data=address_form.cleaned_data)
        except DomainError as error:  # the order stands; the address book is full, say so
            messages.warning(request, error.message)
    if placed.repeated:
        messages.info(request, _("This order was already placed; here it is."))
    return redirect("checkout:placed", number=order.number)


def _already_saved(customer, address) -> bool:
    return any(
        saved.as_shipping_address() == address
        for saved in address_selectors.addresses_for(customer)
    )


@require_GET
def placed(request: HttpRequest, number: str) -> HttpResponse:
    order = order_access.get_order_for_viewer(request, number)
    return render(
        request,
        "checkout/placed.html",
        {"order": order, "can_pay": payment_selectors.can_pay_online(order)},
    )
