"""After-sales requests for the returns and replacement tests, built directly with the ORM and
the model's transitions (independent of the request-flow services): a shipped order, a request
on some of its lines, moved to the state asked for."""

from django.utils import timezone

from aftersales.models import (
    AfterSalesRequest,
    RequestKind,
    RequestLine,
    RequestReason,
    RequestState,
)
from orders.models import Order, OrderState
from tests.factories import make_order

# The transitions that lead to each state from "submitted".
_PATHS = {
    RequestState.SUBMITTED: [],
    RequestState.APPROVED: ["approve"],
    RequestState.RETURN_SHIPPED: ["approve", "ship_return"],
    RequestState.RECEIVED: ["approve", "receive"],
    RequestState.REJECTED: ["reject"],
    RequestState.WITHDRAWN: ["withdraw"],
    RequestState.CLOSED: ["approve", "close"],
}


def make_request(
    *,
    kind: str = RequestKind.RETURN_REFUND,
    state: str = RequestState.RETURN_SHIPPED,
    order: Order | None = None,
    quantities: list[int] | None = None,
    tracking_number: str = "",
    **order_kwargs,
) -> AfterSalesRequest:
    """A request of `kind` on every line of `order` (a new shipped order unless given), for
    `quantities` (default: each line's whole quantity), walked to `state`."""
    if order is None:
        order = make_order(state=OrderState.SHIPPED, **order_kwargs)
    lines = list(order.lines.order_by("pk"))
    quantities = quantities or [line.quantity for line in lines]
    now = timezone.now()
    request = AfterSalesRequest.objects.create(
        order=order,
        customer=order.customer,
        kind=kind,
        reason=RequestReason.DAMAGED,
        description="Arrived broken",
        submitted_by=order.customer,
        created_at=now,
    )
    RequestLine.objects.bulk_create(
        [
            RequestLine(request=request, order_line=line, quantity=quantity)
            for line, quantity in zip(lines, quantities, strict=True)
            if quantity
        ]
    )
    for step in _PATHS[state]:
        getattr(request, step)()
        if step == "approve":
            request.decided_at = now
        elif step == "ship_return":
            request.return_tracking_number = tracking_number or f"SF{request.pk:010d}"
            request.return_shipped_at = now
        elif step == "receive":
            request.received_at = now
    request.save()
    return AfterSalesRequest.objects.select_related("order").get(pk=request.pk)
