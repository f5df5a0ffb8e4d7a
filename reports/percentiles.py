"""Durations and their percentiles, computed in the database (RPT-6).

One definition everywhere: the continuous percentile with linear interpolation between the two
nearest ranks — PostgreSQL's `percentile_cont`. PostgreSQL computes it as an ordered-set
aggregate; SQLite has none, so there we count the durations and read just the (at most two)
neighbouring values of each percentile with ORDER BY … LIMIT 2 OFFSET k, then interpolate
exactly as PostgreSQL does (`lo + (hi - lo) * fraction`, in floats), so both give the same
figures. A duration is whole seconds between two timestamps (each truncated to the second)."""

import math
from collections.abc import Mapping, Sequence

from django.db import connection
from django.db.models import Aggregate, BigIntegerField, Count, Expression, FloatField, Func, Q

MEDIAN = 0.5
P90 = 0.9
FRACTIONS = (MEDIAN, P90)


class Seconds(Func):
    """Whole seconds from `start` to `end` (negative if `end` is earlier); NULL if either is."""

    arity = 2
    output_field = BigIntegerField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra_context):  # pragma: no cover - other DBs
        raise NotImplementedError(f"Seconds is not implemented for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context):
        template = (
            "CAST(FLOOR(EXTRACT(EPOCH FROM %(end)s)) - FLOOR(EXTRACT(EPOCH FROM %(start)s)) "
            "AS bigint)"
        )
        return self._two(compiler, connection, template)

    def as_sqlite(self, compiler, connection, **extra_context):
        template = (
            "(CAST(strftime('%%%%s', %(end)s) AS INTEGER) - CAST(strftime('%%%%s', %(start)s) "
            "AS INTEGER))"
        )
        return self._two(compiler, connection, template)

    def _two(self, compiler, connection, template):
        end_sql, end_params = compiler.compile(self.source_expressions[0])
        start_sql, start_params = compiler.compile(self.source_expressions[1])
        return template % {"end": end_sql, "start": start_sql}, (*end_params, *start_params)


class PercentileCont(Aggregate):
    """PostgreSQL's `percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)`."""

    function = "percentile_cont"
    name = "PercentileCont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def interpolate(values: Sequence[float], fraction: float, count: int, first_rank: int) -> float:
    """PostgreSQL's percentile_cont from the sorted values at ranks `first_rank` (and the next
    one when there is one) out of `count`."""
    position = fraction * (count - 1)
    lo = float(values[0])
    hi = float(values[1]) if len(values) > 1 and math.ceil(position) > first_rank else lo
    return lo + (hi - lo) * (position - first_rank)


def percentile_cont(sorted_values: Sequence[float], fraction: float) -> float | None:
    """The same definition over an already sorted list (for tests and small inputs)."""
    if not sorted_values:
        return None
    count = len(sorted_values)
    first = math.floor(fraction * (count - 1))
    return interpolate(sorted_values[first : first + 2], fraction, count, first)


def duration_stats(
    queryset,
    durations: Mapping[str, Expression],
    fractions: Sequence[float] = FRACTIONS,
    *,
    native: bool | None = None,
) -> dict[str, dict]:
    """For each named duration expression over `queryset`: {"count": rows where it is not
    NULL, fraction: percentile or None}. PostgreSQL: one query. SQLite: one query for the
    counts, then one per duration and fraction reading at most two values. `native=False`
    takes the SQLite way on PostgreSQL too (the tests compare both)."""
    if native is None:
        native = connection.vendor == "postgresql"
    queryset = queryset.order_by()
    aggregates = {}
    for key in durations:
        present = Q(**{f"_d_{key}__isnull": False})
        aggregates[f"{key}__count"] = Count("pk", filter=present)
        if native:
            for index, fraction in enumerate(fractions):
                aggregates[f"{key}__p{index}"] = PercentileCont(
                    f"_d_{key}", fraction, filter=present
                )
    annotated = queryset.annotate(**{f"_d_{key}": e for key, e in durations.items()})
    totals = annotated.aggregate(**aggregates)

    stats = {}
    for key in durations:
        count = totals[f"{key}__count"] or 0
        row = {"count": count}
        for index, fraction in enumerate(fractions):
            if count == 0:
                row[fraction] = None
            elif native:
                row[fraction] = totals[f"{key}__p{index}"]
            else:
                first = math.floor(fraction * (count - 1))
                values = list(
                    annotated.filter(**{f"_d_{key}__isnull": False})
                    .order_by(f"_d_{key}")
                    .values_list(f"_d_{key}", flat=True)[first : first + 2]
                )
                row[fraction] = interpolate(values, fraction, count, first)
        stats[key] = row
    return stats
