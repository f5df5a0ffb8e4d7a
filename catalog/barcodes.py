"""Barcode rules for SKUs: EAN-13 with its check digit, or printable Code 128 text."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def ean13_check_digit(first_twelve: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first_twelve))
    return str((10 - total % 10) % 10)


def make_ean13(first_twelve: str) -> str:
    return first_twelve + ean13_check_digit(first_twelve)


def validate_barcode(value: str) -> None:
    if value.isdigit() and len(value) == 13:
        if ean13_check_digit(value[:12]) != value[12]:
            raise ValidationError(
                _("%(value)s is not a valid EAN-13: its check digit is wrong."),
                params={"value": value},
            )
        return
    # Code 128 encodes printable ASCII; a scanner types it back as it is.
    if not value or any(not (32 <= ord(ch) < 127) for ch in value) or value != value.strip():
        raise ValidationError(
            _("A barcode is an EAN-13 number or Code 128 text (printable ASCII, no edge spaces).")
        )
