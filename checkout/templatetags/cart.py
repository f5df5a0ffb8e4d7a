"""The storefront's cart pieces: the add-to-cart box of a product page and the header's cart
link with its count. Kept here so that the catalogue knows nothing of stock or carts."""

from django import template
from django.db.models import Sum

from inventory import selectors as inventory_selectors

from ..cart import SESSION_KEY
from ..forms import AddToCartForm
from ..models import CartLine

register = template.Library()


@register.inclusion_tag("checkout/_add_to_cart.html", takes_context=True)
def add_to_cart_box(context, sku):
    available = inventory_selectors.availability(sku_ids=[sku.pk])[sku.pk] if sku else 0
    return {
        "sku": sku,
        "available": max(available, 0),
        "form": AddToCartForm(initial={"sku": sku.pk if sku else None}),
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag(takes_context=True)
def cart_item_count(context) -> int:
    request = context.get("request")
    if request is None:
        return 0
    lines = CartLine.objects.all()
    if request.user.is_authenticated:
        lines = lines.filter(cart__customer=request.user)
    elif request.session.get(SESSION_KEY):
        lines = lines.filter(cart__token=request.session[SESSION_KEY], cart__customer__isnull=True)
    else:
        return 0
    return lines.aggregate(count=Sum("quantity"))["count"] or 0
