"""What an agent does about order lines waiting for stock (INV-5).

A line whose units could not all be reserved waits for stock (an `inventory.Backorder`); the
order is sent complete when they arrive, unless it ships what is there now
(`Order.ship_partial`). An agent, with the customer on the phone or by their own judgement,
may instead:

- switch between the two (`set_shipping_choice`);
- drop the waiting units (`drop_waiting_units`): the line and the order's amounts shrink, and
  what the customer paid too much comes back through the payment gateway;
- send another SKU instead (`substitute_waiting_units`): a new line at the original line's
  price (the customer pays the same, whatever the substitute costs), its units reserved now or
  the substitution is refused.

Each takes a reason, writes the order's timeline and the staff audit trail, and changes nothing
when it is refused. The order is locked first, then stock (the order every service follows).
"""

import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import SKU
from core.audit import record_staff_action
from core.errors import DomainError
from inventory import services as inventory_services
from inventory.models import Backorder
from orders import services as order_services
from orders import signals as order_signals
from orders.models import Order, OrderEvent, OrderEventKind, OrderLine, OrderState, PaymentMethod
from payments import services as payment_services
from payments.models import Payment

PERMISSION = "orders.resolve_waiting_lines"
# While stock can still be reserved for the order: it has not been picked yet.
OPEN_STATES = (OrderState.PENDING_PAYMENT, OrderState.PAID)
DROP_REFUND_NAMESPACE = uuid.UUID("6f1d2c3e-7b0a-4e55-9c1e-2a8d9f4b7c61")


class WaitingLineRefused(DomainError):
    """The agent may not do this to this order or line now; nothing changed."""


def _check(actor, reason: str) -> str:
    if actor is None or not actor.has_perm(PERMISSION):
        raise WaitingLineRefused(_("You are not allowed to change what this order waits for."))
    reason = (reason or "").strip()
    if not reason:
        raise WaitingLineRefused(_("Give a reason: it is kept in the order's timeline."))
    return reason[:500]


def _locked_order(order_id: int) -> Order:
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.state not in OPEN_STATES:
        raise WaitingLineRefused(
            _("Order %(number)s is “%(state)s”: what it waits for can no longer change.")
            % {"number": order.number, "state": order.get_state_display()}
        )
    return order


def _event(order: Order, kind: str, actor, reason: str, details: dict) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        created_at=timezone.now(),
        actor=actor,
        kind=kind,
        from_state=order.state,
        to_state=order.state,
        reason=reason,
        details=details,
    )


def _locked_line(order: Order, line_id: int) -> OrderLine:
    line = OrderLine.objects.select_for_update().filter(order=order, pk=line_id).first()
    if line is None:
        raise WaitingLineRefused(_("This line is not part of the order."))
    return line


def _nothing_waits(line: OrderLine) -> WaitingLineRefused:
    return WaitingLineRefused(
        _("Nothing of %(item)s waits for stock.") % {"item": line.product_name}
    )


def _take_waiting_units(order: Order, line: OrderLine) -> int:
    """Close the line's backorders: the units no longer waited for (refused when none)."""
    units = inventory_services.cancel_backorders(
        group=order_services.stock_group(order.pk), line=order_services.stock_line(line.pk)
    )
    if units == 0:
        raise _nothing_waits(line)
    return units


def _share_of_discount(line: OrderLine, units: int) -> Decimal:
    """The part of the line's discount that goes with `units` of it, to the cent; the last
    units take what is left, so the parts always add up to the line's discount."""
    if units >= line.quantity:
        return line.discount_amount
    return (line.discount_amount * units / line.quantity).quantize(Decimal("0.01"))


# --- ship what is there now, or all together ---------------------------------------------------
def set_shipping_choice(*, order_id: int, ship_partial: bool, actor, reason: str) -> Order:
    """Ship what is in stock now and the rest as it arrives, or everything together. The
    warehouse queue follows at once (fulfillment.selectors.queue)."""
    reason = _check(actor, reason)
    with transaction.atomic(durable=True):
        order = _locked_order(order_id)
        if order.ship_partial == ship_partial:
            raise WaitingLineRefused(_("The order already ships that way."))
        order.ship_partial = ship_partial
        order.save(update_fields=["ship_partial", "updated_at"])
        _event(
            order,
            OrderEventKind.SHIPPING_CHOICE,
            actor,
            reason,
            {"ship_partial": ship_partial},
        )
        record_staff_action(
            actor=actor,
            action="order.shipping_choice",
            target=order,
            reason=reason,
            before={"ship_partial": not ship_partial},
            after={"ship_partial": ship_partial},
        )
    return order


# --- drop the waiting units ----------------------------------------------------------------------
def drop_waiting_units(*, order_id: int, line_id: int, actor, reason: str) -> Decimal:
    """The line's units still waiting for stock are not sent: the line keeps what was reserved,
    its discount shrinks in proportion, and the order's goods, discount and total follow.

    An order paid online gets the difference back through the gateway once this commits, with
    a reference derived from the line and payment (asking again refunds once); a refund the
    gateway refuses or cannot be reached for flags the order for a person. A cash-on-delivery
    order simply costs less on delivery; an order from another sales channel is refunded
    there (the timeline says how much). Refused when it would leave the order empty: cancel
    it instead. Returns how much less the order costs.
    """
    reason = _check(actor, reason)
    with transaction.atomic(durable=True):
        order = _locked_order(order_id)
        if order.state != OrderState.PAID:
            # An unpaid order's payment may already be under way for its old total.
            raise WaitingLineRefused(
                _("Order %(number)s is not paid yet: cancel it or wait for the payment.")
                % {"number": order.number}
            )
        line = _locked_line(order, line_id)
        units = _take_waiting_units(order, line)
        others = order.lines.exclude(pk=line.pk).filter(quantity__gt=0).exists()
        if units >= line.quantity and not others:
            raise WaitingLineRefused(
                _("Nothing else would be left in the order: cancel it instead.")
            )
        discount = _share_of_discount(line, units)
        less = line.unit_price * units - discount
        line.quantity -= units
        line.dropped_quantity += units
        line.discount_amount -= discount
        line.save(update_fields=["quantity", "dropped_quantity", "discount_amount"])
        before = {"total": str(order.total_amount)}
        order.goods_amount -= line.unit_price * units
        order.discount_amount -= discount
        order.total_amount = order.goods_amount - order.discount_amount + order.shipping_amount
        order.save(update_fields=["goods_amount", "discount_amount", "total_amount", "updated_at"])
        refund_due = (
            less > 0
            and order.store_id is None
            and order.payment_method == PaymentMethod.ONLINE
            and order.paid_amount > 0
        )
        event = _event(
            order,
            OrderEventKind.LINE_DROPPED,
            actor,
            reason,
            {
                "line": line.pk,
                "sku": line.sku_code,
                "units": units,
                "amount": str(less),
                "refund": refund_due,
            },
        )
        record_staff_action(
            actor=actor,
            action="order.drop_waiting_units",
            target=order,
            reason=reason,
            before=before,
            after={"total": str(order.total_amount), "sku": line.sku_code, "units": units},
        )
        # An order that waited only for these units moves on (the floor settles it).
        order_signals.order_stock_changed.send(sender=Order, order_id=order.pk, actor=actor)
    if refund_due:
        _refund_dropped(order, event.pk, line, units, less, actor, reason)
    return less


def _refund_dropped(
    order: Order, event_id: int, line: OrderLine, units: int, amount: Decimal, actor, reason
):
    """Give `amount` back from the order's payments in pk order (AFS-4 caps each at what it
    still holds), outside any lock: the gateway is called with a reference derived from this
    drop's timeline entry, so a retry of it refunds nothing twice while a later drop of the
    same line refunds again."""
    remaining = amount
    payments = Payment.objects.filter(
        order=order, status__in=payment_services.REFUNDABLE_STATUSES
    ).order_by("pk")
    try:
        for payment in payments:
            if remaining <= 0:
                break
            part = min(remaining, payment_services.refundable_amount(payment))
            if part <= 0:
                continue
            payment_services.refund_payment(
                payment_id=payment.pk,
                amount=part,
                actor=actor,
                reason=_("%(units)d × %(item)s dropped: %(reason)s")
                % {"units": units, "item": line.sku_code, "reason": reason},
                reference=uuid.uuid5(
                    DROP_REFUND_NAMESPACE, f"drop-{event_id}-{payment.reference}"
                ).hex,
            )
            remaining -= part
    except DomainError as error:
        order_services.flag_for_review(
            order_id=order.pk,
            reason=_("The refund of %(amount)s for dropped items failed: %(error)s")
            % {"amount": remaining, "error": error.message},
            actor=actor,
        )
        return
    if remaining > 0:
        order_services.flag_for_review(
            order_id=order.pk,
            reason=_("%(amount)s for dropped items could not be refunded: refund it by hand.")
            % {"amount": remaining},
            actor=actor,
        )


# --- send another SKU --------------------------------------------------------------------------
def substitute_waiting_units(
    *, order_id: int, line_id: int, sku_code: str, actor, reason: str
) -> OrderLine:
    """Send `sku_code` for the line's units waiting for stock: they become a new line at the
    original price (with its share of the discount), so the amounts do not change, and the
    substitute's units are reserved now, all of them, or nothing changes. The warehouse takes
    them (`order_stock_changed`). Returns the new line."""
    reason = _check(actor, reason)
    sku_code = (sku_code or "").strip()
    with transaction.atomic(durable=True):
        order = _locked_order(order_id)
        substitute = (
            SKU.objects.select_related("product")
            .filter(code__iexact=sku_code, is_active=True, product__is_active=True)
            .first()
        )
        if substitute is None:
            raise WaitingLineRefused(
                _("There is no SKU %(code)s on sale.") % {"code": sku_code or "-"}
            )
        line = _locked_line(order, line_id)
        if substitute.pk == line.sku_id:
            raise WaitingLineRefused(_("Choose another SKU than the one that is missing."))
        # Read, not locked: the substitute's stock rows are locked (by `reserve`) before the
        # backorders, the order every stock service follows; a fill in between is caught
        # below and changes nothing.
        units = sum(
            b.waiting
            for b in Backorder.objects.filter(
                group=order_services.stock_group(order.pk),
                line=order_services.stock_line(line.pk),
                filled_at__isnull=True,
                cancelled_at__isnull=True,
            )
        )
        if units == 0:
            raise _nothing_waits(line)
        discount = _share_of_discount(line, units)
        line.quantity -= units
        line.dropped_quantity += units
        line.discount_amount -= discount
        line.save(update_fields=["quantity", "dropped_quantity", "discount_amount"])
        new_line = OrderLine.objects.create(
            order=order,
            sku=substitute,
            product_name=substitute.product.name,
            sku_code=substitute.code,
            variant_label=substitute.variant_label,
            unit_price=line.unit_price,
            quantity=units,
            discount_amount=discount,
            substitute_for=line,
        )
        try:
            inventory_services.reserve(
                group=order_services.stock_group(order.pk),
                lines=[
                    inventory_services.DemandLine(
                        line=order_services.stock_line(new_line.pk),
                        sku_id=substitute.pk,
                        quantity=units,
                    )
                ],
                province=order.province,
                actor=actor,
            )
        except inventory_services.OutOfStock as short:
            raise WaitingLineRefused(
                _("Only %(available)d × %(code)s can be sent now; %(units)d are needed.")
                % {
                    "available": short.shortages[0].available,
                    "code": substitute.code,
                    "units": units,
                }
            ) from short
        if _take_waiting_units(order, line) != units:
            raise WaitingLineRefused(
                _("Stock for %(item)s arrived meanwhile: look at the order again.")
                % {"item": line.product_name}
            )
        details = {
            "line": line.pk,
            "sku": line.sku_code,
            "substitute": substitute.code,
            "units": units,
        }
        _event(order, OrderEventKind.LINE_SUBSTITUTED, actor, reason, details)
        record_staff_action(
            actor=actor,
            action="order.substitute_waiting_units",
            target=order,
            reason=reason,
            after=details,
        )
        order_signals.order_stock_changed.send(sender=Order, order_id=order.pk, actor=actor)
    return new_line
