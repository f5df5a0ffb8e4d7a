"""After-sales listens to the orders it sent: a replacement order that ships closes its
request (AFS-3). `orders` never knows about after-sales."""

from django.dispatch import receiver

from orders import signals

from .replacements import close_after_replacement_shipped


@receiver(signals.order_shipped, dispatch_uid="aftersales.replacement_shipped")
def replacement_shipped(sender, order_id: int, **kwargs) -> None:
    """Sent inside the shipping transaction: the request closes with the shipment, or not at
    all. Orders that replace nothing pass through (one indexed lookup)."""
    close_after_replacement_shipped(order_id=order_id)
