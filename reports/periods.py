"""Report periods (RPT-6): a day, an ISO week (Monday to Sunday) or a calendar month, cut at
midnight in the shop's time zone (`TIME_ZONE`, Asia/Shanghai), and the period before it for
the comparison every figure is shown beside."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PeriodKind(models.TextChoices):
    DAY = "day", _("Day")
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")


def _midnight(day: date) -> datetime:
    """The shop-local midnight that starts `day`, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


@dataclass(frozen=True)
class Period:
    """[start, end) in the shop's time zone: `start` is the first day, `end` the day after the
    last (both local dates); `starts_at` / `ends_at` the aware datetimes to filter with."""

    kind: str
    start: date
    end: date

    @property
    def starts_at(self) -> datetime:
        return _midnight(self.start)

    @property
    def ends_at(self) -> datetime:
        return _midnight(self.end)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def key(self) -> str:
        """A stable name for snapshots and URLs: 2026-11-25, 2026-W48, 2026-11."""
        if self.kind == PeriodKind.DAY:
            return self.start.isoformat()
        if self.kind == PeriodKind.WEEK:
            year, week, _weekday = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start:%Y-%m}"

    def previous(self) -> "Period":
        return period_containing(self.kind, self.start - timedelta(days=1))

    def next(self) -> "Period":
        return period_containing(self.kind, self.end)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days)]


def period_containing(kind: str, day: date) -> Period:
    """The day, ISO week or calendar month that contains `day`."""
    if kind == PeriodKind.DAY:
        return Period(kind, day, day + timedelta(days=1))
    if kind == PeriodKind.WEEK:
        start = day - timedelta(days=day.weekday())
        return Period(kind, start, start + timedelta(days=7))
    if kind == PeriodKind.MONTH:
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return Period(kind, start, end)
    raise ValueError(f"unknown period kind {kind!r}")


def current_period(kind: str) -> Period:
    return period_containing(kind, timezone.localdate())


def last_complete_period(kind: str) -> Period:
    """The latest period that has ended: yesterday, last week, last month (scheduled runs)."""
    return current_period(kind).previous()


def parse_period(kind: str, key: str) -> Period | None:
    """The period named by `key` (as `Period.key` writes it), or None if it names none."""
    try:
        if kind == PeriodKind.DAY:
            return period_containing(kind, date.fromisoformat(key))
        if kind == PeriodKind.WEEK:
            year, week = key.split("-W")
            return period_containing(kind, date.fromisocalendar(int(year), int(week), 1))
        if kind == PeriodKind.MONTH:
            year, month = key.split("-")
            return period_containing(kind, date(int(year), int(month), 1))
    except (ValueError, TypeError):
        return None
    return None
