from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from addresses.forms import AddressFieldsForm

from . import audit
from .selectors import OTHER_REASON

AGE_CHOICES = [
    ("", _("Any age")),
    ("1", _("Over 1 hour")),
    ("4", _("Over 4 hours")),
    ("24", _("Over 1 day")),
    ("72", _("Over 3 days")),
]


def rule_choices() -> list[tuple[str, str]]:
    return [
        ("", _("All reasons")),
        *((code, spec.label) for code, spec in audit.REGISTRY.items()),
        (OTHER_REASON, _("Other (payment, short pick, re-label…)")),
    ]


class ExceptionFilterForm(forms.Form):
    rule = forms.ChoiceField(label=_("Reason"), required=False, choices=rule_choices)
    claimed = forms.ChoiceField(
        label=_("Claimed"),
        required=False,
        choices=[
            ("", _("Everyone's")),
            ("mine", _("Claimed by me")),
            ("unclaimed", _("Unclaimed")),
            ("others", _("Claimed by others")),
        ],
    )
    age = forms.ChoiceField(label=_("Age"), required=False, choices=AGE_CHOICES)
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[("", _("Oldest first")), ("newest", _("Newest first"))],
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("Recorded in the order's timeline")}),
    )


class ShippingChoiceForm(ReasonForm):
    ship_partial = forms.TypedChoiceField(
        choices=[("0", "0"), ("1", "1")], coerce=lambda value: value == "1"
    )


class SubstituteForm(ReasonForm):
    sku_code = forms.CharField(label=_("SKU code"), max_length=40)


class ClaimForm(forms.Form):
    take_over = forms.BooleanField(required=False)


class AgentAddressForm(AddressFieldsForm):
    """The address and contact an agent sets, with the reason kept in the timeline."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.TextInput(
            attrs={"placeholder": _("e.g. customer called: wrong district; phone checked")}
        ),
    )


class AuditRuleForm(forms.Form):
    """One rule's switch and thresholds, built from its declared parameters, and the reason
    for the change."""

    enabled = forms.BooleanField(label=_("Enabled"), required=False)

    def __init__(self, *args, spec: audit.RuleSpec, current: dict, enabled: bool, **kwargs):
        initial = {"enabled": enabled}
        for param in spec.params:
            value = current[param.name]
            initial[param.name] = "\n".join(value) if param.kind == audit.WORDS else value
        super().__init__(*args, initial=initial, **kwargs)
        self.spec = spec
        for param in spec.params:
            self.fields[param.name] = self._field_for(param)
        self.fields["reason"] = forms.CharField(
            label=_("Why is it changed?"),
            max_length=500,
            widget=forms.TextInput(attrs={"placeholder": _("Recorded with the change")}),
        )

    @staticmethod
    def _field_for(param: audit.Param) -> forms.Field:
        common = {"label": param.label, "help_text": param.help_text}
        if param.kind == audit.BOOLEAN:
            return forms.BooleanField(required=False, **common)
        if param.kind == audit.WORDS:
            return forms.CharField(
                required=False, widget=forms.Textarea(attrs={"rows": 6}), **common
            )
        if param.kind == audit.DECIMAL:
            return forms.DecimalField(
                max_digits=12, decimal_places=2, min_value=param.min_value, **common
            )
        return forms.IntegerField(min_value=param.min_value, max_value=100_000, **common)

    def param_fields(self):
        return [self[param.name] for param in self.spec.params]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["params"] = self.spec.clean({p.name: data.get(p.name) for p in self.spec.params})
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                self.add_error(name, messages)
        return data
