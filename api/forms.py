"""Forms of the API keys screens (/staff/api-keys/)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from stores.models import Store

from . import selectors
from .models import ApiScope


class IssueKeyForm(forms.Form):
    store = forms.ModelChoiceField(
        label=_("Sales channel"),
        queryset=Store.objects.none(),
        help_text=_("The orders the key creates are this channel's; it reads only its orders."),
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Who uses the key, e.g. “ERP production”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Give a key only what its system needs."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = selectors.issuable_stores()


class RevokeKeyForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded with the revocation and in the audit trail."),
    )


class ApiStoreForm(forms.Form):
    code = forms.SlugField(
        label=_("Code"),
        max_length=30,
        help_text=_("Short name used in the API's answers, e.g. erp."),
    )
    name = forms.CharField(label=_("Name"), max_length=100)


class KeyFilterForm(forms.Form):
    store = forms.ModelChoiceField(
        label=_("Sales channel"), queryset=Store.objects.none(), required=False
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("active", _("Active")), ("revoked", _("Revoked"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = selectors.stores_with_keys()
