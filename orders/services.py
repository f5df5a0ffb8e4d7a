"""Write operations on orders: the only code that creates orders or moves their state.

Every transition service locks the order row (`select_for_update`), checks that the transition
is allowed from the state it finds and that the actor may perform it, calls the django-fsm
transition and writes an `OrderEvent` in the same transaction. `actor=None` means the system
(payment gateway, scheduled jobs).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from catalog.models import SKU
from core.audit import record_staff_action
from core.errors import DomainError
from inventory import services as inventory_services

from . import signals
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


class PriceChanged(InvalidOrder):
    """The price of some lines is not the one the customer saw; nothing was created.
    `changes` says which, with the price seen and the price now."""

    def __init__(self, message: str, changes: list["PriceChange"]):
        super().__init__(message)
        self.changes = changes


class PaymentMismatch(DomainError):
    """A payment that does not match the order: it is not applied; the order is flagged."""


@dataclass(frozen=True)
class PriceChange:
    sku_id: int
    seen: Decimal
    now: Decimal


@dataclass(frozen=True)
class LineRequest:
    """One line asked for. `unit_price` is the price the customer saw (checked, never used as
    the price); `discount` is this line's share of the promotions checkout applied."""

    sku_id: int
    quantity: int
    unit_price: Decimal | None = None
    discount: Decimal = Decimal("0.00")
    # With `allow_backorder`: whether this line's missing units may wait for stock (INV-5).
    may_wait: bool = True


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
    store=None,
    external_id: str = "",
    shipping_amount: Decimal = Decimal("0.00"),
    customer_note: str = "",
    allow_backorder: bool = False,
    ship_partial: bool = False,
    checkout_token=None,
) -> Order:
    """Create an order in pending_payment, priced from the catalogue on the server, with its
    stock reserved in the same transaction (ORD-2, INV-3).

    Prices and amounts are never taken from the caller: each line's unit price is the SKU's
    current price. If a line is short, `OrderOutOfStock` says which and nothing is created —
    unless `allow_backorder`, when what is there is reserved and the rest waits for stock
    (INV-5), sent with the rest or, with `ship_partial`, as it arrives. A line whose
    `unit_price` differs from the catalogue's raises `PriceChanged`, line by line. Discounts
    come per line from checkout's promotions and are stored on the lines so that a later
    refund is exact (ORD-8). Writes the "placed" event.

    From another sales channel (`store`, ORD-12), the order is what that channel sold: each
    line's `unit_price` is the channel's price and is required, the channel comes from the
    store's kind, and `external_id` (required) is unique per store.
    """
    if not lines:
        raise InvalidOrder(_("An order needs at least one line."))
    if any(line.quantity < 1 for line in lines):
        raise InvalidOrder(_("Every quantity must be at least 1."))
    if customer is None and not contact_email:
        raise InvalidOrder(_("A guest order needs a contact e-mail address."))
    if shipping_amount < 0:
        raise InvalidOrder(_("The shipping fee cannot be negative."))
    if any(line.discount < 0 for line in lines):
        raise InvalidOrder(_("A discount cannot be negative."))
    if store is not None:
        if not store.is_active:
            raise InvalidOrder(_("This sales channel is inactive."))
        if not external_id:
            raise InvalidOrder(_("An order from another sales channel needs its id there."))
        if any(line.unit_price is None or line.unit_price < 0 for line in lines):
            raise InvalidOrder(_("Every line needs the price it was sold at."))
        channel = store.kind

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

        # Our own prices, except for what another channel sold at its own.
        prices = {
            line.sku_id: line.unit_price if store is not None else skus[line.sku_id].price
            for line in lines
        }
        changes = [
            PriceChange(line.sku_id, line.unit_price, prices[line.sku_id])
            for line in lines
            if line.unit_price is not None and line.unit_price != prices[line.sku_id]
        ]
        if changes:
            raise PriceChanged(
                _("The price has changed: %(lines)s")
                % {
                    "lines": "; ".join(
                        _("%(item)s — was %(seen)s, now %(now)s")
                        % {"item": skus[c.sku_id], "seen": c.seen, "now": c.now}
                        for c in changes
                    )
                },
                changes,
            )
        goods = sum((prices[line.sku_id] * line.quantity for line in lines), Decimal("0.00"))
        discount = sum((line.discount for line in lines), Decimal("0.00"))
        if any(line.discount > prices[line.sku_id] * line.quantity for line in lines):
            raise InvalidOrder(_("A line's discount cannot exceed its amount."))
        now = timezone.now()
        order = Order(
            customer=customer,
            contact_email=(contact_email or (customer.email if customer else "")).lower(),
            channel=channel,
            store=store,
            external_id=external_id,
            payment_method=payment_method,
            goods_amount=goods,
            discount_amount=discount,
            shipping_amount=shipping_amount,
            total_amount=goods - discount + shipping_amount,
            customer_note=customer_note,
            checkout_token=checkout_token,
            ship_partial=ship_partial,
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
                    unit_price=prices[line.sku_id],
                    quantity=line.quantity,
                    discount_amount=line.discount,
                )
                for line in lines
            ]
        )
        if any(line.pk is None for line in order_lines):  # SQLite < 3.35 cannot return ids
            order_lines = list(order.lines.order_by("id"))
        waits = {line.sku_id: line.may_wait for line in lines}
        _reserve_stock(
            order, order_lines, skus, waits, allow_backorder=allow_backorder, actor=customer
        )
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
        signals.order_placed.send(sender=Order, order_id=order.pk, actor=customer)
    return order


def _reserve_stock(
    order: Order, order_lines, skus, waits: dict[int, bool], *, allow_backorder: bool, actor
) -> None:
    try:
        inventory_services.reserve(
            group=stock_group(order.pk),
            lines=[
                inventory_services.DemandLine(
                    stock_line(line.pk), line.sku_id, line.quantity, waits[line.sku_id]
                )
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
    signal=None,
) -> Order:
    """Lock the order, run one FSM transition if the state and the actor allow it, record it,
    and send `signal` (orders.signals) in the same transaction."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        method = getattr(order, transition_name)
        if (
            not can_proceed(method)
            and order.needs_review
            and can_proceed(method, check_conditions=False)
        ):
            raise OrderActionNotAllowed(
                _("Order %(number)s is held for review: %(reason)s")
                % {"number": order.number, "reason": order.review_reason}
            )
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
        if signal is not None:
            signal.send(sender=Order, order_id=order.pk, actor=actor)
    return order


def record_payment(
    *, order_id: int, amount: Decimal, reference: str = "", paid_at: datetime | None = None
) -> Order:
    """The gateway confirmed a payment for the order (system action, ORD-4). `paid_at`: when
    another sales channel took the money (ORD-12; never later than now), else now.

    Raises `PaymentMismatch` and changes nothing if the amount is not the order's total: the
    caller (payments) records the attempt and flags the order with `flag_for_review`. Replays
    are the caller's to refuse, by the gateway's transaction id.
    """

    def stamp(order: Order) -> None:
        if amount != order.total_amount:
            raise PaymentMismatch(
                _("The payment of %(amount)s does not match the order total %(total)s.")
                % {"amount": amount, "total": order.total_amount}
            )
        order.paid_amount = amount
        now = timezone.now()
        order.paid_at = min(paid_at, now) if paid_at is not None else now

    return _apply_transition(
        order_id=order_id,
        transition_name="pay",
        kind=OrderEventKind.PAID,
        actor=None,
        details={"amount": str(amount), "reference": reference},
        before_save=stamp,
        signal=signals.order_paid,
    )


def record_payment_failure(*, order_id: int, reference: str = "", reason: str = "") -> None:
    """A payment attempt failed: the order stays payable; the timeline says so (ORD-4)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().only("state").get(pk=order_id)
        OrderEvent.objects.create(
            order_id=order_id,
            created_at=timezone.now(),
            kind=OrderEventKind.PAYMENT_FAILED,
            from_state=order.state,
            to_state=order.state,
            reason=reason,
            details={"reference": reference},
        )


def flag_for_review(*, order_id: int, reason: str, actor=None, details: dict | None = None) -> None:
    """Hold the order for a person: it goes nowhere until the service desk clears it."""
    with transaction.atomic():
        order = Order.objects.select_for_update().only("state", "review_reason").get(pk=order_id)
        Order.objects.filter(pk=order_id).update(
            needs_review=True,
            review_reason=(f"{order.review_reason}; {reason}" if order.review_reason else reason)[
                :500
            ],
            # The API's changed-since feed lists the order again (API-1).
            updated_at=timezone.now(),
        )
        OrderEvent.objects.create(
            order_id=order_id,
            created_at=timezone.now(),
            actor=actor,
            kind=OrderEventKind.FLAGGED,
            from_state=order.state,
            to_state=order.state,
            reason=reason[:500],
            details=details or {},
        )
        record_staff_action(
            actor=actor,
            action="order.flag",
            target=order,
            reason=reason,
            after={"review_reason": reason},
        )
        signals.order_flagged.send(sender=Order, order_id=order_id, actor=actor, reason=reason)


def record_refund(
    *, order_id: int, amount: Decimal, reference: str, actor=None, reason: str = ""
) -> None:
    """Money went back to the customer (the payments app calls this once per refund): the
    timeline says how much and why (ORD-9, AFS-1). The state does not move."""
    state = Order.objects.filter(pk=order_id).values_list("state", flat=True).get()
    OrderEvent.objects.create(
        order_id=order_id,
        created_at=timezone.now(),
        actor=actor,
        kind=OrderEventKind.REFUNDED,
        from_state=state,
        to_state=state,
        reason=reason[:500],
        details={"amount": str(amount), "reference": reference},
    )


def release_held_order(*, order_id: int, actor, reason: str) -> Order:
    """An agent checked an order held for review and lets it go on (ORD-6): the flag is
    cleared and the reason kept in the timeline. Cancelling it instead is `cancel_order`."""
    if not reason.strip():
        raise OrderActionNotAllowed(_("Say why the order may go on."))
    if not actor.has_perm("orders.release_held_order"):
        raise OrderActionNotAllowed(_("You are not allowed to do this to this order."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if not order.needs_review:
            raise OrderActionNotAllowed(
                _("Order %(number)s is not held for review.") % {"number": order.number}
            )
        held_for = order.review_reason
        order.needs_review = False
        order.review_reason = ""
        order.save(update_fields=["needs_review", "review_reason", "updated_at"])
        OrderEvent.objects.create(
            order=order,
            created_at=timezone.now(),
            actor=actor,
            kind=OrderEventKind.RELEASED,
            from_state=order.state,
            to_state=order.state,
            reason=reason.strip()[:500],
            details={"held_for": held_for},
        )
        record_staff_action(
            actor=actor,
            action="order.release_review",
            target=order,
            reason=reason,
            before={"review_reason": held_for},
            after={"review_reason": ""},
        )
        signals.order_released.send(sender=Order, order_id=order.pk, actor=actor)
    return order


def record_cash_on_delivery(
    *, order_id: int, amount: Decimal, actor, reference: str = "", reason: str = ""
) -> Order:
    """The carrier collected the cash of a cash-on-delivery order (ORD-4).

    The state does not move: it says where the goods are; the payment is stamped on the order
    and written to the timeline. Refused twice, before shipment, and for another amount.
    `actor=None` is the system acting on the carrier's report; `reason` says so in the timeline.
    """
    if actor is not None and not actor.has_perm("orders.record_cash_payment"):
        raise OrderActionNotAllowed(_("You are not allowed to do this to this order."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if not order.is_cash_on_delivery():
            raise OrderActionNotAllowed(
                _("Order %(number)s is not a cash-on-delivery order.") % {"number": order.number}
            )
        if order.paid_at is not None:
            raise OrderActionNotAllowed(
                _("The cash of order %(number)s is already recorded.") % {"number": order.number}
            )
        if order.state not in (OrderState.SHIPPED, OrderState.COMPLETED):
            raise OrderActionNotAllowed(
                _("Cash is collected at delivery: order %(number)s has not been shipped.")
                % {"number": order.number}
            )
        if amount != order.total_amount:
            raise PaymentMismatch(
                _("The payment of %(amount)s does not match the order total %(total)s.")
                % {"amount": amount, "total": order.total_amount}
            )
        order.paid_amount = amount
        order.paid_at = timezone.now()
        order.save(update_fields=["paid_amount", "paid_at", "updated_at"])
        record_staff_action(
            actor=actor,
            action="order.record_cash",
            target=order,
            reason=reason,
            after={"paid_amount": amount, "reference": reference},
        )
        OrderEvent.objects.create(
            order=order,
            created_at=order.paid_at,
            actor=actor,
            kind=OrderEventKind.CASH_COLLECTED,
            from_state=order.state,
            to_state=order.state,
            reason=reason[:500],
            details={"amount": str(amount), "reference": reference},
        )
    return order


ADDRESS_FIELDS = (
    "recipient_name",
    "recipient_phone",
    "province",
    "city",
    "district",
    "address_line",
    "postcode",
)


def change_address(*, order_id: int, address: ShippingAddress, actor, reason: str = "") -> Order:
    """Change where the order goes (ORD-7).

    Its customer may, until the warehouse starts; an agent holding
    `orders.change_order_address` may until it ships, with a reason. The old and new addresses
    are kept in the timeline. Only an agent may change the province: the amounts are kept as
    they were (not re-priced for the new province's shipping fee), and the timeline says so.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        is_owner = actor is not None and actor.pk == order.customer_id
        is_agent = actor is not None and actor.has_perm("orders.change_order_address")
        if not (is_owner or is_agent):
            raise OrderActionNotAllowed(_("You are not allowed to do this to this order."))
        if order.state in (OrderState.SHIPPED, OrderState.COMPLETED, OrderState.CANCELLED):
            raise OrderActionNotAllowed(
                _("Order %(number)s is “%(state)s”: its address can no longer change.")
                % {"number": order.number, "state": order.get_state_display()}
            )
        if order.warehouse_started() and not is_agent:
            raise OrderActionNotAllowed(
                _(
                    "The warehouse has started on order %(number)s; "
                    "please ask customer service to change the address."
                )
                % {"number": order.number}
            )
        if is_agent and not is_owner and not reason.strip():
            raise OrderActionNotAllowed(_("Say why the address is changed."))
        if address.province != order.province and not is_agent:
            # The province decided the shipping fee and the warehouse holding the stock.
            raise OrderActionNotAllowed(
                _(
                    "The delivery province decides the shipping fee and the warehouse, so it "
                    "cannot change after ordering. To send the order to %(province)s, cancel "
                    "it and order again, or ask customer service."
                )
                % {"province": address.province}
            )
        before = {field: getattr(order, field) for field in ADDRESS_FIELDS}
        after = vars(address)
        if before == after:
            return order
        for field, value in after.items():
            setattr(order, field, value)
        order.save(update_fields=[*ADDRESS_FIELDS, "updated_at"])
        record_staff_action(
            actor=actor,
            action="order.change_address",
            target=order,
            reason=reason,
            before=before,
            after=after,
        )
        OrderEvent.objects.create(
            order=order,
            created_at=timezone.now(),
            actor=actor,
            kind=OrderEventKind.ADDRESS_CHANGED,
            from_state=order.state,
            to_state=order.state,
            reason=reason.strip(),
            details={
                "before": before,
                "after": after,
                **(
                    {"province_changed": True, "amounts_kept": str(order.total_amount)}
                    if before["province"] != after["province"]
                    else {}
                ),
            },
        )
    return order


def accept_cash_on_delivery(*, order_id: int) -> Order:
    """A cash-on-delivery order is released for fulfilment without payment (system action)."""
    return _apply_transition(
        order_id=order_id,
        transition_name="accept_cash_on_delivery",
        kind=OrderEventKind.COD_ACCEPTED,
        actor=None,
        signal=signals.order_cod_accepted,
    )


def accept_replacement(*, order_id: int, reason: str = "") -> Order:
    """A zero-amount replacement order (an after-sales exchange or re-shipment) counts as paid
    without any money and reaches the warehouse like any paid order (`order_paid`). Refused
    for an order that costs anything (system action, AFS-3)."""

    def stamp(order: Order) -> None:
        order.paid_amount = Decimal("0.00")
        order.paid_at = timezone.now()

    return _apply_transition(
        order_id=order_id,
        transition_name="accept_replacement",
        kind=OrderEventKind.PAID,
        actor=None,
        reason=reason,
        details={"amount": "0.00", "replacement": True},
        before_save=stamp,
        signal=signals.order_paid,
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
    """The (last) parcel left: its units leave the packing area and the warehouse (INV-3).
    The warehouse floor consumes each warehouse's part at its hand-over, so what is left to
    consume here may be nothing."""

    def ship(order: Order) -> None:
        inventory_services.ship(group=stock_group(order.pk), actor=actor, missing_ok=True)
        order.shipped_at = timezone.now()

    return _apply_transition(
        order_id=order_id,
        transition_name="ship",
        kind=OrderEventKind.SHIPPED,
        actor=actor,
        before_save=_stock_step(ship),
        signal=signals.order_shipped,
    )


def complete_order(*, order_id: int, actor, reason: str = "") -> Order:
    """Receipt confirmed: by the customer, by an agent (with a reason), or by the system."""

    def stamp(order: Order) -> None:
        order.completed_at = timezone.now()
        record_staff_action(
            actor=actor,
            action="order.complete",
            target=order,
            reason=reason,
            after={"state": order.state},
        )

    return _apply_transition(
        order_id=order_id,
        transition_name="complete",
        kind=OrderEventKind.COMPLETED,
        actor=actor,
        reason=reason,
        before_save=stamp,
        signal=signals.order_completed,
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
            .only("state", "number", "customer_id", "payment_method", "paid_at")
            .get(pk=order_id)
        )
        if not order.nothing_shipped():
            raise OrderActionNotAllowed(
                _(
                    "Part of order %(number)s has already shipped: it can no longer be "
                    "cancelled. Drop the items still waiting for stock, or open an after-sales "
                    "request for what was sent."
                )
                % {"number": order.number}
            )
        if order.state == OrderState.PENDING_PAYMENT:
            name = "cancel"
        elif order.state == OrderState.PAID and can_proceed(order.cancel_cash_on_delivery):
            name = "cancel_cash_on_delivery"  # nothing paid, the warehouse not started
        else:
            name = "cancel_after_payment"
        if (
            name == "cancel_after_payment"
            and actor is not None
            and actor.pk == order.customer_id
            and order.state in (OrderState.PAID, OrderState.PICKED)
        ):
            # ORD-7: once paid, the warehouse may have started; only an agent can stop it.
            raise OrderActionNotAllowed(
                _("Order %(number)s is already paid; please ask customer service to cancel it.")
                % {"number": order.number}
            )

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
        record_staff_action(
            actor=actor,
            action="order.cancel",
            target=cancelled,
            reason=reason,
            before={"state": order.state},
            after={"state": cancelled.state},
        )
        signals.order_cancelled.send(sender=Order, order_id=order_id, actor=actor)
        return cancelled
