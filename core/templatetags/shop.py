"""Template filters and tags shared by the storefront and the staff workspace.

Presentation only: formatting money and phone numbers, small helpers for layouts. No business
rules live here.
"""

import re
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.http import QueryDict
from django.utils import formats
from django.utils.dateparse import parse_datetime

register = template.Library()

CENT = Decimal("0.01")
CURRENCY_SIGN = "¥"


def _to_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        # Never compute money in binary floating point: go through its shortest text form.
        value = repr(value)
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money(value) -> str:
    """Decimal → "¥1,234.50", grouped and punctuated for the active language.

    None or an unparsable value renders as an empty string so that a missing amount is never
    shown as a made-up ¥0.00.
    """
    amount = _to_decimal(value)
    if amount is None:
        return ""
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    number = formats.number_format(abs(amount), 2, use_l10n=True, force_grouping=True)
    return f"{sign}{CURRENCY_SIGN}{number}"


@register.filter
def mask_phone(value) -> str:
    """Hide the middle of a phone number (SEC-5): 13812341234 → 138****1234.

    Keeps the first three and the last four digits; a Chinese +86 prefix is dropped first.
    Numbers too short to mask that way are hidden entirely but for their last two digits.
    """
    if not value:
        return ""
    digits = re.sub(r"\D", "", str(value))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) >= 8:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


@register.filter
def startswith(value, prefix) -> bool:
    """True when the text `value` starts with `prefix` (used to highlight the current page)."""
    if value is None or not prefix:
        return False
    return str(value).startswith(str(prefix))


@register.filter
def css_percent(value) -> str:
    """A number as a CSS percentage between 0 and 100, never localised ("42.5")."""
    amount = _to_decimal(value)
    if amount is None:
        return "0"
    amount = max(Decimal(0), min(Decimal(100), amount))
    return f"{amount.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}"


@register.filter
def minutes(value) -> int | None:
    """A timedelta as whole minutes (rounded up), e.g. for a lockout's cool-off time."""
    if not isinstance(value, timedelta):
        return None
    seconds = int(value.total_seconds())
    return max(0, -(-seconds // 60))


@register.filter
def as_datetime(value) -> datetime | None:
    """An ISO 8601 string (as in the health report) as a datetime, for the `date` filter."""
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    try:
        return parse_datetime(str(value))
    except ValueError:
        return None


@register.filter
def item_count(order) -> int | None:
    """Units in an order, without a query per row: the `item_count` annotation when the
    selector adds one, else the prefetched lines; None when neither is at hand."""
    annotated = getattr(order, "item_count", None)
    if annotated is not None:
        return annotated
    prefetched = getattr(order, "_prefetched_objects_cache", {})
    if "lines" in prefetched:
        return sum(line.quantity for line in prefetched["lines"])
    return None


@register.simple_tag
def top_categories():
    """The storefront's top-level categories, for pages whose view does not pass them."""
    from catalog.selectors import top_categories as select_top_categories

    return select_top_categories()


@register.simple_tag(takes_context=True)
def page_href(context, number, params=""):
    """The link to page `number` of a list, keeping its filters.

    `params` is the list's urlencoded filters (without `page`), as a view may pass them; when
    empty, the current request's query string is kept instead.
    """
    if params:
        query = QueryDict(str(params), mutable=True)
    else:
        request = context.get("request")
        query = request.GET.copy() if request is not None else QueryDict(mutable=True)
    query["page"] = number
    return f"?{query.urlencode()}"
