from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Channel, OrderState


class StaffOrderFilterForm(forms.Form):
    search = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"placeholder": _("Order number, phone, e-mail or external id")}
        ),
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *OrderState.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All channels")), *Channel.choices]
    )
    placed_from = forms.DateField(
        label=_("Placed from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    placed_to = forms.DateField(
        label=_("Placed to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("placed_from"), data.get("placed_to")
        if start and end and start > end:
            raise forms.ValidationError(_("“Placed from” must not be after “Placed to”."))
        return data


class CancelOrderForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("Why is the order cancelled?")}),
    )


class ConfirmReceiptForm(forms.Form):
    """No fields: the POST and its CSRF token are the confirmation."""
