"""What a cart costs, computed on the server only (ORD-2, ORD-8, SEC-3).

`quote()` is the one place that prices a cart: the cart page, the checkout page and
`place_order` all call it, so what the customer is shown is what the order is created with.
It costs a fixed number of queries whatever the number of lines.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from catalog.models import SKU
from inventory import selectors as inventory_selectors
from promotions import engine as promotions

from .models import ShippingRule

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class CartItem:
    """What the cart asks for; everything else the quote finds out."""

    sku_id: int
    quantity: int
    price_when_added: Decimal | None = None
    wait_for_stock: bool = False


@dataclass(frozen=True)
class QuoteLine:
    sku: SKU
    quantity: int
    unit_price: Decimal
    available: int
    discount: Decimal = ZERO
    price_when_added: Decimal | None = None
    wait_for_stock: bool = False

    @property
    def gross(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def net(self) -> Decimal:
        return self.gross - self.discount

    @property
    def price_changed(self) -> bool:
        return self.price_when_added is not None and self.price_when_added != self.unit_price

    @property
    def short_by(self) -> int:
        return max(self.quantity - max(self.available, 0), 0)

    @property
    def on_sale(self) -> bool:
        return self.sku.is_active and self.sku.product.is_active

    @property
    def waits(self) -> bool:
        """Short, and the customer chose to wait for the rest."""
        return bool(self.short_by) and self.wait_for_stock

    @property
    def is_problem(self) -> bool:
        return not self.on_sale or (bool(self.short_by) and not self.wait_for_stock)


@dataclass(frozen=True)
class Quote:
    lines: list[QuoteLine]
    goods: Decimal
    discount: Decimal
    shipping: Decimal
    total: Decimal
    weight_grams: int
    applied: Sequence = ()
    coupon: object | None = None
    coupon_code: str = ""
    coupon_error: str = ""
    shipping_rule: ShippingRule | None = None
    # False while no province is known: the fee is the default rule's, as an estimate.
    shipping_final: bool = True
    problems: list[QuoteLine] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def waiting(self) -> list[QuoteLine]:
        return [line for line in self.lines if line.waits]

    def seen_prices(self) -> dict[str, str]:
        """What the page showed, to be checked at submit: unit prices and the total."""
        return {
            **{str(line.sku.pk): str(line.unit_price) for line in self.lines},
            "total": str(self.total),
        }


def shipping_rule_for(province: str, rules: Sequence[ShippingRule]) -> ShippingRule | None:
    """The rule naming the province, else the first rule naming none; by priority."""
    naming = [rule for rule in rules if province and province in rule.provinces]
    if naming:
        return naming[0]
    return next((rule for rule in rules if not rule.provinces), None)


def active_shipping_rules() -> list[ShippingRule]:
    return list(ShippingRule.objects.filter(is_active=True))


def quote(
    *,
    items: Sequence["CartItem"],
    province: str = "",
    coupon_code: str = "",
    customer=None,
    email: str = "",
) -> Quote:
    """Price `items` for delivery to `province` ("" when not known yet), with the promotions
    that apply and `coupon_code`."""
    skus = SKU.objects.select_related("product").in_bulk([item.sku_id for item in items])
    available = inventory_selectors.availability(sku_ids=list(skus))
    lines = [
        QuoteLine(
            sku=skus[item.sku_id],
            quantity=item.quantity,
            unit_price=skus[item.sku_id].price,
            available=available.get(item.sku_id, 0),
            price_when_added=item.price_when_added,
            wait_for_stock=item.wait_for_stock,
        )
        for item in items
        if item.sku_id in skus
    ]
    goods = sum((line.gross for line in lines), ZERO)
    discounts = promotions.best_discount(
        lines=[promotions.PricedLine(key=line.sku.pk, gross=line.gross) for line in lines],
        coupon_code=coupon_code,
        customer=customer if customer is not None and customer.is_authenticated else None,
        email=email,
    )
    lines = [
        QuoteLine(
            sku=line.sku,
            quantity=line.quantity,
            unit_price=line.unit_price,
            available=line.available,
            discount=discounts.per_line.get(line.sku.pk, ZERO),
            price_when_added=line.price_when_added,
            wait_for_stock=line.wait_for_stock,
        )
        for line in lines
    ]
    weight = sum(line.sku.weight_grams * line.quantity for line in lines)
    rule = shipping_rule_for(province, active_shipping_rules())
    after_discount = goods - discounts.total
    shipping = (
        rule.fee(weight_grams=weight, goods_after_discount=after_discount)
        if rule is not None and lines
        else ZERO
    )
    return Quote(
        lines=lines,
        goods=goods,
        discount=discounts.total,
        shipping=shipping,
        total=after_discount + shipping,
        weight_grams=weight,
        applied=discounts.applied,
        coupon=discounts.coupon,
        coupon_code=coupon_code.strip().upper(),
        coupon_error=discounts.coupon_error,
        shipping_rule=rule,
        shipping_final=bool(province),
        problems=[line for line in lines if line.is_problem],
    )
