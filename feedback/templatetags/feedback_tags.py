from django import template
from django.core.exceptions import ObjectDoesNotExist

register = template.Library()


@register.filter
def awaits_rating(order) -> bool:
    """True for a completed order its customer has not rated yet (one query at most, on the
    order's detail page only)."""
    if getattr(order, "state", None) != "completed":
        return False
    try:
        return order.feedback is None
    except ObjectDoesNotExist:
        return True
