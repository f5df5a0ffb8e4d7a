"""Where tracking numbers come from (FUL-3).

A carrier's `integration` chooses its gateway. A real carrier's API (SF, ZTO, JD…) is one
more class with the same `book()` and one more `CarrierIntegration` choice; the sandbox makes
numbers up so that the whole floor works without a contract, and "manual" carriers' numbers
are printed on their own waybills, typed or scanned by the packer.
"""

import secrets
from typing import Protocol

from django.utils.translation import gettext as _

from core.errors import DomainError
from orders.models import Carrier, CarrierIntegration


class CarrierRefused(DomainError):
    """The carrier gave no tracking number; nothing was booked."""


class CarrierGateway(Protocol):
    def book(self, *, carrier: Carrier, service: str, weight_grams: int, order_number: str) -> str:
        """Book a pick-up of one parcel and return its tracking number."""


class SandboxGateway:
    """Made-up numbers in the carriers' usual shape: the code's letters and 12 digits. The
    parcel's unique constraint guards the (1 in 10¹²) collision."""

    def book(self, *, carrier: Carrier, service: str, weight_grams: int, order_number: str) -> str:
        prefix = "".join(ch for ch in carrier.code.upper() if ch.isalnum())[:4] or "SB"
        return f"{prefix}{secrets.randbelow(10**12):012d}"


class ManualGateway:
    def book(self, *, carrier: Carrier, service: str, weight_grams: int, order_number: str) -> str:
        raise CarrierRefused(
            _("%(carrier)s numbers come on its own waybills: type or scan the number.")
            % {"carrier": carrier.name}
        )


GATEWAYS: dict[str, CarrierGateway] = {
    CarrierIntegration.SANDBOX: SandboxGateway(),
    CarrierIntegration.MANUAL: ManualGateway(),
}


def gateway_for(carrier: Carrier) -> CarrierGateway:
    return GATEWAYS.get(carrier.integration, GATEWAYS[CarrierIntegration.MANUAL])
