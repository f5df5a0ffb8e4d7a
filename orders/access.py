"""Who may see an order in the storefront (SEC-2).

A signed-in customer sees their own orders. A guest sees the orders placed in, or looked up
by, this browser session (checkout and the order lookup grant them). Anything else answers 404,
whether the order exists or not.
"""

from django.http import Http404, HttpRequest

from .models import Order

SESSION_KEY = "guest_orders"
# Enough for a guest's session; the oldest are forgotten first.
MAX_GUEST_ORDERS = 20


def grant_guest_access(request: HttpRequest, number: str) -> None:
    numbers = [n for n in request.session.get(SESSION_KEY, []) if n != number]
    numbers.append(number)
    request.session[SESSION_KEY] = numbers[-MAX_GUEST_ORDERS:]


def guest_order_numbers(request: HttpRequest) -> list[str]:
    return list(request.session.get(SESSION_KEY, []))


def viewable_orders(request: HttpRequest):
    """The orders this visitor may see in the storefront, as a queryset."""
    if request.user.is_authenticated:
        return Order.objects.filter(customer=request.user)
    return Order.objects.filter(number__in=guest_order_numbers(request), customer__isnull=True)


def get_order_for_viewer(request: HttpRequest, number: str, queryset=None) -> Order:
    """The order numbered `number` if this visitor may see it, else 404."""
    base = viewable_orders(request)
    if queryset is not None:
        base = base & queryset
    order = base.filter(number=number).first()
    if order is None:
        raise Http404
    return order
