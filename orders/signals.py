"""Signals other apps listen to, so that `orders` never has to know them."""

from django.dispatch import Signal

# Every signal here is sent INSIDE the transaction that made the change, with `order_id` (and
# what else is named): a receiver that writes rows (an outbox of notifications) commits or rolls
# back with the change itself, so nothing is lost and nothing is told that did not happen.

# An order was created (any channel), its stock reserved.
order_placed = Signal()
# The gateway's payment was applied: the order is paid.
order_paid = Signal()
# A cash-on-delivery order was accepted for fulfilment without payment (ORD-4).
order_cod_accepted = Signal()
# An agent let an order held for review go on (ORD-6), with `actor`.
order_released = Signal()
# One warehouse's parcels of an order split across warehouses left (INV-6, FUL-5), with
# `shipment_ids`; the rest of the order follows. The last part sends `order_shipped` instead.
order_part_shipped = Signal()
# Every parcel of the order left the warehouse.
order_shipped = Signal()
# Receipt confirmed, by the customer, an agent or the system (ORD-10).
order_completed = Signal()
# Held for a person, with `reason` (ORD-6).
order_flagged = Signal()
# Cancelled, with `actor` (None for the system). Promotions give back the coupon use; payments
# refund what was paid.
order_cancelled = Signal()

# An unpaid online order is near its payment deadline (ORD-5): the customer is reminded once.
payment_reminder_due = Signal()
# What the order waits for changed outside payment (an agent dropped a waiting line's units or
# substituted them, INV-5), with `actor`: the warehouse floor takes new units into its figures
# and moves on an order that waited only for those.
order_stock_changed = Signal()

# A shipment has had no tracking event for too long (FUL-6), with `shipment_id`.
shipment_delayed = Signal()
