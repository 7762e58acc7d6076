"""Session reminders and the at-risk flag: the passes the schedule runs every few minutes.

Each pass selects its work in one query. A reminder goes SESSION_REMINDER_HOURS before the
start (at once for a session booked later than that), through messaging's outbox with a key
tied to the session and its start time, so a pass run twice sends once. Quiet hours hold a
reminder until they end, unless that would be after the session starts: then it goes before
quiet hours begin (BEFORE_QUIET_HOURS ahead of them), or not at all. A session still not
confirmed SESSION_CONFIRM_DEADLINE_HOURS before it starts is flagged at risk, with an urgent
follow-up for the coordinator.
"""

import logging
from datetime import UTC, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from matching import texts
from matching.follow_ups import Kind, Urgency, session_follow_up, their_session
from matching.models import FollowUp, Session
from messaging.models import Message
from messaging.quiet_hours import first_moment_allowed, quiet_since
from messaging.services import close_question, send_sms

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
    return f"{REMINDER_TOPIC}:{session.pk}:{session.starts_at.astimezone(UTC).isoformat()}"


def reminder_due_at(starts_at):
    """When the reminder of a session starting at `starts_at` is due."""
    due = starts_at - timedelta(hours=settings.SESSION_REMINDER_HOURS)
    began = quiet_since(due)
    if began is None or first_moment_allowed(due) < starts_at:
        return due
    # Quiet hours would hold it past the start: it goes before they begin instead.
    return began - BEFORE_QUIET_HOURS


def send_due_reminders(*, now=None):
    """Text every volunteer whose session's reminder is due; returns how many were written."""
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
        .select_related("match__peer", "match__volunteer")
        .order_by("starts_at", "pk")
    )
    # A text written now goes no earlier than this.
    leaves_at = first_moment_allowed(now)
    written = 0
    for session in candidates:
        if reminder_due_at(session.starts_at) > now or leaves_at >= session.starts_at:
            continue
        if _remind(session):
            written += 1
    return written


def _remind(session):
    with transaction.atomic():
        still_due = (
            Session.objects.select_for_update(of=("self",))
            .filter(
                pk=session.pk,
                status=Session.Status.SCHEDULED,
                starts_at=session.starts_at,
                reminder__isnull=True,
            )
            .exists()
        )
        if not still_due:
            return False
        match = session.match
        try:
            message = send_sms(
                match.volunteer.phone,
                texts.reminder_text(
                    peer_name=match.peer.preferred_name,
                    starts_at=session.starts_at,
                    mode=session.mode,
                    place=session.place,
                ),
                topic=REMINDER_TOPIC,
                idempotency_key=reminder_key(session),
                reply_handler=REPLY_HANDLER,
                context={"session_id": session.pk, "starts_at": session.starts_at.isoformat()},
                expires_at=session.starts_at,
            )
        except ValidationError as refusal:
            logger.warning("Session %s cannot be reminded: %s", session.pk, refusal.messages[0])
            return False
        Session.objects.filter(pk=session.pk).update(reminder=message)
        return True


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
