"""Address forms (ORD-3): the address fields checkout and the address book share, with
province → city → district selects fed from the division data.

    form = AddressFieldsForm(request.POST or None, prefix="address")
    form.is_valid()
    form.cleaned_data  # recipient_*, address_line, postcode, and for each level both
                       # province_code / province (name), city_code / city, district_code / district
    form.shipping_address()  # orders.services.ShippingAddress, with names

The choices of the city and district selects depend on the province and city chosen: they are
built in __init__ from the bound data (or the initial values), so a re-rendered form keeps its
lists and a posted combination is checked against the data in clean(). The selects carry the
htmx attributes that refresh the next list on change (see templates/addresses/_address_fields.html).
"""

import json
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from orders.services import ShippingAddress

from . import divisions
from .validators import normalize_mobile, validate_postcode

LEVELS = ("province", "city", "district")


def placeholder_choice() -> tuple[str, str]:
    return ("", _("— choose —"))


def division_choices(items: list[divisions.Division]) -> list[tuple[str, str]]:
    return [placeholder_choice(), *((item.code, item.name) for item in items)]


class DivisionChoiceField(forms.ChoiceField):
    """A select of divisions. Which codes are acceptable depends on the other two selects, so
    the form's clean() decides (with `divisions.resolve`), with a message naming the parent."""

    def valid_value(self, value: str) -> bool:
        return True


def initial_from_address(address: Any) -> dict[str, Any]:
    """Initial values for an address form from an `Address`, an `Order` (its address snapshot)
    or a `ShippingAddress`. Division codes come from the address's codes when they are still
    valid, else from its names; when neither matches the data, the selects are left to choose."""
    initial = {
        name: getattr(address, name, "") or ""
        for name in ("recipient_name", "recipient_phone", "address_line", "postcode", "label")
    }
    if hasattr(address, "is_default"):
        initial["is_default"] = address.is_default
    found = None
    codes = [getattr(address, f"{level}_code", "") for level in LEVELS]
    if all(codes):
        try:
            found = divisions.resolve(*codes)
        except divisions.InvalidDivision:
            found = None
    if found is None:
        found = divisions.find_by_names(*(getattr(address, level, "") or "" for level in LEVELS))
    if found is not None:
        for level, division in zip(LEVELS, found, strict=True):
            initial[level] = division.code
    return initial


class AddressFieldsForm(forms.Form):
    recipient_name = forms.CharField(
        label=_("Recipient"),
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    recipient_phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        help_text=_("A mainland China mobile number; the courier calls it on delivery."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    province = DivisionChoiceField(
        label=_("Province"),
        error_messages={"required": _("Choose a province.")},
        widget=forms.Select(attrs={"autocomplete": "address-level1"}),
    )
    city = DivisionChoiceField(
        label=_("City"),
        error_messages={"required": _("Choose a city.")},
        widget=forms.Select(attrs={"autocomplete": "address-level2"}),
    )
    district = DivisionChoiceField(
        label=_("District"),
        error_messages={"required": _("Choose a district.")},
        widget=forms.Select(attrs={"autocomplete": "address-level3"}),
    )
    address_line = forms.CharField(
        label=_("Street address"),
        max_length=200,
        help_text=_("Street, number, building, floor and room."),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    postcode = forms.CharField(
        label=_("Postcode"),
        max_length=6,
        required=False,
        validators=[validate_postcode],
        widget=forms.TextInput(
            attrs={"autocomplete": "postal-code", "inputmode": "numeric", "pattern": "[0-9]{6}"}
        ),
    )

    @classmethod
    def from_address(cls, address: Any, **kwargs) -> "AddressFieldsForm":
        """An unbound form prefilled from an Address, an Order or a ShippingAddress."""
        initial = {**initial_from_address(address), **kwargs.pop("initial", {})}
        return cls(initial=initial, **kwargs)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        province = self.selected_division(divisions.PROVINCE)
        cities = divisions.children(province.code) if province else []
        city = self.selected_division(divisions.CITY)
        if city is None or city not in cities:
            city = None
        self.fields["province"].choices = division_choices(divisions.provinces())
        self.fields["city"].choices = division_choices(cities)
        self.fields["district"].choices = division_choices(
            divisions.children(city.code) if city else []
        )
        self._add_cascade()

    def selected_code(self, name: str) -> str:
        """The code chosen in select `name`: the posted value when bound, else the initial."""
        if self.is_bound:
            value = self.data.get(self.add_prefix(name), "")
        else:
            value = self.get_initial_for_field(self.fields[name], name)
        return str(value or "")

    def selected_division(self, level: int) -> divisions.Division | None:
        division = divisions.get(self.selected_code(LEVELS[level - 1]))
        return division if division is not None and division.level == level else None

    def _add_cascade(self) -> None:
        """htmx: choosing a province reloads the cities and empties the districts; choosing a
        city reloads the districts. The select sends its own value under its (prefixed) name,
        which `views.division_options` accepts; `reset` names the select to empty."""
        if not self.auto_id:
            return
        url = reverse("addresses:division_options")
        for level, child, reset in (("province", "city", "district"), ("city", "district", None)):
            attrs = {
                "hx-get": url,
                "hx-trigger": "change",
                "hx-target": f"#{self[child].auto_id}",
                "hx-swap": "innerHTML",
                "aria-controls": self[child].auto_id,
            }
            if reset:
                attrs["hx-vals"] = json.dumps({"reset": self[reset].auto_id})
            self.fields[level].widget.attrs.update(attrs)

    def clean_recipient_phone(self) -> str:
        return normalize_mobile(self.cleaned_data["recipient_phone"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("province"):
            try:
                found = divisions.resolve(*(cleaned.get(level, "") for level in LEVELS))
            except divisions.InvalidDivision as error:
                if error.field not in self.errors:  # not again after "Choose a city."
                    self.add_error(error.field, error.message)
            else:
                for level, division in zip(LEVELS, found, strict=True):
                    cleaned[f"{level}_code"] = division.code
                    cleaned[level] = division.name
        return cleaned

    def shipping_address(self) -> ShippingAddress:
        """The cleaned address as orders take it (division names). Call after is_valid()."""
        data = self.cleaned_data
        return ShippingAddress(
            recipient_name=data["recipient_name"],
            recipient_phone=data["recipient_phone"],
            province=data["province"],
            city=data["city"],
            district=data["district"],
            address_line=data["address_line"],
            postcode=data.get("postcode", ""),
        )


class AddressForm(AddressFieldsForm):
    """An address-book entry: the address plus a label and the default flag.
    `cleaned_data` is what `services.create_address` / `update_address` take as `data`."""

    label = forms.CharField(
        label=_("Label"),
        max_length=20,
        required=False,
        help_text=_("Optional, for example Home or Office."),
    )
    is_default = forms.BooleanField(label=_("Use as my default address"), required=False)
