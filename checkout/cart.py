"""Which cart a request works on: the customer's stored cart, or the guest's, found through a
token in the session. At login the guest's cart joins the customer's (`merge_at_login`)."""

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import ngettext

from . import services
from .models import Cart

SESSION_KEY = "cart_token"


def current_cart(request: HttpRequest, *, create: bool = False) -> Cart | None:
    if request.user.is_authenticated:
        if create:
            return Cart.objects.get_or_create(customer=request.user)[0]
        return Cart.objects.filter(customer=request.user).first()
    token = request.session.get(SESSION_KEY)
    cart = Cart.objects.filter(token=token, customer__isnull=True).first() if token else None
    if cart is None and create:
        cart = Cart.objects.create()
        request.session[SESSION_KEY] = str(cart.token)
    return cart


@receiver(user_logged_in, dispatch_uid="checkout.merge_cart_at_login")
def merge_at_login(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    # The session is cycled at login but keeps its data; the token is read before it goes.
    token = request.session.pop(SESSION_KEY, None)
    if not token:
        return
    guest_cart = Cart.objects.filter(token=token, customer__isnull=True).first()
    if guest_cart is None:
        return
    dropped = services.merge_carts(guest_cart=guest_cart, customer=user)
    if dropped:
        messages.warning(
            request,
            ngettext(
                "Your cart was full: %(count)d item from before you logged in was not added.",
                "Your cart was full: %(count)d items from before you logged in were not added.",
                dropped,
            )
            % {"count": dropped},
        )
