"""Background work of the warehouse floor. Thin: the rules are in the modules they call.

`render_documents` renders one batch of printed documents (FUL-4) with
`fulfillment.document_jobs.render_job`, which claims the job first: a duplicate or redelivered
task finds it done and does nothing, and one whose worker was lost starts the file over. Hence
`acks_late` with `reject_on_worker_lost`. A failed batch is not retried: the job says it failed
and the person asks again.

`tidy_document_batches` (for beat, every few minutes) hands over again the batches whose
enqueue at commit was lost, and deletes the files of old batches.
"""

from celery import shared_task

from . import document_jobs


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # 2,000 long pick lists take minutes; a label takes a few milliseconds.
    soft_time_limit=900,
    time_limit=960,
)
def render_documents(job_id: int, language: str = "") -> bool:
    return document_jobs.render_job(job_id, language=language)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, time_limit=120)
def tidy_document_batches() -> tuple[int, int]:
    return document_jobs.tidy_jobs()
