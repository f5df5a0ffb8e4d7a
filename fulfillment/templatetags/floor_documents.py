"""Filters for the printed documents' HTML pages (FUL-4): barcodes and weights."""

from django import template
from django.utils.safestring import SafeString

from fulfillment import documents

register = template.Library()


@register.filter
def code128(value, bar_height: int = 40) -> SafeString:
    """`{{ number|code128 }}`: the number as an inline SVG Code 128 barcode."""
    return documents.barcode_svg(str(value or ""), bar_height=float(bar_height))


@register.filter
def kg(grams) -> str:
    """Grams as "1.25 kg", localised."""
    return documents.kilograms(int(grams or 0))
