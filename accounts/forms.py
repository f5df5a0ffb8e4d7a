from functools import partial

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.models import Group
from django.db import transaction
from django.template import loader
from django.utils.translation import gettext_lazy as _

from core.tasks import send_email

from .models import User
from .roles import Role


class LoginForm(auth_forms.AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class SignUpForm(auth_forms.BaseUserCreationForm):
    """A customer creates an account with e-mail, name and password."""

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")
        labels = {"first_name": _("Given name"), "last_name": _("Family name")}

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this e-mail address already exists."))
        return email

    @transaction.atomic
    def save(self, commit: bool = True) -> User:
        user = super().save(commit=commit)
        user.groups.add(Group.objects.get(name=Role.CUSTOMER))
        return user


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Renders the reset message in the request and hands sending to a Celery worker (SPEC §5:
    no mail is sent inside a web request)."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        transaction.on_commit(partial(send_email.delay, subject=subject, body=body, to=[to_email]))
