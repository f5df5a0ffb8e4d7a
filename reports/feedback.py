"""Customer feedback report (RPT-5): how many orders were rated in the period and how well,
beside the previous period; the ratings per day for the chart; the spread over 1–5 stars; and
the latest comments, each leading to its order.

A rating counts in the period it was left in (shop-local midnight to midnight). The channel
filter narrows to the rated orders of one sales channel; the warehouse filter does not apply."""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.models import OrderFeedback

from .periods import Period
from .registry import ReportFilters
from .tables import COUNT, DATE, PERCENT, TEXT, Column, Table, change

KEY = "feedback"
TITLE = _("Customer feedback")

COMMENTS_LIMIT = 50
LOW_RATING = 2  # 1 and 2 stars count as unhappy customers
RATINGS = (5, 4, 3, 2, 1)


def _average(total, count) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _share(part, count) -> Decimal | None:
    if not count:
        return None
    return (Decimal(part) * 100 / Decimal(count)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _change(current, previous) -> Decimal | None:
    result = change(current, previous)
    return None if result is None else result.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _feedback(filters: ReportFilters):
    rows = OrderFeedback.objects.all()
    if filters.channel:
        rows = rows.filter(order__channel=filters.channel)
    return rows


def _in(period: Period) -> Q:
    return Q(created_at__gte=period.starts_at, created_at__lt=period.ends_at)


def summary(period: Period, filters: ReportFilters) -> Table:
    previous = period.previous()
    figures = (
        _feedback(filters)
        .filter(created_at__gte=previous.starts_at, created_at__lt=period.ends_at)
        .aggregate(
            count=Count("id", filter=_in(period)),
            total=Sum("rating", filter=_in(period)),
            low=Count("id", filter=_in(period) & Q(rating__lte=LOW_RATING)),
            previous_count=Count("id", filter=_in(previous)),
            previous_total=Sum("rating", filter=_in(previous)),
            previous_low=Count("id", filter=_in(previous) & Q(rating__lte=LOW_RATING)),
        )
    )
    average = _average(figures["total"], figures["count"])
    previous_average = _average(figures["previous_total"], figures["previous_count"])
    low = _share(figures["low"], figures["count"])
    previous_low = _share(figures["previous_low"], figures["previous_count"])
    row = {
        "count": figures["count"],
        "count_previous": figures["previous_count"],
        "count_change": _change(figures["count"], figures["previous_count"]),
        "average": average,
        "average_previous": previous_average,
        "average_change": _change(average, previous_average),
        "low_share": low,
        "low_share_previous": previous_low,
        "low_share_change": _change(low, previous_low),
    }
    return Table(
        key="summary",
        title=_("Ratings"),
        columns=[
            Column("count", _("Ratings"), COUNT),
            Column("count_previous", _("Ratings, previous period"), COUNT),
            Column("count_change", _("Change of ratings"), PERCENT),
            Column("average", _("Average stars"), TEXT),
            Column("average_previous", _("Average stars, previous period"), TEXT),
            Column("average_change", _("Change of average"), PERCENT),
            Column("low_share", _("Rated 1–2 stars"), PERCENT),
            Column("low_share_previous", _("Rated 1–2 stars, previous period"), PERCENT),
            Column("low_share_change", _("Change of 1–2 star share"), PERCENT),
        ],
        rows=[row],
        note=_(
            "Orders rated by their customers in the period, the average of their stars (1 to 5, "
            "two decimals) and the share rated 1 or 2 stars, beside the period before."
        ),
    )


def by_day(period: Period, filters: ReportFilters) -> Table:
    grouped = {
        row["day"]: row
        for row in _feedback(filters)
        .filter(_in(period))
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_default_timezone()))
        .order_by()
        .values("day")
        .annotate(count=Count("id"), total=Sum("rating"))
    }
    rows = []
    for day in period.days():
        figures = grouped.get(day, {"count": 0, "total": 0})
        rows.append(
            {
                "day": day,
                "count": figures["count"],
                "average": _average(figures["total"], figures["count"]),
            }
        )
    return Table(
        key="by_day",
        title=_("Ratings per day"),
        columns=[
            Column("day", _("Day"), DATE),
            Column("count", _("Ratings"), COUNT),
            Column("average", _("Average stars"), TEXT),
        ],
        rows=rows,
    )


def by_rating(period: Period, filters: ReportFilters) -> Table:
    counts = dict(
        _feedback(filters)
        .filter(_in(period))
        .order_by()
        .values("rating")
        .annotate(count=Count("id"))
        .values_list("rating", "count")
    )
    total = sum(counts.values())
    rows = [
        {
            "rating": rating,
            "count": counts.get(rating, 0),
            "share": _share(counts.get(rating, 0), total),
        }
        for rating in RATINGS
    ]
    return Table(
        key="by_rating",
        title=_("Ratings by stars"),
        columns=[
            Column("rating", _("Stars"), COUNT),
            Column("count", _("Ratings"), COUNT),
            Column("share", _("Share"), PERCENT),
        ],
        rows=rows,
    )


def comments(period: Period, filters: ReportFilters) -> Table:
    latest = list(
        _feedback(filters)
        .filter(_in(period))
        .exclude(comment="")
        .order_by("-created_at", "-id")
        .values("created_at", "order__number", "rating", "comment")[:COMMENTS_LIMIT]
    )
    rows = [
        {
            "left_at": timezone.localtime(item["created_at"]).date(),
            "order": item["order__number"],
            "rating": item["rating"],
            "comment": item["comment"],
            "_drill": {"search": item["order__number"]},
        }
        for item in latest
    ]
    return Table(
        key="comments",
        title=_("Latest comments"),
        columns=[
            Column("left_at", _("Date"), DATE),
            Column("order", _("Order"), TEXT),
            Column("rating", _("Stars"), COUNT),
            Column("comment", _("Comment"), TEXT),
        ],
        rows=rows,
        note=_("The latest %(limit)d comments of the period, newest first.")
        % {"limit": COMMENTS_LIMIT},
    )


def build(*, period: Period, filters: ReportFilters) -> list[Table]:
    return [
        summary(period, filters),
        by_day(period, filters),
        by_rating(period, filters),
        comments(period, filters),
    ]
