"""Signals for the apps that use inventory (which knows nothing of them)."""

from django.dispatch import Signal

# Sent after commit when arriving stock was reserved for a waiting backorder (INV-5).
# Arguments: group, line, sku_id, units, complete (True when the backorder is fully served).
backorder_filled = Signal()

# Sent INSIDE the transaction of the stock change that raised a low-stock or stock-out alert,
# with `alert_id`: a receiver that writes its messages to an outbox commits with the change.
stock_alert_raised = Signal()
