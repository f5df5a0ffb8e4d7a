"""Signals other apps listen to, so that `orders` never has to know them."""

from django.dispatch import Signal

# Sent inside the cancelling transaction, with `order_id` and `actor` (None for the system).
# Promotions give back the coupon use; payments start a refund of what was paid.
order_cancelled = Signal()
