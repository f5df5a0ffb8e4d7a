"""How orders reach and leave the warehouse floor, without `orders` knowing the floor.

The orders signals are sent inside the transaction that changed the order, so the floor's
rows commit or roll back with it: an order is never paid without reaching the queue, nor
cancelled while the floor goes on picking it.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from inventory.models import Backorder
from inventory.signals import backorder_filled
from orders import signals
from orders.models import Order, OrderEvent, OrderEventKind, OrderState

from . import services
from .selectors import order_id_of_group


@receiver(signals.order_paid, dispatch_uid="fulfillment.order_paid")
@receiver(signals.order_cod_accepted, dispatch_uid="fulfillment.order_cod_accepted")
def reach_the_floor(sender, order_id: int, **kwargs) -> None:
    """FUL-1: paid (or cash-on-delivery) orders flow to the warehouse by themselves; those
    held for review wait in the queue's filter until the service desk releases them."""
    services.bring_to_floor(order_id=order_id)


@receiver(backorder_filled, sender=Backorder, dispatch_uid="fulfillment.backorder_filled")
def stock_arrived(sender, group: str, **kwargs) -> None:
    """INV-5: a waiting line got stock, perhaps in another warehouse: the floor's figures
    follow. Sent after the stock's commit, so this runs in its own transaction."""
    order_id = order_id_of_group(group)
    if order_id is None:
        return
    if Order.objects.filter(pk=order_id, state=OrderState.PAID).exists():
        services.bring_to_floor(order_id=order_id)


@receiver(signals.order_stock_changed, dispatch_uid="fulfillment.order_stock_changed")
def waiting_units_resolved(sender, order_id: int, **kwargs) -> None:
    """INV-5: an agent dropped a line's waiting units or sent another SKU for them: new units
    join the floor, and an order that waited only for those moves on. Sent in the agent's
    transaction."""
    if Order.objects.filter(pk=order_id, state=OrderState.PAID).exists():
        services.settle(order_id=order_id)


@receiver(signals.order_cancelled, dispatch_uid="fulfillment.order_cancelled")
def intercept(sender, order_id: int, actor=None, **kwargs) -> None:
    """ORD-7: a cancelled order stops on the floor; its scans are refused from now on."""
    services.stop_for_order(order_id=order_id, actor=actor)


@receiver(signals.order_released, dispatch_uid="fulfillment.order_released")
def resume(sender, order_id: int, **kwargs) -> None:
    """An order set aside by a short pick goes back to the queue once released."""
    services.resume_after_review(order_id=order_id)


@receiver(post_save, sender=OrderEvent, dispatch_uid="fulfillment.address_changed")
def address_changed(sender, instance: OrderEvent, created: bool, **kwargs) -> None:
    """ORD-7: an agent changed the address of an order already labelled on the floor: its
    labels are wrong now, and its parcels may not leave until new ones are on. The timeline
    entry is written in the change's transaction, so this is too."""
    if created and instance.kind == OrderEventKind.ADDRESS_CHANGED:
        services.labels_outdated(order_id=instance.order_id)
