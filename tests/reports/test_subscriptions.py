"""Managers' report e-mails (RPT-6): the scheduled runs store a snapshot of every report and
e-mail each active subscriber once per period, with the CSV and the XLSX attached."""

import io
import threading

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import translation
from django.utils.functional import lazy
from openpyxl import load_workbook

from reports import services, tasks
from reports.models import ReportDelivery, ReportSnapshot, ReportSubscription
from reports.periods import last_complete_period
from tests.factories import UserFactory
from tests.reports.test_exports import install_fake_report, read_csv

pytestmark = pytest.mark.django_db


def subscribe(user, kind="day", report="sales", active=True):
    return ReportSubscription.objects.create(
        user=user, report=report, period_kind=kind, active=active
    )


def test_scheduled_run_emails_each_subscriber_once_with_both_files(monkeypatch):
    module = install_fake_report(monkeypatch)
    first = UserFactory(role="manager")
    second = UserFactory(role="admin", language="zh-hans")
    subscribe(first)
    subscribe(second)
    subscribe(first, kind="week")  # another period kind: not this run
    subscribe(UserFactory(role="manager"), active=False)  # switched off
    subscribe(UserFactory(role="service"))  # no longer allowed to read reports
    subscribe(UserFactory(role="manager", is_active=False))

    assert tasks.make_scheduled_snapshots.delay("day").get() == 2

    period = last_complete_period("day")
    assert [call[0] for call in module.calls] == [period]
    snapshot = ReportSnapshot.objects.get()
    assert (snapshot.period_kind, snapshot.period_key, snapshot.made_by) == (
        "day",
        period.key,
        None,
    )
    assert sorted(message.to[0] for message in mail.outbox) == sorted([first.email, second.email])
    for message in mail.outbox:
        assert period.key in message.subject
        names = [name for name, _content, _type in message.attachments]
        assert names == [f"sales-{period.key}.csv", f"sales-{period.key}.xlsx"]
        csv_file, xlsx_file = (content for _name, content, _type in message.attachments)
        # Django hands a text/* attachment that is valid UTF-8 on as text (the BOM kept).
        assert read_csv(csv_file.encode())[2][2] == "1234.50"
        book = load_workbook(io.BytesIO(xlsx_file))
        assert book["销售概况"]["C2"].value == 1234.5
    assert ReportDelivery.objects.count() == 2

    # Beat runs the job again (a retry or a second beat): nobody is e-mailed twice.
    assert services.make_scheduled_snapshots("day") == 0
    assert len(mail.outbox) == 2
    assert ReportSnapshot.objects.count() == 1


def test_a_failed_email_is_sent_by_the_next_run(monkeypatch):
    install_fake_report(monkeypatch)
    subscribe(UserFactory(role="manager"), kind="month")

    def refuse(self, fail_silently=False):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    assert services.make_scheduled_snapshots("month") == 0
    assert ReportDelivery.objects.count() == 0
    monkeypatch.undo()
    install_fake_report(monkeypatch)
    assert services.make_scheduled_snapshots("month") == 1
    assert len(mail.outbox) == 1


def test_a_report_that_fails_does_not_stop_the_others(monkeypatch):
    def build(*, period, filters):
        raise RuntimeError("broken")

    install_fake_report(monkeypatch, build=build)
    subscribe(UserFactory(role="manager"))
    assert services.make_scheduled_snapshots("day") == 0
    assert mail.outbox == []


def test_beat_runs_the_day_week_and_month():
    jobs = {
        entry["args"][0]: entry["schedule"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "reports.tasks.make_scheduled_snapshots"
    }
    assert set(jobs) == {"day", "week", "month"}
    assert jobs["day"].hour == {1} and jobs["day"].minute == {10}
    assert jobs["week"].day_of_week == {1} and jobs["week"].minute == {20}
    assert jobs["month"].day_of_month == {1} and jobs["month"].minute == {30}


def test_manager_ticks_their_subscriptions(client, monkeypatch):
    install_fake_report(monkeypatch)
    manager = UserFactory(role="manager")
    client.force_login(manager)
    page = client.get("/staff/reports/subscriptions/").content.decode()
    assert 'name="sales__day"' in page and 'name="sales__month"' in page
    assert "csrfmiddlewaretoken" in page

    response = client.post(
        "/staff/reports/subscriptions/", {"sales__day": "on", "sales__month": "on"}
    )
    assert response.status_code == 302
    active = set(
        ReportSubscription.objects.filter(user=manager, active=True).values_list(
            "report", "period_kind"
        )
    )
    assert active == {("sales", "day"), ("sales", "month")}
    page = client.get("/staff/reports/subscriptions/").content.decode()
    assert page.count("checked") == 2

    client.post("/staff/reports/subscriptions/", {"sales__week": "on", "feedback__day": "on"})
    rows = dict(
        ReportSubscription.objects.filter(user=manager).values_list("period_kind", "active")
    )
    assert rows == {"day": False, "week": True, "month": False}  # no feedback report here


def test_only_managers_may_subscribe(monkeypatch):
    install_fake_report(monkeypatch)
    with pytest.raises(services.ReportError):
        services.set_subscriptions(user=UserFactory(role="service"), wanted={("sales", "day")})
    assert ReportSubscription.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_copies_of_the_job_at_once_email_each_subscriber_once(monkeypatch):
    install_fake_report(monkeypatch)
    managers = [UserFactory(role="manager") for _ in range(3)]
    for manager in managers:
        subscribe(manager, kind="week")
    barrier = threading.Barrier(4)
    errors = []

    def run() -> None:
        try:
            barrier.wait()
            services.make_scheduled_snapshots("week")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(message.to[0] for message in mail.outbox) == sorted(m.email for m in managers)
    assert ReportDelivery.objects.count() == 3
    assert ReportSnapshot.objects.count() == 1


def test_each_email_is_in_its_subscribers_language(monkeypatch):
    module = install_fake_report(monkeypatch)
    # The title says which language it was read in.
    module.TITLE = lazy(translation.get_language, str)()
    chinese = UserFactory(role="manager", language="zh-hans")
    english = UserFactory(role="manager", language="en")
    subscribe(chinese)
    subscribe(english)
    with translation.override("en"):
        services.make_scheduled_snapshots("day")
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects[chinese.email].startswith("zh-hans")
    assert subjects[english.email].startswith("en")
