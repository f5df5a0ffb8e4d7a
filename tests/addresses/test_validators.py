"""Mainland mobile numbers and postcodes (ORD-3)."""

import pytest
from django.core.exceptions import ValidationError

from addresses.validators import normalize_mobile, validate_mainland_mobile, validate_postcode


@pytest.mark.parametrize(
    "value",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "0086 13812345678",
        " 13812345678 ",
    ],
)
def test_mobile_forms_normalise_to_the_national_number(value):
    assert normalize_mobile(value) == "13812345678"


@pytest.mark.parametrize("value", ["19912345678", "15012345678", "17712345678"])
def test_other_mobile_ranges_are_accepted(value):
    assert normalize_mobile(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "021-62345678",  # Shanghai landline
        "+86 10 6552 9988",  # Beijing landline
        "1381234567",  # one digit short
        "138123456789",  # one digit too many
        "12345678901",  # no such range
        "+1 650 253 0000",  # another country
        "+852 9123 4567",  # Hong Kong
        "hello",
        "",
    ],
)
def test_landlines_and_invalid_numbers_are_refused(value):
    with pytest.raises(ValidationError) as raised:
        normalize_mobile(value)
    assert raised.value.messages == [
        "Enter a valid mainland China mobile number, e.g. 138 1234 5678."
    ]
    with pytest.raises(ValidationError):
        validate_mainland_mobile(value)


def test_postcode_is_six_digits():
    validate_postcode("310013")
    for value in ("31001", "3100133", "31001a", "310013\n"):
        with pytest.raises(ValidationError):
            validate_postcode(value)
