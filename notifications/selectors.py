"""Read queries of the message centre."""

from django.db.models import QuerySet

from .models import Notification


def inbox(*, user) -> QuerySet[Notification]:
    """The user's messages, newest first, with the order each is about (one query a page)."""
    return (
        Notification.objects.filter(recipient=user)
        .select_related("order")
        .order_by("-created_at", "-id")
    )
