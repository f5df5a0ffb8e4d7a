"""Order events → notifications (SPEC §5). Each receiver runs inside the transaction that made
the change (orders.signals), so the outbox rows commit or roll back with it.

The customer is told in their preferred language; a guest in the language they shopped in (the
one their first message of the order was recorded in); staff in theirs or the shop's default.
"""

import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts.roles import Role
from inventory import signals as inventory_signals
from orders import signals
from orders.models import (
    NO_CONTACT_EMAIL_DOMAIN,
    Channel,
    Order,
    OrderEvent,
    OrderEventKind,
    Shipment,
    TrackingEvent,
)

from .models import NotificationKind
from .services import alert_managers_of_stock, customer_language, notify


def _order(order_id: int) -> Order:
    return Order.objects.select_related("customer").get(pk=order_id)


def _tell_customer(order: Order, kind: str, key: str, context: dict | None = None) -> None:
    if order.contact_email.endswith("@" + NO_CONTACT_EMAIL_DOMAIN):
        return  # a marketplace buyer without an address of theirs: the marketplace tells them
    notify(
        kind=kind,
        key=key,
        order=order,
        recipient=order.customer,
        address=order.contact_email or (order.customer.email if order.customer else ""),
        language=customer_language(order),
        context=context,
    )


def _service_agents():
    return (
        get_user_model()
        .objects.filter(groups__name=Role.SERVICE, is_active=True)
        .distinct()
        .order_by("pk")
    )


def _tell_staff(users, order: Order, kind: str, key: str, context: dict) -> None:
    for user in users:
        notify(
            kind=kind,
            key=f"{key}:{user.pk}",
            order=order,
            recipient=user,
            language=user.language or settings.LANGUAGE_CODE,
            context=context,
        )


def _latest_event(order_id: int, kind: str) -> OrderEvent | None:
    return OrderEvent.objects.filter(order_id=order_id, kind=kind).order_by("-pk").first()


@receiver(signals.order_placed, dispatch_uid="notifications.order_placed")
def order_placed(sender, order_id: int, **kwargs) -> None:
    """ORD-2: the customer is told the order's number, lines and total. A replacement sent by
    after-sales is not an order they placed: the request's own messages tell them (AFS-3)."""
    order = _order(order_id)
    if order.channel == Channel.REPLACEMENT:
        return
    _tell_customer(order, NotificationKind.ORDER_PLACED, f"order_placed:{order_id}")


@receiver(signals.order_paid, dispatch_uid="notifications.order_paid")
def order_paid(sender, order_id: int, **kwargs) -> None:
    order = _order(order_id)
    if order.channel == Channel.REPLACEMENT:
        return  # nothing was paid: the goods are sent again (AFS-3)
    _tell_customer(
        order,
        NotificationKind.PAYMENT_RECEIVED,
        f"payment_received:{order_id}",
        {"amount": str(order.paid_amount)},
    )


@receiver(signals.payment_reminder_due, dispatch_uid="notifications.payment_reminder_due")
def payment_reminder_due(sender, order_id: int, deadline=None, **kwargs) -> None:
    """ORD-5: once per order, however often the reminder job runs."""
    _tell_customer(
        _order(order_id),
        NotificationKind.PAYMENT_REMINDER,
        f"payment_reminder:{order_id}",
        {"deadline": deadline.isoformat() if deadline is not None else ""},
    )


@receiver(signals.order_cancelled, dispatch_uid="notifications.order_cancelled")
def order_cancelled(sender, order_id: int, actor=None, **kwargs) -> None:
    order = _order(order_id)
    event = _latest_event(order_id, OrderEventKind.CANCELLED)
    _tell_customer(
        order,
        NotificationKind.ORDER_CANCELLED,
        f"order_cancelled:{order_id}",
        {
            "reason": event.reason if event else "",
            "by_customer": actor is not None and actor.pk == order.customer_id,
            "by_system": actor is None,
            "refund": str(order.paid_amount) if order.paid_amount else "",
        },
    )


def _shipment_details(shipments) -> list[dict]:
    return [
        {
            "carrier": shipment.carrier.name,
            "tracking_number": shipment.tracking_number,
            "tracking_url": shipment.tracking_url(),
            "expected_delivery": (
                shipment.expected_delivery.isoformat() if shipment.expected_delivery else ""
            ),
        }
        for shipment in shipments
    ]


@receiver(signals.order_shipped, dispatch_uid="notifications.order_shipped")
def order_shipped(sender, order_id: int, **kwargs) -> None:
    """FUL-5: carrier and tracking number of every parcel handed over so far."""
    shipments = Shipment.objects.filter(order_id=order_id).select_related("carrier")
    _tell_customer(
        _order(order_id),
        NotificationKind.ORDER_SHIPPED,
        f"order_shipped:{order_id}",
        {"shipments": _shipment_details(shipments)},
    )


@receiver(signals.order_part_shipped, dispatch_uid="notifications.order_part_shipped")
def order_part_shipped(sender, order_id: int, shipment_ids=(), **kwargs) -> None:
    """FUL-5, INV-6: one warehouse's parcels of a split order left; the rest follows."""
    shipments = Shipment.objects.filter(pk__in=list(shipment_ids)).select_related("carrier")
    _tell_customer(
        _order(order_id),
        NotificationKind.ORDER_PART_SHIPPED,
        f"order_part_shipped:{order_id}:{min(shipment_ids, default=0)}",
        {"shipments": _shipment_details(shipments)},
    )


@receiver(post_save, sender=OrderEvent, dispatch_uid="notifications.order_items_changed")
def order_items_changed(sender, instance: OrderEvent, created: bool, **kwargs) -> None:
    """INV-5: an agent dropped units that waited for stock, or sends another SKU for them;
    the customer is told what and, for a drop, how much less the order costs. The timeline
    entry is written in the agent's transaction, so this is too."""
    if not created or instance.kind not in (
        OrderEventKind.LINE_DROPPED,
        OrderEventKind.LINE_SUBSTITUTED,
    ):
        return
    _tell_customer(
        _order(instance.order_id),
        NotificationKind.ORDER_ITEMS_CHANGED,
        f"order_items_changed:{instance.pk}",
        {
            "dropped": instance.kind == OrderEventKind.LINE_DROPPED,
            "units": instance.details.get("units"),
            "item": instance.details.get("sku"),
            "substitute": instance.details.get("substitute", ""),
            "amount": instance.details.get("amount", ""),
            "refund": instance.details.get("refund", False),
        },
    )


@receiver(signals.order_completed, dispatch_uid="notifications.order_completed")
def order_completed(sender, order_id: int, **kwargs) -> None:
    """ORD-10: thanks, and a request for a review."""
    _tell_customer(
        _order(order_id), NotificationKind.ORDER_COMPLETED, f"order_completed:{order_id}"
    )


@receiver(signals.order_flagged, dispatch_uid="notifications.order_flagged")
def order_flagged(sender, order_id: int, reason: str = "", **kwargs) -> None:
    """ORD-6: every active service agent hears of a new exception order, once per flag."""
    event = _latest_event(order_id, OrderEventKind.FLAGGED)
    mark = event.pk if event is not None else hashlib.sha1(reason.encode()).hexdigest()[:12]
    _tell_staff(
        _service_agents(),
        _order(order_id),
        NotificationKind.EXCEPTION_ORDER,
        f"exception:{order_id}:{mark}",
        {"reason": reason},
    )


@receiver(signals.shipment_delayed, dispatch_uid="notifications.shipment_delayed")
def shipment_delayed(sender, shipment_id: int, order_id: int | None = None, **kwargs) -> None:
    """FUL-6: the customer and the service agents, once per stall (a parcel that moves again
    and stalls again is a new one: the key carries its last tracking event)."""
    shipment = Shipment.objects.select_related("carrier").get(pk=shipment_id)
    last_event = (
        TrackingEvent.objects.filter(shipment_id=shipment_id)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    stall = f"{shipment_id}:{last_event or 0}"
    order = _order(order_id or shipment.order_id)
    details = {"shipments": _shipment_details([shipment]), "shipment_id": shipment.pk}
    _tell_customer(order, NotificationKind.SHIPMENT_DELAYED, f"shipment_delayed:{stall}", details)
    _tell_staff(
        _service_agents(),
        order,
        NotificationKind.SHIPMENT_DELAYED_STAFF,
        f"shipment_delayed_staff:{stall}",
        details,
    )


@receiver(inventory_signals.stock_alert_raised, dispatch_uid="notifications.stock_alert")
def on_stock_alert(sender, alert_id: int, **kwargs) -> None:
    """A low-stock or stock-out alert: every active manager is told once (INV-7). The alert is
    claimed (notified_at) in the same transaction as its messages."""
    from inventory.models import StockAlert

    claimed = StockAlert.objects.filter(pk=alert_id, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    if claimed:
        alert_managers_of_stock(alert=StockAlert.objects.get(pk=alert_id))
