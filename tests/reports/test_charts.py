"""Server-side SVG charts (issue 9 item 7): nice scales, money labels, accessibility and no
markup injected through the data (product names come from the catalogue's editors)."""

import re
from decimal import Decimal

import pytest
from django.utils import translation

from reports.charts import (
    Bar,
    Series,
    axis_label,
    bar_chart,
    bars_from_table,
    format_duration,
    format_value,
    line_chart,
    nice_number,
    nice_scale,
)
from reports.tables import COUNT, DURATION, MONEY, PERCENT, Column, Table

XSS = '<script>alert("x")</script>&"\'><img src=x onerror=alert(1)>'


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("value", "rounded", "nice"),
    [
        ("1", False, "1"),
        ("1.2", False, "2"),
        ("2.1", False, "2.5"),
        ("3", False, "5"),
        ("7", False, "10"),
        ("0.036", False, "0.05"),
        ("1234", True, "1000"),
        ("1600", True, "2000"),
        ("2400", True, "2500"),
        ("4000", True, "5000"),
        ("8000", True, "10000"),
    ],
)
def test_nice_numbers_are_one_two_two_and_a_half_or_five_times_a_power_of_ten(value, rounded, nice):
    assert nice_number(Decimal(value), rounded=rounded) == Decimal(nice)


def test_scale_covers_the_values_from_zero_in_nice_steps():
    scale = nice_scale([Decimal("1234.56"), Decimal("87.10"), None, Decimal("999.99")])

    assert scale.low == 0
    assert scale.high >= Decimal("1234.56")
    assert scale.step in {Decimal(250), Decimal(500)}
    assert scale.ticks[0] == 0 and scale.ticks[-1] == scale.high
    assert all(b - a == scale.step for a, b in zip(scale.ticks, scale.ticks[1:], strict=False))
    assert 3 <= len(scale.ticks) <= 7


def test_scale_of_counts_steps_in_whole_numbers():
    assert nice_scale([1, 2, 3], whole=True).ticks == [0, 1, 2, 3]
    assert nice_scale([7], whole=True).ticks == [0, 2, 4, 6, 8]


def test_scale_reaches_below_zero_for_negative_figures():
    scale = nice_scale([Decimal("-120"), Decimal("480")])

    assert scale.low < 0 <= scale.high
    assert scale.low <= -120 and scale.high >= 480
    assert Decimal(0) in scale.ticks
    assert scale.fraction(scale.low) == 0.0 and scale.fraction(scale.high) == 1.0


def test_scale_of_nothing_or_zeros_is_zero_to_one():
    assert nice_scale([]).ticks[0] == 0
    assert nice_scale([0, None]).high > 0


def test_money_figures_keep_the_cents_and_whole_ticks_drop_them():
    assert format_value(Decimal("1234.5"), MONEY) == "¥1,234.50"
    assert axis_label(Decimal("2500"), MONEY) == "¥2,500"
    assert axis_label(Decimal("0.25"), MONEY) == "¥0.25"
    assert format_value(1234567, COUNT) == "1,234,567"
    assert format_value(Decimal("12.345"), PERCENT) == "12.3%"
    assert format_value(None, MONEY) == ""


def test_durations_read_in_days_hours_and_minutes():
    assert format_duration(45 * 60) == "45 min"
    assert format_duration(3 * 3600 + 20 * 60 + 10) == "3 h 20 min"
    assert format_duration(2 * 86400 + 3 * 3600) == "2 d 3 h"
    assert format_value(90.0, DURATION) == "2 min"


def _line(**overrides):
    fields = {
        "key": "by-day",
        "title": "Sales by day",
        "labels": ["1 Nov", "2 Nov", "3 Nov"],
        "primary": Series("GMV", [Decimal("100.00"), None, Decimal("2499.50")], MONEY),
        "secondary": Series("Orders", [1, 0, 7], COUNT),
        "label_heading": "Day",
    }
    fields.update(overrides)
    return str(line_chart(**fields))


def test_line_chart_is_an_accessible_image_with_its_figures_in_a_hidden_table():
    svg = _line()

    assert '<svg class="chart-svg" viewBox="0 0 640 260"' in svg
    assert 'role="img"' in svg
    assert 'aria-labelledby="chart-by-day-title chart-by-day-desc"' in svg
    assert '<title id="chart-by-day-title">Sales by day</title>' in svg
    assert "highest ¥2,499.50 on 3 Nov" in svg
    table = svg[svg.index('<div class="visually-hidden"><table>') :]
    assert '<th scope="row">2 Nov</th><td></td><td>0</td>' in table
    assert "<td>¥2,499.50</td><td>7</td>" in table
    # Colours come from the site's variables.
    assert "var(--accent" in svg and "var(--warning" in svg
    # Both axes labelled: money on the left, whole orders on the right.
    assert ">¥2,500</text>" in svg and ">8</text>" in svg


def test_line_chart_points_sit_on_the_scale():
    svg = _line(primary=Series("GMV", [Decimal(0), Decimal(50), Decimal(100)]), secondary=None)
    # Plot: top 30, height 260 - 30 - 28 = 202; 0 → y 232, 100 (the top tick) → y 30.
    ys = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)]
    assert ys == [232.0, 131.0, 30.0]


def test_line_chart_refuses_series_of_the_wrong_length():
    with pytest.raises(ValueError):
        _line(primary=Series("GMV", [1, 2]))


def test_product_names_cannot_inject_markup():
    bars = [Bar(XSS, Decimal("10.00"), href='/staff/orders/?sku=a"onmouseover="x')]

    svg = str(bar_chart(key="by-product", title=XSS, bars=bars, label_heading=XSS))
    line = _line(labels=[XSS, "b", "c"], title=XSS, key='x"y')

    for html in (svg, line):
        assert "<script" not in html
        assert "<img" not in html
        assert "&lt;script&gt;" in html
    assert 'href="/staff/orders/?sku=a&quot;onmouseover=&quot;x"' in svg
    assert 'id="chart-x&quot;y"' in line


def test_bar_chart_shows_the_largest_first_up_to_the_limit_with_links():
    bars = [Bar(f"P{n}", Decimal(n * 10), href=f"/staff/orders/?sku=P{n}") for n in range(1, 16)]

    svg = str(bar_chart(key="top", title="Top products", bars=bars, limit=5))

    labels = re.findall(r'text-anchor="end" style="[^"]*">(P\d+)</text>', svg)
    assert labels == ["P15", "P14", "P13", "P12", "P11"]
    assert svg.count("<a href=") == 5
    assert 'viewBox="0 0 560 162"' in svg  # 8 + 24 + 5 rows of 26


def test_bar_lengths_are_proportional_to_the_values():
    bars = [Bar("a", Decimal(100)), Bar("b", Decimal(50))]

    svg = str(bar_chart(key="k", title="t", bars=bars, kind=COUNT))

    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1], abs=0.2)


def test_an_empty_chart_says_there_is_nothing():
    svg = str(bar_chart(key="empty", title="Nothing", bars=[]))

    assert "No figures in this period." in svg


def test_bars_from_a_table_use_one_column_and_link_each_row():
    table = Table(
        key="by_province",
        title="By province",
        columns=[Column("province", "Province"), Column("gmv", "GMV", MONEY)],
        rows=[
            {"province": "浙江省", "gmv": Decimal("300.00"), "_drill": {"province": "浙江省"}},
            {"province": "江苏省", "gmv": None},
        ],
    )

    bars = bars_from_table(
        table, label="province", value="gmv", href=lambda row: f"?p={row['_drill']['province']}"
    )

    assert bars == [Bar("浙江省", Decimal("300.00"), "?p=浙江省")]
