"""Read queries for the address book (ORD-3): one query each, whatever the book's size."""

from django.db.models import QuerySet

from .models import Address


def addresses_for(customer) -> QuerySet[Address]:
    """The customer's addresses, the default first, then the most recently updated."""
    if not getattr(customer, "is_authenticated", False):
        return Address.objects.none()
    return Address.objects.filter(customer=customer).order_by("-is_default", "-updated_at", "-id")


def default_address(customer) -> Address | None:
    return addresses_for(customer).filter(is_default=True).first()


def address_for(customer, address_id: int) -> Address:
    """The customer's address `address_id`; `Address.DoesNotExist` for anyone else's."""
    return addresses_for(customer).get(pk=address_id)
