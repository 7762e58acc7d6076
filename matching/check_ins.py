"""The after-session check-in: "Did your session with Sam on Tuesday happen? Reply YES or NO".

SESSION_CHECK_IN_HOURS_AFTER hours after a session ends, its volunteer is asked whether it
happened (matching.replies reads the answer: YES completes it with its hours, NO records a no
show). Only a session nobody has closed is asked: one the coordinator already recorded,
cancelled, or that was declined gets nothing. A session that ended more than OLDEST_ASKED ago
is never asked, so the first pass after a deploy or an outage does not text about last
month; the coordinator records those. Quiet hours hold the question until morning (send_sms
does that); the key is the session and its start time, so a pass run twice asks once.

A question is worth sending and answering for REPLY_WINDOW from the moment it may first go.
When that has passed with no answer the pass can read, and the session is still not
closed, the coordinator gets a follow-up.
"""

import logging
from datetime import UTC, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from matching import texts
from matching.follow_ups import Kind, Urgency, session_follow_up, their_session
from matching.models import FollowUp, Session
from matching.questions import tie_questions
from messaging.models import Message
from messaging.quiet_hours import first_moment_allowed
from messaging.services import OutgoingText, close_question, send_many

logger = logging.getLogger(__name__)

CHECK_IN_TOPIC = "session.check_in"
REPLY_HANDLER = "matching.session_check_in"
OLDEST_ASKED = timedelta(days=2)
REPLY_WINDOW = timedelta(hours=24)
# Sessions nobody has closed yet: only these are asked about.
UNCLOSED = [Session.Status.SCHEDULED, Session.Status.CONFIRMED]


def check_in_key(session):
    return _key(session.pk, session.starts_at)


def _key(session_id, starts_at):
    return f"{CHECK_IN_TOPIC}:{session_id}:{starts_at.astimezone(UTC).isoformat()}"


def send_due_check_ins(*, now=None):
    """Ask every volunteer whose session's check-in is due; returns how many were asked.

    Set-based, as the reminders are (see matching.questions): one query finds the due
    sessions with what their texts need, one `send_many` writes the texts, one UPDATE ties
    each session to its text. A session the office closed or moved while the pass ran takes
    none, and its text is withdrawn before it can go. One transaction, and keys tied to the
    session and its start, so a pass that dies halfway and runs again asks each once.
    """
    now = now or timezone.now()
    ended_by = now - timedelta(hours=settings.SESSION_CHECK_IN_HOURS_AFTER)
    due = list(
        Session.objects.filter(
            status__in=UNCLOSED,
            check_in__isnull=True,
            # Implied by the end, but it keeps sessions still to come out by the index.
            starts_at__lt=ended_by,
            ends_at__lte=ended_by,
            ends_at__gt=now - OLDEST_ASKED,
        )
        .textable()
        .order_by("ends_at", "pk")
        .values(
            "pk",
            "starts_at",
            phone=F("match__volunteer__phone"),
            peer_name=F("match__peer__preferred_name"),
        )
    )
    if not due:
        return 0
    expires_at = first_moment_allowed(now) + REPLY_WINDOW
    with transaction.atomic():
        sent = send_many(
            [_check_in(session, expires_at=expires_at) for session in due], topic=CHECK_IN_TOPIC
        )
        for position, refusal in sent.refused.items():
            logger.warning(
                "Session %s cannot be checked in: %s", due[position]["pk"], refusal.messages[0]
            )
        return tie_questions(
            [
                (session["pk"], session["starts_at"], message)
                for session, message in zip(due, sent.messages, strict=True)
                if message is not None
            ],
            field="check_in",
            statuses=UNCLOSED,
            reason="Not needed: the session changed as it was checked in.",
        )


def _check_in(session, *, expires_at):
    return OutgoingText(
        to=session["phone"],
        body=texts.check_in_text(peer_name=session["peer_name"], starts_at=session["starts_at"]),
        idempotency_key=_key(session["pk"], session["starts_at"]),
        reply_handler=REPLY_HANDLER,
        context={"session_id": session["pk"], "starts_at": session["starts_at"].isoformat()},
        expires_at=expires_at,
    )


def raise_unanswered_check_ins(*, now=None):
    """A follow-up for every check-in whose reply window passed with no answer the handler
    could read, while its session is still not closed. Returns how many were raised."""
    now = now or timezone.now()
    raised = FollowUp.objects.filter(
        kind=Kind.CHECK_IN_UNANSWERED, message_id=OuterRef("check_in_id")
    )
    unanswered = list(
        Session.objects.filter(
            Q(check_in__reply_expires_at__lte=now) | Q(check_in__expires_at__lte=now),
            status__in=UNCLOSED,
            check_in__answered_by__isnull=True,
        )
        .exclude(Exists(raised))
        .select_related("match__peer", "match__volunteer")
    )
    FollowUp.objects.bulk_create(
        [
            session_follow_up(
                Kind.CHECK_IN_UNANSWERED,
                session,
                urgency=Urgency.ROUTINE,
                summary=(
                    f"{session.match.volunteer.preferred_name} gave no answer we could read "
                    f"to whether {their_session(session)} happened: ask them, and record "
                    "what happened."
                ),
                message_id=session.check_in_id,
                raised_at=now,
            )
            for session in unanswered
        ],
        ignore_conflicts=True,
    )
    return len(unanswered)


def withdraw_check_in(session, *, reason):
    """The session's check-in no longer counts (the office closed or moved the session): one
    not sent yet never will be, and a reply to one sent is no longer awaited."""
    if session.check_in_id is None:
        return None
    return close_question(Message(pk=session.check_in_id), reason=reason)
