"""The weekly check-in text to peers: a short hello between sessions, naming their volunteer.

Who gets one, and when (all times Europe/London):

- on PEER_CHECK_IN_DAY, from PEER_CHECK_IN_TIME until quiet hours begin that evening (a time
  set inside the morning's quiet hours means from when they end); a pass at any other moment
  sends nothing, so a week whose moment was missed has no check-in rather than a late one;
- to a peer who agreed to texts, has a mobile number, has not opted out, and is matched (not
  paused or closed) in an active match;
- between sessions: a session of that match took place (or was due to: scheduled, confirmed
  or completed, not cancelled, declined or a no show) and ended in the past
  RECENT_SESSION_DAYS days, and none is today (earlier, under way or later) or tomorrow:
  the peer sees their volunteer soon enough;
- at most once an ISO week, however often the pass runs: the idempotency key is tied to the
  peer and the week.

The text names the volunteer's first name and, if one is planned, the next session's day and
time. It asks no question: a reply lands in the coordinator's inbox.
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from matching import texts
from matching.models import Match, Session
from messaging.models import Message, OptOut
from messaging.quiet_hours import UK, quiet_since
from messaging.services import OutgoingText, not_mobile, send_many
from peers.models import Peer

logger = logging.getLogger(__name__)

TOPIC = "peer.check_in"
RECENT_SESSION_DAYS = 14
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
TOOK_PLACE = [Session.Status.SCHEDULED, Session.Status.CONFIRMED, Session.Status.COMPLETED]
PLANNED = [Session.Status.SCHEDULED, Session.Status.CONFIRMED]


def check_in_day():
    day = settings.PEER_CHECK_IN_DAY.strip().lower()
    if day not in WEEKDAYS:
        raise ImproperlyConfigured(
            f"PEER_CHECK_IN_DAY must be a day of the week (monday ... sunday), not {day!r}."
        )
    return WEEKDAYS.index(day)


def check_in_time():
    try:
        return datetime.time.fromisoformat(settings.PEER_CHECK_IN_TIME.strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"PEER_CHECK_IN_TIME must look like 11:00, not {settings.PEER_CHECK_IN_TIME!r}."
        ) from None


def is_check_in_time(now):
    """Whether `now` falls in this week's check-in moment."""
    local = now.astimezone(UK)
    return (
        local.weekday() == check_in_day()
        and local.time() >= check_in_time()
        and quiet_since(now) is None
    )


def week_of(now):
    year, week, _ = now.astimezone(UK).isocalendar()
    return f"{year}-W{week:02d}"


def check_in_key(peer_id, week):
    return f"{TOPIC}:{peer_id}:{week}"


def _local_midnight(day):
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=UK)


def due_matches(*, now):
    """The active matches whose peer is due this week's check-in, in one query, each with
    its volunteer, its peer and `next_starts_at` (the next session planned, or None)."""
    today = now.astimezone(UK).date()
    after_tomorrow = _local_midnight(today + datetime.timedelta(days=2))
    sessions = Session.objects.filter(match=OuterRef("pk"))
    took_place = sessions.filter(
        status__in=TOOK_PLACE,
        ends_at__lte=now,
        ends_at__gt=now - datetime.timedelta(days=RECENT_SESSION_DAYS),
    )
    # Met earlier today, under way, or meeting later today or tomorrow.
    soon = sessions.filter(status__in=TOOK_PLACE, starts_at__lt=after_tomorrow).filter(
        Q(starts_at__gte=_local_midnight(today)) | Q(ends_at__gt=now)
    )
    next_one = (
        sessions.filter(status__in=PLANNED, starts_at__gt=now)
        .order_by("starts_at")
        .values("starts_at")[:1]
    )
    asked = Message.objects.filter(
        idempotency_key=Concat(
            Value(f"{TOPIC}:"),
            Cast(OuterRef("peer_id"), models.CharField()),
            Value(f":{week_of(now)}"),
        )
    )
    opted_out = OptOut.objects.current().filter(phone=OuterRef("peer__phone"))
    return (
        Match.objects.active()
        .filter(peer__status=Peer.Status.MATCHED, peer__sms_consent=True)
        .exclude(peer__phone__isnull=True)
        .exclude(peer__phone="")
        .exclude(not_mobile("peer__phone"))
        .filter(Exists(took_place))
        .exclude(Exists(soon))
        .exclude(Exists(opted_out))
        .exclude(Exists(asked))
        .annotate(next_starts_at=Subquery(next_one))
        .select_related("peer", "volunteer")
        .order_by("pk")
    )


def send_peer_check_ins(*, now=None):
    """Text every peer due this week's check-in; returns how many were written.

    Set-based: one query finds the peers due with what their texts need, one `send_many`
    writes the texts, in one transaction.
    """
    now = now or timezone.now()
    if not is_check_in_time(now):
        return 0
    week = week_of(now)
    # Not sent by the end of the day (held by the outbox, say), it is not sent at all.
    end_of_day = _local_midnight(now.astimezone(UK).date() + datetime.timedelta(days=1))
    due = list(due_matches(now=now))
    outgoing = [
        OutgoingText(
            to=match.peer.phone,
            body=texts.peer_check_in_text(
                volunteer_name=match.volunteer.preferred_name,
                next_starts_at=match.next_starts_at,
            ),
            idempotency_key=check_in_key(match.peer_id, week),
            expires_at=end_of_day,
        )
        for match in due
    ]
    if not outgoing:
        return 0
    with transaction.atomic():
        sent = send_many(outgoing, topic=TOPIC)
    for index, refusal in sent.refused.items():
        logger.warning("Peer %s gets no check-in: %s", due[index].peer_id, refusal.messages[0])
    return len(sent.new)
