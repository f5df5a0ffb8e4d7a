"""Orders from other sales channels (ORD-12): the one path the marketplace import and the JSON
API both take, so that an order from anywhere is created, paid and audited the same way.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.audit import record_staff_action
from core.errors import DomainError
from orders import services as order_services
from orders.models import Order, PaymentMethod

from . import mapping as column_mapping
from .models import Store, StoreKind


@dataclass(frozen=True)
class ChannelOrder:
    order: Order
    # False when the store's id was already known: the first order, unchanged.
    created: bool


def place_channel_order(
    *,
    store: Store,
    external_id: str,
    lines: Sequence[order_services.LineRequest],
    address: order_services.ShippingAddress,
    contact_email: str,
    shipping_amount: Decimal = Decimal("0.00"),
    payment_method: str = PaymentMethod.ONLINE,
    customer_note: str = "",
    paid_at: datetime | None = None,
) -> ChannelOrder:
    """Create the order a store sold, or find it if the store's id is already known.

    The order keeps the store's prices (`LineRequest.unit_price`, required) and its stock is
    reserved all or nothing (`orders.services.OrderOutOfStock` names the short lines). An order
    the store says was paid online is recorded paid with the store's amount, the order's total,
    in the same transaction: it is audited and reaches the warehouse like a storefront order
    (ORD-6, FUL-1). A cash-on-delivery order is accepted for delivery the same way.

    Two sends of the same store order at once make one order: the second finds the first
    (unique store + external id).
    """
    external_id = external_id.strip()
    existing = Order.objects.filter(store=store, external_id=external_id).first()
    if existing is not None and external_id:
        return ChannelOrder(existing, created=False)
    try:
        with transaction.atomic():
            order = order_services.create_order(
                contact_email=contact_email,
                lines=lines,
                address=address,
                payment_method=payment_method,
                store=store,
                external_id=external_id,
                shipping_amount=shipping_amount,
                customer_note=customer_note,
            )
            if payment_method == PaymentMethod.CASH_ON_DELIVERY:
                order = order_services.accept_cash_on_delivery(order_id=order.pk)
            else:
                order = order_services.record_payment(
                    order_id=order.pk,
                    amount=order.total_amount,
                    reference=f"{store.code}:{external_id}",
                    paid_at=paid_at,
                )
    except IntegrityError:
        existing = Order.objects.filter(store=store, external_id=external_id).first()
        if existing is None:
            raise
        return ChannelOrder(existing, created=False)
    return ChannelOrder(order, created=True)


# --- marketplace stores and their column mapping (ORD-12) -------------------------------------
class StoreRefused(DomainError):
    """A store or mapping change refused; nothing changed."""


def create_marketplace_store(*, actor, code: str, name: str, is_active: bool = True) -> Store:
    """A new marketplace store, reading files with the default (Chinese) column mapping until
    someone changes it. Its code is fixed from then on: payments and files refer to it."""
    code = code.strip()
    with transaction.atomic():
        if Store.objects.filter(code=code).exists():
            raise StoreRefused(
                _("A store with the code “%(code)s” exists already.") % {"code": code}
            )
        store = Store.objects.create(
            code=code,
            name=name.strip(),
            kind=StoreKind.MARKETPLACE,
            is_active=is_active,
            column_mapping=dict(column_mapping.PRESETS[column_mapping.DEFAULT_PRESET]),
        )
        record_staff_action(
            actor=actor,
            action="store.create",
            target=store,
            after={"code": store.code, "name": store.name, "is_active": store.is_active},
        )
    return store


def update_store(*, actor, store_id: int, name: str, is_active: bool) -> Store:
    """Rename a store or switch it on or off (an inactive store sends no new orders)."""
    with transaction.atomic():
        store = Store.objects.select_for_update().get(pk=store_id)
        before = {"name": store.name, "is_active": store.is_active}
        store.name = name.strip()
        store.is_active = is_active
        store.save(update_fields=["name", "is_active"])
        after = {"name": store.name, "is_active": store.is_active}
        if after != before:
            record_staff_action(
                actor=actor, action="store.change", target=store, before=before, after=after
            )
    return store


def save_column_mapping(*, actor, store_id: int, mapping: dict[str, str]) -> Store:
    """Store the headers of a marketplace store's export. Refused (nothing saved) when a
    required field has no header or a header is given twice (`mapping.mapping_problems`)."""
    cleaned = {
        field.name: (mapping.get(field.name) or "").strip()
        for field in column_mapping.IMPORT_FIELDS
        if (mapping.get(field.name) or "").strip()
    }
    problems = column_mapping.mapping_problems(cleaned)
    if problems:
        raise StoreRefused(
            "; ".join(
                f"{column_mapping.FIELDS_BY_NAME[name].label}: {message}"
                for name, message in problems.items()
            )
        )
    with transaction.atomic():
        store = Store.objects.select_for_update().get(pk=store_id)
        if store.kind != StoreKind.MARKETPLACE:
            raise StoreRefused(_("Only marketplace stores import files."))
        before = column_mapping.effective_mapping(store.column_mapping)
        store.column_mapping = cleaned
        store.save(update_fields=["column_mapping"])
        if before != cleaned:
            record_staff_action(
                actor=actor,
                action="store.change_mapping",
                target=store,
                before=before,
                after=cleaned,
            )
    return store
