from django import forms
from django.utils.translation import gettext_lazy as _

from .models import COMMENT_MAX_LENGTH


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        coerce=int,
        choices=[
            (5, _("5 stars — excellent")),
            (4, _("4 stars — good")),
            (3, _("3 stars — all right")),
            (2, _("2 stars — poor")),
            (1, _("1 star — very poor")),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
