"""Session reminders and the at-risk flag: the passes the schedule runs every few minutes.

Each pass is set-based: a query per kind of work, never one per session. A reminder goes
SESSION_REMINDER_HOURS before the start (at once for a session booked later than that),
through messaging's outbox with a key tied to the session and its start time, so a pass run
twice sends once. Quiet hours hold a reminder until they end, unless that would be after the
session starts: then it goes before quiet hours begin (BEFORE_QUIET_HOURS ahead of them), or
not at all. A session still not confirmed SESSION_CONFIRM_DEADLINE_HOURS before it starts is
flagged at risk, with an urgent follow-up for the coordinator.
"""

import logging
from datetime import UTC, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from matching import texts
from matching.follow_ups import Kind, Urgency, session_follow_up, their_session
from matching.models import FollowUp, Session
from matching.questions import tie_questions
from messaging.models import Message
from messaging.quiet_hours import first_moment_allowed, quiet_since
from messaging.services import OutgoingText, close_question, send_many, send_sms

logger = logging.getLogger(__name__)

REMINDER_TOPIC = "session.reminder"
CANCELLED_TOPIC = "session.cancelled"
REPLY_HANDLER = "matching.session_reminder"
# How long before quiet hours begin a reminder goes, when waiting for them to end would be
# too late. Longer than the schedule's interval, so a pass falls in it.
BEFORE_QUIET_HOURS = timedelta(minutes=30)
# Texts the volunteer's phone was handed (so they were reminded).
REACHED = {Message.Status.SENDING, Message.Status.SENT, Message.Status.DELIVERED}


def reminder_key(session):
    return _key(session.pk, session.starts_at)


def _key(session_id, starts_at):
    return f"{REMINDER_TOPIC}:{session_id}:{starts_at.astimezone(UTC).isoformat()}"


def reminder_due_at(starts_at):
    """When the reminder of a session starting at `starts_at` is due."""
    due = starts_at - timedelta(hours=settings.SESSION_REMINDER_HOURS)
    began = quiet_since(due)
    if began is None or first_moment_allowed(due) < starts_at:
        return due
    # Quiet hours would hold it past the start: it goes before they begin instead.
    return began - BEFORE_QUIET_HOURS


def send_due_reminders(*, now=None):
    """Text every volunteer whose session's reminder is due; returns how many sessions were
    given their reminder.

    Set-based, whatever the number of sessions: one query finds the due sessions with what
    their texts need, one `send_many` writes the texts, one UPDATE ties each session to its
    text (and, only if some session was not tied, one query finds which). A session is tied
    only if it still starts when it did and still awaits its reminder: one rescheduled or
    cancelled meanwhile keeps none, and its text is withdrawn before it can go. All in one
    transaction, so a pass that dies halfway leaves nothing, and the idempotency keys make a
    pass run twice send once.
    """
    now = now or timezone.now()
    horizon = now + timedelta(hours=settings.SESSION_REMINDER_HOURS, days=1)
    candidates = (
        Session.objects.filter(
            status=Session.Status.SCHEDULED,
            reminder__isnull=True,
            starts_at__gt=now,
            starts_at__lte=horizon,
        )
        .textable()
        .order_by("starts_at", "pk")
        .values(
            "pk",
            "starts_at",
            "mode",
            "place",
            phone=F("match__volunteer__phone"),
            peer_name=F("match__peer__preferred_name"),
        )
    )
    # A text written now goes no earlier than this.
    leaves_at = first_moment_allowed(now)
    due = [
        session
        for session in candidates
        if reminder_due_at(session["starts_at"]) <= now and leaves_at < session["starts_at"]
    ]
    if not due:
        return 0
    with transaction.atomic():
        sent = send_many([_reminder(session) for session in due], topic=REMINDER_TOPIC)
        for position, refusal in sent.refused.items():
            logger.warning(
                "Session %s cannot be reminded: %s", due[position]["pk"], refusal.messages[0]
            )
        asked = [
            (session, message)
            for session, message in zip(due, sent.messages, strict=True)
            if message is not None
        ]
        return _tie_reminders(asked)


def _reminder(session):
    return OutgoingText(
        to=session["phone"],
        body=texts.reminder_text(
            peer_name=session["peer_name"],
            starts_at=session["starts_at"],
            mode=session["mode"],
            place=session["place"],
        ),
        idempotency_key=_key(session["pk"], session["starts_at"]),
        reply_handler=REPLY_HANDLER,
        context={"session_id": session["pk"], "starts_at": session["starts_at"].isoformat()},
        expires_at=session["starts_at"],
    )


def _tie_reminders(asked):
    """Make each text the reminder of its session, if the session still awaits it at the
    start it was written for; withdraw the others. Returns how many sessions took one."""
    return tie_questions(
        [(session["pk"], session["starts_at"], message) for session, message in asked],
        field="reminder",
        statuses=[Session.Status.SCHEDULED],
        reason="Not needed: the session changed as it was reminded.",
    )


def flag_at_risk(*, now=None):
    """Flag every session still unconfirmed at the deadline, each with an urgent follow-up
    for the coordinator; returns how many were flagged. Three queries however many: find
    (locking them, so a YES arriving meanwhile is either before the flag or after it), flag,
    raise."""
    now = now or timezone.now()
    deadline = now + timedelta(hours=settings.SESSION_CONFIRM_DEADLINE_HOURS)
    with transaction.atomic():
        due = list(
            Session.objects.select_for_update(of=("self",))
            .filter(
                status=Session.Status.SCHEDULED,
                at_risk_since__isnull=True,
                starts_at__gt=now,
                starts_at__lte=deadline,
            )
            .select_related("match__peer", "match__volunteer")
        )
        if not due:
            return 0
        Session.objects.filter(pk__in=[session.pk for session in due]).update(at_risk_since=now)
        FollowUp.objects.bulk_create(
            [
                session_follow_up(
                    Kind.SESSION_AT_RISK,
                    session,
                    urgency=Urgency.URGENT,
                    summary=(
                        f"{session.match.volunteer.preferred_name} has not confirmed "
                        f"{their_session(session)}: check that it is going ahead."
                    ),
                    raised_at=now,
                )
                for session in due
            ],
            ignore_conflicts=True,
        )
    return len(due)


def withdraw_reminder(session, *, reason):
    """The session's reminder no longer counts (the session moved or was called off): one not
    sent yet never will be, and a reply to one sent is no longer awaited. Returns the reminder
    as it now stands, or None."""
    if session.reminder_id is None:
        return None
    return close_question(Message(pk=session.reminder_id), reason=reason)


def settle_reminder(session):
    """The volunteer's answer about the session is in (by text, in the app, or through the
    office): its reminder asks no more. One not sent yet never will be; one awaiting its
    reply awaits it no longer, so a later YES or NO is not read as the answer and a question
    held behind it goes. A reminder already answered (the reply being read now marks it so
    first) is left as it is."""
    if session.reminder_id is None:
        return None
    reminder = Message.objects.filter(pk=session.reminder_id).first()
    if reminder is None or not (reminder.status == Message.Status.QUEUED or reminder.question_open):
        return reminder
    return close_question(reminder, reason="Not needed: the volunteer has answered.")


def tell_cancelled(session, *, reminder):
    """Tell a volunteer who was reminded of a session that it is cancelled."""
    if reminder is None or reminder.status not in REACHED:
        return None
    return send_sms(
        reminder.to_number,
        texts.cancelled_text(
            peer_name=session.match.peer.preferred_name, starts_at=session.starts_at
        ),
        topic=CANCELLED_TOPIC,
        idempotency_key=f"{CANCELLED_TOPIC}:{session.pk}",
        expires_at=session.ends_at,
    )
