"""The batch form of the printed documents (FUL-4, FUL-7)."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DocumentKind, Wave

_SEPARATORS = re.compile(r"[\s,;]+")


class DocumentBatchForm(forms.Form):
    """What to print in one PDF: ids sent by another screen (its checkboxes), and/or pick list
    numbers typed or scanned here (every document of those pick lists)."""

    kind = forms.ChoiceField(label=_("Documents"), choices=DocumentKind.choices)
    waves = forms.CharField(
        label=_("Pick list numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Scan or type one or more, e.g. W00000012, one per line."),
    )
    ids = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *args, **kwargs):
        # Other screens post one `ids` value per ticked row: keep them all.
        if data is not None and hasattr(data, "getlist"):
            data = data.copy()
            data["ids"] = " ".join(data.getlist("ids"))
        super().__init__(data, *args, **kwargs)

    def clean_waves(self) -> list[int]:
        numbers = [n for n in _SEPARATORS.split(self.cleaned_data["waves"].strip()) if n]
        wrong = [n for n in numbers if Wave.pk_from_number(n) is None]
        if wrong:
            raise forms.ValidationError(
                _("These are not pick list numbers: %(numbers)s"),
                params={"numbers": ", ".join(wrong[:10])},
            )
        return [Wave.pk_from_number(n) for n in numbers]

    def clean_ids(self) -> list[int]:
        values = [v for v in _SEPARATORS.split(self.cleaned_data["ids"].strip()) if v]
        if any(not v.isdigit() for v in values):
            raise forms.ValidationError(_("The documents to print were not understood."))
        return [int(v) for v in values]

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.errors and not cleaned.get("ids") and not cleaned.get("waves"):
            raise forms.ValidationError(_("Say what to print: scan or type pick list numbers."))
        return cleaned
