"""Write operations on the address book (ORD-3).

Every service runs in one transaction and first locks the customer's row, then their address
rows ordered by pk: two requests of the same customer (two tabs, a double click) change the book
one after the other, so "the first address is the default", "one default" and "at most
MAX_ADDRESSES" hold under concurrency too. An address of another customer is
`Address.DoesNotExist`, exactly as if it did not exist (views answer 404).

`data` is a mapping with the model's field names, as `AddressForm.cleaned_data` gives it:
recipient_name, recipient_phone, province_code, city_code, district_code, address_line,
postcode, and optionally label and is_default. The division codes are re-checked and the names
taken from the division data; without codes, the province / city / district names are looked up
(so an order's `ShippingAddress` fields are accepted as they are).
"""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import DomainError

from . import divisions
from .models import Address
from .validators import normalize_mobile

MAX_ADDRESSES = 20

CONTENT_FIELDS = (
    "label",
    "recipient_name",
    "recipient_phone",
    "province_code",
    "city_code",
    "district_code",
    "province",
    "city",
    "district",
    "address_line",
    "postcode",
)


class InvalidAddress(DomainError):
    """The address as given cannot be saved (missing or invalid field)."""


class AddressBookFull(DomainError):
    """The customer already keeps MAX_ADDRESSES addresses."""


def _lock_book(customer) -> list[Address]:
    """Lock the customer's row, then their addresses ordered by pk, and return the addresses."""
    get_user_model().objects.select_for_update().filter(pk=customer.pk).first()
    return list(Address.objects.select_for_update().filter(customer=customer).order_by("pk"))


def _find(book: list[Address], address_id) -> Address:
    for address in book:
        if str(address.pk) == str(address_id):
            return address
    raise Address.DoesNotExist(f"Address {address_id} is not in this customer's book.")


def _clean_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The content fields to store, checked: divisions resolved, phone normalised."""
    if data.get("province_code") or data.get("city_code") or data.get("district_code"):
        province, city, district = divisions.resolve(
            data.get("province_code", ""), data.get("city_code", ""), data.get("district_code", "")
        )
    else:
        found = divisions.find_by_names(
            data.get("province", ""), data.get("city", ""), data.get("district", "")
        )
        if found is None:
            raise InvalidAddress(_("Choose the province, city and district from the lists."))
        province, city, district = found
    try:
        phone = normalize_mobile(data.get("recipient_phone", ""))
    except ValidationError as error:
        raise InvalidAddress(error.messages[0]) from None
    fields = {
        "label": (data.get("label") or "").strip(),
        "recipient_name": (data.get("recipient_name") or "").strip(),
        "recipient_phone": phone,
        "province_code": province.code,
        "city_code": city.code,
        "district_code": district.code,
        "province": province.name,
        "city": city.name,
        "district": district.name,
        "address_line": (data.get("address_line") or "").strip(),
        "postcode": (data.get("postcode") or "").strip(),
    }
    if not fields["recipient_name"]:
        raise InvalidAddress(_("Enter the recipient's name."))
    if not fields["address_line"]:
        raise InvalidAddress(_("Enter the street address."))
    try:
        Address(**fields).clean_fields(exclude=["customer"])
    except ValidationError as error:
        raise InvalidAddress(" ".join(error.messages)) from None
    return fields


def _make_default(book: list[Address], address: Address) -> None:
    """Move the default flag to `address`: the old default is cleared first, so the one-default
    constraint holds after each statement. Flag changes do not touch `updated_at`."""
    Address.objects.filter(customer_id=address.customer_id, is_default=True).exclude(
        pk=address.pk
    ).update(is_default=False)
    Address.objects.filter(pk=address.pk).update(is_default=True)
    for other in book:
        other.is_default = other.pk == address.pk
    address.is_default = True


def create_address(*, customer, data: Mapping[str, Any]) -> Address:
    """Add an address to the customer's book. The first address becomes the default, and so
    does a new one with `is_default` set. Refused (AddressBookFull) beyond MAX_ADDRESSES."""
    fields = _clean_fields(data)
    with transaction.atomic():
        book = _lock_book(customer)
        if len(book) >= MAX_ADDRESSES:
            raise AddressBookFull(
                _(
                    "Your address book is full (%(limit)d addresses). "
                    "Delete an address you no longer use first."
                )
                % {"limit": MAX_ADDRESSES}
            )
        address = Address.objects.create(customer=customer, is_default=False, **fields)
        if not book or data.get("is_default"):
            _make_default(book, address)
    return address


def update_address(*, customer, address_id: int, data: Mapping[str, Any]) -> Address:
    """Replace the address's content. `is_default` set makes it the default; clearing it on the
    default address changes nothing (choose another default instead: there is always one)."""
    fields = _clean_fields(data)
    with transaction.atomic():
        book = _lock_book(customer)
        address = _find(book, address_id)
        for name, value in fields.items():
            setattr(address, name, value)
        address.save(update_fields=[*CONTENT_FIELDS, "updated_at"])
        if data.get("is_default") and not address.is_default:
            _make_default(book, address)
    return address


def delete_address(*, customer, address_id: int) -> None:
    """Delete the address. If it was the default, the most recently updated remaining address
    becomes the default."""
    with transaction.atomic():
        book = _lock_book(customer)
        address = _find(book, address_id)
        address.delete()
        remaining = [other for other in book if other is not address]
        if address.is_default and remaining:
            newest = max(remaining, key=lambda other: (other.updated_at, other.pk))
            _make_default(remaining, newest)


def set_default_address(*, customer, address_id: int) -> Address:
    """Make the address the customer's default one."""
    with transaction.atomic():
        book = _lock_book(customer)
        address = _find(book, address_id)
        if not address.is_default:
            _make_default(book, address)
    return address
