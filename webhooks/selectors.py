"""Read queries of the webhooks app: what an event's payload says (built in the transaction of
the change, so it is a snapshot of that moment), and the staff screens' lists.

Payloads carry no personal data (no address, phone or e-mail): a receiver that needs them asks
the API with its key. Money is a string with two decimals, times are ISO 8601 with offset.
"""

from django.db.models import Count, Prefetch, Q, QuerySet

from aftersales.models import AfterSalesRequest
from orders.models import Order, OrderEvent, OrderEventKind, OrderLine, Shipment

from .models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

_ORDER_FIELDS = (
    "pk",
    "number",
    "state",
    "channel",
    "store__code",
    "external_id",
    "payment_method",
    "goods_amount",
    "discount_amount",
    "shipping_amount",
    "total_amount",
    "paid_amount",
    "created_at",
    "paid_at",
    "shipped_at",
    "completed_at",
    "cancelled_at",
)


def _time(value) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value) -> str:
    return f"{value:.2f}"


def order_data(order_id: int, event_type: str) -> dict:
    """The `data` of an order event: the order's number, state, channel, store and external
    id, amounts, times and lines; for order.shipped its parcels, for order.cancelled the
    reason. Two queries (three for shipped and cancelled)."""
    row = Order.objects.filter(pk=order_id).values(*_ORDER_FIELDS).get()
    lines = OrderLine.objects.filter(order_id=order_id).order_by("pk")
    data = {
        "order_number": row["number"],
        "state": row["state"],
        "channel": row["channel"],
        "store": row["store__code"],
        "external_id": row["external_id"],
        "payment_method": row["payment_method"],
        "goods_amount": _money(row["goods_amount"]),
        "discount_amount": _money(row["discount_amount"]),
        "shipping_amount": _money(row["shipping_amount"]),
        "total_amount": _money(row["total_amount"]),
        "paid_amount": _money(row["paid_amount"]),
        "placed_at": _time(row["created_at"]),
        "paid_at": _time(row["paid_at"]),
        "shipped_at": _time(row["shipped_at"]),
        "completed_at": _time(row["completed_at"]),
        "cancelled_at": _time(row["cancelled_at"]),
        "lines": [
            {
                "sku": line["sku_code"],
                "product": line["product_name"],
                "variant": line["variant_label"],
                "quantity": line["quantity"],
                "unit_price": _money(line["unit_price"]),
                "discount_amount": _money(line["discount_amount"]),
            }
            for line in lines.values(
                "sku_code",
                "product_name",
                "variant_label",
                "quantity",
                "unit_price",
                "discount_amount",
            )
        ],
    }
    if event_type == WebhookEvent.ORDER_SHIPPED:
        data["shipments"] = [
            {
                "carrier": shipment["carrier__code"],
                "tracking_number": shipment["tracking_number"],
                "shipped_at": _time(shipment["shipped_at"]),
            }
            for shipment in Shipment.objects.filter(order_id=order_id)
            .order_by("pk")
            .values("carrier__code", "tracking_number", "shipped_at")
        ]
    elif event_type == WebhookEvent.ORDER_CANCELLED:
        data["reason"] = (
            OrderEvent.objects.filter(order_id=order_id, kind=OrderEventKind.CANCELLED)
            .order_by("-pk")
            .values_list("reason", flat=True)
            .first()
        ) or ""
    return data


def aftersales_data(request_id: int, *, reason: str = "", details: dict | None = None) -> dict:
    """The `data` of an after-sales decision: the request's number, kind, state and refund,
    its order's number, store and external id, and the step's reason (and amount, for a
    refund). One query."""
    row = (
        AfterSalesRequest.objects.filter(pk=request_id)
        .values(
            "pk",
            "kind",
            "state",
            "reason",
            "approved_refund",
            "decided_at",
            "closed_at",
            "order__number",
            "order__state",
            "order__channel",
            "order__store__code",
            "order__external_id",
        )
        .get()
    )
    data = {
        "request_number": f"{AfterSalesRequest.NUMBER_PREFIX}{row['pk']:08d}",
        "kind": row["kind"],
        "state": row["state"],
        "customer_reason": row["reason"],
        "approved_refund": _money(row["approved_refund"]),
        "decided_at": _time(row["decided_at"]),
        "closed_at": _time(row["closed_at"]),
        "reason": reason,
        "order_number": row["order__number"],
        "order_state": row["order__state"],
        "channel": row["order__channel"],
        "store": row["order__store__code"],
        "external_id": row["order__external_id"],
    }
    if details and "amount" in details:
        data["amount"] = str(details["amount"])
    return data


# --- staff screens ----------------------------------------------------------------------------
def endpoints() -> QuerySet[WebhookEndpoint]:
    """Every endpoint, newest first, with its count of deliveries by state."""
    return WebhookEndpoint.objects.annotate(
        delivered_count=Count("deliveries", filter=Q(deliveries__state=DeliveryState.DELIVERED)),
        owed_count=Count(
            "deliveries",
            filter=Q(
                deliveries__state__in=[
                    DeliveryState.PENDING,
                    DeliveryState.SENDING,
                    DeliveryState.FAILED,
                ]
            ),
        ),
        given_up_count=Count("deliveries", filter=Q(deliveries__state=DeliveryState.GIVEN_UP)),
    ).order_by("-created_at", "-pk")


def delivery_log(
    *, endpoint_id: int, state: str = "", event_type: str = ""
) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first, each with its attempts (two queries a page)."""
    rows = WebhookDelivery.objects.filter(endpoint_id=endpoint_id)
    if state:
        rows = rows.filter(state=state)
    if event_type:
        rows = rows.filter(event_type=event_type)
    return (
        rows.defer("payload")
        .prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number", "pk"))
        )
        .order_by("-created_at", "-pk")
    )


def delivery_detail(delivery_id: int) -> WebhookDelivery:
    return (
        WebhookDelivery.objects.select_related("endpoint", "replay_of")
        .prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number", "pk")),
            Prefetch("replays", queryset=WebhookDelivery.objects.defer("payload").order_by("pk")),
        )
        .get(pk=delivery_id)
    )
