"""How orders reach and leave the warehouse floor, without `orders` knowing the floor.

The orders signals are sent inside the transaction that changed the order, so the floor's
rows commit or roll back with it: an order is never paid without reaching the queue, nor
cancelled while the floor goes on picking it.
"""

from django.dispatch import receiver

from inventory.models import Backorder
from inventory.signals import backorder_filled
from orders import signals
from orders.models import Order, OrderState

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


@receiver(signals.order_cancelled, dispatch_uid="fulfillment.order_cancelled")
def intercept(sender, order_id: int, actor=None, **kwargs) -> None:
    """ORD-7: a cancelled order stops on the floor; its scans are refused from now on."""
    services.stop_for_order(order_id=order_id, actor=actor)


@receiver(signals.order_released, dispatch_uid="fulfillment.order_released")
def resume(sender, order_id: int, **kwargs) -> None:
    """An order set aside by a short pick goes back to the queue once released."""
    services.resume_after_review(order_id=order_id)
