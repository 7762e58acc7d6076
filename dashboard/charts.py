"""Charts drawn on the server as SVG: bars for counts, a line for rates.

A chart here is only geometry: rectangles, lines, dots and words at coordinates in a
viewBox, which `dashboard/_chart.html` writes out. The figures and their meaning come from
the reports; the page shows the same figures in a table, the chart's text alternative.
Coordinates are written as text ("44.0"), as SVG wants them whatever the locale. No style
is inline (the CSP): each shape carries a class, coloured in dashboard.css.
"""

import math
from dataclasses import dataclass, field

# Small, so that its words stay readable when a phone draws it 360 pixels wide.
WIDTH = 400
HEIGHT = 240
LEFT = 44
RIGHT = 12
TOP = 46  # room for the legend and the value axis's words
BOTTOM = 40
BAR_ROW = 30  # the height given to each category of a chart of bars lying across
LABEL_CHARACTERS = 16  # of a category's name beside its bars; the table has it whole


def n(value):
    return f"{value:.1f}"


def figure(value):
    """A figure as the reports write it: 3, 1.5, 66.7."""
    return f"{value:f}".rstrip("0").rstrip(".")


def counted(value, unit):
    """ "1 session", "2 sessions": `unit` is (one, many)."""
    return f"{figure(value)} {unit[0] if value == 1 else unit[1]}"


@dataclass
class Series:
    name: str
    values: list  # a number per category; None where there is nothing to draw


@dataclass
class Line:
    css: str
    x1: str
    y1: str
    x2: str
    y2: str


@dataclass
class Shape:
    kind: str  # "rect", "circle" or "polyline"
    css: str
    x: str = ""
    y: str = ""
    width: str = ""
    height: str = ""
    points: str = ""
    words: str = ""  # what the shape stands for, as its <title>


@dataclass
class Label:
    x: str
    y: str
    words: str
    anchor: str = "middle"
    css: str = "chart-axis"


@dataclass
class Chart:
    title: str
    description: str
    width: int = WIDTH
    height: int = HEIGHT
    grid: list = field(default_factory=list)  # Lines
    shapes: list = field(default_factory=list)  # bars, lines and dots
    labels: list = field(default_factory=list)
    legend: list = field(default_factory=list)  # (Shape swatch, Label)


def nice_top(largest):
    """The top of a scale holding `largest`: 1, 2 or 5 times a power of ten, in up to 5 steps."""
    if largest <= 0:
        return 5, 1
    for power in range(0, 12):
        for unit in (1, 2, 5):
            step = unit * 10**power
            if largest <= step * 5:
                return step * math.ceil(largest / step), step
    raise ValueError(f"{largest} is too large to chart")


def _legend(chart, series_css, names):
    x = LEFT
    for css, name in zip(series_css, names, strict=True):
        chart.legend.append(
            (
                Shape("rect", css, x=n(x), y=n(8), width="12", height="12"),
                Label(n(x + 16), n(18), name, anchor="start", css="chart-legend"),
            )
        )
        x += 26 + 7.2 * len(name)


def _axis_words(chart, words, x=LEFT):
    """What the figures on the value axis count, above the plot."""
    chart.labels.append(Label(n(x - 6), n(TOP - 8), words, anchor="start", css="chart-axis"))


def _value_grid(chart, top, step, *, suffix=""):
    baseline = chart.height - BOTTOM
    for tick in range(0, int(top) + 1, int(step)):
        y = baseline - tick / top * (baseline - TOP)
        chart.grid.append(Line("chart-grid", n(LEFT), n(y), n(WIDTH - RIGHT), n(y)))
        chart.labels.append(Label(n(LEFT - 6), n(y + 4), f"{tick}{suffix}", anchor="end"))


def _month_labels(chart, months, step):
    """Month names under the axis, thinned out so they never overlap; the year under each
    January and under the first month."""
    every = max(1, math.ceil(len(months) / 12))
    baseline = chart.height - BOTTOM
    for index, month in enumerate(months):
        if (len(months) - 1 - index) % every:
            continue
        x = n(LEFT + (index + 0.5) * step)
        chart.labels.append(Label(x, n(baseline + 16), f"{month:%b}"))
        if index == 0 or month.month == 1 or (every > 1 and index < every):
            chart.labels.append(Label(x, n(baseline + 32), f"{month:%Y}"))


def drawn(value):
    """The length of a bar for a figure: none for a missing one, and none below zero (a wait
    from a referral dated after its match, say), which the table still gives as it is."""
    return max(value or 0, 0)


def month_bars(*, title, description, months, series, unit, axis_words):
    """Bars per month; with several series they stack, the first at the bottom. `unit` is
    what a figure counts, as (one, many)."""
    chart = Chart(title, description)
    _axis_words(chart, axis_words)
    baseline = chart.height - BOTTOM
    totals = [sum(drawn(s.values[i]) for s in series) for i in range(len(months))]
    top, tick = nice_top(max(totals, default=0))
    _value_grid(chart, top, tick)
    step = (WIDTH - RIGHT - LEFT) / max(len(months), 1)
    bar = max(step * 0.7, 1)
    css = [f"chart-series-{i + 1}" for i in range(len(series))]
    for index, month in enumerate(months):
        below = 0
        for css_name, one in zip(css, series, strict=True):
            value = drawn(one.values[index])
            if not value:
                continue
            y_top = baseline - (below + value) / top * (baseline - TOP)
            y_bottom = baseline - below / top * (baseline - TOP)
            chart.shapes.append(
                Shape(
                    "rect",
                    f"chart-bar {css_name}",
                    x=n(LEFT + index * step + (step - bar) / 2),
                    y=n(y_top),
                    width=n(bar),
                    height=n(y_bottom - y_top),
                    words=f"{month:%B %Y}: {one.name.lower()} {counted(value, unit)}",
                )
            )
            below += value
    _month_labels(chart, months, step)
    if len(series) > 1:
        _legend(chart, css, [one.name for one in series])
    return chart


def month_line(*, title, description, months, series, axis_words):
    """A line of percentages per month, from 0 to 100; months without a figure are gaps."""
    chart = Chart(title, description)
    _axis_words(chart, axis_words)
    baseline = chart.height - BOTTOM
    _value_grid(chart, 100, 25, suffix="%")
    step = (WIDTH - RIGHT - LEFT) / max(len(months), 1)
    css = [f"chart-series-{i + 1}" for i in range(len(series))]
    for css_name, one in zip(css, series, strict=True):
        run = []
        for index, month in enumerate(months):
            value = one.values[index]
            if value is None:
                _line(chart, css_name, run)
                run = []
                continue
            x = LEFT + (index + 0.5) * step
            y = baseline - value / 100 * (baseline - TOP)
            run.append((x, y))
            chart.shapes.append(
                Shape(
                    "circle",
                    f"chart-dot {css_name}",
                    x=n(x),
                    y=n(y),
                    words=f"{month:%B %Y}: {figure(value)}%",
                )
            )
        _line(chart, css_name, run)
    _month_labels(chart, months, step)
    if len(series) > 1:
        _legend(chart, css, [one.name for one in series])
    return chart


def _line(chart, css, run):
    if len(run) > 1:
        points = " ".join(f"{n(x)},{n(y)}" for x, y in run)
        chart.shapes.insert(0, Shape("polyline", f"chart-line {css}", points=points))


def category_bars(*, title, description, categories, series, unit, axis_words):
    """Bars lying across, one row per category (an area's name on the left of its row), the
    series side by side within it; the chart grows taller with the rows."""
    label_width = 130
    left = label_width + 8
    chart = Chart(title, description, height=TOP + BAR_ROW * max(len(categories), 1) + 24)
    _axis_words(chart, axis_words, x=left)
    largest = max((value or 0 for one in series for value in one.values), default=0)
    top, tick = nice_top(largest)
    plot_bottom = chart.height - 24
    span = WIDTH - RIGHT - left
    for value in range(0, int(top) + 1, int(tick)):
        x = left + value / top * span
        chart.grid.append(Line("chart-grid", n(x), n(TOP), n(x), n(plot_bottom)))
        chart.labels.append(Label(n(x), n(plot_bottom + 16), str(value)))
    css = [f"chart-series-{i + 1}" for i in range(len(series))]
    thickness = (BAR_ROW - 8) / max(len(series), 1)
    for index, category in enumerate(categories):
        row_top = TOP + index * BAR_ROW
        words = (
            category
            if len(category) <= LABEL_CHARACTERS
            else category[: LABEL_CHARACTERS - 1] + "…"
        )
        chart.labels.append(
            Label(n(label_width), n(row_top + BAR_ROW / 2 + 4), words, anchor="end")
        )
        for position, (css_name, one) in enumerate(zip(css, series, strict=True)):
            value = drawn(one.values[index])
            chart.shapes.append(
                Shape(
                    "rect",
                    f"chart-bar {css_name}",
                    x=n(left),
                    y=n(row_top + 4 + position * thickness),
                    width=n(max(value / top * span, 0)),
                    height=n(thickness),
                    words=f"{category}: {one.name.lower()} {counted(value, unit)}",
                )
            )
    if len(series) > 1:
        _legend(chart, css, [one.name for one in series])
    return chart
