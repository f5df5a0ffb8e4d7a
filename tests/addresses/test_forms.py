"""Address forms (ORD-3): cascading choices, prefix, division checks, prefill."""

import pytest

from addresses.forms import AddressFieldsForm, AddressForm, initial_from_address
from orders.services import ShippingAddress
from tests.factories import make_address

VALID = {
    "recipient_name": "张伟",
    "recipient_phone": "+86 138-1234-5678",
    "province": "33",
    "city": "3301",
    "district": "330106",
    "address_line": "文三路 478 号",
    "postcode": "310013",
}


def _prefixed(data: dict, prefix: str = "address") -> dict:
    return {f"{prefix}-{key}": value for key, value in data.items()}


def _codes(choices) -> list[str]:
    return [value for value, _label in choices]


def test_bound_form_with_prefix_gives_names_codes_and_shipping_address():
    form = AddressFieldsForm(_prefixed(VALID), prefix="address")

    assert form.is_valid(), form.errors
    data = form.cleaned_data
    assert (data["province"], data["city"], data["district"]) == ("浙江省", "杭州市", "西湖区")
    assert (data["province_code"], data["city_code"], data["district_code"]) == (
        "33",
        "3301",
        "330106",
    )
    assert data["recipient_phone"] == "13812345678"
    assert form.shipping_address() == ShippingAddress(
        recipient_name="张伟",
        recipient_phone="13812345678",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address_line="文三路 478 号",
        postcode="310013",
    )


def test_unprefixed_data_is_ignored_by_a_prefixed_form():
    form = AddressFieldsForm(VALID, prefix="address")
    assert not form.is_valid()
    assert form.errors["province"] == ["Choose a province."]


def test_choices_follow_the_bound_province_and_city():
    form = AddressFieldsForm(_prefixed({"province": "44", "city": "4403"}), prefix="address")

    assert len(form.fields["province"].choices) == 32  # placeholder + 31
    assert "4403" in _codes(form.fields["city"].choices)
    assert "3301" not in _codes(form.fields["city"].choices)
    assert "440305" in _codes(form.fields["district"].choices)


def test_unbound_form_has_only_provinces_to_choose():
    form = AddressFieldsForm(prefix="address")
    assert _codes(form.fields["city"].choices) == [""]
    assert _codes(form.fields["district"].choices) == [""]


def test_city_of_another_province_is_refused_with_a_message():
    form = AddressFieldsForm(_prefixed({**VALID, "city": "4403"}), prefix="address")

    assert not form.is_valid()
    assert form.errors["city"] == ["Choose a city in 浙江省."]
    assert "district" not in form.errors
    # The re-rendered form keeps the province's cities and offers no stale districts.
    assert "3301" in _codes(form.fields["city"].choices)
    assert _codes(form.fields["district"].choices) == [""]


def test_district_of_another_city_and_unknown_province_are_refused():
    form = AddressFieldsForm({**VALID, "district": "440305"})
    assert not form.is_valid()
    assert form.errors["district"] == ["Choose a district in 杭州市."]

    form = AddressFieldsForm({**VALID, "province": "<script>"})
    assert not form.is_valid()
    assert form.errors["province"] == ["Choose a province from the list."]


def test_missing_selects_and_bad_phone_or_postcode_say_what_to_do():
    form = AddressFieldsForm(
        {**VALID, "city": "", "district": "", "recipient_phone": "021-62345678", "postcode": "31"}
    )
    assert not form.is_valid()
    assert form.errors["city"] == ["Choose a city."]
    assert form.errors["district"] == ["Choose a district."]
    assert form.errors["recipient_phone"] == [
        "Enter a valid mainland China mobile number, e.g. 138 1234 5678."
    ]
    assert form.errors["postcode"] == ["A postcode is 6 digits, e.g. 310013."]


def test_municipality_address():
    form = AddressFieldsForm({**VALID, "province": "31", "city": "3101", "district": "310115"})
    assert form.is_valid(), form.errors
    assert form.shipping_address().city == "上海市"


def test_prefill_from_an_order_snapshot_finds_the_codes():
    snapshot = make_address(province="广东省", city="深圳市", district="南山区")

    form = AddressFieldsForm.from_address(snapshot, prefix="address")

    assert form["province"].value() == "44"
    assert form["city"].value() == "4403"
    assert form["district"].value() == "440305"
    assert form["recipient_name"].value() == "张伟"
    assert "440305" in _codes(form.fields["district"].choices)
    html = form.as_div()
    assert 'name="address-province"' in html
    assert '<option value="4403" selected>深圳市</option>' in html


def test_prefill_from_unknown_names_leaves_the_selects_to_choose():
    initial = initial_from_address(make_address(province="火星", city="x", district="y"))
    assert "province" not in initial
    assert initial["address_line"]


def test_address_form_adds_label_and_default():
    form = AddressForm({**VALID, "label": "家", "is_default": "on"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["label"] == "家"
    assert form.cleaned_data["is_default"] is True


@pytest.mark.parametrize("prefix", [None, "address"])
def test_selects_carry_the_htmx_cascade(prefix):
    form = AddressFieldsForm(prefix=prefix)
    dash = f"{prefix}-" if prefix else ""
    province = form.fields["province"].widget.attrs
    assert province["hx-get"] == "/addresses/divisions/"
    assert province["hx-target"] == f"#id_{dash}city"
    assert province["hx-vals"] == f'{{"reset": "id_{dash}district"}}'
    assert form.fields["city"].widget.attrs["hx-target"] == f"#id_{dash}district"
    assert form.fields["recipient_phone"].widget.attrs["inputmode"] == "tel"
    assert form.fields["postcode"].widget.attrs["autocomplete"] == "postal-code"
