"""Customer feedback report (RPT-5) against a hand-computed fixture: ratings counted in the
period they were left in, cut at midnight Asia/Shanghai, beside the previous period; per day,
per star and the latest comments — in a constant number of queries."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from feedback import services
from feedback.models import OrderFeedback
from reports import feedback
from reports.periods import PeriodKind, period_containing
from reports.registry import ReportFilters, report
from tests.factories import make_order

pytestmark = pytest.mark.django_db

NOVEMBER = period_containing(PeriodKind.MONTH, date(2026, 11, 10))


def _rate(rating, comment, at, **order):
    placed = make_order(state="completed", **order)
    rated = services.leave_feedback(
        order_id=placed.pk, actor=placed.customer, rating=rating, comment=comment
    )
    OrderFeedback.objects.filter(pk=rated.pk).update(created_at=at)
    return placed.number


@pytest.fixture
def ratings():
    return {
        # November, local time (UTC+8):
        "A": _rate(5, "Great", datetime(2026, 10, 31, 16, 30, tzinfo=UTC)),  # 1 Nov 00:30
        "B": _rate(4, "", datetime(2026, 11, 1, 3, 0, tzinfo=UTC)),  # 1 Nov 11:00
        "C": _rate(
            2,
            "Late",
            datetime(2026, 11, 15, 10, 0, tzinfo=UTC),
            channel="marketplace",
            external_id="MP-1",
        ),
        "D": _rate(1, "Broken", datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC)),  # 23:59:59
        # 1 December 00:00 local: next month.
        "E": _rate(3, "Fine", datetime(2026, 11, 30, 16, 0, tzinfo=UTC)),
        # October: 31 Oct 23:59:59 local, and 5 Oct.
        "F": _rate(5, "Super", datetime(2026, 10, 31, 15, 59, 59, tzinfo=UTC)),
        "G": _rate(2, "Meh", datetime(2026, 10, 5, 0, 0, tzinfo=UTC)),
    }


def tables(filters=None):
    built = feedback.build(period=NOVEMBER, filters=filters or ReportFilters())
    return {table.key: table for table in built}


def test_the_registry_offers_the_feedback_report():
    assert report("feedback") is feedback
    assert feedback.KEY == "feedback"


def test_summary_beside_the_previous_period(ratings):
    (row,) = tables()["summary"].rows
    assert row == {
        # November: A 5, B 4, C 2, D 1 → 4 ratings, 12 stars, 2 of them 1–2 stars.
        "count": 4,
        "average": Decimal("3.00"),
        "low_share": Decimal("50.0"),
        # October: F 5, G 2.
        "count_previous": 2,
        "average_previous": Decimal("3.50"),
        "low_share_previous": Decimal("50.0"),
        "count_change": Decimal("100.0"),
        "average_change": Decimal("-14.3"),  # (3.00 − 3.50) / 3.50
        "low_share_change": Decimal("0.0"),
    }


def test_per_day_of_the_period(ratings):
    by_day = tables()["by_day"]
    assert len(by_day.rows) == 30
    assert by_day.rows[0] == {"day": date(2026, 11, 1), "count": 2, "average": Decimal("4.50")}
    assert by_day.rows[14] == {"day": date(2026, 11, 15), "count": 1, "average": Decimal("2.00")}
    assert by_day.rows[29] == {"day": date(2026, 11, 30), "count": 1, "average": Decimal("1.00")}
    others = [row for n, row in enumerate(by_day.rows) if n not in (0, 14, 29)]
    assert all(row["count"] == 0 and row["average"] is None for row in others)


def test_per_star(ratings):
    assert [(r["rating"], r["count"], r["share"]) for r in tables()["by_rating"].rows] == [
        (5, 1, Decimal("25.0")),
        (4, 1, Decimal("25.0")),
        (3, 0, Decimal("0.0")),
        (2, 1, Decimal("25.0")),
        (1, 1, Decimal("25.0")),
    ]


def test_latest_comments_lead_to_their_orders(ratings):
    comments = tables()["comments"].rows
    assert comments == [
        {
            "left_at": date(2026, 11, 30),
            "order": ratings["D"],
            "rating": 1,
            "comment": "Broken",
            "_drill": {"search": ratings["D"]},
        },
        {
            "left_at": date(2026, 11, 15),
            "order": ratings["C"],
            "rating": 2,
            "comment": "Late",
            "_drill": {"search": ratings["C"]},
        },
        {
            "left_at": date(2026, 11, 1),
            "order": ratings["A"],
            "rating": 5,
            "comment": "Great",
            "_drill": {"search": ratings["A"]},
        },
    ]


def test_the_channel_filter(ratings):
    narrowed = tables(ReportFilters(channel="marketplace"))
    (row,) = narrowed["summary"].rows
    assert (row["count"], row["average"], row["low_share"]) == (
        1,
        Decimal("2.00"),
        Decimal("100.0"),
    )
    assert (row["count_previous"], row["average_previous"], row["count_change"]) == (0, None, None)
    assert [r["order"] for r in narrowed["comments"].rows] == [ratings["C"]]


def test_an_empty_period():
    (row,) = tables()["summary"].rows
    assert row["count"] == 0
    assert row["average"] is None and row["low_share"] is None
    assert sum(r["count"] for r in tables()["by_rating"].rows) == 0


def test_the_report_makes_a_constant_number_of_queries(ratings, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        feedback.build(period=NOVEMBER, filters=ReportFilters())
    _rate(3, "More", datetime(2026, 11, 20, 1, 0, tzinfo=UTC))
    with django_assert_max_num_queries(4):
        built = feedback.build(period=NOVEMBER, filters=ReportFilters())
    assert built[0].rows[0]["count"] == 5
