"""Exception orders for the service-desk tests: orders held by the audit on payment."""

from orders.models import Order, OrderState
from tests.factories import make_order


def exception_order(*, note: str = "请打电话联系我", **kwargs) -> Order:
    """A paid order the audit held for review (its buyer note asks for a call)."""
    order = make_order(customer_note=note, state=kwargs.pop("state", OrderState.PAID), **kwargs)
    assert order.needs_review, "the audit should have held this order"
    return order
