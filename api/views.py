"""The JSON API (API-1), mounted at /api/: its operations, OpenAPI description
(/api/openapi.json) and docs page (/api/docs, Swagger UI served from our static files).

Operations are thin: check the input (schemas), call a service or selector, render the body.
Every error is a problem-details answer (`problems`).
"""

import re

from django.http import HttpRequest, JsonResponse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import Header, NinjaAPI, Query

from orders import services as order_services
from orders.shipments import normalize_tracking_number

from . import problems, selectors, services
from .auth import key_auth
from .models import ApiScope
from .schemas import (
    OrderIn,
    OrderOut,
    OrderPageOut,
    ProblemOut,
    StockListOut,
    TrackingPushIn,
    TrackingPushOut,
    order_detail,
    order_summary,
)

DESCRIPTION = """
The shop's API for other systems (ERP, marketplaces, carriers): create orders in your sales
channel, read them with their timeline and shipments, follow the orders that changed, push
tracking events and read stock.

**Authentication.** Every operation needs an API key, issued by an administrator at
/staff/api-keys/ for one sales channel with scopes. Send it as `Authorization: Bearer sk_…` or
as `X-API-Key: sk_…`. The session cookie of the web site does not authenticate here.

**Idempotency.** `POST /api/orders` takes an `Idempotency-Key` header: a retry with the same key
and body gets the first answer back (status and body) instead of a second order.

**Errors** are problem details (RFC 9457, `application/problem+json`) with `type`, `title`,
`status`, `detail` and, for invalid fields, `errors` (`field`, `message`). Messages follow
`Accept-Language` (zh-Hans, en).

**Rate limit.** Each key may send a limited number of requests per window (429 with
`Retry-After` beyond it).
"""

api = NinjaAPI(
    title="Shop API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api",
)
problems.install(api)

LIST_LIMIT_DEFAULT = 50
LIST_LIMIT_MAX = 200
STOCK_MAX_SKUS = 100
SKU_CODES = Query(..., description="SKU codes, repeated: ?sku=A&sku=B (at most 100).")
PROBLEMS = {401: ProblemOut, 403: ProblemOut, 422: ProblemOut, 429: ProblemOut}


def _is_text(value: str) -> bool:
    """Whether the database can compare `value` (PostgreSQL refuses NUL characters)."""
    return "\x00" not in value


def _aware_time(text: str):
    """The aware time `text` gives in ISO 8601, or None. A "+08:00" offset sent unencoded in a
    query string arrives as " 08:00": it is read as the "+" it was."""
    for candidate in (text, re.sub(r" (\d\d:?\d\d)$", r"+\1", text.strip())):
        try:
            parsed = parse_datetime(candidate)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return None


def _json(body: dict, status: int = 200, **headers: str) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@api.exception_handler(services.ApiRefused)
def _refused(request: HttpRequest, exc: services.ApiRefused):
    return problems.problem_response(
        request,
        status=exc.status,
        kind=exc.kind,
        title=exc.title or _("The request cannot be done"),
        detail=exc.message,
        errors=exc.errors or None,
    )


@api.post(
    "/orders",
    auth=key_auth(ApiScope.ORDERS_WRITE),
    response={201: OrderOut, 200: OrderOut, 404: ProblemOut, 409: ProblemOut, **PROBLEMS},
    summary="Create an order",
    tags=["orders"],
    operation_id="create_order",
)
def create_order(
    request: HttpRequest,
    payload: OrderIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        max_length=255,
        description="Any unique string (a UUID): a retry with the same key and body gets the "
        "first answer back. Kept for a day.",
    ),
):
    """Create an order in your sales channel (scope orders:write). It is priced at your prices,
    its stock is reserved (all or nothing: 409 naming the short lines), it is recorded paid
    (online) or accepted for cash on delivery, then audited and sent to the warehouse like a
    storefront order. 201 with the order; 200 with the existing order when its `external_id`
    is already known."""
    api_key = request.auth

    def respond() -> tuple[int, dict]:
        placed = services.place_api_order(
            api_key=api_key,
            external_id=payload.external_id,
            lines=[
                services.ApiLine(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price)
                for line in payload.lines
            ],
            address=order_services.ShippingAddress(**payload.address.model_dump()),
            contact_email=payload.contact_email,
            shipping_amount=payload.shipping_amount,
            payment_method=payload.payment_method,
            note=payload.note,
        )
        order = selectors.store_order(store_id=api_key.store_id, number=placed.order.number)
        return (201 if placed.created else 200), order_detail(order, store_code=api_key.store.code)

    key = (idempotency_key or "").strip()
    if key and not (key.isprintable() and key.isascii()):
        return problems.invalid_fields(
            request,
            errors=[
                {
                    "field": "Idempotency-Key",
                    "message": _("Use printable ASCII characters, such as a UUID."),
                }
            ],
        )
    if not key:
        status, body = respond()
        return _json(body, status)
    answer = services.respond_once(
        api_key=api_key,
        key=key,
        fingerprint=services.request_fingerprint(payload.model_dump(mode="json")),
        respond=respond,
    )
    if answer.replayed:
        return _json(answer.body, answer.status, Idempotent_Replayed="true")
    return _json(answer.body, answer.status)


@api.get(
    "/orders",
    auth=key_auth(ApiScope.ORDERS_READ),
    response={200: OrderPageOut, **PROBLEMS},
    summary="List orders changed since a time",
    tags=["orders"],
    operation_id="list_changed_orders",
)
def list_orders(
    request: HttpRequest,
    changed_since: str | None = Query(
        None,
        max_length=64,
        description="ISO 8601 time with offset: orders changed at or after it.",
    ),
    cursor: str | None = Query(
        None, max_length=200, description="`next_cursor` of the previous page."
    ),
    limit: int = Query(LIST_LIMIT_DEFAULT, ge=1, le=LIST_LIMIT_MAX),
):
    """Your sales channel's orders that changed at or after `changed_since`, oldest change
    first (scope orders:read). Follow `next_cursor` until it is null; an order that changes
    again later shows up again, further on. Keep the last cursor to ask for later changes."""
    errors = []
    since = None
    if changed_since:
        since = _aware_time(changed_since)
        if since is None:
            errors.append(
                {
                    "field": "changed_since",
                    "message": _("Enter an ISO 8601 time with its offset, e.g. %(example)s.")
                    % {"example": "2025-03-01T14:30:00+08:00"},
                }
            )
    after = None
    if cursor:
        after = selectors.Cursor.decode(cursor)
        if after is None:
            errors.append(
                {"field": "cursor", "message": _("This cursor is not one this API gave.")}
            )
    if errors:
        return problems.invalid_fields(request, errors)
    page = selectors.changed_orders(
        store_id=request.auth.store_id, since=since, after=after, limit=limit
    )
    return _json(
        {
            "results": [order_summary(order) for order in page.orders],
            "next_cursor": page.next_cursor.encode() if page.next_cursor else None,
        }
    )


@api.get(
    "/orders/{number}",
    auth=key_auth(ApiScope.ORDERS_READ),
    response={200: OrderOut, 404: ProblemOut, **PROBLEMS},
    summary="Read an order",
    tags=["orders"],
    operation_id="read_order",
)
def read_order(request: HttpRequest, number: str):
    """An order of your sales channel by our order number: its state, lines, amounts,
    timeline, and parcels with their tracking events (scope orders:read). Another channel's
    order is not found (404)."""
    order = (
        selectors.store_order(store_id=request.auth.store_id, number=number[:20])
        if _is_text(number)
        else None
    )
    if order is None:
        return problems.not_found(
            request, _("Your sales channel has no order %(number)s.") % {"number": number[:20]}
        )
    return _json(order_detail(order, store_code=request.auth.store.code))


@api.post(
    "/shipments/{tracking_number}/events",
    auth=key_auth(ApiScope.TRACKING_WRITE),
    response={200: TrackingPushOut, 404: ProblemOut, **PROBLEMS},
    summary="Push tracking events",
    tags=["shipments"],
    operation_id="push_tracking_events",
)
def push_tracking(request: HttpRequest, tracking_number: str, payload: TrackingPushIn):
    """Tracking events for a parcel of one of your channel's orders (scope tracking:write). Each
    event (time, status, description) is stored once: pushing it again is counted in
    `duplicates`. A "delivered" event marks the parcel delivered. All or nothing."""
    result = services.push_tracking_events(
        api_key=request.auth,
        tracking_number=tracking_number[:40],
        carrier_code=payload.carrier,
        events=[
            services.PushedEvent(
                occurred_at=event.time,
                status=event.status.value,
                location=event.location,
                description=event.description,
            )
            for event in payload.events
        ],
    )
    return _json(
        {
            "tracking_number": normalize_tracking_number(tracking_number[:40]),
            "created": result.created,
            "duplicates": result.duplicates,
        }
    )


@api.get(
    "/stock",
    auth=key_auth(ApiScope.STOCK_READ),
    response={200: StockListOut, **PROBLEMS},
    summary="Read stock availability",
    tags=["stock"],
    operation_id="read_stock",
)
def read_stock(
    request: HttpRequest,
    sku: list[str] = SKU_CODES,
):
    """Units free to sell (on hand − reserved, all warehouses) per SKU code (scope stock:read).
    An unknown code is answered with `known: false`."""
    codes = [code.strip() for code in sku if code.strip()]
    if (
        not codes
        or len(codes) > STOCK_MAX_SKUS
        or any(len(code) > 40 or not _is_text(code) for code in codes)
    ):
        return problems.invalid_fields(
            request,
            errors=[
                {
                    "field": "sku",
                    "message": _("Give 1 to %(max)d SKU codes of at most 40 characters.")
                    % {"max": STOCK_MAX_SKUS},
                }
            ],
        )
    return _json(
        {
            "results": [
                {
                    "sku": item.sku,
                    "known": item.known,
                    "on_sale": item.on_sale,
                    "available": item.available,
                }
                for item in selectors.stock_by_code(codes)
            ]
        }
    )


@csrf_exempt
def not_found_view(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other address under /api/: a problem, not the site's HTML page."""
    return problems.not_found(request, _("There is no such API operation."))
