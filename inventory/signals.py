"""Signals for the apps that use inventory (which knows nothing of them)."""

from django.dispatch import Signal

# Sent after commit when arriving stock was reserved for a waiting backorder (INV-5).
# Arguments: group, line, sku_id, units, complete (True when the backorder is fully served).
backorder_filled = Signal()
