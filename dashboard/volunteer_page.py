"""One volunteer on one page: training and its gaps, the week they are free, absences,
matches, sessions, hours, how they have been, and every text with them.

Everything is read by the apps' own rules (`with_training_state` and `training_gaps`,
`with_confirmation_state`, `volunteer_hours_by_month`, the wellbeing `trend`), in a fixed
number of queries however long their history; the longer lists show their latest rows.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Q, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from community.models import Weekday
from dashboard import today as week
from dashboard.views import Page
from matching.models import (
    ConfirmationState,
    Match,
    Session,
    WellbeingCheckIn,
    monday_of,
    volunteer_cannot_be_texted,
)
from matching.services import volunteer_hours_by_month
from messaging.models import Message, OptOut
from volunteers.models import (
    AvailabilityWindow,
    Course,
    TrainingRecord,
    TrainingState,
    Volunteer,
    attach_required_training,
    training_gaps,
)

SESSIONS_SHOWN = 20
TEXTS_SHOWN = 50
ABSENCES_PAST_SHOWN = 10
HOURS_MONTHS = 12
WELLBEING_WEEKS = 12


# Availability as a week grid ------------------------------------------------------------


@dataclass
class Band:
    name: str
    starts: int  # minutes after midnight
    ends: int

    @property
    def words(self):
        return f"{_clock(self.starts)}–{_clock(self.ends)}"


# Early and late show only for a volunteer free then.
BANDS = [
    Band("Early", 0, 8 * 60),
    Band("Morning", 8 * 60, 12 * 60),
    Band("Afternoon", 12 * 60, 17 * 60),
    Band("Evening", 17 * 60, 21 * 60),
    Band("Late", 21 * 60, 24 * 60),
]
ALWAYS_SHOWN = {"Morning", "Afternoon", "Evening"}


def _clock(minutes):
    return "24:00" if minutes >= 24 * 60 else f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(clock):
    return clock.hour * 60 + clock.minute


@dataclass
class WeekGrid:
    bands: list
    rows: list  # (weekday name, [cell per band: list of "09:00–12:00" pieces])
    hours: float


def week_grid(windows):
    """The volunteer's weekly windows cut into the day's time bands, so each cell says in
    words when in that band they are free."""
    pieces = {(day, band.name): [] for day in Weekday.values for band in BANDS}
    for window in windows:
        start, end = _minutes(window.starts_at), _minutes(window.ends_at)
        for band in BANDS:
            overlap = (max(start, band.starts), min(end, band.ends))
            if overlap[0] < overlap[1]:
                pieces[(window.weekday, band.name)].append(
                    f"{_clock(overlap[0])}–{_clock(overlap[1])}"
                )
    bands = [
        band
        for band in BANDS
        if band.name in ALWAYS_SHOWN or any(pieces[(day, band.name)] for day in Weekday.values)
    ]
    rows = [(label, [pieces[(day, band.name)] for band in bands]) for day, label in Weekday.choices]
    return WeekGrid(bands, rows, sum(window.hours for window in windows))


# Hours per month --------------------------------------------------------------------------


def months_back(today, count):
    """The first days of the last `count` months, this one included, oldest first."""
    first = today.replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return months[::-1]


def hours_words(hours):
    """ "1.5", "2", "0": hours as few digits as they need."""
    return f"{hours.normalize():f}"


@dataclass
class Hours:
    months: list  # (first day of the month, hours, sessions), oldest first, empty ones too
    recent_total: str
    all_time_total: str
    all_time_sessions: int


def hours_per_month(volunteer, *, today):
    rows = volunteer_hours_by_month(volunteer)
    by_month = {row.month: row for row in rows}
    months = [
        (
            month,
            by_month[month].hours if month in by_month else Decimal("0.00"),
            by_month[month].sessions if month in by_month else 0,
        )
        for month in months_back(today, HOURS_MONTHS)
    ]
    return Hours(
        months=[(month, hours_words(hours), sessions) for month, hours, sessions in months],
        recent_total=hours_words(sum((hours for _, hours, _ in months), Decimal("0.00"))),
        all_time_total=hours_words(sum((row.hours for row in rows), Decimal("0.00"))),
        all_time_sessions=sum(row.sessions for row in rows),
    )


# Wellbeing as a chart -------------------------------------------------------------------


@dataclass
class Chart:
    """A line chart of weekly answers from 1 to 5, laid out for an SVG of width × height."""

    # Small, so that its words stay readable when a phone draws it 360 pixels wide.
    width: int = 400
    height: int = 220
    left: int = 32
    right: int = 24
    top: int = 14
    bottom: int = 46
    # Coordinates are written as text ("44.0"), as the SVG wants them whatever the locale.
    points: list = field(default_factory=list)  # (x, y, score, week)
    missing: list = field(default_factory=list)  # (x, week) of weeks asked, not answered
    grid: list = field(default_factory=list)  # (y, label y, label)
    labels: list = field(default_factory=list)  # (x, label) under the axis
    line: str = ""
    description: str = ""

    @property
    def baseline(self):
        return self.height - self.bottom

    @property
    def plot_right(self):
        return self.width - self.right

    @property
    def missing_y(self):
        return _n(self.baseline + 18)

    @property
    def label_y(self):
        return _n(self.baseline + 38)

    @property
    def grid_label_x(self):
        return _n(self.left - 10)


def _n(value):
    return f"{value:.1f}"


def wellbeing_chart(check_ins, weeks):
    """The chart of the weeks given (Mondays, oldest first) and the check-ins among them."""
    chart = Chart()
    by_week = {check_in.week: check_in for check_in in check_ins}
    span = chart.plot_right - chart.left
    step = span / (len(weeks) - 1) if len(weeks) > 1 else 0
    top, bottom = chart.top, chart.baseline

    def y_of(score):
        return bottom - (score - 1) * (bottom - top) / 4

    chart.grid = [(_n(y_of(score)), _n(y_of(score) + 5), str(score)) for score in range(1, 6)]
    said = []
    for position, monday in enumerate(weeks):
        x = _n(chart.left + position * step)
        check_in = by_week.get(monday)
        score = check_in.score if check_in is not None else None
        if (len(weeks) - 1 - position) % 2 == 0:  # every other week, ending at this one
            chart.labels.append((x, f"{monday.day} {monday:%b}"))
        if score is not None:
            chart.points.append((x, _n(y_of(score)), score, monday))
            said.append(f"{monday.day} {monday:%b}: {score}")
        elif check_in is not None:
            chart.missing.append((x, monday))
            said.append(f"{monday.day} {monday:%b}: no answer")
    chart.line = " ".join(f"{x},{y}" for x, y, _, _ in chart.points)
    first, last = weeks[0], weeks[-1]
    chart.description = (
        f"Weekly answers from 1 (struggling) to 5 (great), weeks of {first.day} {first:%B} "
        f"to {last.day} {last:%B %Y}. "
        + ("; ".join(said) + "." if said else "No check-in was asked in these weeks.")
    )
    return chart


# Texts both ways --------------------------------------------------------------------------


def text_state(message, now):
    """Where a text stands, in words."""
    status = Message.Status
    if message.direction == Message.Direction.INBOUND:
        if message.needs_attention:
            return "Received: waiting in the inbox"
        if message.handled_at:
            return f"Received; handled {week.local_time(message.handled_at)}"
        return "Received"
    words = {
        status.QUEUED: "Queued",
        status.SENDING: "Sending",
        status.SENT: "Sent, not yet reported delivered",
        status.DELIVERED: "Delivered",
        status.UNDELIVERED: "Not delivered",
        status.FAILED: "Failed",
        status.SUPPRESSED: "Not sent: the number opted out",
        status.WITHDRAWN: "Not sent: no longer needed",
    }[message.status]
    if message.status == status.QUEUED and message.send_after > now:
        words = f"Queued: waits until {week.local_time(message.send_after)}"
    if message.error and message.status in {status.UNDELIVERED, status.FAILED}:
        words += f" ({message.error})"
    if message.needs_attention:
        words += "; needs attention"
    return words


# The page ---------------------------------------------------------------------------------


def past_session_words(session):
    words = session.get_status_display()
    if session.status == Session.Status.COMPLETED and session.hours is not None:
        words += f", {hours_words(session.hours)} hours"
    return words


class VolunteerPage(Page):
    template_name = "dashboard/volunteer.html"

    def get_context_data(self, pk, **kwargs):
        today = timezone.localdate()
        now = timezone.now()
        volunteer = get_object_or_404(
            Volunteer.objects.with_training_state(on=today)
            .annotate(
                opted_out=Exists(OptOut.objects.current().filter(phone=OuterRef("phone"))),
                textable=Case(
                    When(volunteer_cannot_be_texted(), then=Value(False)),
                    default=Value(True),
                    output_field=BooleanField(),
                ),
                active_matches=Count("matches", filter=Q(matches__status=Match.Status.ACTIVE)),
            )
            .select_related("area"),
            pk=pk,
        )
        return super().get_context_data(
            volunteer=volunteer,
            **self.training(volunteer, today),
            grid=week_grid(list(AvailabilityWindow.objects.filter(volunteer=volunteer))),
            **self.absences(volunteer, today),
            **self.matches(volunteer),
            **self.sessions(volunteer, now),
            hours=hours_per_month(volunteer, today=today),
            **self.wellbeing(volunteer, today),
            **self.texts(volunteer, now),
            **kwargs,
        )

    def training(self, volunteer, today):
        attach_required_training([volunteer])
        required = list(Course.objects.filter(required_for_matching=True).order_by("name", "pk"))
        records = list(
            TrainingRecord.objects.filter(volunteer=volunteer)
            .select_related("course")
            .order_by("course__name", "-completed_on", "-pk")
        )
        for record in records:
            record.current = record.is_current(today)
        return {
            "training_state_words": TrainingState(volunteer.training_state).label,
            "training_gaps": training_gaps(volunteer.required_records, required, on=today),
            "training_records": records,
            "required_courses": required,
        }

    def absences(self, volunteer, today):
        absences = list(volunteer.absences.order_by("starts_on", "pk"))
        past = [absence for absence in absences if absence.ends_on < today]
        return {
            "absences_ahead": [absence for absence in absences if absence.ends_on >= today],
            "absences_past": past[::-1][:ABSENCES_PAST_SHOWN],
            "absences_past_count": len(past),
            "today": today,
        }

    def matches(self, volunteer):
        matches = list(
            Match.objects.filter(volunteer=volunteer)
            .select_related("peer")
            .order_by("-proposed_at", "-pk")
        )
        return {
            "matches_open": [m for m in matches if m.status in Match.OPEN_STATUSES],
            "matches_past": [m for m in matches if m.status not in Match.OPEN_STATUSES],
        }

    def sessions(self, volunteer, now):
        sessions = (
            Session.objects.of_volunteer(volunteer)
            .with_confirmation_state()
            .select_related("match__peer")
        )
        ahead = Q(status__in=Session.UPCOMING_STATUSES, ends_at__gt=now)
        upcoming = list(sessions.filter(ahead).order_by("starts_at", "pk")[: SESSIONS_SHOWN + 1])
        past = list(sessions.exclude(ahead).order_by("-starts_at", "-pk")[: SESSIONS_SHOWN + 1])
        for session in upcoming:
            session.state_words = (
                session.get_status_display()
                if session.confirmation_state == ConfirmationState.SETTLED
                else week.STATE_WORDS[session.confirmation_state]
            )
        for session in past:
            session.state_words = past_session_words(session)
        return {
            "sessions_upcoming": upcoming[:SESSIONS_SHOWN],
            "more_upcoming": len(upcoming) > SESSIONS_SHOWN,
            "sessions_past": past[:SESSIONS_SHOWN],
            "more_past": len(past) > SESSIONS_SHOWN,
            "sessions_shown": SESSIONS_SHOWN,
        }

    def wellbeing(self, volunteer, today):
        this_week = monday_of(today)
        weeks = [
            this_week - datetime.timedelta(weeks=n) for n in range(WELLBEING_WEEKS - 1, -1, -1)
        ]
        answers = WellbeingCheckIn.objects.filter(volunteer=volunteer)
        check_ins = list(answers.filter(week__gte=weeks[0]).order_by("week"))
        return {
            "wellbeing_check_ins": check_ins,
            "wellbeing_chart": wellbeing_chart(check_ins, weeks) if check_ins else None,
            "wellbeing_trend": answers.trend(on=today),
            "wellbeing_weeks": WELLBEING_WEEKS,
        }

    def texts(self, volunteer, now):
        if not volunteer.phone:
            return {"texts": [], "more_texts": False}
        texts = list(
            Message.objects.of_number(volunteer.phone.as_e164).order_by("-created_at", "-pk")[
                : TEXTS_SHOWN + 1
            ]
        )
        for message in texts:
            message.state_words = text_state(message, now)
            message.at = (
                message.sent_at or message.created_at
                if message.direction == Message.Direction.OUTBOUND
                else message.created_at
            )
        return {
            "texts": texts[:TEXTS_SHOWN],
            "more_texts": len(texts) > TEXTS_SHOWN,
            "texts_shown": TEXTS_SHOWN,
        }
