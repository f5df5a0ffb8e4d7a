"""Channels for tests only (never in the shop's NOTIFICATION_CHANNELS)."""

import os
from pathlib import Path

from notifications.channels import EmailChannel

SENT: list[tuple[int, str]] = []


class FailingChannel(EmailChannel):
    """The mail server is down."""

    def send(self, notification, rendered) -> None:
        raise ConnectionRefusedError("mail server refused the connection")


class RecordingChannel(EmailChannel):
    """An SMS-like channel added without touching any caller: it only records."""

    code = "sms"

    def send(self, notification, rendered) -> None:
        SENT.append((notification.pk, rendered.text))


class CrashingEmailChannel(EmailChannel):
    """E-mail, except that while the file named by NOTIFICATION_CRASH_MARKER exists the worker
    process dies on the spot, after the claim and before anything is sent (a killed worker)."""

    def send(self, notification, rendered) -> None:
        marker = os.environ.get("NOTIFICATION_CRASH_MARKER")
        if marker and Path(marker).exists():
            os._exit(17)
        super().send(notification, rendered)
