"""Forms of the webhook screens (API-2). The rules (http/https only, events from the list, at
least one) are checked again by `services`, which gives the same messages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import SUBSCRIBABLE_EVENTS, DeliveryState, WebhookEvent


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Where the events are POSTed, e.g. https://erp.example.com/hooks/shop."),
    )
    description = forms.CharField(
        label=_("Receiving system"),
        max_length=200,
        required=False,
        help_text=_("What receives the events, e.g. the ERP or a marketplace connector."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(event.value, event.label) for event in SUBSCRIBABLE_EVENTS],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "province-choices"}),
        error_messages={"required": _("Choose at least one event.")},
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Inactive endpoints receive no new events and their retries wait."),
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("Enter an http:// or https:// address."))
        return url


class DeliveryFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"), choices=[("", _("All"))] + DeliveryState.choices, required=False
    )
    event = forms.ChoiceField(
        label=_("Event"), choices=[("", _("All"))] + WebhookEvent.choices, required=False
    )
