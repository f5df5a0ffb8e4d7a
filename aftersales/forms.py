"""Forms of the after-sales screens: what the customer (or an agent on the phone) asks for, the
agents' decisions (each with its reason), and the customer's return parcel."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from orders.models import Carrier, Order, OrderState

from . import services
from .models import RequestKind, RequestReason, RequestState

GOODS_KINDS = [
    (value, label) for value, label in RequestKind.choices if value != RequestKind.CHANGE_INFO
]
AGE_CHOICES = [
    ("", _("Any age")),
    ("1", _("Older than 1 day")),
    ("3", _("Older than 3 days")),
    ("7", _("Older than 7 days")),
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input; each checked by its bytes and size, and their number."""

    widget = MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"})

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        files = [super(PhotosField, self).clean(file, initial) for file in files if file]
        try:
            services.check_photos(files)
        except services.InvalidPhoto as error:
            raise ValidationError(error.message) from None
        return files


class RequestForm(forms.Form):
    """Start a request from an order: kind, units per line, reason, description, photos.

    One quantity field per order line (`line_<pk>`), limited to what can still be asked for;
    the service checks again under lock."""

    kind = forms.ChoiceField(label=_("What would you like?"), choices=RequestKind.choices)
    reason = forms.ChoiceField(label=_("Reason"), choices=RequestReason.choices)
    description = forms.CharField(
        label=_("What happened"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    requested_change = forms.CharField(
        label=_("What should be changed"),
        max_length=1000,
        required=False,
        help_text=_("Only for a change of information: the new address, phone or invoice."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    photos = PhotosField(
        label=_("Photos"),
        required=False,
        help_text=_("Up to 5 photos, JPEG, PNG or WebP, at most 5 MB each."),
    )

    def __init__(self, *args, order: Order, covered: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        shipped = order.state in (OrderState.SHIPPED, OrderState.COMPLETED)
        if not shipped:
            self.fields["kind"].choices = [
                (RequestKind.CHANGE_INFO.value, RequestKind.CHANGE_INFO.label)
            ]
        self.line_fields = []
        for line in order.lines.all():
            left = max(line.quantity - covered.get(line.pk, 0), 0)
            name = f"line_{line.pk}"
            self.fields[name] = forms.IntegerField(
                label=line.product_name,
                min_value=0,
                max_value=left,
                initial=0,
                required=False,
                help_text=_("%(left)d of %(sold)d can be asked for")
                % {"left": left, "sold": line.quantity},
                widget=forms.NumberInput(attrs={"class": "input--qty"}),
            )
            self.line_fields.append((line, self[name], left))

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        lines = [
            (line.pk, data.get(f"line_{line.pk}") or 0) for line, _bound, _left in self.line_fields
        ]
        data["lines"] = [(pk, quantity) for pk, quantity in lines if quantity]
        if kind == RequestKind.CHANGE_INFO:
            if not (data.get("requested_change") or "").strip():
                self.add_error("requested_change", _("Say what should be changed."))
        elif kind and not data["lines"]:
            raise ValidationError(_("Choose at least one item and how many."))
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ApproveForm(ReasonForm):
    refund_shipping = forms.BooleanField(
        label=_("Refund the shipping too"),
        required=False,
        help_text=_("Once per order."),
    )


class RefundForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)
    payout_reference = forms.CharField(
        label=_("Payout reference"),
        max_length=100,
        required=False,
        help_text=_(
            "Cash-on-delivery orders: refund by hand (bank transfer) and type its reference. "
            "Orders from another sales channel: the refund's number there."
        ),
    )


class ReturnShipmentForm(forms.Form):
    carrier = forms.ModelChoiceField(
        label=_("Carrier"),
        queryset=Carrier.objects.filter(is_active=True).order_by("name"),
        to_field_name="code",
        empty_label=_("Choose the carrier"),
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class StaffFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"), choices=[("", _("All states")), *RequestState.choices], required=False
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("All kinds")), *RequestKind.choices], required=False
    )
    age = forms.TypedChoiceField(
        label=_("Waiting"), choices=AGE_CHOICES, coerce=int, empty_value=None, required=False
    )
    search = forms.CharField(label=_("Request or order number"), max_length=30, required=False)
