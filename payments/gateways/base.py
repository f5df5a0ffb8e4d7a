"""The interface every payment gateway implements (ORD-4), and how the shop picks one.

A gateway does four things: sends the payer to its payment page (`start`), reads its
server-to-server notification after checking the signature (`parse_notification`), reads the
browser's return after checking its signature (`parse_return` — shown to the payer, never
trusted to mark anything paid), and sends money back (`refund`). What the shop does with a
notification is decided in `payments.services`, the same for every gateway.

A real provider is one more subclass, named in settings.PAYMENT_GATEWAYS.
"""

import functools
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils.module_loading import import_string


class InvalidNotification(Exception):
    """A notification or browser return we refuse. `reason` is one of the class constants."""

    SIGNATURE = "signature"
    STALE = "stale"
    MALFORMED = "malformed"

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class UnknownGateway(LookupError):
    """No gateway of that name is configured."""


@dataclass(frozen=True)
class Notification:
    """What a verified notification says. `amount` is parsed from a string, never a float."""

    reference: str
    gateway_txn_id: str
    amount: Decimal
    succeeded: bool
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ReturnInfo:
    """What the signed browser return says: only for showing, never for marking paid."""

    reference: str
    status: str


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    gateway_refund_id: str = ""
    message: str = ""


class PaymentGateway(ABC):
    name: str = ""
    # The headers that carry the signature; kept with every notification received.
    signature_headers: tuple[str, ...] = ()

    @abstractmethod
    def start(self, *, payment, return_url: str, notify_url: str) -> str:
        """Open a charge for `payment` and return the URL to send the payer to."""

    @abstractmethod
    def parse_notification(self, *, body: bytes, headers: Mapping[str, str]) -> Notification:
        """Verify the signature and the timestamp, then parse. Raises `InvalidNotification`."""

    @abstractmethod
    def parse_return(self, *, query: Mapping[str, str]) -> ReturnInfo:
        """Verify the browser return's signature. Raises `InvalidNotification`."""

    @abstractmethod
    def refund(self, *, payment, amount: Decimal, reason: str, reference: str) -> RefundResult:
        """Send `amount` of `payment` back. `reference` is our refund's unique reference: asking
        twice with the same one refunds once."""


@functools.cache
def _load(path: str) -> PaymentGateway:
    return import_string(path)()


def get_gateway(name: str | None = None) -> PaymentGateway:
    """The gateway called `name` (default: settings.PAYMENT_GATEWAY), one instance per class."""
    name = name or settings.PAYMENT_GATEWAY
    path = settings.PAYMENT_GATEWAYS.get(name)
    if path is None:
        raise UnknownGateway(name)
    return _load(path)
