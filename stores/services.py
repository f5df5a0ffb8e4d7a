"""Orders from other sales channels (ORD-12): the one path the marketplace import and the JSON
API both take, so that an order from anywhere is created, paid and audited the same way.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from orders import services as order_services
from orders.models import Order, PaymentMethod

from .models import Store


@dataclass(frozen=True)
class ChannelOrder:
    order: Order
    # False when the store's id was already known: the first order, unchanged.
    created: bool


def place_channel_order(
    *,
    store: Store,
    external_id: str,
    lines: Sequence[order_services.LineRequest],
    address: order_services.ShippingAddress,
    contact_email: str,
    shipping_amount: Decimal = Decimal("0.00"),
    payment_method: str = PaymentMethod.ONLINE,
    customer_note: str = "",
) -> ChannelOrder:
    """Create the order a store sold, or find it if the store's id is already known.

    The order keeps the store's prices (`LineRequest.unit_price`, required) and its stock is
    reserved all or nothing (`orders.services.OrderOutOfStock` names the short lines). An order
    the store says was paid online is recorded paid with the store's amount, the order's total,
    in the same transaction: it is audited and reaches the warehouse like a storefront order
    (ORD-6, FUL-1). A cash-on-delivery order is accepted for delivery the same way.

    Two sends of the same store order at once make one order: the second finds the first
    (unique store + external id).
    """
    external_id = external_id.strip()
    existing = Order.objects.filter(store=store, external_id=external_id).first()
    if existing is not None and external_id:
        return ChannelOrder(existing, created=False)
    try:
        with transaction.atomic():
            order = order_services.create_order(
                contact_email=contact_email,
                lines=lines,
                address=address,
                payment_method=payment_method,
                store=store,
                external_id=external_id,
                shipping_amount=shipping_amount,
                customer_note=customer_note,
            )
            if payment_method == PaymentMethod.CASH_ON_DELIVERY:
                order = order_services.accept_cash_on_delivery(order_id=order.pk)
            else:
                order = order_services.record_payment(
                    order_id=order.pk,
                    amount=order.total_amount,
                    reference=f"{store.code}:{external_id}",
                )
    except IntegrityError:
        existing = Order.objects.filter(store=store, external_id=external_id).first()
        if existing is None:
            raise
        return ChannelOrder(existing, created=False)
    return ChannelOrder(order, created=True)
