"""Forms of the sales channel screens (ORD-12): a marketplace store, its column mapping, and
an export to import."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.csv_upload import too_big_message

from . import imports
from . import mapping as column_mapping
from .models import ImportState, Store, StoreKind


class StoreForm(forms.Form):
    code = forms.SlugField(
        label=_("Code"),
        max_length=30,
        help_text=_(
            "Short name used in files, payment references and the API, e.g. tmall-flagship. "
            "It cannot be changed later."
        ),
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Inactive stores cannot send new orders."),
    )

    def __init__(self, *args, store: Store | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if store is not None:
            # The code names the store in payments and files: fixed once created.
            del self.fields["code"]


class ColumnMappingForm(forms.Form):
    """One header per import field; required fields need one, and no header serves twice."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in column_mapping.IMPORT_FIELDS:
            self.fields[field.name] = forms.CharField(
                label=field.label,
                required=False,
                max_length=column_mapping.HEADER_MAX_LENGTH,
                help_text=field.help_text,
            )

    def clean(self):
        cleaned = super().clean()
        mapping = {name: (value or "").strip() for name, value in cleaned.items()}
        for name, message in column_mapping.mapping_problems(mapping).items():
            if name not in self.errors:
                self.add_error(name, message)
        return cleaned

    def mapping(self) -> dict[str, str]:
        return {name: value.strip() for name, value in self.cleaned_data.items() if value.strip()}


class ImportUploadForm(forms.Form):
    store = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Store.objects.filter(kind=StoreKind.MARKETPLACE, is_active=True).order_by(
            "name", "id"
        ),
        empty_label=_("Choose the store"),
    )
    file = forms.FileField(
        label=_("CSV export"),
        help_text=_(
            "The store's order export: UTF-8 (with or without BOM) or GB18030, comma, semicolon "
            "or tab separated, with a header row."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size > imports.IMPORT_MAX_BYTES:
            raise forms.ValidationError(too_big_message(uploaded.size, imports.IMPORT_MAX_BYTES))
        return uploaded


class ImportFilterForm(forms.Form):
    store = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Store.objects.filter(kind=StoreKind.MARKETPLACE).order_by("name", "id"),
        required=False,
        empty_label=_("All stores"),
    )
    state = forms.ChoiceField(
        label=_("State"),
        choices=[("", _("Any state")), *ImportState.choices],
        required=False,
    )
