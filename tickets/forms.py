from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import TicketKind, TicketStatus
from .services import BODY_MAX


class OpenTicketForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What is it?"), choices=TicketKind.choices, initial=TicketKind.INQUIRY
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Your message"), max_length=BODY_MAX, widget=forms.Textarea)


class CustomerReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), max_length=BODY_MAX, widget=forms.Textarea)


class AgentReplyForm(forms.Form):
    body = forms.CharField(label=_("Message"), max_length=BODY_MAX, widget=forms.Textarea)
    internal = forms.BooleanField(
        label=_("Internal note (the customer does not see it)"), required=False
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=TicketStatus.choices)
    reason = forms.CharField(label=_("Reason"), max_length=500)


def agents():
    """The people who answer tickets: holders of tickets.answer_ticket, by group or directly."""
    permission = Permission.objects.filter(
        content_type__app_label="tickets", codename="answer_ticket"
    )
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__permissions__in=permission) | Q(user_permissions__in=permission))
        .distinct()
        .order_by("email")
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = agents()


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            (selectors.STATUS_ACTIVE, _("Open or waiting")),
            *TicketStatus.choices,
            (selectors.STATUS_ALL, _("All")),
        ],
    )
    assignee = forms.ChoiceField(
        label=_("Assigned"),
        required=False,
        choices=[
            ("", _("Anyone")),
            (selectors.ASSIGNEE_MINE, _("Mine")),
            (selectors.ASSIGNEE_UNASSIGNED, _("Unassigned")),
        ],
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *TicketKind.choices]
    )
