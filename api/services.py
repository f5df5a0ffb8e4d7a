"""Write operations of the JSON API (API-1): issuing and revoking API keys, creating the store
of a connected system, placing an order for a key's store, replaying idempotent creates and
storing pushed tracking events.

Orders are placed by `stores.services.place_channel_order`, the one path of every channel
(ORD-12); tracking events by `orders.shipments.add_tracking_events`, the one path of every
carrier report (FUL-6). Nothing here knows about HTTP: refusals are `ApiRefused`, a
`DomainError` carrying what a problem-details answer says.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import SKU
from core.audit import record_staff_action
from core.errors import DomainError
from orders import services as order_services
from orders.models import Order, Shipment
from orders.shipments import (
    TRACKING_NUMBER,
    NewTrackingEvent,
    add_tracking_events,
    normalize_tracking_number,
)
from orders.tracking_io import ImportResult, time_problem
from stores.models import Store, StoreKind
from stores.services import ChannelOrder, place_channel_order

from . import keys, selectors
from .models import ApiKey, ApiScope, IdempotencyRecord


class ApiRefused(DomainError):
    """A request the API refuses; nothing was stored. `status`, `kind` (the last part of the
    problem type URI), `title` and `errors` ({field, message}) make its problem-details
    answer."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 422,
        kind: str = "invalid-request",
        title: str = "",
        errors: list[dict] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.title = title
        self.errors = errors or []


# --- keys -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    # The full key: shown once, never stored.
    token: str


def issue_api_key(*, actor, store_id: int, name: str, scopes: Sequence[str]) -> IssuedKey:
    """Issue a key for a store (kind api or marketplace, active) with `scopes`; the token is
    returned once and only its hash is stored. Recorded in the staff audit trail. `actor`
    needs `api.issue_apikey`; None is an operator at the command line (`issue_api_key`)."""
    if actor is not None and not actor.has_perm("api.issue_apikey"):
        raise DomainError(_("You are not allowed to issue API keys."))
    name = (name or "").strip()
    wanted = sorted(set(scopes))
    if not name:
        raise DomainError(_("Give the key a name."))
    if not wanted or any(scope not in ApiScope.values for scope in wanted):
        raise DomainError(_("Choose at least one scope among the ones offered."))
    with transaction.atomic():
        store = (
            Store.objects.filter(pk=store_id, kind__in=selectors.ISSUABLE_KINDS, is_active=True)
            .only("pk", "code", "name")
            .first()
        )
        if store is None:
            raise DomainError(_("Choose an active API or marketplace sales channel."))
        new = keys.generate()
        api_key = ApiKey.objects.create(
            store=store,
            name=name,
            prefix=new.prefix,
            secret_hash=keys.hash_secret(new.secret),
            scopes=wanted,
            created_by=actor,
        )
        record_staff_action(
            actor=actor,
            action="api_key.issue",
            target=api_key,
            label=f"{api_key.masked} {store.code}",
            after={"store": store.code, "name": name, "scopes": wanted},
        )
    return IssuedKey(api_key=api_key, token=new.token)


def revoke_api_key(*, actor, key_id: int, reason: str) -> ApiKey:
    """Revoke a key at once: every request with it is refused (401) from now on. Takes a reason,
    recorded with the revocation and in the staff audit trail. Revoking twice is refused."""
    if not actor.has_perm("api.revoke_apikey"):
        raise DomainError(_("You are not allowed to revoke API keys."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the key is revoked."))
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().filter(pk=key_id).first()
        if api_key is None:
            raise DomainError(_("There is no such API key."))
        if api_key.revoked_at is not None:
            raise DomainError(_("This key was already revoked."))
        api_key.revoked_at = timezone.now()
        api_key.revoked_by = actor
        api_key.revoke_reason = reason[:500]
        api_key.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        record_staff_action(
            actor=actor,
            action="api_key.revoke",
            target=api_key,
            reason=reason,
            label=api_key.masked,
            before={"revoked": False},
            after={"revoked": True},
        )
    return api_key


def create_api_store(*, actor, code: str, name: str) -> Store:
    """Create the sales channel of a system connected through the API (kind "api"), so that keys
    can be issued for it. Marketplace stores are created on the channels screen. `actor` needs
    `stores.add_store` and `api.issue_apikey`; None is an operator at the command line."""
    if actor is not None and not (
        actor.has_perm("stores.add_store") and actor.has_perm("api.issue_apikey")
    ):
        raise DomainError(_("You are not allowed to create sales channels."))
    code, name = (code or "").strip().lower(), (name or "").strip()
    if not code or not name:
        raise DomainError(_("A sales channel needs a code and a name."))
    try:
        with transaction.atomic():
            store = Store.objects.create(code=code, name=name, kind=StoreKind.API)
            record_staff_action(
                actor=actor,
                action="store.create",
                target=store,
                after={"code": code, "name": name, "kind": StoreKind.API},
            )
    except IntegrityError:
        raise DomainError(
            _("A sales channel with the code “%(code)s” already exists.") % {"code": code}
        ) from None
    return store


# --- orders -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiLine:
    sku: str
    quantity: int
    unit_price: Decimal


def place_api_order(
    *,
    api_key: ApiKey,
    external_id: str,
    lines: Sequence[ApiLine],
    address: order_services.ShippingAddress,
    contact_email: str,
    shipping_amount: Decimal,
    payment_method: str,
    note: str = "",
) -> ChannelOrder:
    """Place the order for the key's store through `place_channel_order` (same audit,
    reservation and warehouse paths as every order), or find it if the store's id is known.

    SKU codes are resolved in one query; unknown, inactive or repeated SKUs and short stock are
    refused line by line (`ApiRefused` with errors named ``lines[<i>].sku`` / ``.quantity``);
    nothing is created then."""
    store = api_key.store
    # A known order is returned as it is, whatever its lines say now.
    existing = Order.objects.filter(store=store, external_id=external_id.strip()).first()
    if existing is not None and external_id.strip():
        return ChannelOrder(existing, created=False)
    codes = [line.sku for line in lines]
    skus = {
        sku.code: sku
        for sku in SKU.objects.select_related("product")
        .filter(code__in=codes)
        .only("pk", "code", "is_active", "product__is_active", "product__name")
    }
    errors, seen = [], set()
    for index, line in enumerate(lines):
        field = f"lines[{index}].sku"
        sku = skus.get(line.sku)
        if sku is None:
            errors.append(
                {"field": field, "message": _("Unknown SKU “%(sku)s”.") % {"sku": line.sku}}
            )
        elif line.sku in seen:
            errors.append(
                {
                    "field": field,
                    "message": _("SKU “%(sku)s” is on an earlier line: one line per SKU.")
                    % {"sku": line.sku},
                }
            )
        elif not (sku.is_active and sku.product.is_active):
            errors.append(
                {
                    "field": field,
                    "message": _("SKU “%(sku)s” is no longer on sale.") % {"sku": line.sku},
                }
            )
        seen.add(line.sku)
    if errors:
        raise ApiRefused(
            _("Some lines cannot be ordered; nothing was created."),
            kind="invalid-lines",
            title=_("The order's lines are not valid"),
            errors=errors,
        )

    index_of = {skus[line.sku].pk: index for index, line in enumerate(lines)}
    try:
        return place_channel_order(
            store=store,
            external_id=external_id,
            lines=[
                order_services.LineRequest(
                    sku_id=skus[line.sku].pk, quantity=line.quantity, unit_price=line.unit_price
                )
                for line in lines
            ],
            address=address,
            contact_email=contact_email,
            shipping_amount=shipping_amount,
            payment_method=payment_method,
            customer_note=note,
        )
    except order_services.OrderOutOfStock as short:
        raise ApiRefused(
            short.message,
            status=409,
            kind="out-of-stock",
            title=_("Not enough stock"),
            errors=[
                {
                    "field": f"lines[{index_of[shortage.sku_id]}].quantity",
                    "message": _("%(available)d available, %(wanted)d wanted.")
                    % {"available": max(shortage.available, 0), "wanted": shortage.wanted},
                }
                for shortage in short.shortages
                if shortage.sku_id in index_of
            ],
        ) from None
    except order_services.InvalidOrder as refused:
        raise ApiRefused(
            refused.message, kind="order-refused", title=_("The order cannot be created")
        ) from None


# --- idempotency ------------------------------------------------------------------------------
@dataclass(frozen=True)
class IdempotentResponse:
    status: int
    body: dict
    replayed: bool


def request_fingerprint(data) -> str:
    """sha256 of `data` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def respond_once(
    *,
    api_key: ApiKey,
    key: str,
    fingerprint: str,
    respond: Callable[[], tuple[int, dict]],
) -> IdempotentResponse:
    """Run `respond` (which places the order and returns the status and body to send) once per
    (API key, idempotency key), keeping its answer; a retry gets the first answer back.

    The record is inserted first, in the same transaction as the order: a second request with
    the same key waits on the unique index until the first commits, then reads its answer, so
    concurrent retries make one order. A refusal (`respond` raises) rolls the record back too,
    so a retry after, say, a restock is tried again. The same key with another body is refused
    (422)."""
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                api_key=api_key, key=key, request_hash=fingerprint, status_code=0, response_body={}
            )
            status, body = respond()
            record.status_code, record.response_body = status, body
            record.save(update_fields=["status_code", "response_body"])
            return IdempotentResponse(status=status, body=body, replayed=False)
    except IntegrityError:
        first = IdempotencyRecord.objects.filter(api_key=api_key, key=key).first()
        if first is None:
            raise
    if first.request_hash != fingerprint:
        raise ApiRefused(
            _(
                "This Idempotency-Key was used with another request body; use a new key for "
                "a new request."
            ),
            kind="idempotency-key-reused",
            title=_("Idempotency-Key already used"),
            errors=[{"field": "Idempotency-Key", "message": _("Already used for another body.")}],
        )
    return IdempotentResponse(status=first.status_code, body=first.response_body, replayed=True)


def purge_idempotency_records(*, older_than: datetime) -> int:
    """Delete the records kept for retries before `older_than`; returns how many."""
    deleted, _per_model = IdempotencyRecord.objects.filter(created_at__lt=older_than).delete()
    return deleted


# --- tracking ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PushedEvent:
    occurred_at: datetime
    status: str
    location: str = ""
    description: str = ""


def push_tracking_events(
    *,
    api_key: ApiKey,
    tracking_number: str,
    carrier_code: str = "",
    events: Sequence[PushedEvent],
) -> ImportResult:
    """Store tracking events for a parcel of one of the key's store's orders, each once (a
    replay adds nothing: `add_tracking_events`, as the carrier webhook). A parcel of another
    store is unknown here (404); a number two carriers use needs `carrier_code` (422); an event
    in the future is refused by its index (422). All or nothing."""
    number = normalize_tracking_number(tracking_number)
    found = []
    # A number that is not 8-30 letters and digits is nobody's parcel.
    if TRACKING_NUMBER.match(number):
        parcels = Shipment.objects.filter(order__store=api_key.store_id, tracking_number=number)
        if carrier_code:
            parcels = parcels.filter(carrier__code=carrier_code)
        found = list(parcels.values_list("pk", flat=True)[:2])
    if not found:
        raise ApiRefused(
            _("No parcel of this sales channel's orders has tracking number %(number)s.")
            % {"number": number if TRACKING_NUMBER.match(number) else "?"},
            status=404,
            kind="not-found",
            title=_("Not found"),
        )
    if len(found) > 1:
        raise ApiRefused(
            _("Two carriers use tracking number %(number)s: name the carrier.")
            % {"number": number},
            kind="carrier-needed",
            title=_("Which carrier?"),
            errors=[{"field": "carrier", "message": _("Name the carrier's code.")}],
        )
    now = timezone.now()
    errors = [
        {"field": f"events[{index}].time", "message": problem}
        for index, event in enumerate(events)
        if (problem := time_problem(event.occurred_at, now=now))
    ]
    if errors:
        raise ApiRefused(
            _("Some events are not valid; none was stored."),
            kind="invalid-events",
            title=_("The tracking events are not valid"),
            errors=errors,
        )
    results = add_tracking_events(
        events=[
            NewTrackingEvent(
                shipment_id=found[0],
                occurred_at=event.occurred_at,
                status=event.status,
                location=event.location,
                description=event.description,
            )
            for event in events
        ]
    )
    created = sum(1 for _event, new in results if new)
    return ImportResult(created=created, duplicates=len(results) - created)
