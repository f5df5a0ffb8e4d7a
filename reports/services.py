"""Making and sending reports (RPT-6): snapshots, on-demand runs with progress, and the
scheduled runs that e-mail every subscriber once per period.

Reports are found only through `registry.report(key)` / `registry.available()`: a report whose
module is not there is not offered, scheduled or sent.
"""

import logging
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.errors import DomainError

from . import exports, registry
from .models import (
    ReportDelivery,
    ReportRun,
    ReportSnapshot,
    ReportSubscription,
    RunState,
    filters_hash,
)
from .periods import Period, last_complete_period, parse_period
from .registry import ReportFilters
from .tables import Table

logger = logging.getLogger(__name__)

# The permission that lets a member of staff read and receive reports: the managers'.
REPORTS_PERMISSION = "orders.view_sales_figures"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


class ReportError(DomainError):
    pass


def _module(report_key: str):
    module = registry.report(report_key)
    if module is None:
        raise ReportError(_("There is no such report."))
    return module


def filters_from_json(data: dict) -> ReportFilters:
    warehouse = data.get("warehouse") or None
    return ReportFilters(
        channel=data.get("channel") or "", warehouse_id=int(warehouse) if warehouse else None
    )


def build_tables(report_key: str, period: Period, filters: ReportFilters) -> list[Table]:
    """The report's tables, computed now."""
    return list(_module(report_key).build(period=period, filters=filters))


def store_snapshot(
    report_key: str,
    period: Period,
    filters: ReportFilters,
    tables: list[Table] | list[dict],
    actor=None,
) -> ReportSnapshot:
    """Store `tables` (or their `to_json()`) as the snapshot of (report, period, filters),
    replacing any made before."""
    query = filters.as_query()
    snapshot, _created = ReportSnapshot.objects.update_or_create(
        report=report_key,
        period_kind=period.kind,
        period_key=period.key,
        filters_hash=filters_hash(query),
        defaults={
            "filters": query,
            "tables": [t if isinstance(t, dict) else t.to_json() for t in tables],
            "made_by": actor,
        },
    )
    return snapshot


def make_snapshot(
    report_key: str, period: Period, filters: ReportFilters | None = None, actor=None
) -> ReportSnapshot:
    """Build the report and store (or replace) its snapshot. `actor` None: the schedule."""
    filters = filters or ReportFilters()
    tables = build_tables(report_key, period, filters)
    return store_snapshot(report_key, period, filters, tables, actor=actor)


def find_snapshot(report_key: str, period: Period, filters: ReportFilters):
    return ReportSnapshot.objects.filter(
        report=report_key,
        period_kind=period.kind,
        period_key=period.key,
        filters_hash=filters_hash(filters.as_query()),
    ).first()


def export_tables(report_key: str, period: Period, filters: ReportFilters) -> list[Table]:
    """The tables for a download: a past period's stored snapshot when there is one (the
    figures the managers were sent), else computed now."""
    if period.ends_at <= timezone.now():
        snapshot = find_snapshot(report_key, period, filters)
        if snapshot is not None:
            return exports.tables_from_json(snapshot.tables)
    return build_tables(report_key, period, filters)


# --- On-demand runs -------------------------------------------------------------------------


def request_run(*, report_key: str, period: Period, filters: ReportFilters, actor) -> ReportRun:
    """Record a run of the report and hand it to the worker after the commit."""
    _module(report_key)
    run = ReportRun.objects.create(
        report=report_key,
        period_kind=period.kind,
        period_key=period.key,
        filters=filters.as_query(),
        requested_by=actor,
    )
    from .tasks import make_report_run

    transaction.on_commit(partial(make_report_run.delay, run.pk, get_language() or ""))
    return run


def _progress(run_id: int, percent: int) -> None:
    ReportRun.objects.filter(pk=run_id, state=RunState.RUNNING).update(progress=percent)


def perform_run(run_id: int, *, language: str = "") -> bool:
    """Make the run's report and snapshot, moving its progress as the tables are stored.
    Returns whether this call made it; safe to call twice (a finished run is left alone)."""
    claimed = ReportRun.objects.filter(
        pk=run_id, state__in=[RunState.QUEUED, RunState.RUNNING]
    ).update(state=RunState.RUNNING, progress=5, error="")
    if not claimed:
        return False
    run = ReportRun.objects.select_related("requested_by").get(pk=run_id)
    try:
        with translation.override(language or settings.LANGUAGE_CODE):
            period = parse_period(run.period_kind, run.period_key)
            if period is None:
                raise ReportError(_("The period of this report is not valid."))
            filters = filters_from_json(run.filters)
            tables = build_tables(run.report, period, filters)
            _progress(run.pk, 50)
            # Each table is turned into its stored form in turn; the bar moves with them.
            stored = []
            for table in tables:
                stored.append(table.to_json())
                _progress(run.pk, 50 + 45 * len(stored) // len(tables))
            snapshot = store_snapshot(run.report, period, filters, stored, actor=run.requested_by)
    except Exception as error:
        logger.exception("report run %s failed", run_id)
        ReportRun.objects.filter(pk=run_id).update(
            state=RunState.FAILED, error=str(error)[:300], finished_at=timezone.now()
        )
        return False
    ReportRun.objects.filter(pk=run_id).update(
        state=RunState.DONE, progress=100, snapshot=snapshot, finished_at=timezone.now()
    )
    return True


# --- Scheduled snapshots and e-mails ---------------------------------------------------------


def may_receive_reports(user) -> bool:
    return user.is_active and user.has_perm(REPORTS_PERMISSION)


def attachments(snapshot: ReportSnapshot) -> list[tuple[str, bytes, str]]:
    tables = exports.tables_from_json(snapshot.tables)
    name = f"{snapshot.report}-{snapshot.period_key}"
    return [
        (f"{name}.csv", exports.to_csv(tables), CSV_TYPE),
        (f"{name}.xlsx", exports.to_xlsx(tables), XLSX_TYPE),
    ]


def _email(subscription: ReportSubscription, snapshot: ReportSnapshot, files) -> EmailMessage:
    user = subscription.user
    with translation.override(user.language or settings.LANGUAGE_CODE):
        module = registry.report(snapshot.report)
        title = str(module.TITLE) if module is not None else snapshot.report
        subject = _("%(report)s report for %(period)s") % {
            "report": title,
            "period": snapshot.period_key,
        }
        body = _(
            "Hello,\n\nAttached is the %(report)s report for %(period)s, as a CSV file and "
            "as an Excel workbook.\n\nYou receive it because you subscribed to it. You can "
            "change your subscriptions at %(url)s\n\n%(shop)s"
        ) % {
            "report": title,
            "period": snapshot.period_key,
            "url": f"{settings.SITE_URL}/staff/reports/subscriptions/",
            "shop": settings.SHOP_NAME,
        }
    message = EmailMessage(subject=subject, body=body, to=[user.email])
    for filename, content, mimetype in files:
        message.attach(filename, content, mimetype)
    return message


def send_snapshot(snapshot: ReportSnapshot) -> int:
    """E-mail the snapshot to every active subscriber of its report and period kind who has
    not been sent this period yet. Returns how many e-mails were sent.

    Each e-mail is sent inside the transaction that records its delivery: if sending fails the
    record is rolled back and the next run tries again; a delivery already recorded (by an
    earlier run or a copy running beside this one, which waits on the unique row) is skipped."""
    subscriptions = (
        ReportSubscription.objects.filter(
            report=snapshot.report, period_kind=snapshot.period_kind, active=True
        )
        .exclude(deliveries__period_key=snapshot.period_key)
        .select_related("user")
        .order_by("pk")
    )
    files = None
    sent = 0
    for subscription in subscriptions:
        if not may_receive_reports(subscription.user) or not subscription.user.email:
            continue
        files = files or attachments(snapshot)
        try:
            with transaction.atomic():
                ReportDelivery.objects.create(
                    subscription=subscription, period_key=snapshot.period_key, snapshot=snapshot
                )
                _email(subscription, snapshot, files).send()
        except IntegrityError:
            continue
        except Exception:
            logger.exception("report e-mail for subscription %s failed", subscription.pk)
            continue
        sent += 1
    return sent


def make_scheduled_snapshots(kind: str) -> int:
    """Beat's daily, weekly or monthly run: a snapshot of every available report for the last
    complete period (shop time), then the e-mails to its subscribers. Safe to run twice: the
    snapshot is replaced and nobody is e-mailed twice. Returns how many e-mails were sent."""
    period = last_complete_period(kind)
    sent = 0
    for key, _report in registry.available():
        try:
            with translation.override(settings.LANGUAGE_CODE):
                snapshot = make_snapshot(key, period)
        except Exception:
            logger.exception("scheduled %s report %s for %s failed", kind, key, period.key)
            continue
        sent += send_snapshot(snapshot)
    return sent


# --- Subscriptions --------------------------------------------------------------------------


def set_subscriptions(*, user, wanted: set[tuple[str, str]]) -> None:
    """Make the user's active subscriptions exactly `wanted` ((report, period kind) pairs of
    available reports); the others are switched off, not deleted."""
    if not may_receive_reports(user):
        raise ReportError(_("Only managers can subscribe to reports."))
    available = {key for key, _report in registry.available()}
    wanted = {(report, kind) for report, kind in wanted if report in available}
    with transaction.atomic():
        existing = {
            (s.report, s.period_kind): s
            for s in ReportSubscription.objects.select_for_update().filter(user=user)
        }
        for pair, subscription in existing.items():
            active = pair in wanted
            if subscription.active != active:
                subscription.active = active
                subscription.save(update_fields=["active"])
        ReportSubscription.objects.bulk_create(
            [
                ReportSubscription(user=user, report=report, period_kind=kind)
                for report, kind in wanted - existing.keys()
            ],
            ignore_conflicts=True,
        )
