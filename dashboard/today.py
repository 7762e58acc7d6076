"""What the Today page shows: the week's sessions by day, the open follow-ups, and the
training that runs out or is missing. Each read is a fixed number of queries, however many
rows it shows."""

import datetime
from dataclasses import dataclass, field

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


def week_of_sessions(*, today=None):
    """Today and the next seven days (Europe/London), each with its sessions still to be
    settled (scheduled, confirmed, or declined and needing a new time), earliest first."""
    today = today or timezone.localdate()
    local = timezone.get_default_timezone()
    first = datetime.datetime.combine(today, datetime.time.min, tzinfo=local)
    after = datetime.datetime.combine(
        today + datetime.timedelta(days=DAYS_AHEAD + 1), datetime.time.min, tzinfo=local
    )
    days = {
        today + datetime.timedelta(days=n): Day(
            today + datetime.timedelta(days=n), day_name(today + datetime.timedelta(days=n), today)
        )
        for n in range(DAYS_AHEAD + 1)
    }
    sessions = (
        sessions_shown()
        .filter(
            status__in=Session.UPCOMING_STATUSES,
            starts_at__gte=first,
            starts_at__lt=after,
        )
        .order_by("starts_at", "pk")
    )
    for session in sessions:
        days[timezone.localdate(session.starts_at, local)].sessions.append(session)
    return list(days.values())


def open_follow_ups():
    """Open follow-ups, most urgent first (a low wellbeing answer ahead of all)."""
    return list(FollowUp.objects.open().most_urgent_first().select_related("volunteer"))


@dataclass
class TrainingPanel:
    expiring: list  # (volunteer, course, runs out on), soonest first
    cannot_be_matched: list  # (volunteer, [gaps]) with a required course missing or expired


def training_panel(*, today=None):
    """Active volunteers whose required training or PVG runs out within
    TRAINING_EXPIRY_WARNING_DAYS, and those who cannot be matched for missing or expired
    training, by the volunteers app's own rules (`with_training_state`, `training_gaps`)."""
    today = today or timezone.localdate()
    volunteers = list(
        Volunteer.objects.filter(status=Volunteer.Status.ACTIVE)
        .with_training_state(on=today)
        .filter(training_state__in=[TrainingState.EXPIRING, TrainingState.LAPSED])
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
    return TrainingPanel(expiring=expiring, cannot_be_matched=cannot_be_matched)


def local_time(moment):
    """ "08:00 on Friday 4 December": a moment as the office's clock shows it."""
    moment = timezone.localtime(moment, timezone.get_default_timezone())
    return f"{moment:%H:%M} on {moment:%A} {moment.day} {moment:%B}"
