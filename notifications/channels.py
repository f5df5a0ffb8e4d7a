"""Channels a notification can travel by (SPEC §5: e-mail now, pluggable).

A channel is a class with a `code` and `send(notification, rendered)`; it is found by the
notification's `channel` field in settings.NOTIFICATION_CHANNELS ({code: dotted path}). Adding
SMS is one class (sending `rendered.text` or its own template to `notification.address`) and
one entry in that setting; no caller changes.

`send` returns normally once the message is handed over. It raises `PermanentFailure` for what
no retry can fix (no address); any other exception counts as passing and is retried.
"""

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.module_loading import import_string

from . import conf


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class PermanentFailure(Exception):
    """The message cannot be sent however often it is tried."""


class Channel:
    code: str = ""

    def send(self, notification, rendered: Rendered) -> None:
        raise NotImplementedError


class EmailChannel(Channel):
    """Through Django's mail backend (SMTP in production, the database in the demo)."""

    code = "email"

    def send(self, notification, rendered: Rendered) -> None:
        if not notification.address:
            raise PermanentFailure("no e-mail address")
        message = EmailMultiAlternatives(
            rendered.subject, rendered.text, settings.DEFAULT_FROM_EMAIL, [notification.address]
        )
        if rendered.html:
            message.attach_alternative(rendered.html, "text/html")
        message.send()


@cache
def _load(path: str) -> Channel:
    return import_string(path)()


def get_channel(code: str) -> Channel:
    path = conf.channels().get(code)
    if path is None:
        raise PermanentFailure(f"no channel {code!r} in NOTIFICATION_CHANNELS")
    return _load(path)
