"""Reading a volunteer's reply to a session reminder: YES confirms, NO declines.

Registered with messaging in MatchingConfig.ready. CANCEL never reaches this: messaging
reads it as an opt-out first. A reply this cannot read is left for the coordinator, marked
with the session it was about.
"""

import re

from community.errors import StateConflict
from matching import services, texts
from matching.models import Session
from messaging.replies import ReplyOutcome

YES = "yes"
NO = "no"
YES_WORDS = {"yes", "y", "yeah", "yep", "yup", "yea", "ok", "okay", "sure", "confirmed"}
NO_WORDS = {"no", "n", "nope", "nah", "cant", "cannot"}
THUMBS_UP = re.compile(r"^(\N{THUMBS UP SIGN}[\U0001F3FB-\U0001F3FF]?\s*)+$")


def read(body):
    """YES, NO, or None when the reply says neither plainly."""
    text = (body or "").strip()
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
        reply.context = {**reply.context, "session_id": session_id}
        reply.save(update_fields=["context"])
        return ReplyOutcome(understood=False)
    if session is None or not _still_asked(session, question):
        return ReplyOutcome(understood=True, answer=texts.no_longer_open_text())
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
