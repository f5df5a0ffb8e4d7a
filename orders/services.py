"""Write operations on orders: the only code that creates orders or moves their state.

Every transition service locks the order row (`select_for_update`), checks that the transition
is allowed from the state it finds and that the actor may perform it, calls the django-fsm
transition and writes an `OrderEvent` in the same transaction. `actor=None` means the system
(payment gateway, scheduled jobs).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from catalog.models import SKU
from core.errors import DomainError
from inventory import services as inventory_services

from .models import (
    Channel,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderState,
    PaymentMethod,
)
from .numbers import allocate_order_numbers


def stock_group(order_id: int) -> str:
    """The key under which the order's stock reservations are kept in inventory."""
    return f"order:{order_id}"


def stock_line(order_line_id: int) -> str:
    return f"order_line:{order_line_id}"


class OrderActionNotAllowed(DomainError):
    """The order is not in a state where this can be done, or the actor may not do it."""


class InvalidOrder(DomainError):
    """The order as asked for cannot be created."""


class OrderOutOfStock(InvalidOrder):
    """Some lines are not in stock; nothing was created. `shortages` says which, line by
    line, with what is available."""

    def __init__(self, message: str, shortages: list[inventory_services.Shortage]):
        super().__init__(message)
        self.shortages = shortages


@dataclass(frozen=True)
class LineRequest:
    sku_id: int
    quantity: int


@dataclass(frozen=True)
class ShippingAddress:
    recipient_name: str
    recipient_phone: str
    province: str
    city: str
    district: str
    address_line: str
    postcode: str = ""


def create_order(
    *,
    customer=None,
    contact_email: str = "",
    lines: Sequence[LineRequest],
    address: ShippingAddress,
    payment_method: str = PaymentMethod.ONLINE,
    channel: str = Channel.STOREFRONT,
    external_id: str = "",
    shipping_amount: Decimal = Decimal("0.00"),
    customer_note: str = "",
    allow_backorder: bool = False,
) -> Order:
    """Create an order in pending_payment, priced from the catalogue on the server, with its
    stock reserved in the same transaction (ORD-2, INV-3).

    Prices and amounts are never taken from the caller: each line's unit price is the SKU's
    current price. If a line is short, `OrderOutOfStock` says which and nothing is created —
    unless `allow_backorder`, when what is there is reserved and the rest waits for stock
    (INV-5). Writes the "placed" event. Checkout adds cart and promotions around this.
    """
    if not lines:
        raise InvalidOrder(_("An order needs at least one line."))
    if any(line.quantity < 1 for line in lines):
        raise InvalidOrder(_("Every quantity must be at least 1."))
    if customer is None and not contact_email:
        raise InvalidOrder(_("A guest order needs a contact e-mail address."))
    if shipping_amount < 0:
        raise InvalidOrder(_("The shipping fee cannot be negative."))

    with transaction.atomic():
        skus = SKU.objects.select_related("product").in_bulk([line.sku_id for line in lines])
        missing = [line.sku_id for line in lines if line.sku_id not in skus]
        if missing:
            raise InvalidOrder(_("Some items are no longer sold."))
        inactive = [
            skus[line.sku_id]
            for line in lines
            if not (skus[line.sku_id].is_active and skus[line.sku_id].product.is_active)
        ]
        if inactive:
            raise InvalidOrder(
                _("No longer on sale: %(items)s") % {"items": ", ".join(map(str, inactive))}
            )

        goods = sum((skus[line.sku_id].price * line.quantity for line in lines), Decimal("0.00"))
        now = timezone.now()
        order = Order(
            customer=customer,
            contact_email=(contact_email or (customer.email if customer else "")).lower(),
            channel=channel,
            external_id=external_id,
            payment_method=payment_method,
            goods_amount=goods,
            discount_amount=Decimal("0.00"),
            shipping_amount=shipping_amount,
            total_amount=goods + shipping_amount,
            customer_note=customer_note,
            created_at=now,
            **vars(address),
        )
        # A unique stand-in, replaced below once stock is known to be there.
        order.number = f"~{uuid.uuid4().hex[:19]}"
        order.save()
        order_lines = OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=order,
                    sku=skus[line.sku_id],
                    product_name=skus[line.sku_id].product.name,
                    sku_code=skus[line.sku_id].code,
                    variant_label=skus[line.sku_id].variant_label,
                    unit_price=skus[line.sku_id].price,
                    quantity=line.quantity,
                )
                for line in lines
            ]
        )
        if any(line.pk is None for line in order_lines):  # SQLite < 3.35 cannot return ids
            order_lines = list(order.lines.order_by("id"))
        _reserve_stock(order, order_lines, skus, allow_backorder=allow_backorder, actor=customer)
        # Last: the day's counter row stays locked until commit.
        (order.number,) = allocate_order_numbers(1)
        Order.objects.filter(pk=order.pk).update(number=order.number)
        OrderEvent.objects.create(
            order=order,
            created_at=now,
            actor=customer,
            kind=OrderEventKind.PLACED,
            to_state=OrderState.PENDING_PAYMENT,
        )
    return order


def _reserve_stock(order: Order, order_lines, skus, *, allow_backorder: bool, actor) -> None:
    try:
        inventory_services.reserve(
            group=stock_group(order.pk),
            lines=[
                inventory_services.DemandLine(stock_line(line.pk), line.sku_id, line.quantity)
                for line in order_lines
            ],
            province=order.province,
            actor=actor,
            backorder_since=order.created_at if allow_backorder else None,
        )
    except inventory_services.OutOfStock as refused:
        raise OrderOutOfStock(
            _("Not enough stock: %(lines)s")
            % {
                "lines": "; ".join(
                    _("%(item)s — %(available)d left, %(wanted)d wanted")
                    % {
                        "item": skus[shortage.sku_id],
                        "available": max(shortage.available, 0),
                        "wanted": shortage.wanted,
                    }
                    for shortage in refused.shortages
                )
            },
            refused.shortages,
        ) from None


def _apply_transition(
    *,
    order_id: int,
    transition_name: str,
    kind: str,
    actor,
    reason: str = "",
    details: dict | None = None,
    before_save=None,
) -> Order:
    """Lock the order, run one FSM transition if the state and the actor allow it, record it."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        method = getattr(order, transition_name)
        if not can_proceed(method):
            raise OrderActionNotAllowed(
                _("Order %(number)s is “%(state)s”: “%(action)s” is not possible now.")
                % {
                    "number": order.number,
                    "action": OrderEventKind(kind).label,
                    "state": order.get_state_display(),
                }
            )
        if actor is not None and not has_transition_perm(method, actor):
            raise OrderActionNotAllowed(_("You are not allowed to do this to this order."))
        from_state = order.state
        method()
        if before_save is not None:
            before_save(order)
        order.save()
        OrderEvent.objects.create(
            order=order,
            created_at=timezone.now(),
            actor=actor,
            kind=kind,
            from_state=from_state,
            to_state=order.state,
            reason=reason,
            details=details or {},
        )
    return order


def record_payment(*, order_id: int, amount: Decimal, reference: str = "") -> Order:
    """The gateway confirmed a payment for the order (system action)."""

    def stamp(order: Order) -> None:
        if amount != order.total_amount:
            raise OrderActionNotAllowed(
                _("The payment of %(amount)s does not match the order total %(total)s.")
                % {"amount": amount, "total": order.total_amount}
            )
        order.paid_amount = amount
        order.paid_at = timezone.now()

    return _apply_transition(
        order_id=order_id,
        transition_name="pay",
        kind=OrderEventKind.PAID,
        actor=None,
        details={"amount": str(amount), "reference": reference},
        before_save=stamp,
    )


def accept_cash_on_delivery(*, order_id: int) -> Order:
    """A cash-on-delivery order is released for fulfilment without payment (system action)."""
    return _apply_transition(
        order_id=order_id,
        transition_name="accept_cash_on_delivery",
        kind=OrderEventKind.COD_ACCEPTED,
        actor=None,
    )


def _stock_step(step):
    """Run an inventory step inside a transition; its refusal becomes the order's."""

    def run(order: Order) -> None:
        try:
            step(order)
        except inventory_services.StockError as error:
            raise OrderActionNotAllowed(error.message) from None

    return run


def mark_picked(*, order_id: int, actor) -> Order:
    """Every line is picked: what is still in the bins goes to the packing area (INV-4).
    Refused while a line waits for stock."""
    return _apply_transition(
        order_id=order_id,
        transition_name="pick",
        kind=OrderEventKind.PICKED,
        actor=actor,
        before_save=_stock_step(
            lambda order: inventory_services.pick_all(group=stock_group(order.pk), actor=actor)
        ),
    )


def mark_shipped(*, order_id: int, actor) -> Order:
    """The parcel left: its units leave the packing area and the warehouse (INV-3)."""

    def ship(order: Order) -> None:
        inventory_services.ship(group=stock_group(order.pk), actor=actor)
        order.shipped_at = timezone.now()

    return _apply_transition(
        order_id=order_id,
        transition_name="ship",
        kind=OrderEventKind.SHIPPED,
        actor=actor,
        before_save=_stock_step(ship),
    )


def complete_order(*, order_id: int, actor, reason: str = "") -> Order:
    """Receipt confirmed: by the customer, by an agent (with a reason), or by the system."""

    def stamp(order: Order) -> None:
        order.completed_at = timezone.now()

    return _apply_transition(
        order_id=order_id,
        transition_name="complete",
        kind=OrderEventKind.COMPLETED,
        actor=actor,
        reason=reason,
        before_save=stamp,
    )


def cancel_order(*, order_id: int, actor, reason: str) -> Order:
    """Cancel an order before shipment and give back the stock it holds.

    Unpaid orders may be cancelled by their customer, an agent or the system (payment
    deadline). Paid or picked orders only by an agent, and the reason is required (ORD-11).
    """
    if not reason.strip():
        raise OrderActionNotAllowed(_("Say why the order is cancelled."))

    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .only("state", "number", "customer_id")
            .get(pk=order_id)
        )
        paid = order.state in (OrderState.PAID, OrderState.PICKED)
        if paid and actor is not None and actor.pk == order.customer_id:
            # ORD-7: once paid, the warehouse may have started; only an agent can stop it.
            raise OrderActionNotAllowed(
                _("Order %(number)s is already paid; please ask customer service to cancel it.")
                % {"number": order.number}
            )
        name = "cancel_after_payment" if paid else "cancel"

        def stamp(order: Order) -> None:
            order.cancelled_at = timezone.now()

        cancelled = _apply_transition(
            order_id=order_id,
            transition_name=name,
            kind=OrderEventKind.CANCELLED,
            actor=actor,
            reason=reason.strip(),
            before_save=stamp,
        )
        # Whatever the order holds in stock goes back, reserved or picked (INV-3, AFS-1).
        inventory_services.release(group=stock_group(order_id), actor=actor, reason=reason.strip())
        return cancelled
