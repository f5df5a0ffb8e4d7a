"""The operations page: queue, outbox, periodic jobs' last runs, failed notifications (issue 6)."""

import pytest
from django.test import Client

from core.models import ScheduleRun
from core.tasks import record_worker_heartbeat
from notifications.models import Notification, NotificationKind, NotificationStatus
from notifications.services import notify
from tests.factories import UserFactory, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(role="admin"))
    return client


def failed_notification(order=None, error="SMTP 554 rejected", n=0):
    order = order or make_order()
    notification = notify(
        kind=NotificationKind.ORDER_CANCELLED,
        key=f"test-failed:{order.pk}:{n}",
        order=order,
        address="someone@example.com",
    )
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.FAILED, attempts=6, last_error=error
    )
    return notification


def test_a_periodic_jobs_run_is_recorded_from_the_worker(admin_client):
    record_worker_heartbeat.apply()

    run = ScheduleRun.objects.get(task="core.tasks.record_worker_heartbeat")
    assert run.runs == 1 and run.last_succeeded is True
    page = admin_client.get("/staff/system/operations/").content.decode()
    assert "core.tasks.record_worker_heartbeat" in page and "succeeded" in page


def test_tasks_that_are_not_periodic_are_not_recorded():
    from core.tasks import send_email

    send_email.apply(kwargs={"subject": "s", "body": "b", "to": ["x@example.com"]})

    assert not ScheduleRun.objects.exists()


def test_failed_notifications_are_listed_with_their_error_and_sent_again(
    admin_client, django_capture_on_commit_callbacks
):
    notification = failed_notification()
    page = admin_client.get("/staff/system/operations/").content.decode()
    assert "SMTP 554 rejected" in page and "Send the selected again" in page

    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(
            "/staff/system/operations/retry/", {"notification": [notification.pk]}, follow=True
        )

    assert "1 notification will be sent again." in response.content.decode()
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING and notification.attempts == 0


@pytest.mark.parametrize("failures", [1, 30])
def test_the_page_costs_the_same_queries_whatever_fails(
    admin_client, failures, django_assert_max_num_queries
):
    order = make_order()
    for n in range(failures):
        failed_notification(order, error=f"error {n}", n=n)

    with django_assert_max_num_queries(12):
        response = admin_client.get("/staff/system/operations/")

    assert response.status_code == 200


@pytest.mark.parametrize("role", ["manager", "service", "warehouse", "customer"])
def test_only_admins_see_operations(role):
    client = Client()
    client.force_login(UserFactory(role=role))

    assert client.get("/staff/system/operations/").status_code == 403
    assert client.post("/staff/system/operations/retry/", {}).status_code == 403


def test_schedules_are_described_for_people():
    from datetime import timedelta

    from celery.schedules import crontab

    from core.operations import describe_schedule

    assert describe_schedule(timedelta(seconds=30)) == "every 30 seconds"
    assert describe_schedule(timedelta(minutes=1)) == "every 1 minute"
    assert describe_schedule(timedelta(hours=24)) == "every 24 hours"
    assert describe_schedule(crontab(hour=3, minute=17)) == "daily at 03:17"
