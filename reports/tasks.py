"""Background work of the reports (RPT-6). Thin: the rules are in `reports.services`.

`make_report_run` makes one on-demand run; it claims the run first, so a duplicate or
redelivered task finds it finished and does nothing. `make_scheduled_snapshots` is beat's
daily, weekly and monthly job: the snapshot is replaced and every e-mail is recorded before it
counts as sent, so a second copy of the job e-mails nobody twice. Hence `acks_late` with
`reject_on_worker_lost` on both.
"""

from celery import shared_task

from . import services

REPORT_TASK = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "soft_time_limit": 900,
    "time_limit": 960,
}


@shared_task(**REPORT_TASK)
def make_report_run(run_id: int, language: str = "") -> bool:
    return services.perform_run(run_id, language=language)


@shared_task(**REPORT_TASK)
def make_scheduled_snapshots(kind: str) -> int:
    return services.make_scheduled_snapshots(kind)
