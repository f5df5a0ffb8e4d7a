"""Read queries of the message centre and the operations page."""

from datetime import datetime

from django.db.models import Count, QuerySet

from .models import Notification, NotificationStatus


def inbox(*, user) -> QuerySet[Notification]:
    """The user's messages, newest first, with the order each is about (one query a page)."""
    return (
        Notification.objects.filter(recipient=user)
        .select_related("order")
        .order_by("-created_at", "-id")
    )


def status_counts() -> list[tuple[str, str, int]]:
    """(status, label, count) for every status of the outbox, in one query."""
    counts = dict(Notification.objects.order_by().values_list("status").annotate(n=Count("id")))
    return [(value, label, counts.get(value, 0)) for value, label in NotificationStatus.choices]


def oldest_pending() -> datetime | None:
    """When the oldest message still owed was written: how far behind the outbox is."""
    return (
        Notification.objects.filter(
            status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING]
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def failed() -> QuerySet[Notification]:
    """Messages given up on, newest first, with their order and recipient."""
    return (
        Notification.objects.filter(status=NotificationStatus.FAILED)
        .select_related("order", "recipient")
        .order_by("-created_at", "-id")
    )
