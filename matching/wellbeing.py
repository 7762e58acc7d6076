"""The weekly wellbeing check-in: a safeguard for volunteers, many in recovery themselves.

Once a week (WELLBEING_CHECK_IN_DAY at WELLBEING_CHECK_IN_TIME, UK time) every active
volunteer who opted in and can be texted is asked "How are you doing this week? Reply 1
(struggling) to 5 (great)". The pass that asks runs every few minutes; it asks from the
week's moment until a day after it, so a worker that was down catches up, and a pass later
in the week asks nobody. Each volunteer is asked once a week (a check-in row per volunteer
and week, and a text key tied to both).

The question awaits its answer for WELLBEING_REPLY_HOURS only: while it waits it holds the
volunteer's other questions (a session reminder) back, by messaging's one-open-question rule.
For the same reason a volunteer who already has a question waiting is asked at a later pass,
once it is answered or expires.

An answer of 1 or 2 raises an urgent follow-up at once and is answered with the office's
number and the helpline; two weeks running without an answer raise a gentle one.
"""

import calendar
import datetime
import logging
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from community.errors import StateConflict
from matching import reply_numbers, texts
from matching.follow_ups import Kind, Urgency, raise_follow_up
from matching.models import FollowUp, WellbeingCheckIn, monday_of, volunteer_cannot_be_texted
from messaging.models import Message
from messaging.quiet_hours import UK, first_moment_allowed
from messaging.replies import ReplyOutcome
from messaging.services import OutgoingText, send_many
from volunteers.models import Volunteer

logger = logging.getLogger(__name__)

QUESTION_TOPIC = "wellbeing.check_in"
REPLY_HANDLER = "matching.wellbeing"
# Answers this low or lower raise an urgent follow-up.
LOW = 2
WEEK = datetime.timedelta(weeks=1)


def check_in_key(volunteer_id, week):
    return f"{QUESTION_TOPIC}:{volunteer_id}:{week.isoformat()}"


def wellbeing_cause(kind, volunteer_id, week):
    """The cause of a wellbeing follow-up: its kind, the volunteer and the week (for two
    silent weeks, the second), as the demo history writes them too."""
    return f"{kind}:volunteer:{volunteer_id}:{week.isoformat()}"


# When ------------------------------------------------------------------------------------


def check_in_weekday(value=None):
    """The weekday (Monday 0) the check-in goes, from its English name or first three letters."""
    value = settings.WELLBEING_CHECK_IN_DAY if value is None else value
    wanted = (value or "").strip().lower()
    for number, name in enumerate(calendar.day_name):
        if wanted and wanted in (name.lower(), name[:3].lower()):
            return number
    raise ImproperlyConfigured(
        f"WELLBEING_CHECK_IN_DAY must be a day's name, e.g. monday, not {value!r}."
    )


def check_in_clock(value=None):
    """The local time of day the check-in goes."""
    value = settings.WELLBEING_CHECK_IN_TIME if value is None else value
    try:
        return datetime.time.fromisoformat((value or "").strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"WELLBEING_CHECK_IN_TIME must look like 10:00, not {value!r}."
        ) from None


def _local_moment(day, clock):
    # Through UTC and back, so a clock time that a change of the clocks skips lands on a
    # real instant.
    moment = datetime.datetime.combine(day, clock, tzinfo=UK)
    return moment.astimezone(datetime.UTC).astimezone(UK)


def latest_moment(now):
    """The most recent weekly check-in moment at or before `now`."""
    weekday, clock = check_in_weekday(), check_in_clock()
    today = now.astimezone(UK).date()
    day = today - datetime.timedelta(days=(today.weekday() - weekday) % 7)
    moment = _local_moment(day, clock)
    if moment > now:
        moment = _local_moment(day - WEEK, clock)
    return moment


def due_week(now):
    """The week (its Monday) whose check-in is due at `now`, or None: it is due from the
    week's moment until the same time the next day."""
    moment = latest_moment(now)
    until = _local_moment(moment.date() + datetime.timedelta(days=1), check_in_clock())
    return monday_of(moment.date()) if now < until else None


# Asking ----------------------------------------------------------------------------------


def _awaiting_a_reply(now):
    """Exists: another question to the volunteer's number is waiting for its reply or to go
    out. (Their own check-in does not count: a pass that died after texting it finds it.)"""
    return Exists(
        Message.objects.filter(to_number=OuterRef("phone"))
        .filter(
            Q(question_open=True, reply_expires_at__gt=now)
            | (Q(status=Message.Status.QUEUED) & ~Q(reply_handler=""))
        )
        .exclude(reply_handler=REPLY_HANDLER)
    )


def volunteers_to_ask(week, *, now):
    """Active volunteers who opted in, can be texted, have not been asked this week and have
    no other question waiting."""
    asked = WellbeingCheckIn.objects.filter(volunteer=OuterRef("pk"), week=week)
    return (
        Volunteer.objects.filter(status=Volunteer.Status.ACTIVE, wellbeing_opt_in=True)
        .exclude(volunteer_cannot_be_texted())
        .exclude(Exists(asked))
        .exclude(_awaiting_a_reply(now))
        .only("pk", "phone")
        .order_by("pk")
    )


def send_wellbeing_check_ins(*, now=None):
    """Ask this week's wellbeing question of everyone due it; returns how many were asked.

    Set-based: one query finds the volunteers, one `send_many` writes their texts, one
    insert writes their check-ins, each tied to its text. One transaction, and a key per
    volunteer and week, so a pass that dies halfway and runs again asks each once.
    """
    now = now or timezone.now()
    week = due_week(now)
    if week is None:
        return 0
    volunteers = list(volunteers_to_ask(week, now=now).values_list("pk", "phone"))
    if not volunteers:
        return 0
    # The reply window counts from when the text can first go, not from a quiet hour.
    expires_at = first_moment_allowed(now) + datetime.timedelta(
        hours=settings.WELLBEING_REPLY_HOURS
    )
    body = texts.wellbeing_question_text()
    with transaction.atomic():
        sent = send_many(
            [
                OutgoingText(
                    to=phone,
                    body=body,
                    idempotency_key=check_in_key(volunteer_id, week),
                    reply_handler=REPLY_HANDLER,
                    context={"volunteer_id": volunteer_id, "week": week.isoformat()},
                    expires_at=expires_at,
                )
                for volunteer_id, phone in volunteers
            ],
            topic=QUESTION_TOPIC,
        )
        for position, refusal in sent.refused.items():
            logger.warning(
                "Volunteer %s cannot be asked how they are: %s",
                volunteers[position][0],
                refusal.messages[0],
            )
        check_ins = [
            WellbeingCheckIn(volunteer_id=volunteer_id, week=week, question=question, asked_at=now)
            for (volunteer_id, _), question in zip(volunteers, sent.messages, strict=True)
            if question is not None
        ]
        # A pass running at the same moment may have asked some of them: those rows stand.
        WellbeingCheckIn.objects.bulk_create(check_ins, ignore_conflicts=True)
    return len(check_ins)


# Answers ---------------------------------------------------------------------------------

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
# Words for numbers that are never a score by themselves, but make a reply's score unclear.
OTHER_NUMBER_WORDS = {"zero", "six", "seven", "eight", "nine", "ten", "half"}
OUT_OF = re.compile(r"\s*(?:/|out of)\s*")


def read_score(body):
    """The score 1 to 5 a reply starts with, or None.

    Read: a number first, alone or followed by words ("4", " 5 ", "4 thanks"), or out of 5
    ("3/5", "2 out of 5"), or its word ("five", "Two, rough week"). Not read, so left for
    the coordinator: numbers outside 1 to 5 ("0", "7", "-1"), halves ("3.5", "3½", "one and
    a half"), ranges and choices ("2-3", "2 or 3", "two or three"), scores out of anything
    but 5 ("3/10"), any other number in the reply, numerals other than ASCII digits ("４",
    "٣"), and anything that does not start with a score.
    """
    text = (body or "").strip().lower()
    try:
        numbers = reply_numbers.numbers_in(text)
    except reply_numbers.Unreadable:
        return None
    words = re.findall(r"[a-z]+", text)
    number_words = [word for word in words if word in NUMBER_WORDS or word in OTHER_NUMBER_WORDS]
    if numbers:
        first, rest = numbers[0], numbers[1:]
        if first.start != 0 or number_words:
            return None
        if rest:
            out_of = rest[0]
            if len(rest) > 1 or text[out_of.start : out_of.end] != "5":
                return None
            if not OUT_OF.fullmatch(text, first.end, out_of.start):
                return None
        written = text[first.start : first.end]
        if "." in written or "," in written:
            return None
        score = int(first.value)
    elif words and number_words == words[:1] and text.startswith(words[0]):
        score = NUMBER_WORDS.get(words[0])
    else:
        return None
    if score is None or not WellbeingCheckIn.LOWEST <= score <= WellbeingCheckIn.HIGHEST:
        return None
    return score


@transaction.atomic
def record_wellbeing_answer(*, check_in, score, reply=None, now=None):
    """Record a volunteer's answer to a week's check-in; 1 or 2 raises an urgent follow-up
    at once. A check-in answered already is a conflict: the first answer stands."""
    if score not in range(WellbeingCheckIn.LOWEST, WellbeingCheckIn.HIGHEST + 1):
        raise ValidationError({"score": "A wellbeing answer is a whole number from 1 to 5."})
    check_in = (
        WellbeingCheckIn.objects.select_for_update(of=("self",))
        .select_related("volunteer")
        .get(pk=check_in.pk)
    )
    if check_in.score is not None:
        raise StateConflict(
            "This week's wellbeing check-in was answered already.",
            code="wellbeing_already_answered",
        )
    check_in.score = score
    check_in.answered_at = now or timezone.now()
    check_in.reply = reply
    check_in.save(update_fields=["score", "answered_at", "reply"])
    if score <= LOW:
        volunteer = check_in.volunteer
        raise_follow_up(
            kind=Kind.WELLBEING_LOW,
            urgency=Urgency.URGENT,
            cause=wellbeing_cause(Kind.WELLBEING_LOW, volunteer.pk, check_in.week),
            summary=f"{volunteer.preferred_name} answered {score} of 5 to the wellbeing "
            f"check-in for the week of {check_in.week:%-d %b %Y}: get in touch with them today.",
            volunteer=volunteer,
            message=reply,
        )
    return check_in


def answer_wellbeing_check_in(question, reply):
    """The reply handler for wellbeing check-ins (see messaging.replies).

    What it cannot read goes to the coordinator's inbox, marked with the check-in, and the
    question stays open for a number. (An answer after the question closed, or a second
    one, never reaches here: messaging answers it politely and leaves it for the coordinator.)
    """
    check_in = WellbeingCheckIn.objects.filter(question_id=question.pk).first()
    score = read_score(reply.body)
    if score is None or check_in is None:
        reply.context = {
            **reply.context,
            "wellbeing_check_in_id": check_in.pk if check_in else None,
        }
        reply.save(update_fields=["context"])
        return ReplyOutcome(understood=False)
    try:
        record_wellbeing_answer(check_in=check_in, score=score, reply=reply)
    except StateConflict:
        return ReplyOutcome(understood=True, answer=texts.wellbeing_already_answered_text())
    if score <= LOW:
        return ReplyOutcome(understood=True, answer=texts.wellbeing_low_text())
    return ReplyOutcome(understood=True, answer=texts.wellbeing_thanks_text())


# Two weeks without an answer -------------------------------------------------------------


def raise_unanswered_follow_ups(*, now=None):
    """A gentle follow-up for each volunteer whose check-ins went unanswered two weeks
    running, once per run of unanswered weeks (a third silent week raises nothing new; a
    new run after an answer does). Returns how many were raised.

    Three queries however many: the unanswered weeks, the causes already raised among them,
    and one insert of the new follow-ups."""
    now = now or timezone.now()
    this_week = monday_of(now.astimezone(UK).date())
    unanswered = {
        (volunteer_id, week): name
        for volunteer_id, week, name in WellbeingCheckIn.objects.unanswered(now=now)
        .filter(
            week__gte=this_week - 3 * WEEK,
            volunteer__status=Volunteer.Status.ACTIVE,
            volunteer__wellbeing_opt_in=True,
        )
        .values_list("volunteer_id", "week", "volunteer__preferred_name")
    }
    runs = {
        wellbeing_cause(Kind.WELLBEING_UNANSWERED, volunteer_id, week): (volunteer_id, week, name)
        for (volunteer_id, week), name in unanswered.items()
        if week >= this_week - WEEK
        and (volunteer_id, week - WEEK) in unanswered
        and (volunteer_id, week - 2 * WEEK) not in unanswered
    }
    if not runs:
        return 0
    raised_before = set(FollowUp.objects.filter(cause__in=runs).values_list("cause", flat=True))
    length = FollowUp._meta.get_field("summary").max_length
    new = [
        FollowUp(
            kind=Kind.WELLBEING_UNANSWERED,
            urgency=Urgency.ROUTINE,
            cause=cause,
            summary=(
                f"{name} has not answered the wellbeing check-in two weeks running (weeks "
                f"of {week - WEEK:%-d %b} and {week:%-d %b %Y}): a friendly call or text to "
                "see how they are."
            )[:length],
            volunteer_id=volunteer_id,
            raised_at=now,
        )
        for cause, (volunteer_id, week, name) in sorted(runs.items())
        if cause not in raised_before
    ]
    # Raised at the same moment by another pass: that one stands.
    FollowUp.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)
