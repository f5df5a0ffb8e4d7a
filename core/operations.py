"""What the operations page shows: the broker's queue, the last run of each periodic job.

Each periodic job's runs are recorded from Celery's task signals in the worker that ran them
(`task_prerun`, `task_postrun`, `task_failure`), for the tasks named in CELERY_BEAT_SCHEDULE:
one conditional upsert per event, never failing the task itself.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.signals import task_failure, task_postrun, task_prerun
from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from kombu.exceptions import ChannelError

from config.celery import app as celery_app

logger = logging.getLogger(__name__)


def scheduled_tasks() -> dict[str, str]:
    """Task name → the schedule's entry name, for every periodic job of beat."""
    return {entry["task"]: name for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}


def queue_depth(queue: str = "celery") -> int | None:
    """Messages waiting in the broker's queue, or None when the broker does not answer."""
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            try:
                declared = connection.default_channel.queue_declare(queue=queue, passive=True)
            except ChannelError:
                return 0  # Redis deletes an empty list: no queue is an empty queue
            return declared.message_count
    except Exception:  # the page says "unknown"; the broker's health is on /healthz
        logger.warning("queue depth of %s unavailable", queue, exc_info=True)
        return None


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    every: str
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_succeeded: bool | None
    last_result: str
    last_error: str
    runs: int
    failures: int


def describe_schedule(schedule) -> str:
    """ "every 30 s", "every 2 h", "daily at 03:17": how often a beat entry runs."""
    if isinstance(schedule, timedelta):
        seconds = int(schedule.total_seconds())
        if seconds % 3600 == 0:
            return ngettext("every %(n)d hour", "every %(n)d hours", seconds // 3600) % {
                "n": seconds // 3600
            }
        if seconds % 60 == 0:
            return ngettext("every %(n)d minute", "every %(n)d minutes", seconds // 60) % {
                "n": seconds // 60
            }
        return ngettext("every %(n)d second", "every %(n)d seconds", seconds) % {"n": seconds}
    hours, minutes = getattr(schedule, "hour", None), getattr(schedule, "minute", None)
    if hours is not None and minutes is not None and len(hours) == 1 and len(minutes) == 1:
        return _("daily at %(time)s") % {"time": f"{min(hours):02d}:{min(minutes):02d}"}
    return str(schedule)


def schedules() -> list[Schedule]:
    from .models import ScheduleRun

    runs = {run.task: run for run in ScheduleRun.objects.all()}
    rows = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        run = runs.get(entry["task"])
        rows.append(
            Schedule(
                name=name,
                task=entry["task"],
                every=describe_schedule(entry["schedule"]),
                last_started_at=run.last_started_at if run else None,
                last_finished_at=run.last_finished_at if run else None,
                last_succeeded=run.last_succeeded if run else None,
                last_result=run.last_result if run else "",
                last_error=run.last_error if run else "",
                runs=run.runs if run else 0,
                failures=run.failures if run else 0,
            )
        )
    return rows


def _record(task_name: str, **fields) -> None:
    from .models import ScheduleRun

    if task_name not in scheduled_tasks():
        return
    try:
        updated = ScheduleRun.objects.filter(task=task_name).update(**fields)
        if not updated:
            ScheduleRun.objects.get_or_create(task=task_name)
            ScheduleRun.objects.filter(task=task_name).update(**fields)
    except Exception:  # bookkeeping must never fail the job itself
        logger.warning("could not record the run of %s", task_name, exc_info=True)


@task_prerun.connect(dispatch_uid="core.operations.started")
def _started(sender=None, **kwargs) -> None:
    _record(getattr(sender, "name", ""), last_started_at=timezone.now(), runs=F("runs") + 1)


@task_postrun.connect(dispatch_uid="core.operations.finished")
def _finished(sender=None, retval=None, state=None, **kwargs) -> None:
    if state != "SUCCESS":
        return
    _record(
        getattr(sender, "name", ""),
        last_finished_at=timezone.now(),
        last_succeeded=True,
        last_result=repr(retval)[:200],
        last_error="",
    )


@task_failure.connect(dispatch_uid="core.operations.failed")
def _failed(sender=None, exception=None, **kwargs) -> None:
    _record(
        getattr(sender, "name", ""),
        last_finished_at=timezone.now(),
        last_succeeded=False,
        last_error=repr(exception)[:2000],
        failures=F("failures") + 1,
    )
