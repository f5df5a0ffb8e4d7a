"""Replacements for exchanges and re-shipments (AFS-2, AFS-3; issue 8 item 6).

A replacement is an order of its own: the request's lines and quantities, for the same customer
and address, priced from the catalogue with each line discounted in full, so its total is 0.
Placing it reserves stock like any order (out of stock refuses it and nothing is created);
`orders.services.accept_replacement` then marks it paid without money, which sends
`order_paid`, so the warehouse floor queues, picks and packs it like any other order. When it is
shipped, `aftersales.receivers_returns` closes the request.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from core.errors import DomainError
from notifications.models import NotificationKind
from orders import services as order_services
from orders.models import Channel, Order, PaymentMethod

from .models import (
    AfterSalesRequest,
    RequestEvent,
    RequestEventKind,
    RequestKind,
    RequestState,
)
from .returns import tell_customer

SEND_PERMISSION = "aftersales.decide_request"


class ReplacementRefused(DomainError):
    """The replacement cannot be sent now; nothing was created."""


def _address_of(order: Order) -> order_services.ShippingAddress:
    return order_services.ShippingAddress(
        recipient_name=order.recipient_name,
        recipient_phone=order.recipient_phone,
        province=order.province,
        city=order.city,
        district=order.district,
        address_line=order.address_line,
        postcode=order.postcode,
    )


def _check_can_send(request: AfterSalesRequest) -> None:
    if not request.sends_replacement():
        raise ReplacementRefused(
            _("Request %(number)s is “%(kind)s”: nothing is sent again for it.")
            % {"number": request.number, "kind": request.get_kind_display()}
        )
    if request.replacement_order_id is not None:
        raise ReplacementRefused(
            _("The replacement for %(number)s was already sent: order %(order)s.")
            % {"number": request.number, "order": request.replacement_order.number}
        )
    if request.kind == RequestKind.EXCHANGE and request.state in (
        RequestState.APPROVED,
        RequestState.RETURN_SHIPPED,
    ):
        raise ReplacementRefused(
            _(
                "Request %(number)s is an exchange: the replacement goes once the warehouse "
                "has received the returned goods."
            )
            % {"number": request.number}
        )
    if not can_proceed(request.send_replacement):
        raise ReplacementRefused(
            _("Request %(number)s is “%(state)s”: no replacement can be sent now.")
            % {"number": request.number, "state": request.get_state_display()}
        )


def can_send_replacement(request: AfterSalesRequest) -> bool:
    """Whether the agent's page should offer the button (the service still decides)."""
    try:
        _check_can_send(request)
    except ReplacementRefused:
        return False
    return True


def send_replacement(*, request_id: int, actor) -> AfterSalesRequest:
    """Send the goods again for an approved re-shipment, or for an exchange once its return was
    received: place the zero-amount replacement order (stock reserved), accept it as paid so
    that it reaches the warehouse queue, link it to the request, move the request to
    "replacing" and record the "replacement" event with the order number.

    Locks the request first, so two clicks send one replacement (the second is refused, and the
    one-to-one link would refuse it too). Out of stock raises `ReplacementRefused` saying which
    items are short, and nothing is created."""
    if actor is None or not actor.has_perm(SEND_PERMISSION):
        raise ReplacementRefused(_("You are not allowed to send replacements."))
    with transaction.atomic():
        request = (
            AfterSalesRequest.objects.select_for_update(of=("self",))
            .select_related("order", "order__customer", "replacement_order")
            .get(pk=request_id)
        )
        _check_can_send(request)
        lines = list(request.lines.select_related("order_line__sku").order_by("pk"))
        if not lines:
            raise ReplacementRefused(
                _("Request %(number)s has no lines to send again.") % {"number": request.number}
            )
        original = request.order
        wanted = [
            order_services.LineRequest(
                sku_id=line.order_line.sku_id,
                quantity=line.quantity,
                unit_price=line.order_line.sku.price,
                # The whole line is discounted: the customer already paid for these goods.
                discount=(line.order_line.sku.price * line.quantity).quantize(Decimal("0.01")),
            )
            for line in lines
        ]
        try:
            replacement = order_services.create_order(
                customer=original.customer,
                contact_email=original.contact_email,
                lines=wanted,
                address=_address_of(original),
                payment_method=PaymentMethod.ONLINE,
                channel=Channel.REPLACEMENT,
            )
        except order_services.OrderOutOfStock as short:
            raise ReplacementRefused(
                _("The replacement for %(number)s cannot be sent yet. %(shortage)s")
                % {"number": request.number, "shortage": short.message}
            ) from None
        except order_services.InvalidOrder as refused:
            raise ReplacementRefused(
                _("The replacement for %(number)s cannot be placed: %(reason)s")
                % {"number": request.number, "reason": refused.message}
            ) from None
        replacement = order_services.accept_replacement(
            order_id=replacement.pk,
            reason=_("Replacement for after-sales request %(number)s") % {"number": request.number},
        )
        from_state = request.state
        request.replacement_order = replacement
        request.send_replacement()
        request.save()
        RequestEvent.objects.create(
            request=request,
            created_at=timezone.now(),
            actor=actor,
            kind=RequestEventKind.REPLACEMENT,
            from_state=from_state,
            to_state=request.state,
            details={
                "order": replacement.number,
                "order_id": replacement.pk,
                "lines": [
                    {"sku": line.order_line.sku_code, "quantity": line.quantity} for line in lines
                ],
            },
        )
        tell_customer(
            request,
            kind=NotificationKind.AFTERSALES_REPLACEMENT,
            key=f"aftersales_replacement:{request.pk}",
            reason=lambda: _("Replacement order: %(order)s") % {"order": replacement.number},
        )
    return request


def close_after_replacement_shipped(*, order_id: int) -> AfterSalesRequest | None:
    """The replacement order left the warehouse: its request is resolved and closed, with a
    "closed" event by the system. Nothing happens for an order that replaces nothing, or for a
    request already closed (safe to run twice)."""
    with transaction.atomic():
        request = (
            AfterSalesRequest.objects.select_for_update()
            .filter(replacement_order_id=order_id)
            .first()
        )
        if request is None or request.state != RequestState.REPLACING:
            return None
        from_state = request.state
        now = timezone.now()
        request.close()
        request.closed_at = now
        request.save()
        number = Order.objects.values_list("number", flat=True).get(pk=order_id)
        RequestEvent.objects.create(
            request=request,
            created_at=now,
            actor=None,
            kind=RequestEventKind.CLOSED,
            from_state=from_state,
            to_state=request.state,
            reason=_("The replacement was shipped."),
            details={"order": number},
        )
        tell_customer(
            request,
            kind=NotificationKind.AFTERSALES_CLOSED,
            key=f"aftersales_closed:{request.pk}",
            reason=lambda: (
                _("Your replacement (order %(order)s) has been shipped.") % {"order": number}
            ),
        )
    return request
