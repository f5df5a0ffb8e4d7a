"""Write operations of the cart and of checkout: the only code that changes carts or turns one
into an order (ORD-2, ORD-4, ORD-8)."""

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import SKU
from core.audit import record_staff_action
from core.errors import DomainError
from inventory import selectors as inventory_selectors
from orders import services as order_services
from orders.models import Order, PaymentMethod
from promotions import services as promotion_services

from . import pricing
from .models import MAX_CART_LINES, MAX_LINE_QUANTITY, Cart, CartLine, ShippingRule


class CartError(DomainError):
    """The cart cannot be changed like that; nothing was changed."""


class CheckoutChanged(DomainError):
    """What the customer saw is no longer true (a price, the total); nothing was created.
    `quote` is the new one to show."""

    def __init__(self, message: str, quote: pricing.Quote):
        super().__init__(message)
        self.quote = quote


@dataclass(frozen=True)
class Placed:
    order: Order
    # True when this submit found the order an earlier submit of the same page placed.
    repeated: bool = False


# --- cart -------------------------------------------------------------------------------------
def _sellable_sku(sku_id: int) -> SKU:
    sku = SKU.objects.select_related("product").filter(pk=sku_id).first()
    if sku is None or not (sku.is_active and sku.product.is_active):
        raise CartError(_("This item is not on sale."))
    return sku


def _check_quantity(sku: SKU, quantity: int) -> None:
    if quantity < 1:
        raise CartError(_("The quantity must be at least 1."))
    if quantity > MAX_LINE_QUANTITY:
        raise CartError(_("At most %(max)d of one item per order.") % {"max": MAX_LINE_QUANTITY})
    available = inventory_selectors.availability(sku_ids=[sku.pk])[sku.pk]
    if quantity > available:
        if available <= 0:
            raise CartError(_("%(item)s is out of stock.") % {"item": sku})
        raise CartError(
            _("Only %(available)d of %(item)s left.") % {"available": available, "item": sku}
        )


def add_to_cart(*, cart: Cart, sku_id: int, quantity: int) -> CartLine:
    """Add `quantity` units, up to what is free to sell. Stock is not held until the order is
    placed: the cart only checks."""
    with transaction.atomic():
        Cart.objects.select_for_update().filter(pk=cart.pk).first()
        sku = _sellable_sku(sku_id)
        line = CartLine.objects.filter(cart=cart, sku=sku).first()
        if line is None and cart.lines.count() >= MAX_CART_LINES:
            raise CartError(_("The cart is full: at most %(max)d items.") % {"max": MAX_CART_LINES})
        _check_quantity(sku, quantity + (line.quantity if line else 0))
        if line is None:
            line = CartLine.objects.create(
                cart=cart, sku=sku, quantity=quantity, price_when_added=sku.price
            )
        else:
            CartLine.objects.filter(pk=line.pk).update(quantity=F("quantity") + quantity)
            line.refresh_from_db()
        Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())
    return line


def set_quantity(*, cart: Cart, sku_id: int, quantity: int) -> None:
    """Change a line's quantity; 0 removes it."""
    with transaction.atomic():
        # The cart first, as place_order and add_to_cart lock it: an edit in another tab
        # waits for a checkout in progress instead of being lost by it.
        Cart.objects.select_for_update().filter(pk=cart.pk).first()
        line = CartLine.objects.select_for_update().filter(cart=cart, sku_id=sku_id).first()
        if line is None:
            raise CartError(_("This item is not in your cart."))
        if quantity == 0:
            line.delete()
            return
        if line.wait_for_stock:  # the customer already chose to wait for what is missing
            _sellable_sku(sku_id)
            if quantity > MAX_LINE_QUANTITY:
                raise CartError(
                    _("At most %(max)d of one item per order.") % {"max": MAX_LINE_QUANTITY}
                )
        else:
            _check_quantity(_sellable_sku(sku_id), quantity)
        line.quantity = quantity
        line.save(update_fields=["quantity"])


def merge_carts(*, guest_cart: Cart, customer) -> int:
    """At login the guest's lines join the customer's cart; a SKU in both keeps the larger
    quantity (the guest did not mean to double it) and the guest's choice to wait for stock.
    Returns how many guest lines did not fit in the cart (MAX_CART_LINES)."""
    dropped = 0
    with transaction.atomic():
        cart, _created = Cart.objects.get_or_create(customer=customer)
        list(
            Cart.objects.select_for_update().filter(pk__in=[cart.pk, guest_cart.pk]).order_by("pk")
        )
        mine = {line.sku_id: line for line in cart.lines.all()}
        for line in guest_cart.lines.all():
            kept = mine.get(line.sku_id)
            if kept is None:
                if len(mine) < MAX_CART_LINES:
                    line.cart = cart
                    line.save(update_fields=["cart"])
                    mine[line.sku_id] = line
                else:
                    dropped += 1
            elif line.quantity > kept.quantity:
                kept.quantity = line.quantity
                kept.wait_for_stock = kept.wait_for_stock or line.wait_for_stock
                kept.save(update_fields=["quantity", "wait_for_stock"])
        guest_cart.delete()
    return dropped


def set_waiting(*, cart: Cart, sku_id: int, wait: bool) -> None:
    """The customer's choice for a short line (INV-5): order it anyway and have the missing
    units sent when stock arrives, or not. Only offered, and only kept, while it is short."""
    with transaction.atomic():
        Cart.objects.select_for_update().filter(pk=cart.pk).first()
        line = CartLine.objects.select_for_update().filter(cart=cart, sku_id=sku_id).first()
        if line is None:
            raise CartError(_("This item is not in your cart."))
        if wait:
            sku = _sellable_sku(sku_id)
            if inventory_selectors.availability(sku_ids=[sku_id])[sku_id] >= line.quantity:
                raise CartError(
                    _("%(item)s is in stock: there is nothing to wait for.") % {"item": sku}
                )
        line.wait_for_stock = wait
        line.save(update_fields=["wait_for_stock"])


def cart_items(cart: Cart | None) -> list[pricing.CartItem]:
    if cart is None:
        return []
    return [
        pricing.CartItem(*row)
        for row in cart.lines.values_list(
            "sku_id", "quantity", "price_when_added", "wait_for_stock"
        )
    ]


# --- checkout ---------------------------------------------------------------------------------
def place_order(
    *,
    cart: Cart,
    customer,
    contact_email: str,
    address: order_services.ShippingAddress,
    payment_method: str,
    coupon_code: str,
    seen: dict[str, str],
    checkout_token: uuid.UUID,
    customer_note: str = "",
    ship_partial: bool = False,
) -> Placed:
    """Turn the cart into an order, exactly as the customer saw it, or nothing at all (ORD-2).

    In one transaction: the cart is priced again (`pricing.quote`); a unit price or a total
    other than the page showed (`seen`) raises `CheckoutChanged` with the new quote; the order
    is created with its stock reserved (`orders.services.create_order`, which refuses short
    lines one by one, unless the customer chose to wait for their missing units), the coupon
    use is claimed under its row lock, a cash-on-delivery order is released to the warehouse,
    and the cart is emptied. The confirmation is a notification recorded in the same
    transaction (notifications.receivers, on `orders.signals.order_placed`) in the language the
    customer shops in, and sent after commit. `checkout_token` makes a repeated submit of the
    same page return the first order. `ship_partial`: with items waiting for stock, ship what
    is there now and the rest as it arrives rather than all together (INV-5).
    """
    try:
        with transaction.atomic():
            Cart.objects.select_for_update().filter(pk=cart.pk).first()
            # Read after the cart's lock: a submit of the same page that held it has committed.
            existing = Order.objects.filter(checkout_token=checkout_token).first()
            if existing is not None:
                return Placed(existing, repeated=True)
            items = cart_items(cart)
            if not items:
                raise CartError(_("Your cart is empty."))
            fresh = pricing.quote(
                items=items,
                province=address.province,
                coupon_code=coupon_code,
                customer=customer,
                email=contact_email,
            )
            if coupon_code.strip() and fresh.coupon is None:
                raise CheckoutChanged(fresh.coupon_error, fresh)
            _check_what_was_seen(fresh, seen)
            order = order_services.create_order(
                customer=customer,
                contact_email=contact_email,
                lines=[
                    order_services.LineRequest(
                        sku_id=line.sku.pk,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        discount=line.discount,
                        may_wait=line.wait_for_stock,
                    )
                    for line in fresh.lines
                ],
                allow_backorder=any(line.wait_for_stock for line in fresh.lines),
                ship_partial=ship_partial and bool(fresh.waiting),
                address=address,
                payment_method=payment_method,
                shipping_amount=fresh.shipping,
                customer_note=customer_note,
                checkout_token=checkout_token,
            )
            if fresh.coupon is not None:
                promotion_services.redeem_coupon(
                    coupon_id=fresh.coupon.pk,
                    order_id=order.pk,
                    customer=customer,
                    email=order.contact_email,
                    amount=next(
                        promotion.amount
                        for promotion in fresh.applied
                        if promotion.kind == "coupon"
                    ),
                )
            if payment_method == PaymentMethod.CASH_ON_DELIVERY:
                order = order_services.accept_cash_on_delivery(order_id=order.pk)
            cart.lines.all().delete()
    except IntegrityError:
        # Two submits of one page at once: the other one committed first.
        existing = Order.objects.filter(checkout_token=checkout_token).first()
        if existing is None:
            raise
        return Placed(existing, repeated=True)
    return Placed(order)


def _check_what_was_seen(fresh: pricing.Quote, seen: dict[str, str]) -> None:
    by_sku = {str(line.sku.pk): line for line in fresh.lines}
    changed = [
        line for key, line in by_sku.items() if key not in seen or seen[key] != str(line.unit_price)
    ]
    if changed:
        raise CheckoutChanged(
            _("The price has changed: %(lines)s. Please check your order and place it again.")
            % {
                "lines": "; ".join(
                    _("%(item)s — was %(seen)s, now %(now)s")
                    % {
                        "item": line.sku,
                        "seen": seen.get(str(line.sku.pk), "—"),
                        "now": line.unit_price,
                    }
                    for line in changed
                )
            },
            fresh,
        )
    if seen.get("total") != str(fresh.total) or set(seen) - set(by_sku) - {"total"}:
        raise CheckoutChanged(
            _(
                "Your order has changed since the page was shown: the total is now %(total)s. "
                "Please check it and place it again."
            )
            % {"total": fresh.total},
            fresh,
        )


# --- shipping rules ---------------------------------------------------------------------------
def save_shipping_rule(*, actor, data: dict, rule_id: int | None = None) -> ShippingRule:
    """Create or change a shipping rule (managers). The next quote uses it; orders already
    placed keep the fee they were placed with."""
    needed = "checkout.change_shippingrule" if rule_id else "checkout.add_shippingrule"
    if not actor.has_perm(needed):
        raise CartError(_("You are not allowed to change shipping rules."))
    with transaction.atomic():
        rule = (
            ShippingRule.objects.select_for_update().get(pk=rule_id) if rule_id else ShippingRule()
        )
        before = {field: getattr(rule, field) for field in data} if rule_id else None
        for field, value in data.items():
            setattr(rule, field, value)
        rule.full_clean()
        rule.save()
        record_staff_action(
            actor=actor,
            action="shipping_rule.change" if rule_id else "shipping_rule.create",
            target=rule,
            before=before,
            after={field: getattr(rule, field) for field in data},
        )
    return rule
