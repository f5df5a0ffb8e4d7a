import socket

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def send_email(*, subject: str, body: str, to: list[str], html_body: str = "") -> None:
    """Send one e-mail; a mail server that is down is retried with backoff."""
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    if html_body:
        message.attach_alternative(html_body, "text/html")
    message.send()


@shared_task(ignore_result=True, acks_late=True)
def record_worker_heartbeat() -> None:
    """Run by beat every 30 s; /healthz reports when a worker last did it."""
    from .models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(
        hostname=socket.gethostname(), defaults={"seen_at": timezone.now()}
    )
