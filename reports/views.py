"""Report screens (RPT-6, issue 9 §7): downloads of any report as CSV or XLSX, on-demand runs
with a progress bar, a manager's e-mail subscriptions and the stored snapshots. Managers and
administrators only (`orders.view_sales_figures`). The dashboard is in `views_dashboard`."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import permission_required
from accounts.roles import Role

from . import exports, services
from .forms import ExportForm, ReportForm, SubscriptionsForm
from .models import ReportRun, ReportSnapshot, ReportSubscription, RunState

reports_required = permission_required(services.REPORTS_PERMISSION)
PAGE_SIZE = 25
CONTENT_TYPES = {"csv": services.CSV_TYPE, "xlsx": services.XLSX_TYPE}


def _download(tables, filename: str, file_format: str) -> HttpResponse:
    content = exports.to_csv(tables) if file_format == "csv" else exports.to_xlsx(tables)
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{file_format}"'
    return response


@reports_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """A report as CSV or XLSX: a past period's snapshot when one is stored, else made now."""
    form = ExportForm(request.GET or None)
    if not form.is_valid():
        status = 400 if request.GET else 200
        return render(request, "reports/export.html", {"form": form}, status=status)
    data = form.cleaned_data
    period = data["period_obj"]
    tables = services.export_tables(data["report"], period, form.filters())
    return _download(tables, f"{data['report']}-{period.key}", data["format"])


@reports_required
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a report and a valid period."))
        return redirect("reports:snapshots")
    data = form.cleaned_data
    try:
        report_run = services.request_run(
            report_key=data["report"],
            period=data["period_obj"],
            filters=form.filters(),
            actor=request.user,
        )
    except services.ReportError as error:
        messages.error(request, error.message)
        return redirect("reports:snapshots")
    return redirect("reports:run_status", report_run.pk)


@reports_required
@require_GET
def run_status(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run's progress; htmx polls the status part every second until it is finished."""
    report_run = get_object_or_404(ReportRun.objects.select_related("snapshot"), pk=run_id)
    if report_run.requested_by_id != request.user.pk and request.user.role != Role.ADMIN:
        raise PermissionDenied
    context = {"run": report_run, "done": RunState.DONE}
    if request.htmx:
        return render(request, "reports/runs/_status.html", context)
    return render(request, "reports/runs/status.html", context)


@reports_required
@require_http_methods(["GET", "POST"])
def subscriptions(request: HttpRequest) -> HttpResponse:
    active = set(
        ReportSubscription.objects.filter(user=request.user, active=True).values_list(
            "report", "period_kind"
        )
    )
    form = SubscriptionsForm(request.POST or None, active=active)
    if request.method == "POST" and form.is_valid():
        services.set_subscriptions(user=request.user, wanted=form.wanted())
        messages.success(request, _("Your report e-mails are saved."))
        return redirect("reports:subscriptions")
    return render(request, "reports/subscriptions.html", {"form": form})


@reports_required
@require_GET
def snapshots(request: HttpRequest) -> HttpResponse:
    rows = ReportSnapshot.objects.select_related("made_by").defer("tables")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/snapshots.html",
        {"page": page, "run_form": ReportForm(), "recent_runs": _recent_runs(request.user)},
    )


def _recent_runs(user) -> list[ReportRun]:
    return list(ReportRun.objects.filter(requested_by=user)[:5])


@reports_required
@require_GET
def snapshot_download(request: HttpRequest, snapshot_id: int, file_format: str) -> HttpResponse:
    if file_format not in CONTENT_TYPES:
        raise Http404
    snapshot = get_object_or_404(ReportSnapshot, pk=snapshot_id)
    tables = exports.tables_from_json(snapshot.tables)
    return _download(tables, f"{snapshot.report}-{snapshot.period_key}", file_format)
