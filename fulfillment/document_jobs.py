"""Batches of documents printed in the background (FUL-4, FUL-7): one PDF per batch, written by
a worker under settings.DOCUMENTS_DIR while the requester watches its progress.

- `request_documents` records the batch (a `DocumentJob`, queued) and hands it to the worker
  after the commit.
- `render_job` (run by `fulfillment.tasks.render_documents`) claims the job, streams the PDF
  into a temporary file beside its final name, counts progress in `done` every
  `PROGRESS_EVERY` documents, then renames the file and marks the job done; on an error the job
  is failed with a short message. Running it again for a done job does nothing; for a job left
  running by a lost worker it starts over and writes the same file.
"""

import logging
import os
from datetime import timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from core.errors import DomainError

from . import document_data, documents
from .models import DocumentJob, DocumentKind, Fulfillment, JobState, Parcel, Wave

logger = logging.getLogger(__name__)

MAX_DOCUMENTS = 2_000
# A batch still queued this long after it was asked for lost its hand-over to the broker.
REQUEUE_AFTER = timedelta(minutes=10)
# Finished batches' files are deleted after this long (the job rows stay, saying so).
KEEP_FILES = timedelta(days=7)

MODELS = {
    DocumentKind.LABELS: Parcel,
    DocumentKind.PICK_LISTS: Wave,
    DocumentKind.PACKING_SLIPS: Fulfillment,
}
WRITERS = {
    DocumentKind.LABELS: (document_data.iter_labels, documents.write_labels),
    DocumentKind.PICK_LISTS: (document_data.iter_pick_lists, documents.write_pick_lists),
    DocumentKind.PACKING_SLIPS: (document_data.iter_packing_slips, documents.write_packing_slips),
}


class DocumentError(DomainError):
    pass


def documents_dir() -> Path:
    return Path(settings.DOCUMENTS_DIR)


def job_path(job: DocumentJob) -> Path | None:
    """The finished PDF of `job`, or None if there is none (yet, or any more)."""
    if job.state != JobState.DONE or not job.filename:
        return None
    path = documents_dir() / Path(job.filename).name
    return path if path.is_file() else None


def render_pdf(kind: str, object_ids, out) -> int:
    """Write the documents of `kind` for `object_ids` into `out` as one PDF, in the request's
    process (single documents and small sets). Returns how many were drawn."""
    read, write = WRITERS[DocumentKind(kind)]
    return write(read(object_ids), out)


@transaction.atomic
def request_documents(*, kind: str, object_ids, actor) -> DocumentJob:
    """Record a batch of `kind` documents for `object_ids` (parcels, pick lists or
    fulfillments, printed in the order given) and hand it to the worker after the commit.
    Refuses an empty batch, ids that name nothing, and more than MAX_DOCUMENTS documents."""
    if kind not in DocumentKind.values:
        raise DocumentError(_("Choose which documents to print."))
    ids = document_data.unique_ids(object_ids)
    if len(ids) > MAX_DOCUMENTS:
        raise DocumentError(
            _(
                "A batch holds at most %(max)s documents; you chose %(count)s. Print them in "
                "several batches."
            )
            % {"max": f"{MAX_DOCUMENTS:,}", "count": f"{len(ids):,}"}
        )
    found = set(MODELS[DocumentKind(kind)].objects.filter(pk__in=ids).values_list("pk", flat=True))
    ids = [pk for pk in ids if pk in found]
    if not ids:
        raise DocumentError(_("There is nothing to print: none of the chosen documents exists."))
    job = DocumentJob.objects.create(
        kind=kind, object_ids=ids, total=len(ids), requested_by=actor, state=JobState.QUEUED
    )
    from .tasks import render_documents

    transaction.on_commit(partial(render_documents.delay, job.pk, get_language() or ""))
    return job


def _claim(job_id: int) -> DocumentJob | None:
    """Mark the job running unless it is done or failed; None when there is nothing to do."""
    claimed = DocumentJob.objects.filter(
        pk=job_id, state__in=[JobState.QUEUED, JobState.RUNNING]
    ).update(state=JobState.RUNNING, done=0, error="")
    return DocumentJob.objects.get(pk=job_id) if claimed else None


def _record_progress(job_id: int, done: int) -> None:
    DocumentJob.objects.filter(pk=job_id, state=JobState.RUNNING).update(done=done)


def render_job(job_id: int, *, language: str = "") -> bool:
    """Render the batch `job_id` to its PDF. Returns whether this run made the file. Safe to
    run twice: a done or failed job is left alone."""
    job = _claim(job_id)
    if job is None:
        return False
    folder = documents_dir()
    folder.mkdir(parents=True, exist_ok=True)
    filename = f"{job.kind}-{job.pk}.pdf"
    final = folder / filename
    partial_file = folder / f".{filename}.{os.getpid()}.part"
    read, write = WRITERS[DocumentKind(job.kind)]
    try:
        with override(language or settings.LANGUAGE_CODE), partial_file.open("wb") as out:
            count = write(
                read(job.object_ids),
                out,
                progress=partial(_record_progress, job.pk),
                every=documents.PROGRESS_EVERY,
            )
        partial_file.replace(final)
    except Exception as error:
        logger.exception("document batch %s failed", job.pk)
        partial_file.unlink(missing_ok=True)
        DocumentJob.objects.filter(pk=job.pk).update(
            state=JobState.FAILED, error=str(error)[:300], finished_at=timezone.now()
        )
        return False
    DocumentJob.objects.filter(pk=job.pk).update(
        state=JobState.DONE,
        done=count,
        total=count,
        filename=filename,
        finished_at=timezone.now(),
    )
    return True


def tidy_jobs() -> tuple[int, int]:
    """Hand the broker again the batches still queued after REQUEUE_AFTER (their enqueue at
    commit was lost), and delete the files of batches finished more than KEEP_FILES ago.
    Returns (requeued, files deleted). Safe beside itself: a batch sent twice is rendered
    once when it is done by the time the copy arrives, at worst twice into the same file."""
    from .tasks import render_documents

    now = timezone.now()
    waiting = DocumentJob.objects.filter(
        state=JobState.QUEUED, created_at__lt=now - REQUEUE_AFTER
    ).values_list("pk", flat=True)[:100]
    requeued = 0
    for job_id in waiting:
        try:
            render_documents.delay(job_id, "")
        except Exception:
            logger.exception("handing over document batch %s failed", job_id)
            continue
        requeued += 1
    deleted = 0
    old = DocumentJob.objects.filter(state=JobState.DONE, finished_at__lt=now - KEEP_FILES).exclude(
        filename=""
    )
    for job_id, filename in old.values_list("pk", "filename")[:500]:
        (documents_dir() / Path(filename).name).unlink(missing_ok=True)
        DocumentJob.objects.filter(pk=job_id).update(filename="")
        deleted += 1
    return requeued, deleted


def recent_jobs(*, user, limit: int = 10) -> list[DocumentJob]:
    """The user's latest batches, newest first. One query."""
    return list(
        DocumentJob.objects.filter(requested_by=user).order_by("-created_at", "-pk")[:limit]
    )


def may_see_job(user, job: DocumentJob) -> bool:
    """A batch is its requester's, and open to whoever plans the floor's work."""
    return job.requested_by_id == user.pk or user.has_perm("fulfillment.plan_waves")
