"""An e-mail backend for the embedded demo: messages go to the database, not to a server."""

from django.core.mail.backends.base import BaseEmailBackend


class DatabaseEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        from .models import SentMail

        rows = []
        for message in email_messages:
            html = next(
                (
                    content
                    for content, mime in getattr(message, "alternatives", [])
                    if mime == "text/html"
                ),
                "",
            )
            rows.append(
                SentMail(
                    from_email=message.from_email,
                    to=", ".join(message.recipients()),
                    subject=message.subject,
                    body=message.body,
                    html_body=html,
                )
            )
        SentMail.objects.bulk_create(rows)
        return len(rows)
