"""Stored reports (RPT-6): snapshots made by beat every day, week and month (or on demand),
the on-demand runs with their progress, and the managers' e-mail subscriptions with a record of
what each was sent, so that a rerun of a scheduled job e-mails nobody twice."""

import hashlib
import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .periods import PeriodKind
from .registry import ReportKey


def filters_hash(filters: dict) -> str:
    """A stable name for a set of filters (the snapshot's unique key includes it)."""
    plain = json.dumps({k: v for k, v in filters.items() if v}, sort_keys=True)
    return hashlib.sha256(plain.encode()).hexdigest()[:32]


class ReportSnapshot(models.Model):
    """The tables of one report for one period and set of filters, as they were computed. A
    rerun replaces it (one per report, period and filters)."""

    report = models.CharField(_("report"), max_length=20, choices=ReportKey.choices)
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_key = models.CharField(_("period key"), max_length=12)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    filters_hash = models.CharField(max_length=32, editable=False)
    tables = models.JSONField(_("tables"), default=list)
    created_at = models.DateTimeField(_("made at"), auto_now=True)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("made by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty: made by the schedule."),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("report snapshot")
        verbose_name_plural = _("report snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["report", "period_kind", "period_key", "filters_hash"],
                name="reports_one_snapshot_per_period_and_filters",
            )
        ]

    def __str__(self) -> str:
        return f"{self.report} {self.period_key}"

    def save(self, *args, **kwargs):
        self.filters_hash = filters_hash(self.filters)
        super().save(*args, **kwargs)


class RunState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ReportRun(models.Model):
    """A report a manager asked for, made by a worker while a progress bar shows how far it
    got; when done it points at the snapshot it made."""

    report = models.CharField(_("report"), max_length=20, choices=ReportKey.choices)
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_key = models.CharField(_("period key"), max_length=12)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=RunState.choices, default=RunState.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    snapshot = models.ForeignKey(
        ReportSnapshot,
        verbose_name=_("snapshot"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runs",
    )
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("report run")
        verbose_name_plural = _("report runs")

    def __str__(self) -> str:
        return f"{self.report} {self.period_key} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in (RunState.DONE, RunState.FAILED)


class SubscriptionKind(models.TextChoices):
    """How often a subscriber is e-mailed: with each day's, week's or month's snapshot."""

    DAY = PeriodKind.DAY.value, _("Daily")
    WEEK = PeriodKind.WEEK.value, _("Weekly")
    MONTH = PeriodKind.MONTH.value, _("Monthly")


class ReportSubscription(models.Model):
    """A manager's wish to be e-mailed a report (CSV and XLSX attached) after each scheduled
    run of one period kind."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="report_subscriptions",
    )
    report = models.CharField(_("report"), max_length=20, choices=ReportKey.choices)
    period_kind = models.CharField(_("period"), max_length=10, choices=SubscriptionKind.choices)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("subscribed at"), auto_now_add=True)

    class Meta:
        ordering = ["report", "period_kind"]
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "report", "period_kind"],
                name="reports_one_subscription_per_user_report_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.report} {self.period_kind}"


class ReportDelivery(models.Model):
    """One e-mail sent for one subscription and period: its row is what makes a rerun of the
    scheduled job skip the subscriber."""

    subscription = models.ForeignKey(
        ReportSubscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    period_key = models.CharField(_("period key"), max_length=12)
    snapshot = models.ForeignKey(
        ReportSnapshot,
        verbose_name=_("snapshot"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("report e-mail")
        verbose_name_plural = _("report e-mails")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_key"],
                name="reports_one_email_per_subscription_and_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription} {self.period_key}"
