"""The coordinator's reports: monthly figures over a date range, each drawn as a chart, given
as a table (the chart's text alternative) and downloadable as CSV with the same figures.

The counting is the apps' own (`outcomes_by_month` and `confirmations_by_month` on sessions,
`first_match_waits_by_month` and `approved_peers_by_area` on matches, `waiting_by_area` on
peers, `training_compliance` on volunteers), one query each however many rows; this module
only lays the months out, fills the empty ones with zeros and words the figures.
"""

import calendar
import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django import forms
from django.utils import timezone

from community.models import Area
from dashboard import charts
from matching.models import Match, Session
from peers.models import Peer
from volunteers.models import Volunteer, add_months

DEFAULT_MONTHS = 12
MOST_MONTHS = 36
EARLIEST = datetime.date(2000, 1, 1)
DATE_WORDS = "give it as year-month-day, e.g. 2026-04-01"


def months_between(first, last):
    """The first days of the months from `first`'s to `last`'s, both included."""
    month = first.replace(day=1)
    months = []
    while month <= last:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


def month_end(month):
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def default_range(today):
    """The last twelve months up to today: from the first of the month eleven months back."""
    return add_months(today.replace(day=1), 1 - DEFAULT_MONTHS), today


class RangeForm(forms.Form):
    """From and to, both days included, as the page's GET form sends them."""

    def __init__(self, data, *, today):
        self.today = today
        start, end = default_range(today)
        data = {
            "from": data.get("from", start.isoformat()),
            "to": data.get("to", end.isoformat()),
        }
        super().__init__(data, auto_id="range-%s")
        for name, label in (("from", "From"), ("to", "To")):
            self.fields[name] = forms.DateField(
                label=label,
                input_formats=["%Y-%m-%d"],
                error_messages={
                    "required": f"Say which day the reports run {name}: {DATE_WORDS}.",
                    "invalid": f"That is not a date: {DATE_WORDS}.",
                },
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start is None or end is None:
            return cleaned
        if end > self.today:
            self.add_error(
                "to",
                f"Today ({self.today:%-d %B %Y}) at the latest: the reports count what "
                "has happened.",
            )
        elif end < start:
            self.add_error(
                "to", f"“To” ({end:%-d %B %Y}) is before “From” ({start:%-d %B %Y}): swap them."
            )
        elif start < EARLIEST:
            self.add_error(
                "from", f"{EARLIEST:%-d %B %Y} at the earliest: PeerPath holds nothing older."
            )
        elif len(months_between(start, end)) > MOST_MONTHS:
            self.add_error(
                "from",
                f"At most {MOST_MONTHS} months at a time; this range covers "
                f"{len(months_between(start, end))}. Choose a later “From”.",
            )
        return cleaned


@dataclass
class Report:
    slug: str
    title: str
    explanation: str  # what the figures count, in words
    label_heading: str
    label_kind: str  # "month", "day" or "text": how the first column is written
    headings: list  # of the figure columns
    rows: list = field(default_factory=list)  # (label, [figure as text, ...])
    chart: charts.Chart | None = None
    empty_words: str = ""  # shown instead of a chart that would have nothing to draw


def percent(part, whole):
    """One decimal place; None when there is no whole to take a share of."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def figure(value):
    """A figure as the table, the chart's titles and the CSV write it: "" for none."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def _local_start(day):
    return datetime.datetime.combine(day, datetime.time(), tzinfo=timezone.get_default_timezone())


class Figures:
    """The figures of the range from `start` to `end` (local dates, both included), each
    read once, when a report first asks for it."""

    def __init__(self, start, end):
        self.start, self.end = start, end
        self.months = months_between(start, end)
        # Sessions are placed by when they start, in UK time: a range ends at midnight after
        # its last day, whether that midnight is in GMT or BST.
        self.since = _local_start(start)
        self.until = _local_start(end + datetime.timedelta(days=1))

    def _by_month(self, rows):
        by_month = {row["month"]: row for row in rows}
        return [(month, by_month.get(month)) for month in self.months]

    @cached_property
    def outcomes(self):
        return self._by_month(Session.objects.outcomes_by_month(since=self.since, until=self.until))

    @cached_property
    def confirmations(self):
        return self._by_month(
            Session.objects.confirmations_by_month(since=self.since, until=self.until)
        )

    @cached_property
    def first_match_waits(self):
        return self._by_month(
            Match.objects.first_match_waits_by_month(since=self.start, until=self.end)
        )

    @cached_property
    def training_days(self):
        """The last day of each month, or the range's last day in its last month."""
        return [min(month_end(month), self.end) for month in self.months]

    @cached_property
    def training(self):
        return Volunteer.objects.training_compliance(self.training_days)


def _range_words(figures):
    return f"{figures.months[0]:%B %Y} to {figures.months[-1]:%B %Y}"


def _month_report(report, figures, cells):
    report.rows = [(month, [figure(value) for value in cells(row)]) for month, row in figures]
    return report


def sessions_report(figures):
    report = Report(
        "sessions",
        "Sessions per month",
        "Sessions by the month they were due to start, UK time, and what came of them.",
        "Month",
        "month",
        ["Completed", "No show", "Cancelled"],
    )
    _month_report(
        report,
        figures.outcomes,
        lambda row: [row["completed"], row["no_show"], row["cancelled"]] if row else [0, 0, 0],
    )
    totals = [_total(report, i) for i in range(3)]
    report.chart = charts.month_bars(
        title="Sessions per month: completed, no show and cancelled",
        description=f"Stacked bars, one a month, {_range_words(figures)}: {totals[0]} "
        f"completed, {totals[1]} no show and {totals[2]} cancelled in all. The table "
        "gives each month.",
        months=figures.months,
        series=_series(report),
        unit=("session", "sessions"),
        axis_words="Sessions",
    )
    return report


def hours_report(figures):
    report = Report(
        "hours",
        "Volunteer hours per month",
        "Hours recorded for completed sessions, by the month the session started.",
        "Month",
        "month",
        ["Hours", "Completed sessions"],
    )

    def cells(row):
        if not row:
            return [Decimal("0"), 0]
        return [Decimal(row["hours"]).quantize(Decimal("0.01")), row["completed"]]

    _month_report(report, figures.outcomes, cells)
    total = _total(report, 0, Decimal)
    report.chart = charts.month_bars(
        title="Volunteer hours per month",
        description=f"Bars, one a month, {_range_words(figures)}: {figure(total)} hours in "
        "all. The table gives each month.",
        months=figures.months,
        series=[charts.Series("Hours", _column(report, 0))],
        unit=("hour", "hours"),
        axis_words="Hours",
    )
    return report


def confirmations_report(figures):
    report = Report(
        "confirmations",
        "Confirmation rate",
        "Of the sessions each month whose reminder reached the volunteer’s phone (asking "
        "them to reply YES or NO), the share they confirmed, by text, in the app or "
        "through the office. Left out: cancelled sessions (calling a session off clears "
        "whether it was confirmed) and those to come still awaiting an answer. A month with "
        "no reminders has no rate.",
        "Month",
        "month",
        ["Reminders sent", "Confirmed", "Confirmed (%)"],
    )
    _month_report(
        report,
        figures.confirmations,
        lambda row: (
            [row["asked"], row["confirmed"], percent(row["confirmed"], row["asked"])]
            if row
            else [0, 0, None]
        ),
    )
    asked = _total(report, 0)
    confirmed = _total(report, 1)
    overall = percent(confirmed, asked)
    report.chart = charts.month_line(
        title="Share of reminded sessions the volunteer confirmed, per month",
        description=f"A line, one point a month with reminders, {_range_words(figures)}, "
        "from 0% to 100%: "
        + (
            f"{confirmed} of {asked} reminded sessions confirmed in all ({figure(overall)}%)."
            if asked
            else "no reminder was sent in these months."
        ),
        months=figures.months,
        series=[charts.Series("Confirmed", _column(report, 2))],
        axis_words="Confirmed",
    )
    return report


def reply_time_report(figures):
    report = Report(
        "reply-time",
        "How fast volunteers reply",
        "The mean (average) time from a session’s reminder being sent to the volunteer’s "
        "reply that PeerPath read as YES or NO, in minutes, by the month the session was due. "
        "Replies the office had to read, and answers given in the app, are not timed.",
        "Month",
        "month",
        ["Replies", "Mean minutes to reply"],
    )

    def cells(row):
        if not row or not row["answered"]:
            return [0, None]
        return [row["answered"], round(row["mean_reply"].total_seconds() / 60)]

    _month_report(report, figures.confirmations, cells)
    replies = _total(report, 0)
    report.chart = charts.month_bars(
        title="Mean minutes from reminder to reply, per month",
        description=f"Bars, one a month, {_range_words(figures)}: "
        + (
            f"{replies} replies timed; the table gives each month’s mean."
            if replies
            else "no reply was timed in these months."
        ),
        months=figures.months,
        series=[charts.Series("Minutes", _column(report, 1))],
        unit=("minute", "minutes"),
        axis_words="Mean minutes to reply",
    )
    return report


def waits_report(figures):
    report = Report(
        "wait-to-first-match",
        "Wait from referral to first match",
        "Peers by the month their first match was approved: how many, and the mean (average) "
        "number of days from the day they were referred to the day that match was approved.",
        "Month",
        "month",
        ["Peers first matched", "Mean days waited"],
    )

    def cells(row):
        if not row:
            return [0, None]
        days = Decimal(row["mean_wait"].total_seconds()) / 86400
        return [row["peers"], days.quantize(Decimal("0.1"))]

    _month_report(report, figures.first_match_waits, cells)
    peers = _total(report, 0)
    report.chart = charts.month_bars(
        title="Mean days from referral to first match, per month of the match",
        description=f"Bars, one a month, {_range_words(figures)}: "
        + (
            f"{peers} peers first matched; the table gives each month’s mean wait."
            if peers
            else "no peer was first matched in these months."
        ),
        months=figures.months,
        series=[charts.Series("Days", _column(report, 1))],
        unit=("day", "days"),
        axis_words="Mean days waited",
    )
    return report


def areas_report(figures):
    report = Report(
        "peers-by-area",
        "Peers matched and waiting, by area",
        "For each area where a peer lives: peers whose match was approved in the range, and "
        "peers on the waiting list today. Areas with neither are left out.",
        "Area",
        "text",
        ["Matched in the range", "Waiting today"],
    )
    matched = Match.objects.approved_peers_by_area(since=figures.start, until=figures.end)
    waiting = Peer.objects.waiting_by_area()
    shown = set(matched) | set(waiting)
    areas = list(Area.objects.filter(pk__in=shown).order_by("name").values_list("pk", "name"))
    report.rows = [(name, [str(matched.get(pk, 0)), str(waiting.get(pk, 0))]) for pk, name in areas]
    if not report.rows:
        report.empty_words = "No peer was matched in these months, and nobody is waiting."
        return report
    report.chart = charts.category_bars(
        title="Peers matched in the range and waiting today, by area",
        description=f"Pairs of bars, one pair an area, {len(areas)} areas: "
        f"{sum(matched.values())} peers matched from {figures.start:%-d %B %Y} to "
        f"{figures.end:%-d %B %Y} and {sum(waiting.values())} waiting today. The table gives "
        "each area.",
        categories=[name for _, name in areas],
        series=_series(report),
        unit=("peer", "peers"),
        axis_words="Peers",
    )
    return report


def training_report(figures):
    report = Report(
        "training-compliance",
        "Training compliance",
        "At the end of each month (the range’s last day in its last month): the volunteers "
        "who were active, and how many of them had every course required for matching "
        "completed and not expired that day.",
        "Day",
        "day",
        ["Active volunteers", "Required training current", "Current (%)"],
    )
    report.rows = [
        (day, [figure(active), figure(trained), figure(percent(trained, active))])
        for day, (active, trained) in zip(figures.training_days, figures.training, strict=True)
    ]
    last_day, last = report.rows[-1]
    report.chart = charts.month_line(
        title="Share of active volunteers with all required training current, month by month",
        description=f"A line, one point a month with active volunteers, "
        f"{_range_words(figures)}, from 0% to 100%: "
        + (
            f"on {last_day:%-d %B %Y}, {last[1]} of {last[0]} ({last[2]}%)."
            if last[2]
            else f"nobody was active on {last_day:%-d %B %Y}."
        ),
        months=figures.months,
        series=[charts.Series("Current", _column(report, 2))],
        axis_words="Fully trained",
    )
    return report


def _number(text):
    return None if text == "" else float(text)


def _column(report, index):
    """A column of the report's table as the chart's numbers (None where it is blank)."""
    return [_number(cells[index]) for _, cells in report.rows]


def _total(report, index, kind=int):
    return sum((kind(cells[index]) for _, cells in report.rows), kind(0))


def _series(report):
    return [charts.Series(heading, _column(report, i)) for i, heading in enumerate(report.headings)]


REPORTS = {
    "sessions": sessions_report,
    "hours": hours_report,
    "confirmations": confirmations_report,
    "reply-time": reply_time_report,
    "peers-by-area": areas_report,
    "wait-to-first-match": waits_report,
    "training-compliance": training_report,
}


def all_reports(start, end):
    figures = Figures(start, end)
    return [build(figures) for build in REPORTS.values()]


# CSV ---------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text):
    """Text a spreadsheet will show as text: one beginning like a formula (= + - @, a tab or
    a carriage return) is given a leading apostrophe. Plain numbers are left as they are."""
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def label_text(report, label):
    if report.label_kind == "month":
        return f"{label:%Y-%m}"
    if report.label_kind == "day":
        return label.isoformat()
    return label


def csv_text(report):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in [report.label_heading, *report.headings]])
    for label, cells in report.rows:
        writer.writerow([safe_cell(label_text(report, label)), *map(safe_cell, cells)])
    return out.getvalue()


def csv_filename(report, start, end):
    return f"peerpath-{report.slug}-{start.isoformat()}-to-{end.isoformat()}.csv"
