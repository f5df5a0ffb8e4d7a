"""Order events and after-sales decisions → webhook deliveries (API-2).

The orders signals are sent inside the transaction that changed the order, and the after-sales
timeline entry is written inside the decision's transaction: the deliveries written here commit
or roll back with the change (`services.record_event`), and are handed to the workers after
the commit. Nobody subscribed costs no write.

Cash on delivery: `order_cod_accepted` is told as **order.paid**. The order enters the same
"paid, to be processed" state and goes to the warehouse like a paid one; its payload says
`payment_method: "cod"` and `paid_amount: "0.00"`, so a receiver that needs the money in hand
can tell. An after-sales replacement order (channel "replacement") is told like any order.
"""

from functools import partial

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from aftersales.models import RequestEvent, RequestEventKind
from orders import signals

from . import services
from .models import WebhookEndpoint, WebhookEvent
from .selectors import aftersales_data, order_data


def _order_event(event_type: str, order_id: int) -> None:
    services.record_event(
        event_type=event_type, build_data=partial(order_data, order_id, event_type)
    )


@receiver(signals.order_placed, dispatch_uid="webhooks.order_placed")
def order_placed(sender, order_id: int, **kwargs) -> None:
    _order_event(WebhookEvent.ORDER_CREATED, order_id)


@receiver(signals.order_paid, dispatch_uid="webhooks.order_paid")
@receiver(signals.order_cod_accepted, dispatch_uid="webhooks.order_cod_accepted")
def order_paid(sender, order_id: int, **kwargs) -> None:
    _order_event(WebhookEvent.ORDER_PAID, order_id)


@receiver(signals.order_shipped, dispatch_uid="webhooks.order_shipped")
def order_shipped(sender, order_id: int, **kwargs) -> None:
    _order_event(WebhookEvent.ORDER_SHIPPED, order_id)


@receiver(signals.order_completed, dispatch_uid="webhooks.order_completed")
def order_completed(sender, order_id: int, **kwargs) -> None:
    _order_event(WebhookEvent.ORDER_COMPLETED, order_id)


@receiver(signals.order_cancelled, dispatch_uid="webhooks.order_cancelled")
def order_cancelled(sender, order_id: int, **kwargs) -> None:
    _order_event(WebhookEvent.ORDER_CANCELLED, order_id)


_DECISIONS = {
    RequestEventKind.APPROVED: WebhookEvent.AFTERSALES_APPROVED,
    RequestEventKind.REJECTED: WebhookEvent.AFTERSALES_REJECTED,
    RequestEventKind.REFUNDED: WebhookEvent.AFTERSALES_REFUNDED,
    RequestEventKind.CLOSED: WebhookEvent.AFTERSALES_CLOSED,
}


@receiver(post_save, sender=RequestEvent, dispatch_uid="webhooks.aftersales_decision")
def aftersales_decision(sender, instance: RequestEvent, created: bool, **kwargs) -> None:
    """AFS-3: a request approved, rejected, refunded or closed. The timeline entry is written
    in the decision's transaction, so this is too."""
    event_type = _DECISIONS.get(instance.kind) if created else None
    if event_type is None:
        return
    services.record_event(
        event_type=event_type,
        build_data=partial(
            aftersales_data,
            instance.request_id,
            reason=instance.reason,
            details=instance.details,
        ),
    )


@receiver(post_save, sender=WebhookEndpoint, dispatch_uid="webhooks.endpoint_saved")
@receiver(post_delete, sender=WebhookEndpoint, dispatch_uid="webhooks.endpoint_deleted")
def endpoint_changed(sender, **kwargs) -> None:
    """However an endpoint changes (the screens, the Django admin, a shell), the cached
    subscriptions are dropped."""
    services.forget_subscriptions()
