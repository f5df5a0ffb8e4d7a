"""Printed documents of the floor (FUL-4): shipping labels, pick lists and packing slips as
print-ready HTML and as PDF, one or a few at once in the request, and batches of up to 2,000
rendered by the worker with a progress bar.

Open to staff who work the floor or plan its work (`fulfillment.work_floor` or
`fulfillment.plan_waves`); a batch's page and file to its requester and to planners. Each page
makes a fixed number of queries whatever the number of documents.
"""

from collections.abc import Callable
from functools import wraps
from io import BytesIO

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from . import document_data, document_jobs, documents
from .document_jobs import DocumentError
from .forms_documents import DocumentBatchForm
from .models import DocumentJob, DocumentKind, JobState

FLOOR_PERMISSIONS = ("fulfillment.work_floor", "fulfillment.plan_waves")
# Documents drawn in the request (HTML pages, PDFs of a few labels); more go to a batch.
MAX_IN_REQUEST = 200


def floor_documents_required(view: Callable) -> Callable:
    """Signed-in staff holding a floor permission; others log in (anonymous) or get 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not any(user.has_perm(permission) for permission in FLOOR_PERMISSIONS):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _ids(request: HttpRequest) -> list[int]:
    """`?ids=1&ids=2` or `?ids=1,2`."""
    values = []
    for value in request.GET.getlist("ids"):
        values.extend(value.split(","))
    return document_data.unique_ids(v.strip() for v in values)[: MAX_IN_REQUEST + 1]


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "fulfillment/documents/too_many.html",
        {"max": MAX_IN_REQUEST},
        status=400,
    )


def _pdf(draw: Callable[[BytesIO], object], filename: str) -> HttpResponse:
    buffer = BytesIO()
    draw(buffer)
    response = HttpResponse(buffer.getvalue(), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _print_page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    context["autoprint"] = request.GET.get("print") == "1"
    return render(request, template, context)


# --- shipping labels --------------------------------------------------------------------------
def _labels_or_404(ids: list[int]) -> list[document_data.Label]:
    labels = document_data.labels(ids)
    if not labels:
        raise Http404
    return labels


@floor_documents_required
@require_GET
def label(request: HttpRequest, parcel_id: int) -> HttpResponse:
    labels = _labels_or_404([parcel_id])
    return _print_page(
        request,
        "fulfillment/documents/labels.html",
        {"labels": labels, "pdf_url_ids": str(parcel_id)},
    )


@floor_documents_required
@require_GET
def labels(request: HttpRequest) -> HttpResponse:
    ids = _ids(request)
    if len(ids) > MAX_IN_REQUEST:
        return _too_many(request)
    labels = _labels_or_404(ids)
    return _print_page(
        request,
        "fulfillment/documents/labels.html",
        {"labels": labels, "pdf_url_ids": ",".join(str(label.parcel.pk) for label in labels)},
    )


@floor_documents_required
@require_GET
def label_pdf(request: HttpRequest, parcel_id: int) -> HttpResponse:
    labels = _labels_or_404([parcel_id])
    return _pdf(
        lambda out: documents.write_labels(labels, out),
        f"label-{labels[0].tracking_number}.pdf",
    )


@floor_documents_required
@require_GET
def labels_pdf(request: HttpRequest) -> HttpResponse:
    ids = _ids(request)
    if len(ids) > MAX_IN_REQUEST:
        return _too_many(request)
    labels = _labels_or_404(ids)
    return _pdf(lambda out: documents.write_labels(labels, out), f"labels-{len(labels)}.pdf")


# --- pick lists -------------------------------------------------------------------------------
def _pick_list_or_404(wave_id: int) -> document_data.PickListDocument:
    found = document_data.pick_lists([wave_id])
    if not found:
        raise Http404
    return found[0]


@floor_documents_required
@require_GET
def pick_list(request: HttpRequest, wave_id: int) -> HttpResponse:
    return _print_page(
        request,
        "fulfillment/documents/pick_list.html",
        {"document": _pick_list_or_404(wave_id)},
    )


@floor_documents_required
@require_GET
def pick_list_pdf(request: HttpRequest, wave_id: int) -> HttpResponse:
    document = _pick_list_or_404(wave_id)
    return _pdf(
        lambda out: documents.write_pick_lists([document], out),
        f"pick-list-{document.number}.pdf",
    )


# --- packing slips ----------------------------------------------------------------------------
def _slips_or_404(ids: list[int]) -> list[document_data.PackingSlip]:
    slips = document_data.packing_slips(ids)
    if not slips:
        raise Http404
    return slips


@floor_documents_required
@require_GET
def packing_slip(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    return _print_page(
        request,
        "fulfillment/documents/packing_slips.html",
        {"slips": _slips_or_404([fulfillment_id]), "pdf_url_ids": str(fulfillment_id)},
    )


@floor_documents_required
@require_GET
def packing_slips(request: HttpRequest) -> HttpResponse:
    ids = _ids(request)
    if len(ids) > MAX_IN_REQUEST:
        return _too_many(request)
    slips = _slips_or_404(ids)
    return _print_page(
        request,
        "fulfillment/documents/packing_slips.html",
        {"slips": slips, "pdf_url_ids": None},
    )


@floor_documents_required
@require_GET
def packing_slip_pdf(request: HttpRequest, fulfillment_id: int) -> HttpResponse:
    slips = _slips_or_404([fulfillment_id])
    return _pdf(
        lambda out: documents.write_packing_slips(slips, out),
        f"packing-slip-{slips[0].order_number}.pdf",
    )


# --- batches ----------------------------------------------------------------------------------
@floor_documents_required
@require_http_methods(["GET", "POST"])
def batch(request: HttpRequest) -> HttpResponse:
    """GET: the batch form (with the user's recent batches); POST: kind, and ids and/or pick
    list numbers → a batch job, then its page."""
    if request.method == "POST":
        form = DocumentBatchForm(request.POST)
        if form.is_valid():
            kind = form.cleaned_data["kind"]
            ids = form.cleaned_data["ids"] + document_data.ids_of_waves(
                kind, form.cleaned_data["waves"]
            )
            try:
                job = document_jobs.request_documents(kind=kind, object_ids=ids, actor=request.user)
            except DocumentError as error:
                form.add_error(None, error.message)
            else:
                return redirect("floor:job", job_id=job.pk)
        status = 400
    else:
        kind = request.GET.get("kind")
        form = DocumentBatchForm(
            initial={"kind": kind if kind in DocumentKind.values else DocumentKind.LABELS}
        )
        status = 200
    context = {
        "form": form,
        "jobs": document_jobs.recent_jobs(user=request.user),
        "max_documents": document_jobs.MAX_DOCUMENTS,
    }
    return render(request, "fulfillment/documents/batch.html", context, status=status)


def _job_or_403(request: HttpRequest, job_id: int) -> DocumentJob:
    job = get_object_or_404(DocumentJob, pk=job_id)
    if not document_jobs.may_see_job(request.user, job):
        raise PermissionDenied
    return job


@floor_documents_required
@require_GET
def job(request: HttpRequest, job_id: int) -> HttpResponse:
    """A batch's progress; htmx polls the status part every second until it is done."""
    job = _job_or_403(request, job_id)
    context = {
        "job": job,
        "percent": 100 if not job.total else min(100, job.done * 100 // job.total),
        "finished": job.state in (JobState.DONE, JobState.FAILED),
        "file_missing": job.state == JobState.DONE and document_jobs.job_path(job) is None,
    }
    if request.htmx:
        return render(request, "fulfillment/documents/_job_status.html", context)
    return render(request, "fulfillment/documents/job.html", context)


@floor_documents_required
@require_GET
def job_download(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_403(request, job_id)
    path = document_jobs.job_path(job)
    if path is None:
        raise Http404(_("This batch has no file."))
    return FileResponse(
        path.open("rb"),
        content_type="application/pdf",
        filename=path.name,
    )
