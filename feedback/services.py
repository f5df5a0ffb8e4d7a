"""Leaving feedback on an order (RPT-5): only the order's customer, only once, only for a
completed order."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.errors import DomainError
from orders.models import Order, OrderState

from .models import COMMENT_MAX_LENGTH, OrderFeedback


class FeedbackError(DomainError):
    pass


def leave_feedback(*, order_id: int, actor, rating: int, comment: str = "") -> OrderFeedback:
    """Record `actor`'s rating of their order. Refused for someone else's order, an order not
    completed yet, a second rating, or a rating outside 1–5."""
    comment = (comment or "").strip()
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise FeedbackError(_("Please choose a rating from 1 to 5 stars."))
    if len(comment) > COMMENT_MAX_LENGTH:
        raise FeedbackError(
            _("Please keep your comment to %(limit)d characters.") % {"limit": COMMENT_MAX_LENGTH}
        )
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or actor is None or order.customer_id != actor.pk:
            raise FeedbackError(_("You can only rate your own orders."))
        if order.state != OrderState.COMPLETED:
            raise FeedbackError(_("You can rate an order once it is completed."))
        if OrderFeedback.objects.filter(order_id=order.pk).exists():
            raise FeedbackError(_("You have already rated this order. Thank you!"))
        try:
            with transaction.atomic():
                return OrderFeedback.objects.create(
                    order=order, customer=actor, rating=rating, comment=comment
                )
        except IntegrityError as error:
            raise FeedbackError(_("You have already rated this order. Thank you!")) from error
