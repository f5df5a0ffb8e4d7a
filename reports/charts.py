"""Charts drawn on the server as SVG (RPT-6, issue 9 item 7): no JavaScript library, nothing
fetched from elsewhere. Pure functions from figures to a safe HTML string.

Every chart is a `<figure>` whose `<svg>` has `role="img"` with a `<title>` and a `<desc>`
saying what it shows, followed by a visually hidden table with the same figures for screen
readers. Text coming from the data (product names, provinces) is escaped. The drawing scales
with its box (`viewBox`) and takes its colours from the site's CSS variables, with the
default palette as fallback.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from core.templatetags.shop import CURRENCY_SIGN, money
from reports.tables import COUNT, DATE, DURATION, MONEY, PERCENT, Table

# Colours: the site's variables (static/css/shop.css) with its defaults as fallback, so a
# chart copied out of the page (or into an e-mail) keeps its look.
ACCENT = "var(--accent, #c2410c)"
ACCENT_SOFT = "var(--accent-soft, #fff1e8)"
SECOND = "var(--warning, #a16207)"
GRID = "var(--border, #dde1e8)"
MUTED = "var(--muted, #5b6476)"
TEXT = "var(--text, #1d2330)"

NICE_FRACTIONS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))


# --- figures as text ---------------------------------------------------------------------


def _decimal(value) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def format_duration(seconds) -> str:
    """Seconds as "2 d 3 h", "3 h 20 min" or "45 min" (rounded to the minute)."""
    if seconds is None or seconds == "":
        return ""
    minutes = int((_decimal(seconds) / 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}


def format_value(value, kind: str) -> str:
    """A figure of a report column as it is shown: money to the cent, counts grouped,
    percents with one decimal, durations in days/hours/minutes; "" for no figure."""
    if value is None or value == "":
        return ""
    if kind == MONEY:
        return money(value)
    if kind == COUNT:
        return formats.number_format(int(value), 0, use_l10n=True, force_grouping=True)
    if kind == PERCENT:
        number = _decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        return f"{formats.number_format(number, 1, use_l10n=True)}%"
    if kind == DURATION:
        return format_duration(value)
    if kind == DATE and hasattr(value, "isoformat"):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def axis_label(value: Decimal, kind: str) -> str:
    """A tick's label: like `format_value`, without the cents when the tick is whole."""
    if kind == MONEY:
        whole = value == value.to_integral_value()
        sign = "-" if value < 0 else ""
        number = formats.number_format(
            abs(value), 0 if whole else 2, use_l10n=True, force_grouping=True
        )
        return f"{sign}{CURRENCY_SIGN}{number}"
    if kind == PERCENT:
        return f"{formats.number_format(value.normalize(), use_l10n=True)}%"
    if kind == DURATION:
        return format_duration(value)
    if value == value.to_integral_value():
        return formats.number_format(int(value), 0, use_l10n=True, force_grouping=True)
    return formats.number_format(value.normalize(), use_l10n=True, force_grouping=True)


# --- scales -----------------------------------------------------------------------------


def nice_number(value: Decimal, *, rounded: bool) -> Decimal:
    """The "nice" number (1, 2, 2.5 or 5 times a power of ten) nearest to `value` when
    `rounded`, else the smallest one not below it (Heckbert's Graphics Gems method)."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    fraction = value.scaleb(-exponent)
    if rounded:
        for limit, nice in zip(
            (Decimal("1.5"), Decimal("2.25"), Decimal(3), Decimal(7)), NICE_FRACTIONS, strict=False
        ):
            if fraction < limit:
                return nice.scaleb(exponent)
        return Decimal(10).scaleb(exponent)
    for nice in NICE_FRACTIONS:
        if fraction <= nice:
            return nice.scaleb(exponent)
    return Decimal(10).scaleb(exponent)


@dataclass(frozen=True)
class Scale:
    """An axis from `low` to `high` (both ticks) in steps of `step`; zero always included."""

    low: Decimal
    high: Decimal
    step: Decimal

    @property
    def ticks(self) -> list[Decimal]:
        count = int((self.high - self.low) / self.step)
        return [self.low + self.step * n for n in range(count + 1)]

    def fraction(self, value) -> float:
        """Where `value` sits between low (0.0) and high (1.0)."""
        return float((_decimal(value) - self.low) / (self.high - self.low))


def nice_scale(values: Sequence, *, ticks: int = 5, whole: bool = False) -> Scale:
    """An axis covering `values` and zero with about `ticks` nice ticks. `whole`: steps of at
    least 1 and whole (for counts)."""
    numbers = [_decimal(v) for v in values if v is not None and v != ""]
    low = min([Decimal(0), *numbers])
    high = max([Decimal(0), *numbers])
    if low == high:
        high = low + 1
    span = nice_number(high - low, rounded=False)
    step = nice_number(span / (max(ticks, 2) - 1), rounded=True)
    if whole:
        # 2.5 is no step for whole numbers: 2 instead (1, 2, 5, 10, 20, 25 stay).
        step = Decimal(2) if step == Decimal("2.5") else max(Decimal(1), step)
    low = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    high = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    return Scale(low=low, high=high, step=step)


# --- drawing ----------------------------------------------------------------------------


def _n(number: float) -> str:
    """A coordinate: one decimal, never localised."""
    return f"{number:.1f}"


def _text_width(text: str) -> float:
    """About how wide `text` is in 12px type: Chinese characters twice a Latin letter."""
    return sum(12.5 if ord(char) > 0x2E80 else 7.4 for char in text)


def _shorten(text: str, width: float) -> str:
    """`text`, cut with an ellipsis to fit about `width` pixels of 12px type."""
    text = str(text)
    if _text_width(text) <= width:
        return text
    while text and _text_width(text) > width - 8:
        text = text[:-1]
    return text + "…"


def _hidden_table(caption: str, headings: Sequence[str], rows: Sequence[Sequence[str]]):
    head = format_html_join("", '<th scope="col">{}</th>', ((h,) for h in headings))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (
                format_html(
                    '<th scope="row">{}</th>{}',
                    row[0],
                    format_html_join("", "<td>{}</td>", ((cell,) for cell in row[1:])),
                ),
            )
            for row in rows
        ),
    )
    return format_html(
        # The wrapper, not the table, is hidden: a table never shrinks to 1px and would widen
        # the page.
        '<div class="visually-hidden"><table><caption>{}</caption><thead><tr>{}</tr></thead>'
        "<tbody>{}</tbody></table></div>",
        caption,
        head,
        body,
    )


def _figure(*, key: str, title: str, desc: str, width: int, height: int, body, table) -> SafeString:
    return format_html(
        '<figure class="chart" id="chart-{key}">'
        '<svg class="chart-svg" viewBox="0 0 {w} {h}" width="100%" role="img" focusable="false"'
        ' aria-labelledby="chart-{key}-title chart-{key}-desc"'
        ' style="font-family: var(--font, system-ui, sans-serif); font-size: 12px;'
        ' max-width: 100%; height: auto;">'
        '<title id="chart-{key}-title">{title}</title>'
        '<desc id="chart-{key}-desc">{desc}</desc>{body}</svg>'
        '<figcaption class="chart-caption" aria-hidden="true">{title}</figcaption>{table}'
        "</figure>",
        key=key,
        w=width,
        h=height,
        title=title,
        desc=desc,
        body=body,
        table=table,
    )


@dataclass(frozen=True)
class Series:
    """One line of a chart: its name, the column type of its figures and one figure per
    label (None where there is none)."""

    label: str
    values: Sequence
    kind: str = MONEY


def line_chart(
    *,
    key: str,
    title: str,
    labels: Sequence[str],
    primary: Series,
    secondary: Series | None = None,
    label_heading: str = "",
    width: int = 640,
    height: int = 260,
) -> SafeString:
    """`primary` as a filled area on the left axis, `secondary` (if any) as a dashed line on
    its own right-hand axis: e.g. GMV and orders per day of a period."""
    if len(primary.values) != len(labels) or (
        secondary is not None and len(secondary.values) != len(labels)
    ):
        raise ValueError("every series needs one value per label")
    left, right = 72, (64 if secondary else 16)
    top, bottom = 30, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    count = len(labels)

    def x_at(index: int) -> float:
        if count <= 1:
            return left + plot_w / 2
        return left + plot_w * index / (count - 1)

    def y_at(scale: Scale, value) -> float:
        return top + plot_h * (1 - scale.fraction(value))

    scale = nice_scale(primary.values, whole=primary.kind == COUNT)
    parts = []
    for tick in scale.ticks:
        y = y_at(scale, tick)
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{y}" y2="{y}" style="stroke: {}"/>'
                '<text x="{}" y="{}" text-anchor="end" style="fill: {}">{}</text>',
                _n(left),
                _n(left + plot_w),
                GRID,
                _n(left - 6),
                _n(y + 4),
                MUTED,
                axis_label(tick, primary.kind),
                y=_n(y),
            )
        )
    every = max(1, -(-count // 8))  # at most about 8 labels under the axis
    for index, label in enumerate(labels):
        last = index == count - 1
        if (index % every and not last) or (not last and count - 1 - index < every):
            continue
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" style="fill: {}">{}</text>',
                _n(x_at(index)),
                _n(height - 8),
                MUTED,
                label,
            )
        )
    points = [
        (x_at(i), y_at(scale, v), label, v)
        for i, (label, v) in enumerate(zip(labels, primary.values, strict=True))
        if v is not None
    ]
    if points:
        zero = y_at(scale, 0)
        line = " ".join(f"{_n(x)},{_n(y)}" for x, y, _l, _v in points)
        area = f"{_n(points[0][0])},{_n(zero)} {line} {_n(points[-1][0])},{_n(zero)}"
        parts.append(
            format_html(
                '<polygon points="{}" style="fill: {}; opacity: .8"/>'
                '<polyline points="{}" style="fill: none; stroke: {}; stroke-width: 2.5;'
                ' stroke-linejoin: round"/>',
                area,
                ACCENT_SOFT,
                line,
                ACCENT,
            )
        )
        parts.extend(
            format_html(
                '<circle cx="{}" cy="{}" r="3" style="fill: {}"><title>{}: {}</title></circle>',
                _n(x),
                _n(y),
                ACCENT,
                label,
                format_value(value, primary.kind),
            )
            for x, y, label, value in points
        )
    legend = [(primary.label, ACCENT, "")]
    if secondary is not None:
        second_scale = nice_scale(secondary.values, whole=secondary.kind == COUNT)
        for tick in second_scale.ticks:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="start" style="fill: {}">{}</text>',
                    _n(left + plot_w + 6),
                    _n(y_at(second_scale, tick) + 4),
                    SECOND,
                    axis_label(tick, secondary.kind),
                )
            )
        second_points = [
            (x_at(i), y_at(second_scale, v), label, v)
            for i, (label, v) in enumerate(zip(labels, secondary.values, strict=True))
            if v is not None
        ]
        if second_points:
            parts.append(
                format_html(
                    '<polyline points="{}" style="fill: none; stroke: {}; stroke-width: 2;'
                    ' stroke-dasharray: 5 3"/>',
                    " ".join(f"{_n(x)},{_n(y)}" for x, y, _l, _v in second_points),
                    SECOND,
                )
            )
            parts.extend(
                format_html(
                    '<circle cx="{}" cy="{}" r="2.5" style="fill: {}"><title>{}: {}</title>'
                    "</circle>",
                    _n(x),
                    _n(y),
                    SECOND,
                    label,
                    format_value(value, secondary.kind),
                )
                for x, y, label, value in second_points
            )
        legend.append((secondary.label, SECOND, "5 3"))
    x = left
    for name, colour, dash in legend:
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="12" y2="12" style="stroke: {}; stroke-width: 3;'
                ' stroke-dasharray: {}"/>'
                '<text x="{}" y="16" style="fill: {}">{}</text>',
                _n(x),
                _n(x + 18),
                colour,
                dash or "none",
                _n(x + 24),
                TEXT,
                name,
            )
        )
        x += 40 + _text_width(str(name))
    series = [primary, *([secondary] if secondary else [])]
    rows = [
        [label, *(format_value(s.values[i], s.kind) for s in series)]
        for i, label in enumerate(labels)
    ]
    table = _hidden_table(title, [label_heading, *(s.label for s in series)], rows)
    return _figure(
        key=key,
        title=title,
        desc=_describe_series(labels, series),
        width=width,
        height=height,
        body=mark_safe("".join(parts)),  # each part built with format_html
        table=table,
    )


def _describe_series(labels: Sequence[str], series: Sequence[Series]) -> str:
    texts = []
    for s in series:
        known = [(label, v) for label, v in zip(labels, s.values, strict=True) if v is not None]
        if not known:
            continue
        top_label, top_value = max(known, key=lambda pair: _decimal(pair[1]))
        texts.append(
            _("%(series)s: highest %(value)s on %(label)s.")
            % {"series": s.label, "value": format_value(top_value, s.kind), "label": top_label}
        )
    return " ".join(texts) or _("No figures in this period.")


@dataclass(frozen=True)
class Bar:
    label: str
    value: object
    href: str = ""


def bar_chart(
    *,
    key: str,
    title: str,
    bars: Sequence[Bar],
    kind: str = MONEY,
    label_heading: str = "",
    value_heading: str = "",
    limit: int = 10,
    width: int = 560,
) -> SafeString:
    """A horizontal bar per item, largest first, at most `limit` of them. A bar with an
    `href` links to it (the orders behind the figure)."""
    shown = sorted(bars, key=lambda bar: _decimal(bar.value), reverse=True)[:limit]
    row_h, top, bottom, label_w, value_w = 26, 8, 24, 190, 92
    height = top + bottom + row_h * max(1, len(shown))
    plot_w = width - label_w - value_w
    scale = nice_scale([bar.value for bar in shown], ticks=4, whole=kind == COUNT)
    zero_x = label_w + plot_w * scale.fraction(0)
    parts = []
    for tick in scale.ticks:
        x = label_w + plot_w * scale.fraction(tick)
        parts.append(
            format_html(
                '<line x1="{x}" x2="{x}" y1="{}" y2="{}" style="stroke: {}"/>'
                '<text x="{x}" y="{}" text-anchor="middle" style="fill: {}">{}</text>',
                _n(top),
                _n(height - bottom),
                GRID,
                _n(height - 8),
                MUTED,
                axis_label(tick, kind),
                x=_n(x),
            )
        )
    for index, bar in enumerate(shown):
        y = top + row_h * index
        end = label_w + plot_w * scale.fraction(bar.value)
        text = format_value(bar.value, kind)
        row = format_html(
            "<title>{}: {}</title>"
            '<text x="{}" y="{}" text-anchor="end" style="fill: {}">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="{}" rx="3" style="fill: {}"/>'
            '<text x="{}" y="{}" style="fill: {}; font-variant-numeric: tabular-nums">{}</text>',
            bar.label,
            text,
            _n(label_w - 8),
            _n(y + row_h / 2 + 4),
            TEXT,
            _shorten(bar.label, label_w - 16),
            _n(min(zero_x, end)),
            _n(y + 4),
            _n(abs(end - zero_x)),
            _n(row_h - 8),
            ACCENT,
            _n(max(zero_x, end) + 6),
            _n(y + row_h / 2 + 4),
            TEXT,
            text,
        )
        if bar.href:
            parts.append(format_html('<a href="{}"><g>{}</g></a>', bar.href, row))
        else:
            parts.append(format_html("<g>{}</g>", row))
    if not shown:
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" style="fill: {}">{}</text>',
                _n(width / 2),
                _n(top + row_h / 2 + 4),
                MUTED,
                _("No figures in this period."),
            )
        )
    table = _hidden_table(
        title,
        [label_heading, value_heading],
        [[bar.label, format_value(bar.value, kind)] for bar in shown],
    )
    if shown:
        desc = _("%(count)d largest, from %(first)s (%(value)s).") % {
            "count": len(shown),
            "first": shown[0].label,
            "value": format_value(shown[0].value, kind),
        }
    else:
        desc = _("No figures in this period.")
    return _figure(
        key=key,
        title=title,
        desc=desc,
        width=width,
        height=height,
        body=mark_safe("".join(parts)),  # each part built with format_html
        table=table,
    )


def bars_from_table(
    table: Table, *, label: str, value: str, href: Callable[[dict], str] | None = None
) -> list[Bar]:
    """The bars of one column of a report table, labelled by another; `href(row)` gives a
    bar's link (e.g. to the orders behind the row)."""
    return [
        Bar(
            label=str(row.get(label) or ""),
            value=row.get(value),
            href=href(row) if href else "",
        )
        for row in table.rows
        if row.get(value) is not None
    ]
