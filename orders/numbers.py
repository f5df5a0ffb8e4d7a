"""Order numbers (ORD-1): the shop-local date and a per-day counter, e.g. 2026112300001234.

Readable, sortable by time (the date leads, the counter grows) and unique under concurrent
creation: one upsert bumps the day's counter and returns it, and the database serialises
concurrent upserts on that row. A number is never enough to open an order: views always scope
by owner (SEC-2), and guest look-ups also ask for the phone number on the order (ORD-9).
"""

from datetime import date

from django.db import connection
from django.utils import timezone

from .models import OrderNumberCounter

COUNTER_DIGITS = 8

_UPSERT = (
    f"INSERT INTO {OrderNumberCounter._meta.db_table} (day, last) VALUES (%s, %s) "
    f"ON CONFLICT (day) DO UPDATE SET last = {OrderNumberCounter._meta.db_table}.last + %s "
    "RETURNING last"
)


def allocate_order_numbers(count: int = 1, *, day: date | None = None) -> list[str]:
    """Reserve `count` consecutive numbers for `day` (today in the shop's time zone).

    Call it late in the transaction that creates the orders: the counter row stays locked
    until that transaction ends. A rolled-back transaction gives its numbers back.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    day = day or timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [day, count, count])
        (last,) = cursor.fetchone()
    prefix = day.strftime("%Y%m%d")
    return [f"{prefix}{n:0{COUNTER_DIGITS}d}" for n in range(last - count + 1, last + 1)]
