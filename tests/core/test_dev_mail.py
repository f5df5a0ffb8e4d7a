"""The embedded e-mail backend keeps messages in the database; /dev/mail/ shows them (DEBUG)."""

import pytest
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from core.mail import DatabaseEmailBackend
from core.models import SentMail
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _send() -> None:
    message = EmailMultiAlternatives(
        "Your order 2026112500000001", "Thank you.", "shop@example.com", ["buyer@example.com"]
    )
    message.attach_alternative("<p>Thank you.</p>", "text/html")
    DatabaseEmailBackend().send_messages([message])


def test_database_backend_keeps_text_and_html():
    _send()

    mail = SentMail.objects.get()
    assert (mail.to, mail.subject, mail.body) == (
        "buyer@example.com",
        "Your order 2026112500000001",
        "Thank you.",
    )
    assert mail.html_body == "<p>Thank you.</p>"


def test_sent_mail_pages_show_messages_when_debug_is_on(client, settings):
    settings.DEBUG = True
    client.force_login(UserFactory(role="admin"))
    _send()
    mail = SentMail.objects.get()

    listing = client.get(reverse("core:sent_mail_list"))
    detail = client.get(reverse("core:sent_mail_detail", args=[mail.pk]))

    assert "Your order 2026112500000001" in listing.content.decode()
    assert "Thank you." in detail.content.decode()


def test_sent_mail_pages_are_for_admins_only(client, settings):
    settings.DEBUG = True
    _send()

    assert client.get(reverse("core:sent_mail_list")).status_code == 302  # to the login
    client.force_login(UserFactory(role="customer"))
    assert client.get(reverse("core:sent_mail_list")).status_code == 403


def test_sent_mail_pages_do_not_exist_without_debug(client, settings):
    settings.DEBUG = False
    client.force_login(UserFactory(role="admin"))
    _send()

    assert client.get(reverse("core:sent_mail_list")).status_code == 404
