"""Validation of contact details on addresses (ORD-3): mainland-China mobile numbers and
postcodes."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


def normalize_mobile(value: str) -> str:
    """The 11-digit national number of a valid mainland-China mobile number.

    Accepts spaces, dashes and a +86 / 0086 prefix ("+86 138-1234-5678" → "13812345678").
    Landlines, numbers of other countries and impossible numbers raise `ValidationError`."""
    text = (value or "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if (
        number is None
        or number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in MOBILE_TYPES
    ):
        raise ValidationError(
            _("Enter a valid mainland China mobile number, e.g. 138 1234 5678."),
            code="invalid_mobile",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[3:]


def validate_mainland_mobile(value: str) -> None:
    """Model-field validator: the value must be a mainland mobile number (any accepted form)."""
    normalize_mobile(value)


validate_postcode = RegexValidator(
    r"^[0-9]{6}\Z", _("A postcode is 6 digits, e.g. 310013."), code="invalid_postcode"
)
