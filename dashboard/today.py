"""What the Today page shows: the week's sessions by day, the open follow-ups, and the
training that runs out or is missing. Each read is a fixed number of queries, however many
rows it shows.

A large office has a hundred sessions a day, and a page of eight hundred rows, each with
its forms, takes seconds to make and is no use to read. So each day lists its first
SESSIONS_PER_DAY sessions and links to itself in full (`?day=`); the follow-ups panel its
FOLLOW_UPS_SHOWN most urgent, and links to all of them (`?follow_ups=all`); and each training
list its first TRAINING_SHOWN volunteers, with the rest counted.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from matching.models import ConfirmationState, FollowUp, Session
from volunteers.models import (
    Course,
    TrainingState,
    Volunteer,
    attach_required_training,
    training_gaps,
)

DAYS_AHEAD = 7
SESSIONS_PER_DAY = 20
FOLLOW_UPS_SHOWN = 25
TRAINING_SHOWN = 25

# Each confirmation state in the coordinator's words, and what to do about it.
STATE_WORDS = {
    ConfirmationState.CONFIRMED: "Confirmed",
    ConfirmationState.AWAITING_REPLY: "Awaiting reply: reminded, not answered yet",
    ConfirmationState.DECLINED: "Declined: needs a new time or cancelling",
    ConfirmationState.AT_RISK: "At risk: not confirmed in time",
    ConfirmationState.CANNOT_TEXT: "Cannot be texted: call them",
    ConfirmationState.NOT_REMINDED_YET: "Not reminded yet",
}


@dataclass
class Day:
    date: datetime.date
    name: str
    sessions: list = field(default_factory=list)
    total: int = 0  # its sessions, shown or not

    @property
    def not_shown(self):
        return self.total - len(self.sessions)


def day_name(date, today):
    words = f"{date:%A} {date.day} {date:%B}"
    if date == today:
        return f"Today, {words}"
    if date == today + datetime.timedelta(days=1):
        return f"Tomorrow, {words}"
    return words


def sessions_shown():
    """Sessions of the page, with their confirmation state and the people in them."""
    return Session.objects.with_confirmation_state().select_related(
        "match__volunteer", "match__peer"
    )


def session_with_state(pk):
    return sessions_shown().get(pk=pk)


def week_days(*, today=None):
    """Today and the next DAYS_AHEAD days (Europe/London)."""
    today = today or timezone.localdate()
    return [today + datetime.timedelta(days=n) for n in range(DAYS_AHEAD + 1)]


@dataclass
class DaysWithout:
    """Days after today in a row with no session, shown as one line."""

    first: datetime.date
    last: datetime.date

    @property
    def name(self):
        if self.first == self.last:
            return f"{self.first:%A} {self.first.day} {self.first:%B}"
        first_month = "" if self.first.month == self.last.month else f" {self.first:%B}"
        return (
            f"{self.first:%A} {self.first.day}{first_month} to "
            f"{self.last:%A} {self.last.day} {self.last:%B}"
        )


def folded(days):
    """The week as the page lays it out: today always, each day with sessions, and each run
    of days after today without any as one `DaysWithout` (on a phone, eight headings saying
    "No sessions." pushed the follow-ups far down)."""
    laid_out = []
    for index, day in enumerate(days):
        if index == 0 or day.sessions:
            laid_out.append(day)
        elif isinstance(laid_out[-1], DaysWithout):
            laid_out[-1].last = day.date
        else:
            laid_out.append(DaysWithout(day.date, day.date))
    return laid_out


def local_midnight(date):
    return datetime.datetime.combine(
        date, datetime.time.min, tzinfo=timezone.get_default_timezone()
    )


def upcoming_between(first, last):
    """Sessions still to be settled (scheduled, confirmed, or declined and needing a new
    time) starting from the day `first` to the day `last`, Europe/London."""
    return Q(
        status__in=Session.UPCOMING_STATUSES,
        starts_at__gte=local_midnight(first),
        starts_at__lt=local_midnight(last + datetime.timedelta(days=1)),
    )


def week_of_sessions(*, today=None, in_full=None, per_day=None):
    """Today and the next seven days, each with its sessions still to be settled, earliest
    first: the first `per_day` of each, and every one of the day `in_full` (a date of the
    week), in three queries at the most."""
    per_day = SESSIONS_PER_DAY if per_day is None else per_day
    dates = week_days(today=today)
    days = {date: Day(date, day_name(date, dates[0])) for date in dates}
    week = upcoming_between(dates[0], dates[-1])
    local_day = TruncDate("starts_at", tzinfo=timezone.get_default_timezone())
    totals = (
        Session.objects.filter(week)
        .annotate(day=local_day)
        .order_by()
        .values("day")
        .annotate(total=Count("pk"))
        .values_list("day", "total")
    )
    for date, total in totals:
        days[date].total = total
    order = [F("starts_at").asc(), F("pk").asc()]
    sessions = list(
        sessions_shown()
        .filter(week)
        .annotate(nth=Window(RowNumber(), partition_by=[local_day], order_by=order))
        .filter(nth__lte=per_day)
        .order_by(*order)
    )
    if in_full in days and days[in_full].total > per_day:
        sessions += sessions_shown().filter(upcoming_between(in_full, in_full)).order_by(*order)
    local, seen = timezone.get_default_timezone(), set()
    for session in sorted(sessions, key=lambda session: (session.starts_at, session.pk)):
        if session.pk not in seen:
            seen.add(session.pk)
            days[timezone.localdate(session.starts_at, local)].sessions.append(session)
    return list(days.values())


@dataclass
class FollowUpPanel:
    rows: list  # the most urgent first
    total: int  # open, shown or not

    @property
    def not_shown(self):
        return self.total - len(self.rows)


def open_follow_ups(*, shown=None):
    """Open follow-ups, most urgent first (a low wellbeing answer ahead of all): the first
    `shown` of them (all with None), and how many are open."""
    open_ones = FollowUp.objects.open()
    rows = open_ones.most_urgent_first().select_related("volunteer")
    if shown is None:
        rows = list(rows)
        return FollowUpPanel(rows, len(rows))
    return FollowUpPanel(list(rows[:shown]), open_ones.count())


@dataclass
class TrainingPanel:
    expiring: list  # (volunteer, course, runs out on), soonest first
    cannot_be_matched: list  # (volunteer, [gaps]) with a required course missing or expired
    expiring_not_shown: int = 0
    cannot_be_matched_not_shown: int = 0


def training_panel(*, today=None, shown=None):
    """Active volunteers whose required training or PVG runs out within
    TRAINING_EXPIRY_WARNING_DAYS, and those who cannot be matched for missing or expired
    training, by the volunteers app's own rules (`with_training_state`, `training_gaps`):
    the first `shown` of each list, and how many more there are."""
    today = today or timezone.localdate()
    shown = TRAINING_SHOWN if shown is None else shown
    volunteers = list(
        Volunteer.objects.filter(status=Volunteer.Status.ACTIVE)
        .with_training_state(on=today)
        .filter(training_state__in=[TrainingState.EXPIRING, TrainingState.LAPSED])
        .only("pk", "preferred_name", "full_name")
        .order_by("preferred_name", "full_name", "pk")
    )
    if not volunteers:
        return TrainingPanel(expiring=[], cannot_be_matched=[])
    attach_required_training(volunteers)
    courses = list(Course.objects.filter(required_for_matching=True).order_by("name", "pk"))
    expiring, cannot_be_matched = [], []
    for volunteer in volunteers:
        gaps = training_gaps(volunteer.required_records, courses, on=today)
        for gap in gaps:
            if gap["state"] == "expiring":
                expiring.append((volunteer, gap["course"], gap["expires_on"]))
        lapsed = [gap for gap in gaps if gap["state"] in {"missing", "expired"}]
        if volunteer.training_state == TrainingState.LAPSED and lapsed:
            cannot_be_matched.append((volunteer, lapsed))
    expiring.sort(key=lambda row: (row[2], row[0].preferred_name, row[0].pk))
    return TrainingPanel(
        expiring=expiring[:shown],
        cannot_be_matched=cannot_be_matched[:shown],
        expiring_not_shown=max(0, len(expiring) - shown),
        cannot_be_matched_not_shown=max(0, len(cannot_be_matched) - shown),
    )


def local_time(moment):
    """ "08:00 on Friday 4 December": a moment as the office's clock shows it."""
    moment = timezone.localtime(moment, timezone.get_default_timezone())
    return f"{moment:%H:%M} on {moment:%A} {moment.day} {moment:%B}"
