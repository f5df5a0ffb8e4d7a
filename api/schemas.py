"""Request and response bodies of the JSON API (API-1), as django-ninja schemas (they make the
OpenAPI description), and the functions that turn orders into response bodies.

Amounts are strings with two decimals ("206.00"), never floats; times are ISO 8601 with their
offset, in the shop's time zone.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import AwareDatetime, field_validator, model_validator

from addresses.validators import normalize_mobile
from orders.models import Order, OrderEventKind, OrderState, TrackingStatus
from orders.shipments import DESCRIPTION_MAX, LOCATION_MAX
from orders.tracking_io import PUSH_MAX_EVENTS

MAX_LINES = 100
# Order amounts are numeric(12, 2).
MAX_AMOUNT = Decimal("9999999999.99")
Money = Annotated[
    Decimal,
    Field(
        ge=0,
        max_digits=12,
        decimal_places=2,
        json_schema_extra={"examples": ["99.00"]},
        description="An amount in yuan, as a string with up to two decimals.",
    ),
]


def _clean_text(value: str) -> str:
    """Stripped text; refuses characters no database column can keep."""
    if "\x00" in value:
        raise ValueError(_("Control characters are not allowed."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(_("The text is not valid Unicode.")) from None
    return value.strip()


def _required_text(value: str) -> str:
    value = _clean_text(value)
    if not value:
        raise ValueError(_("This field cannot be empty."))
    return value


# --- requests ---------------------------------------------------------------------------------
class AddressIn(Schema):
    """The shipping address, checked as the storefront checks it: every field filled in and a
    mainland China mobile number. Province, city and district are checked against the division
    data by the order audit: an order with a place not found there is held for a person."""

    recipient_name: str = Field(min_length=1, max_length=50, examples=["张伟"])
    recipient_phone: str = Field(
        min_length=1,
        max_length=20,
        examples=["13812345678"],
        description="A mainland China mobile number; +86, spaces and dashes are accepted.",
    )
    province: str = Field(min_length=1, max_length=30, examples=["浙江省"])
    city: str = Field(min_length=1, max_length=30, examples=["杭州市"])
    district: str = Field(min_length=1, max_length=30, examples=["西湖区"])
    address_line: str = Field(min_length=1, max_length=200, examples=["文三路 478 号 1203 室"])
    postcode: str = Field("", max_length=6, examples=["310013"])

    @field_validator("recipient_name", "province", "city", "district", "address_line")
    @classmethod
    def _filled_in(cls, value: str) -> str:
        return _required_text(value)

    @field_validator("recipient_phone")
    @classmethod
    def _mobile(cls, value: str) -> str:
        try:
            return normalize_mobile(_required_text(value))
        except ValidationError as error:
            raise ValueError(error.messages[0]) from None

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str) -> str:
        value = _clean_text(value)
        if value and not (len(value) == 6 and value.isascii() and value.isdigit()):
            raise ValueError(_("A postcode is 6 digits, e.g. 310013."))
        return value


class LineIn(Schema):
    sku: str = Field(min_length=1, max_length=40, description="Our SKU code.", examples=["SKU-1"])
    quantity: int = Field(ge=1, le=9999)
    unit_price: Money = Field(description="The price the channel sold one unit at.")

    @field_validator("sku")
    @classmethod
    def _code(cls, value: str) -> str:
        return _required_text(value)


class OrderIn(Schema):
    external_id: str = Field(
        min_length=1,
        max_length=64,
        description="Your id of the order, unique in your sales channel: sending it again "
        "returns the order already created (200).",
        examples=["ERP-100234"],
    )
    contact_email: str = Field(min_length=3, max_length=254, examples=["buyer@example.com"])
    address: AddressIn
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    shipping_amount: Money = Decimal("0.00")
    payment_method: Literal["online", "cod"] = Field(
        "online",
        description="online: paid on your side (the order is recorded paid, its total); cod: "
        "cash on delivery, collected by the carrier.",
    )
    note: str = Field("", max_length=500, description="The buyer's note.")

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str) -> str:
        return _required_text(value)

    @field_validator("note")
    @classmethod
    def _note(cls, value: str) -> str:
        return _clean_text(value)

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = _required_text(value)
        try:
            validate_email(value)
        except ValidationError:
            raise ValueError(_("Enter a valid e-mail address.")) from None
        return value.lower()

    @model_validator(mode="after")
    def _total_fits(self) -> "OrderIn":
        goods = sum((line.unit_price * line.quantity for line in self.lines), Decimal("0"))
        if goods + self.shipping_amount > MAX_AMOUNT:
            raise ValueError(_("The order's total is too large."))
        return self


class TrackingEventIn(Schema):
    time: AwareDatetime = Field(description="When the carrier scanned the parcel, with offset.")
    status: TrackingStatus
    location: str = Field("", max_length=LOCATION_MAX)
    description: str = Field("", max_length=DESCRIPTION_MAX)

    @field_validator("location", "description")
    @classmethod
    def _text(cls, value: str) -> str:
        return _clean_text(value)


class TrackingPushIn(Schema):
    carrier: str = Field(
        "",
        max_length=10,
        description="The carrier's code; needed only when two carriers use the number.",
    )
    events: list[TrackingEventIn] = Field(min_length=1, max_length=PUSH_MAX_EVENTS)

    @field_validator("carrier")
    @classmethod
    def _carrier(cls, value: str) -> str:
        return _clean_text(value)


# --- responses --------------------------------------------------------------------------------
class ProblemError(Schema):
    field: str
    message: str


class ProblemOut(Schema):
    """RFC 9457 problem details (application/problem+json)."""

    type: str = Field(examples=["urn:shop:problem:api:validation"])
    title: str
    status: int
    detail: str
    instance: str
    errors: list[ProblemError] | None = None


class AddressOut(Schema):
    recipient_name: str
    recipient_phone: str
    province: str
    city: str
    district: str
    address_line: str
    postcode: str


class AmountsOut(Schema):
    goods: str
    discount: str
    shipping: str
    total: str
    paid: str


class LineOut(Schema):
    sku: str
    product_name: str
    variant: str
    quantity: int
    unit_price: str
    discount: str
    amount: str


class TimelineEntryOut(Schema):
    at: datetime
    kind: OrderEventKind
    label: str
    from_state: OrderState | Literal[""]
    to_state: OrderState | Literal[""]


class TrackingEventOut(Schema):
    at: datetime
    status: TrackingStatus
    label: str
    location: str
    description: str


class ShipmentOut(Schema):
    carrier: str
    carrier_name: str
    tracking_number: str
    tracking_url: str
    service: str
    shipped_at: datetime
    expected_delivery: date | None
    delivered_at: datetime | None
    events: list[TrackingEventOut]


class OrderSummaryOut(Schema):
    number: str
    external_id: str
    state: OrderState
    state_label: str
    held_for_review: bool
    payment_method: str
    total: str
    paid: str
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None


class OrderOut(OrderSummaryOut):
    store: str
    contact_email: str
    address: AddressOut
    amounts: AmountsOut
    note: str
    lines: list[LineOut]
    timeline: list[TimelineEntryOut]
    shipments: list[ShipmentOut]


class OrderPageOut(Schema):
    results: list[OrderSummaryOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null when there is none yet (ask again "
        "later with the last cursor you had)."
    )


class StockOut(Schema):
    sku: str
    known: bool
    on_sale: bool
    available: int


class StockListOut(Schema):
    results: list[StockOut]


class TrackingPushOut(Schema):
    tracking_number: str
    created: int = Field(description="Events stored now.")
    duplicates: int = Field(description="Events already known, not stored again.")


# --- bodies -----------------------------------------------------------------------------------
def when(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def order_summary(order: Order) -> dict:
    return {
        "number": order.number,
        "external_id": order.external_id,
        "state": order.state,
        "state_label": str(order.get_state_display()),
        "held_for_review": order.needs_review,
        "payment_method": order.payment_method,
        "total": money(order.total_amount),
        "paid": money(order.paid_amount),
        "created_at": when(order.created_at),
        "updated_at": when(order.updated_at),
        "paid_at": when(order.paid_at),
        "shipped_at": when(order.shipped_at),
        "completed_at": when(order.completed_at),
        "cancelled_at": when(order.cancelled_at),
    }


def order_detail(order: Order, *, store_code: str) -> dict:
    """The full resource of an order whose lines, events and shipments (with carrier and
    tracking events) are prefetched (`selectors.store_order`)."""
    return {
        **order_summary(order),
        "store": store_code,
        "contact_email": order.contact_email,
        "address": {
            "recipient_name": order.recipient_name,
            "recipient_phone": order.recipient_phone,
            "province": order.province,
            "city": order.city,
            "district": order.district,
            "address_line": order.address_line,
            "postcode": order.postcode,
        },
        "amounts": {
            "goods": money(order.goods_amount),
            "discount": money(order.discount_amount),
            "shipping": money(order.shipping_amount),
            "total": money(order.total_amount),
            "paid": money(order.paid_amount),
        },
        "note": order.customer_note,
        "lines": [
            {
                "sku": line.sku_code,
                "product_name": line.product_name,
                "variant": line.variant_label,
                "quantity": line.quantity,
                "unit_price": money(line.unit_price),
                "discount": money(line.discount_amount),
                "amount": money(line.net_amount),
            }
            for line in order.lines.all()
        ],
        "timeline": [
            {
                "at": when(event.created_at),
                "kind": event.kind,
                "label": str(event.get_kind_display()),
                "from_state": event.from_state,
                "to_state": event.to_state,
            }
            for event in order.events.all()
        ],
        "shipments": [
            {
                "carrier": shipment.carrier.code,
                "carrier_name": shipment.carrier.name,
                "tracking_number": shipment.tracking_number,
                "tracking_url": shipment.tracking_url(),
                "service": shipment.service,
                "shipped_at": when(shipment.shipped_at),
                "expected_delivery": (
                    shipment.expected_delivery.isoformat() if shipment.expected_delivery else None
                ),
                "delivered_at": when(shipment.delivered_at),
                "events": [
                    {
                        "at": when(event.occurred_at),
                        "status": event.status,
                        "label": str(event.get_status_display()),
                        "location": event.location,
                        "description": event.description,
                    }
                    for event in shipment.tracking_events.all()
                ],
            }
            for shipment in order.shipments.all()
        ],
    }
