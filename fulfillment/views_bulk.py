"""Promotion-day screens (FUL-7), under /staff/floor/promotion-day/: release held orders and
hold the queue in bulk, many pick lists at once, the labels of every parcel waiting for
hand-over in one print batch, and the pre-event stock check (with its CSV).

For whoever plans the floor's work (`fulfillment.plan_waves`: the warehouse role and
managers). Every screen makes a fixed number of queries whatever the number of orders; every
action is a POST with its CSRF token that either does all of its work or, on bad input,
nothing, saying why.
"""

import csv
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.csv_upload import spreadsheet_safe
from core.errors import DomainError
from inventory.forms import WarehousePickForm
from inventory.selectors import warehouses as all_warehouses
from inventory.working import WAREHOUSE_SESSION_KEY

from . import bulk, document_jobs, readiness, selectors, services
from .forms_bulk import (
    BulkLabelsForm,
    BulkWaveForm,
    HoldQueueForm,
    ReadinessFilterForm,
    ReleaseForm,
)
from .views import plan_waves

# The pick lists made by the last bulk run, shown on the pick-list screen until the next run.
MADE_SESSION_KEY = "floor:bulk_waves"
READINESS_PAGE = 100


def _working_warehouse(request: HttpRequest, chosen=None):
    """(warehouse, active warehouses): the one chosen (`chosen`, else ?warehouse=, else the
    one kept in the session by any warehouse screen, else the first active one)."""
    active = {w.pk: w for w in all_warehouses() if w.is_active}
    if chosen is None:
        value = request.GET.get("warehouse", "")
        chosen = active.get(int(value)) if value.isdigit() else None
    if chosen is not None and chosen.pk in active:
        request.session[WAREHOUSE_SESSION_KEY] = chosen.pk
        return active[chosen.pk], list(active.values())
    remembered = active.get(request.session.get(WAREHOUSE_SESSION_KEY))
    return remembered or next(iter(active.values()), None), list(active.values())


def _page(request: HttpRequest, warehouse, warehouses, **context) -> dict:
    return {
        "warehouse": warehouse,
        "warehouse_form": WarehousePickForm(
            initial={"warehouse": warehouse.pk}, warehouses=warehouses
        ),
        "can_plan": True,
        "can_work": request.user.has_perm("fulfillment.work_floor"),
        **context,
    }


def _number(value: int) -> str:
    """A count as people read it in their language (1,500)."""
    return number_format(value, force_grouping=True)


def _no_warehouse(request: HttpRequest) -> HttpResponse:
    return render(request, "inventory/no_warehouse.html", {})


# --- release and hold -------------------------------------------------------------------------
def _release_page(
    request: HttpRequest, warehouse, warehouses, *, release_form=None, hold_form=None, status=200
) -> HttpResponse:
    initial = {"warehouse": warehouse.pk}
    context = _page(
        request,
        warehouse,
        warehouses,
        tab="release",
        counts=selectors.floor_counts(warehouse_id=warehouse.pk),
        release_form=release_form or ReleaseForm(initial=initial),
        hold_form=hold_form or HoldQueueForm(initial=initial),
    )
    return render(request, "fulfillment/bulk/release.html", context, status=status)


@plan_waves
@require_GET
def release_screen(request: HttpRequest) -> HttpResponse:
    """Held / in the queue / on pick lists, with the bulk release and bulk hold forms."""
    warehouse, warehouses = _working_warehouse(request)
    if warehouse is None:
        return _no_warehouse(request)
    return _release_page(request, warehouse, warehouses)


@plan_waves
@require_POST
def release(request: HttpRequest) -> HttpResponse:
    """Release the oldest N held orders of a warehouse, or all of them."""
    form = ReleaseForm(request.POST)
    if not form.is_valid():
        warehouse, warehouses = _working_warehouse(request, form.cleaned_data.get("warehouse"))
        if warehouse is None:
            raise PermissionDenied
        return _release_page(request, warehouse, warehouses, release_form=form, status=400)
    warehouse = form.cleaned_data["warehouse"]
    request.session[WAREHOUSE_SESSION_KEY] = warehouse.pk
    try:
        count = services.release(actor=request.user, warehouse_id=warehouse.pk, limit=form.limit)
    except DomainError as refused:
        messages.error(request, refused.message)
        return redirect("floor:bulk")
    if count:
        messages.success(
            request,
            ngettext(
                "%(count)s held order released to the queue of %(warehouse)s.",
                "%(count)s held orders released to the queue of %(warehouse)s.",
                count,
            )
            % {"count": _number(count), "warehouse": warehouse},
        )
    else:
        messages.warning(
            request,
            _("No order is held in %(warehouse)s: nothing was released.")
            % {"warehouse": warehouse},
        )
    return redirect("floor:bulk")


@plan_waves
@require_POST
def hold(request: HttpRequest) -> HttpResponse:
    """Hold the warehouse's whole queue (or its oldest N orders) with a reason."""
    form = HoldQueueForm(request.POST)
    if not form.is_valid():
        warehouse, warehouses = _working_warehouse(request, form.cleaned_data.get("warehouse"))
        if warehouse is None:
            raise PermissionDenied
        return _release_page(request, warehouse, warehouses, hold_form=form, status=400)
    warehouse = form.cleaned_data["warehouse"]
    request.session[WAREHOUSE_SESSION_KEY] = warehouse.pk
    try:
        count = bulk.hold_queue(
            warehouse_id=warehouse.pk,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            limit=form.cleaned_data["count"],
        )
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            ngettext(
                "%(count)s order of the queue of %(warehouse)s held.",
                "%(count)s orders of the queue of %(warehouse)s held.",
                count,
            )
            % {"count": _number(count), "warehouse": warehouse},
        )
    return redirect("floor:bulk")


# --- pick lists -------------------------------------------------------------------------------
@plan_waves
@require_http_methods(["GET", "POST"])
def waves(request: HttpRequest) -> HttpResponse:
    """GET: the form and the pick lists of the last run; POST: make them (then GET again)."""
    if request.method == "POST":
        form = BulkWaveForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            warehouse = data["warehouse"]
            request.session[WAREHOUSE_SESSION_KEY] = warehouse.pk
            try:
                made = services.create_waves(
                    warehouse_id=warehouse.pk,
                    actor=request.user,
                    carrier_id=data["carrier"].pk if data["carrier"] else None,
                    cutoff=data["cutoff"],
                    size=data["size"],
                    wave_size=data["wave_size"],
                    max_waves=data["max_waves"],
                )
            except DomainError as refused:
                messages.error(request, refused.message)
                return redirect("floor:bulk_waves")
            request.session[MADE_SESSION_KEY] = [wave.pk for wave in made]
            orders = sum(wave.order_count for wave in made)
            messages.success(
                request,
                ngettext(
                    "%(lists)s pick list made with %(orders)s orders.",
                    "%(lists)s pick lists made with %(orders)s orders.",
                    len(made),
                )
                % {"lists": _number(len(made)), "orders": _number(orders)},
            )
            return redirect("floor:bulk_waves")
        warehouse, warehouses = _working_warehouse(request, form.cleaned_data.get("warehouse"))
        status = 400
    else:
        warehouse, warehouses = _working_warehouse(request)
        form = None
        status = 200
    if warehouse is None:
        return _no_warehouse(request)
    made = [
        wave
        for wave in bulk.waves_by_ids(request.session.get(MADE_SESSION_KEY, []))
        if wave.warehouse_id == warehouse.pk
    ]
    context = _page(
        request,
        warehouse,
        warehouses,
        tab="waves",
        form=form or BulkWaveForm(initial={"warehouse": warehouse.pk}),
        counts=selectors.floor_counts(warehouse_id=warehouse.pk),
        made=made,
        made_orders=sum(wave.order_count for wave in made),
        made_units=sum(wave.unit_count for wave in made),
    )
    return render(request, "fulfillment/bulk/waves.html", context, status=status)


# --- labels -----------------------------------------------------------------------------------
@plan_waves
@require_http_methods(["GET", "POST"])
def labels(request: HttpRequest) -> HttpResponse:
    """GET: how many parcels wait for hand-over, and the form; POST: their labels as print
    batches made in the background, then the batch's progress page."""
    if request.method == "POST":
        form = BulkLabelsForm(request.POST)
        if form.is_valid():
            warehouse = form.cleaned_data["warehouse"]
            request.session[WAREHOUSE_SESSION_KEY] = warehouse.pk
            try:
                jobs = bulk.print_labels(
                    warehouse_id=warehouse.pk,
                    actor=request.user,
                    packed_since=form.cleaned_data["packed_since"],
                )
            except DomainError as refused:
                messages.error(request, refused.message)
                return redirect("floor:bulk_labels")
            labels_count = sum(job.total for job in jobs)
            messages.success(
                request,
                ngettext(
                    "%(labels)s labels are being made in %(batches)s batch.",
                    "%(labels)s labels are being made in %(batches)s batches.",
                    len(jobs),
                )
                % {"labels": _number(labels_count), "batches": len(jobs)},
            )
            if len(jobs) == 1:
                return redirect("floor:job", job_id=jobs[0].pk)
            return redirect("floor:batch")
        warehouse, warehouses = _working_warehouse(request, form.cleaned_data.get("warehouse"))
        status = 400
    else:
        warehouse, warehouses = _working_warehouse(request)
        form = None
        status = 200
    if warehouse is None:
        return _no_warehouse(request)
    context = _page(
        request,
        warehouse,
        warehouses,
        tab="labels",
        form=form or BulkLabelsForm(initial={"warehouse": warehouse.pk}),
        waiting=bulk.parcels_to_label(warehouse_id=warehouse.pk).count(),
        max_documents=document_jobs.MAX_DOCUMENTS,
    )
    return render(request, "fulfillment/bulk/labels.html", context, status=status)


# --- the pre-event stock check ----------------------------------------------------------------
def _check(request: HttpRequest):
    warehouses = [w for w in all_warehouses() if w.is_active]
    form = ReadinessFilterForm(request.GET or None, warehouses=warehouses)
    warehouse_id, sort = None, readiness.DEFAULT_SORT
    if form.is_bound and form.is_valid():
        warehouse_id, sort = form.cleaned_data["warehouse"], form.cleaned_data["sort"]
    return form, sort, readiness.readiness(warehouse_id=warehouse_id, sort=sort)


@plan_waves
@require_GET
def readiness_screen(request: HttpRequest) -> HttpResponse:
    """SKUs whose stock will not cover the orders waiting, and SKUs under their threshold."""
    form, sort, check = _check(request)
    query = request.GET.copy()
    query.pop("sort", None)
    query.pop("page", None)
    context = {
        "tab": "readiness",
        "form": form,
        "sort": sort,
        "check": check,
        "page": Paginator(check.short, READINESS_PAGE).get_page(request.GET.get("page")),
        "low": check.low[:READINESS_PAGE],
        "low_more": max(0, len(check.low) - READINESS_PAGE),
        "query": query.urlencode(),
        "can_plan": True,
        "can_work": request.user.has_perm("fulfillment.work_floor"),
    }
    return render(
        request, "fulfillment/bulk/readiness.html", context, status=400 if form.errors else 200
    )


@plan_waves
@require_GET
def readiness_csv(request: HttpRequest) -> HttpResponse:
    """The stock check as CSV (UTF-8 with a BOM, so that spreadsheets read Chinese names)."""
    _form, _sort, check = _check(request)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(readiness.CSV_HEADER)
    for row in readiness.csv_rows(check):
        writer.writerow([spreadsheet_safe(value) for value in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="stock-check-{stamp}.csv"'
    return response
