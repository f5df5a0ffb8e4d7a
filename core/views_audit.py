"""The managers' screen of the audit trail of staff actions (SEC-4): search by who, what, which
order or SKU, the reason's text and dates; newest first, each entry with what changed."""

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from .audit import action_codes, changed_fields, search_staff_actions

PAGE_SIZE = 50


class AuditSearchForm(forms.Form):
    actor = forms.CharField(label=_("Who"), required=False, max_length=100)
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=64,
        help_text=_("A code such as order.cancel, or its family: order"),
        widget=forms.TextInput(attrs={"list": "audit-actions"}),
    )
    target = forms.CharField(label=_("Order number, SKU, coupon…"), required=False, max_length=100)
    text = forms.CharField(label=_("Reason contains"), required=False, max_length=100)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The first date must not be after the last."))
        return data


@login_required
@permission_required("core.view_staffaction", raise_exception=True)
@require_GET
def audit_trail(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET or None)
    filters = (
        {key: value for key, value in form.cleaned_data.items() if value} if form.is_valid() else {}
    )
    page = Paginator(search_staff_actions(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.changes = changed_fields(entry.before, entry.after)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/audit_trail.html",
        {
            "form": form,
            "page": page,
            "params": query.urlencode(),
            "actions": action_codes(),
            "searched": bool(filters),
        },
    )
