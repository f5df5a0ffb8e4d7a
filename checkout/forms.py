from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from addresses import divisions
from orders.models import PaymentMethod

from .models import MAX_LINE_QUANTITY, ShippingRule

SEEN_SALT = "checkout.seen-prices"
NEW_ADDRESS = "new"


class AddToCartForm(forms.Form):
    sku = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=MAX_LINE_QUANTITY,
        initial=1,
        error_messages={
            "min_value": _("The quantity must be at least 1."),
            "max_value": _("At most %(limit_value)s of one item per order."),
            "invalid": _("Enter a whole number."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "qty-input"}),
    )


class CartQuantityForm(forms.Form):
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=0,
        max_value=MAX_LINE_QUANTITY,
        error_messages={
            "min_value": _("The quantity cannot be negative."),
            "max_value": _("At most %(limit_value)s of one item per order."),
            "invalid": _("Enter a whole number."),
            "required": _("Enter a quantity."),
        },
    )


class CheckoutForm(forms.Form):
    """Everything checkout asks besides the address fields (which `AddressFieldsForm` takes,
    with the prefix "address")."""

    contact_email = forms.EmailField(
        label=_("E-mail for the order confirmation"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    saved_address = forms.ChoiceField(label=_("Ship to"), required=False, widget=forms.RadioSelect)
    save_address = forms.BooleanField(
        label=_("Save this address to my address book"), required=False, initial=True
    )
    payment_method = forms.ChoiceField(
        label=_("Payment"),
        choices=PaymentMethod.choices,
        initial=PaymentMethod.ONLINE,
        widget=forms.RadioSelect,
    )
    coupon_code = forms.CharField(
        label=_("Coupon code"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    # Only asked when some items wait for stock (INV-5); ignored otherwise.
    ship_partial = forms.TypedChoiceField(
        label=_("Items waiting for stock"),
        choices=[
            ("0", _("Send everything together once it is all in stock")),
            ("1", _("Ship what is in stock now; the rest follows when it arrives")),
        ],
        coerce=lambda value: value == "1",
        initial="0",
        required=False,
        empty_value=False,
        widget=forms.RadioSelect,
    )
    customer_note = forms.CharField(
        label=_("Note for the shop"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    checkout_token = forms.UUIDField(widget=forms.HiddenInput)
    seen = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, addresses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.addresses = {str(address.pk): address for address in addresses}
        choices = [(key, str(address)) for key, address in self.addresses.items()]
        self.fields["saved_address"].choices = [*choices, (NEW_ADDRESS, _("A new address"))]
        if not self.addresses:
            self.fields["saved_address"].widget = forms.HiddenInput()

    def uses_new_address(self) -> bool:
        value = self.data.get(self.add_prefix("saved_address")) if self.is_bound else None
        if value is None:
            value = self.initial.get("saved_address", NEW_ADDRESS)
        return value not in self.addresses

    def chosen_address(self):
        value = self.data.get(self.add_prefix("saved_address")) if self.is_bound else None
        if value is None:
            value = self.initial.get("saved_address")
        return self.addresses.get(value)

    def clean_seen(self) -> dict[str, str]:
        try:
            return signing.loads(self.cleaned_data["seen"], salt=SEEN_SALT)
        except signing.BadSignature:
            raise forms.ValidationError(
                _("The page was altered. Please reload it and try again.")
            ) from None

    def clean_coupon_code(self) -> str:
        return self.cleaned_data["coupon_code"].strip().upper()


def sign_seen(seen: dict[str, str]) -> str:
    return signing.dumps(seen, salt=SEEN_SALT)


class ShippingRuleForm(forms.ModelForm):
    provinces = forms.MultipleChoiceField(
        label=_("Provinces"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "province-choices"}),
        help_text=_("None ticked: every province that no other rule names."),
    )

    class Meta:
        model = ShippingRule
        fields = [
            "name",
            "provinces",
            "first_weight_grams",
            "first_fee",
            "step_grams",
            "step_fee",
            "free_over",
            "priority",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provinces"].choices = [
            (province.name, province.name) for province in divisions.provinces()
        ]
