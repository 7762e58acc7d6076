"""Reading a volunteer's replies about a session: to the reminder (YES confirms, NO
declines) and to the after-session check-in (YES completes it with its hours, NO records a
no show).

Registered with messaging in MatchingConfig.ready. CANCEL never reaches this: messaging
reads it as an opt-out first. A reply this cannot read is left for the coordinator, marked
with the session it was about.
"""

import re
import unicodedata
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from community.errors import StateConflict
from matching import check_ins, reply_numbers, services, texts
from matching.models import Session
from messaging.models import Message
from messaging.replies import ReplyOutcome

YES = "yes"
NO = "no"
YES_WORDS = {"yes", "y", "yeah", "yep", "yup", "yea", "ok", "okay", "sure", "confirmed"}
NO_WORDS = {"no", "n", "nope", "nah", "cant", "cannot"}
THUMBS_UP = re.compile(r"^(\N{THUMBS UP SIGN}[\U0001F3FB-\U0001F3FF]?\s*)+$")
HOUR_WORDS = {"h", "hr", "hrs", "hour", "hours"}
MINUTE_WORDS = {"min", "mins", "minute", "minutes"}
# Words that give a length or a time of day: a reply with them and no number to read
# ("an hour and a half") or after its number ("at 3 pm") does not say its hours plainly.
LENGTH_WORDS = (HOUR_WORDS - {"h"}) | MINUTE_WORDS | {"half", "quarter"}
CLOCK_WORDS = {"am", "pm", "oclock", "o"}


def read(body):
    """YES, NO, or None when the reply says neither plainly."""
    text = unicodedata.normalize("NFKC", body or "").strip()  # "ＹＥＳ" is YES
    if THUMBS_UP.match(text):
        return YES
    words = re.findall(
        r"[a-z]+", text.lower().replace("'", "").replace("\N{RIGHT SINGLE QUOTATION MARK}", "")
    )
    if not words:
        return None
    if words[0] == "sorry" and len(words) > 1:
        words = words[1:]
    first, rest = words[0], words[1:]
    if first in NO_WORDS or (first == "can" and rest[:1] == ["not"]):
        return NO
    if first in YES_WORDS and not NO_WORDS & set(rest):
        return YES
    return None


def answer_reminder(question, reply):
    """The reply handler for session reminders (see messaging.replies)."""
    session_id = question.context.get("session_id")
    session = Session.objects.select_related("match__peer").filter(pk=session_id).first()
    said = read(reply.body)
    if said is None:
        return _for_the_coordinator(reply, session_id)
    if session is None or not _still_asked(session, question):
        return ReplyOutcome(understood=True, answer=texts.no_longer_open_text())
    # Marked answered first: the services settle the reminder, and closing a question still
    # open would send the next one ahead of the answer to this one.
    Message.objects.filter(pk=question.pk).update(question_open=False)
    try:
        if said == YES:
            if session.status == Session.Status.SCHEDULED:  # else confirmed by the office
                session = services.confirm_session(session)
            return ReplyOutcome(True, texts.confirmed_text(starts_at=session.starts_at))
        services.decline_session(session)
        return ReplyOutcome(True, texts.declined_text())
    except StateConflict:  # it has started since
        return ReplyOutcome(understood=True, answer=texts.no_longer_open_text())


def _still_asked(session, question):
    """Whether the question still asks about the session as it stands."""
    return (
        session.status in {Session.Status.SCHEDULED, Session.Status.CONFIRMED}
        and session.reminder_id == question.pk
        and session.starts_at.isoformat() == question.context.get("starts_at")
    )


class UnreadableHours(ValueError):
    pass


def hours_in(body):
    """The hours a reply gives ("YES 1.5", "yes 1,5", "Yes, 2 hours", "y 90 mins"), as a
    Decimal; None when it says nothing of its length. UnreadableHours when it gives a number
    that cannot be read as one (see matching.reply_numbers), more than one ("1 or 2"),
    a number that is not a length ("2nd", "at 3pm"), or a length with no number ("half an
    hour")."""
    try:
        numbers = reply_numbers.numbers_in(body)
    except reply_numbers.Unreadable:
        raise UnreadableHours(body) from None
    if not numbers:
        if LENGTH_WORDS & set(re.findall(r"[a-z]+", (body or "").lower())):
            raise UnreadableHours(body)
        return None
    if len(numbers) > 1:
        raise UnreadableHours(body)
    [number] = numbers
    unit = number.word
    if unit in CLOCK_WORDS or (number.glued and unit not in HOUR_WORDS | MINUTE_WORDS):
        raise UnreadableHours(body)
    return number.value / 60 if unit in MINUTE_WORDS else number.value


def answer_check_in(question, reply):
    """The reply handler for after-session check-ins (see messaging.replies)."""
    session_id = question.context.get("session_id")
    session = Session.objects.select_related("match__peer").filter(pk=session_id).first()
    said = read(reply.body)
    try:
        hours = hours_in(reply.body) if said == YES else None
    except UnreadableHours:
        said = None
    if said is None:
        return _for_the_coordinator(reply, session_id)
    if session is None or not _still_checked_in(session, question):
        return ReplyOutcome(understood=True, answer=texts.no_longer_open_text())
    if said == YES and hours is None:
        hours = Decimal((session.ends_at - session.starts_at).total_seconds()) / 3600
    try:
        with transaction.atomic():
            # Marked answered first: recording the outcome closes the check-in, and closing
            # an open question would send the next one ahead of this answer.
            Message.objects.filter(pk=question.pk).update(question_open=False)
            session = services.record_outcome(session, attended=said == YES, hours=hours)
    except ValidationError:  # hours of 0 or over 24: a person reads what was meant
        return _for_the_coordinator(reply, session_id)
    except StateConflict:
        return ReplyOutcome(understood=True, answer=texts.no_longer_open_text())
    if said == NO:
        return ReplyOutcome(True, texts.no_show_text())
    return ReplyOutcome(True, texts.hours_recorded_text(hours=session.hours))


def _for_the_coordinator(reply, session_id):
    reply.context = {**reply.context, "session_id": session_id}
    reply.save(update_fields=["context"])
    return ReplyOutcome(understood=False)


def _still_checked_in(session, question):
    return (
        session.status in check_ins.UNCLOSED
        and session.check_in_id == question.pk
        and session.starts_at.isoformat() == question.context.get("starts_at")
    )
