"""The demo set's living history: what a real week in the office looks like.

For each active match of the demo set: weekly sessions over the past three months (completed
with their hours, a few no shows, a few cancelled with the reason) and the next two weeks.
Over the next day, sessions in every state the coordinator watches: confirmed, awaiting a
reply (the reminder delivered and its question open, as `matching.reminders` leaves it), one
declined and one at risk. Weekly wellbeing answers for the volunteers who opted in, one of
them low this week, and the follow-ups all of this raises, one of them already handled.

Only the small demo set gets a history, never synthetic volunteers. A match that has sessions
already keeps them, a volunteer with wellbeing answers keeps theirs, and each follow-up has
its cause, so running again adds nothing. Everything is dated from now: sessions in the
office's working hours (Europe/London), at the same local time every week across clock
changes.

Upcoming sessions go through `matching.services`, so every rule is checked. The services
refuse the past, and `send_sms` stamps a text with now and queues it for delivery: past
sessions and the texts about them are written as rows, already settled, already delivered,
each text with its idempotency key (a reminder with the key the reminder pass uses), so
nothing is ever sent for them.
"""

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from community.errors import StateConflict
from community.validated_save import save_validated
from matching import reminders, services, texts
from matching.follow_ups import (
    Kind,
    Urgency,
    handle_follow_up,
    raise_follow_up,
    session_cause,
    training_cause,
)
from matching.models import FollowUp, Match, Session, WellbeingCheckIn
from matching.wellbeing import wellbeing_cause
from messaging.models import Message, OptOut
from volunteers.models import Volunteer
from volunteers.services import update_volunteer

HISTORY_SEED = 1844
PAST_DAYS = 91
AHEAD_DAYS = 14
WELLBEING_WEEKS = 8
# Sessions start between these local times and end by LAST_END.
FIRST_START = datetime.time(9)
LAST_START = datetime.time(19)
LAST_END = datetime.time(20, 30)
SLOT = datetime.timedelta(minutes=30)
# The later sessions of the matches not met in the next day: days ahead, local time.
LATER_STARTS = ((2, datetime.time(10)), (3, datetime.time(14)), (4, datetime.time(11)),
                (5, datetime.time(15, 30)), (6, datetime.time(13)))  # fmt: skip
# Glasgow's number in Ofcom's drama range: the office's texting number when none is set.
DEMO_OFFICE_NUMBER = "+441414960000"

PLACES = ("Library café", "Community centre", "Leisure centre café", "Town centre café",
          "Park gates, for a walk")  # fmt: skip
COMPLETED_NOTES = ("", "", "Talked through the week; going well.", "", "Planned the month ahead.")
CANCELLED_REASONS = (
    "The peer was unwell; picked up the week after.",
    "The volunteer's car broke down.",
    "The peer had a hospital appointment.",
    "Roadworks: the buses were off.",
)
YES_REPLIES = ("YES", "Yes see you then", "yes", "Y", "\N{THUMBS UP SIGN}", "Yep")
NO_REPLY = "Sorry no, can't make it, my daughter is off school sick"

# What each of the first matches' next session shows, in the order of the matches (the
# sign-in volunteer's match first); later matches' next sessions are not reminded yet.
AWAITING, AT_RISK, DECLINED, CONFIRMED = "awaiting", "at_risk", "declined", "confirmed"
NEXT_DAY_STATES = (AWAITING, AT_RISK, DECLINED, CONFIRMED, AWAITING, CONFIRMED)
# (match index, weeks back): a no show last week still open, one a month ago handled, and a
# session called off.
OPEN_NO_SHOW = (5, 1)
HANDLED_NO_SHOW = (3, 4)
CANCELLED = (4, 2)


@dataclass(frozen=True)
class HistorySummary:
    sessions: int
    texts: int
    wellbeing_answers: int
    follow_ups: int

    def __bool__(self):
        return any((self.sessions, self.texts, self.wellbeing_answers, self.follow_ups))


def _local_tz():
    return timezone.get_default_timezone()


def _at(day, time):
    return datetime.datetime.combine(day, time, tzinfo=_local_tz())


def _when(moment):
    return f"{timezone.localtime(moment, _local_tz()):%-d %B %Y at %H:%M}"


def _weeks_later(moment, weeks):
    """The same local time `weeks` weeks on, whatever the clocks did in between."""
    local = timezone.localtime(moment, _local_tz())
    return _at(local.date() + datetime.timedelta(weeks=weeks), local.time())


def next_day_starts(now):
    """Half-hourly starts in working hours from an hour ahead to a day ahead: sessions
    whose reminder the schedule has sent already."""
    today = timezone.localdate(now, _local_tz())
    starts = []
    for day in (today, today + datetime.timedelta(days=1)):
        moment = _at(day, FIRST_START)
        while moment.time() <= LAST_START:
            if now + datetime.timedelta(hours=1) <= moment <= now + _reminder_hours():
                starts.append(moment)
            moment += SLOT
    return starts


def _reminder_hours():
    return datetime.timedelta(hours=settings.SESSION_REMINDER_HOURS)


def _deadline_hours():
    return datetime.timedelta(hours=settings.SESSION_CONFIRM_DEADLINE_HOURS)


def _spread(starts, count):
    """`count` starts, the first the earliest (the at-risk session wants it), the rest spread
    over the day."""
    if count <= 1 or len(starts) <= count:
        return starts[:count]
    rest = starts[1:]
    step = (len(rest) - 1) / (count - 2) if count > 2 else 0
    return [starts[0], *(rest[round(index * step)] for index in range(count - 1))]


def demo_matches(volunteer_phones, peer_phones):
    """The demo set's active matches, the sign-in volunteer's first (the lowest number)."""
    return list(
        Match.objects.active()
        .filter(volunteer__phone__in=volunteer_phones, peer__phone__in=peer_phones)
        .select_related("volunteer", "peer__area")
        .order_by("volunteer__phone", "peer__phone")
    )


def _way_of_meeting(match, index):
    volunteer, peer = match.volunteer, match.peer
    shared = [mode for mode in volunteer.meeting_modes if mode in peer.meeting_modes]
    if not shared:
        return None, ""
    # Most meet in person; every third match by phone when both can.
    mode = Session.Mode.IN_PERSON if Session.Mode.IN_PERSON in shared else shared[0]
    if index % 3 == 2 and Session.Mode.PHONE in shared:
        mode = Session.Mode.PHONE
    place = f"{PLACES[index % len(PLACES)]}, {peer.area.name}"
    return mode, place if mode == Session.Mode.IN_PERSON else ""


class History:
    """Writes the history of the demo set; one instance per run."""

    def __init__(self, *, now, coordinator=None):
        self.now = now
        self.today = timezone.localdate(now, _local_tz())
        self.coordinator = coordinator
        self.office_number = settings.TWILIO_FROM_NUMBER or DEMO_OFFICE_NUMBER
        self.opted_out = {
            phone.as_e164 for phone in OptOut.objects.current().values_list("phone", flat=True)
        }
        self.sessions = self.texts = self.answers = self.follow_ups = 0

    def can_text(self, volunteer):
        """As `SessionQuerySet.textable` says: agreed to texts, a number, not opted out."""
        phone = volunteer.phone
        return bool(volunteer.sms_consent and phone and phone.as_e164 not in self.opted_out)

    def summary(self):
        return HistorySummary(self.sessions, self.texts, self.answers, self.follow_ups)

    # Texts ---------------------------------------------------------------------------

    def _sent(self, *, key, volunteer, body, topic, at, **fields):
        """An outbound text sent and delivered at `at`."""
        message, created = Message.objects.get_or_create(
            idempotency_key=key,
            defaults={
                "direction": Message.Direction.OUTBOUND,
                "to_number": volunteer.phone,
                "from_number": settings.TWILIO_FROM_NUMBER or "",
                "body": body,
                "topic": topic,
                "status": Message.Status.DELIVERED,
                "attempts": 1,
                "send_after": at,
                "created_at": at,
                "claimed_at": at,
                "sent_at": at,
                "status_changed_at": at + datetime.timedelta(seconds=4),
                **fields,
            },
        )
        self.texts += created
        return message

    def _received(self, *, key, volunteer, body, topic, at):
        message, created = Message.objects.get_or_create(
            idempotency_key=key,
            defaults={
                "direction": Message.Direction.INBOUND,
                "to_number": self.office_number,
                "from_number": volunteer.phone,
                "body": body,
                "topic": topic,
                "status": Message.Status.RECEIVED,
                "send_after": at,
                "created_at": at,
                "status_changed_at": at,
            },
        )
        self.texts += created
        return message

    def _remind(self, session, *, open_question):
        """The reminder as the reminder pass sends it, delivered when it was due."""
        sent_at = reminders.reminder_due_at(session.starts_at)
        reply_window = sent_at + datetime.timedelta(hours=settings.SMS_REPLY_WINDOW_HOURS)
        reminder = self._sent(
            key=reminders.reminder_key(session),
            volunteer=session.match.volunteer,
            body=texts.reminder_text(
                peer_name=session.match.peer.preferred_name,
                starts_at=session.starts_at,
                mode=session.mode,
                place=session.place,
            ),
            topic=reminders.REMINDER_TOPIC,
            at=sent_at,
            reply_handler=reminders.REPLY_HANDLER,
            context={"session_id": session.pk, "starts_at": session.starts_at.isoformat()},
            expires_at=session.starts_at,
            question_open=open_question,
            reply_expires_at=min(reply_window, session.starts_at),
        )
        Session.objects.filter(pk=session.pk).update(reminder=reminder)
        session.reminder = reminder
        return reminder

    def _reply(self, session, *, reminder, body, answer, after):
        """The volunteer's reply to the reminder and the answer they got, `after` it."""
        volunteer = session.match.volunteer
        at = min(reminder.sent_at + after, self.now)
        reply = self._received(
            key=f"demo:reply:{reminder.idempotency_key}",
            volunteer=volunteer,
            body=body,
            topic=f"reply.{reminders.REMINDER_TOPIC}",
            at=at,
        )
        Message.objects.filter(pk=reminder.pk).update(answered_by=reply, question_open=False)
        self._sent(
            key=f"demo:answer:{reminder.idempotency_key}",
            volunteer=volunteer,
            body=answer,
            topic=f"{reminders.REMINDER_TOPIC}.answer",
            at=at + datetime.timedelta(seconds=2),
        )
        return at

    # Sessions ------------------------------------------------------------------------

    def write_match(self, match, *, index, next_start, state):
        """A match's sessions: weekly on the day and time of `next_start`, back three
        months (never before the match started) and on two weeks."""
        mode, place = _way_of_meeting(match, index)
        if mode is None:
            return
        rng = random.Random(HISTORY_SEED + index)
        length = datetime.timedelta(hours=rng.choice((1, 1, 1.5)))
        for weeks_back in range(1, PAST_DAYS // 7 + 2):
            starts_at = _weeks_later(next_start, -weeks_back)
            if (
                self.today - timezone.localdate(starts_at, _local_tz())
            ).days > PAST_DAYS or timezone.localdate(starts_at, _local_tz()) < match.started_on:
                break
            self._write_past(
                match,
                index=index,
                weeks_back=weeks_back,
                starts_at=starts_at,
                ends_at=starts_at + length,
                mode=mode,
                place=place,
                rng=rng,
            )
        horizon = self.now + datetime.timedelta(days=AHEAD_DAYS)
        for weeks_on in range(3):
            starts_at = _weeks_later(next_start, weeks_on)
            if starts_at > horizon:
                break
            self._write_upcoming(
                match,
                starts_at=starts_at,
                ends_at=starts_at + length,
                mode=mode,
                place=place,
                state=state if weeks_on == 0 else None,
                rng=rng,
            )

    def _write_past(self, match, *, index, weeks_back, starts_at, ends_at, mode, place, rng):
        volunteer = match.volunteer
        clash = (
            Session.objects.live()
            .of_volunteer(volunteer)
            .overlapping(starts_at=starts_at, ends_at=ends_at)
        )
        if clash.exists():
            return
        day = timezone.localdate(starts_at, _local_tz())
        absence = volunteer.absences.filter(starts_on__lte=day, ends_on__gte=day).first()
        roll = rng.random()
        at = (index, weeks_back)
        if at == CANCELLED or absence or (roll < 0.1 and at not in (OPEN_NO_SHOW, HANDLED_NO_SHOW)):
            status = Session.Status.CANCELLED
            reason = (
                f"{volunteer.preferred_name} was away ({absence.reason.lower()})."
                if absence
                else CANCELLED_REASONS[(index + weeks_back) % len(CANCELLED_REASONS)]
            )
        elif at in (OPEN_NO_SHOW, HANDLED_NO_SHOW) or roll < 0.17:
            status, reason = Session.Status.NO_SHOW, ""
        else:
            status = Session.Status.COMPLETED
            reason = COMPLETED_NOTES[(index + weeks_back) % len(COMPLETED_NOTES)]
        hours = None
        if status == Session.Status.COMPLETED:
            seconds = Decimal((ends_at - starts_at).total_seconds())
            hours = (seconds / 3600).quantize(Decimal("0.01"))
        session = save_validated(
            Session(
                match=match,
                starts_at=starts_at,
                ends_at=ends_at,
                mode=mode,
                place=place,
                status=status,
                hours=hours,
                outcome_notes=reason,
            )
        )
        self.sessions += 1
        if status != Session.Status.CANCELLED and self.can_text(volunteer):
            reminder = self._remind(session, open_question=False)
            confirmed_at = self._reply(
                session,
                reminder=reminder,
                body=YES_REPLIES[(index + weeks_back) % len(YES_REPLIES)],
                answer=texts.confirmed_text(starts_at=starts_at),
                after=datetime.timedelta(minutes=rng.randint(3, 300)),
            )
            Session.objects.filter(pk=session.pk).update(confirmed_at=confirmed_at)
        if status == Session.Status.NO_SHOW and at in (OPEN_NO_SHOW, HANDLED_NO_SHOW):
            self._raise(
                kind=Kind.NO_SHOW,
                cause=session_cause(Kind.NO_SHOW, session),
                summary=f"The session of {volunteer.preferred_name} with "
                f"{match.peer.reference} on {_when(starts_at)} did not happen: ask them both "
                "how they are.",
                session=session,
                at=ends_at
                + datetime.timedelta(hours=settings.SESSION_CHECK_IN_HOURS_AFTER, minutes=20),
                handled_note=(
                    f"Called {volunteer.preferred_name}: the peer had a family emergency and "
                    "texted too late. Met the week after as usual."
                    if at == HANDLED_NO_SHOW
                    else None
                ),
            )

    def _write_upcoming(self, match, *, starts_at, ends_at, mode, place, state, rng):
        try:
            session = services.schedule_session(
                match, starts_at=starts_at, ends_at=ends_at, mode=mode, place=place
            )
        except (ValidationError, StateConflict):  # away that day, or busy: no session then
            return
        self.sessions += 1
        volunteer = match.volunteer
        if state is None or not self.can_text(volunteer):
            return
        reminder = self._remind(session, open_question=state in (AWAITING, AT_RISK))
        if state == CONFIRMED:
            replied_at = self._reply(
                session,
                reminder=reminder,
                body=rng.choice(YES_REPLIES),
                answer=texts.confirmed_text(starts_at=starts_at),
                after=datetime.timedelta(minutes=rng.randint(3, 90)),
            )
            services.confirm_session(session)
            # The service stamps now; the volunteer confirmed when they replied.
            Session.objects.filter(pk=session.pk).update(confirmed_at=replied_at)
        elif state == DECLINED:
            replied_at = self._reply(
                session,
                reminder=reminder,
                body=NO_REPLY,
                answer=texts.declined_text(),
                after=datetime.timedelta(minutes=rng.randint(20, 120)),
            )
            services.decline_session(session)  # which raises its follow-up
            self.follow_ups += FollowUp.objects.filter(
                cause=session_cause(Kind.SESSION_DECLINED, session)
            ).update(raised_at=replied_at)
        elif state == AT_RISK:
            # Flagged at the deadline, as the at-risk pass does. Late in the evening no
            # session in working hours is that close: the first one tomorrow is flagged now.
            flagged_at = min(starts_at - _deadline_hours(), self.now)
            Session.objects.filter(pk=session.pk).update(at_risk_since=flagged_at)
            self._raise(
                kind=Kind.SESSION_AT_RISK,
                cause=session_cause(Kind.SESSION_AT_RISK, session),
                summary=f"{volunteer.preferred_name} has not confirmed the session with "
                f"{match.peer.reference} on {_when(starts_at)}: call them.",
                urgency=Urgency.URGENT,
                session=session,
                at=flagged_at,
            )

    # Wellbeing -----------------------------------------------------------------------

    def write_wellbeing(self, volunteers, *, struggling):
        """Weekly answers over the past weeks, the `struggling` volunteer's lower each week
        and 2 this week. Each opts in to the check-in first (a volunteer with answers keeps
        them as they are)."""
        weekday = _weekday(settings.WELLBEING_CHECK_IN_DAY)
        asked_time = datetime.time.fromisoformat(settings.WELLBEING_CHECK_IN_TIME)
        monday = self.today - datetime.timedelta(days=self.today.weekday())
        for index, volunteer in enumerate(volunteers):
            if volunteer.wellbeing_check_ins.exists():
                continue
            if not volunteer.wellbeing_opt_in:
                update_volunteer(volunteer=volunteer, wellbeing_opt_in=True)
            rng = random.Random(HISTORY_SEED * 2 + index)
            weeks = [monday - datetime.timedelta(weeks=back) for back in range(WELLBEING_WEEKS)]
            asked = [
                (week, _at(week + datetime.timedelta(days=weekday), asked_time)) for week in weeks
            ]
            asked = [(week, at) for week, at in asked if at <= self.now][: WELLBEING_WEEKS - 1]
            score = rng.choice((4, 4, 5))
            check_ins = []
            for back, (week, asked_at) in reversed(list(enumerate(asked))):
                if volunteer == struggling:
                    score = (2, 3, 3, 4, 4, 4, 4)[back]
                else:
                    score = min(5, max(3, score + rng.choice((-1, 0, 0, 1))))
                unanswered = volunteer != struggling and back == 3 and index % 3 == 0
                answered_at = min(
                    asked_at + datetime.timedelta(minutes=rng.randint(4, 240)), self.now
                )
                check_ins.append(
                    WellbeingCheckIn(
                        volunteer=volunteer,
                        week=week,
                        asked_at=asked_at,
                        score=None if unanswered else score,
                        answered_at=None if unanswered else answered_at,
                    )
                )
            for check_in in check_ins:
                check_in.full_clean()
            WellbeingCheckIn.objects.bulk_create(check_ins)
            self.answers += sum(1 for check_in in check_ins if check_in.score is not None)
            latest = check_ins[-1] if check_ins else None
            if volunteer == struggling and latest is not None:
                self._raise(
                    kind=Kind.WELLBEING_LOW,
                    cause=wellbeing_cause(Kind.WELLBEING_LOW, volunteer.pk, latest.week),
                    summary=f"{volunteer.preferred_name} answered {latest.score} (struggling) to "
                    "this week's wellbeing check-in: call them today.",
                    urgency=Urgency.URGENT,
                    volunteer=volunteer,
                    at=latest.answered_at,
                )

    # Training ------------------------------------------------------------------------

    def write_lapsed_pvg(self, volunteers):
        """A follow-up for the first active volunteer whose PVG membership has lapsed."""
        for volunteer in volunteers:
            record = (
                volunteer.training_records.filter(course__code="PVG", expires_on__lt=self.today)
                .order_by("-expires_on")
                .first()
            )
            if record is None or volunteer.status != Volunteer.Status.ACTIVE:
                continue
            self._raise(
                kind=Kind.TRAINING_LAPSED,
                cause=training_cause(
                    "lapsed",
                    volunteer_id=volunteer.pk,
                    course_id=record.course_id,
                    expires_on=record.expires_on,
                ),
                summary=f"{volunteer.preferred_name}'s PVG scheme membership lapsed on "
                f"{record.expires_on:%-d %B %Y} and they are still active: renew it, or pause "
                "them until it is.",
                volunteer=volunteer,
                at=_at(record.expires_on + datetime.timedelta(days=1), datetime.time(7)),
            )
            return

    # Follow-ups ----------------------------------------------------------------------

    def _raise(self, *, at, handled_note=None, **fields):
        """Raise a follow-up as the passes do, dated when its cause happened (the service
        stamps now); `handled_note` handles it the next day."""
        follow_up, created = raise_follow_up(**fields)
        if not created:
            return follow_up
        FollowUp.objects.filter(pk=follow_up.pk).update(raised_at=at)
        self.follow_ups += 1
        if handled_note is not None:
            follow_up = handle_follow_up(follow_up, by=self.coordinator, note=handled_note)
            FollowUp.objects.filter(pk=follow_up.pk).update(
                handled_at=min(at + datetime.timedelta(days=1), self.now)
            )
        return follow_up


def _weekday(name):
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return days.index(str(name).strip().lower())


def seed_demo_history(*, volunteers, peers, now=None, coordinator=None):
    """Give the demo set's `volunteers` and `peers` (records) their history where it is
    missing. Returns what was added."""
    now = now or timezone.now()
    history = History(now=now, coordinator=coordinator)
    matches = demo_matches([v.phone for v in volunteers], [p.phone for p in peers])
    with_sessions = set(
        Session.objects.filter(match__in=matches).values_list("match_id", flat=True)
    )
    # The at-risk session takes the earliest start, the others the rest in turn.
    earliest, *others = _spread(next_day_starts(now), len(NEXT_DAY_STATES)) or [None]
    next_day = [
        earliest if state == AT_RISK else (others.pop(0) if others else None)
        for state in NEXT_DAY_STATES
    ]
    today = timezone.localdate(now, _local_tz())
    for index, match in enumerate(matches):
        if index < len(next_day) and next_day[index] is not None:
            next_start, state = next_day[index], NEXT_DAY_STATES[index]
        else:
            days, time = LATER_STARTS[index % len(LATER_STARTS)]
            next_start, state = _at(today + datetime.timedelta(days=days), time), None
        if match.pk not in with_sessions:
            history.write_match(match, index=index, next_start=next_start, state=state)
    textable = [
        v
        for v in sorted(volunteers, key=lambda v: v.phone.as_e164)
        if v.status == Volunteer.Status.ACTIVE and history.can_text(v)
    ]
    supporters = {match.volunteer_id for match in matches}
    # Most supporters opted in to the wellbeing check-in, and a few others: the first of
    # those is struggling.
    others = [v for v in textable if v.pk not in supporters][:3]
    history.write_wellbeing(
        [v for v in textable if v.pk in supporters][:6] + others,
        struggling=others[0] if others else None,
    )
    history.write_lapsed_pvg(sorted(volunteers, key=lambda v: v.phone.as_e164))
    return history.summary()
