"""Follow-ups: everything that needs a person from the office, in one place.

Whatever notices a cause raises a follow-up for it with `raise_follow_up`; the same cause
raises it once, however often a schedule runs or a webhook arrives (`cause` is unique). The
coordinator handles it, from the admin, the API or the dashboard, with `handle_follow_up`.

A reply in the coordinator's inbox is answered (`text_back`) or handled (`handle_reply`)
here too, so the follow-up raised for it is handled with it and nothing is handled twice.

Two causes are found by passes the schedule runs, each a few queries however many rows:
`raise_for_texts` reads messaging's needs-attention flag (a reply nobody could read, a text
that never arrived), since messaging knows nothing of follow-ups; `raise_for_training` finds
required training or PVG of active volunteers that runs out within
TRAINING_EXPIRY_WARNING_DAYS or has lapsed, and tells the volunteer once per expiry.
"""

import datetime
import logging
from collections import defaultdict
from datetime import UTC

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Count, Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from community.errors import StateConflict
from community.plain_text import hidden_character_problem
from matching import texts
from matching.models import FollowUp, Match, Session
from messaging.models import Message, OptOut
from messaging.services import mark_handled, send_coordinator_text, send_sms
from peers.models import Peer
from volunteers.models import Course, RequiredRecord, TrainingRecord, Volunteer, training_gaps

logger = logging.getLogger(__name__)

Kind = FollowUp.Kind
Urgency = FollowUp.Urgency


def session_cause(kind, session):
    """The cause of a follow-up of `kind` about a session at its present time: a session
    moved to another time and noticed again is a new cause."""
    return f"{kind}:{session.pk}:{session.starts_at.astimezone(UTC).isoformat()}"


def their_session(session):
    """The words "their session with P-0042 on 25 November 2026 at 14:00", for a summary that
    names the volunteer first (the session's match, peer and volunteer loaded)."""
    starts = timezone.localtime(session.starts_at, timezone.get_default_timezone())
    return f"their session with {session.match.peer.reference} on {starts:%-d %B %Y at %H:%M}"


def session_follow_up(kind, session, *, summary, urgency, raised_at, message_id=None):
    """An unsaved follow-up about a session, for a pass that raises many in one
    `bulk_create(..., ignore_conflicts=True)`: its cause already raised is skipped there."""
    return FollowUp(
        kind=kind,
        urgency=urgency,
        cause=session_cause(kind, session),
        summary=summary[: FollowUp._meta.get_field("summary").max_length],
        session=session,
        volunteer_id=session.match.volunteer_id,
        message_id=message_id,
        raised_at=raised_at,
    )


def raise_follow_up(
    *, kind, cause, summary, urgency=Urgency.SOON, session=None, volunteer=None, message=None
):
    """Raise a follow-up for `cause` unless one was raised for it already.

    Returns (follow_up, created). `summary` says in words what needs doing; it is cut to
    the column's length rather than refused, since the cause matters more than its words.
    """
    if session is not None and volunteer is None:
        volunteer = session.match.volunteer
    fields = {
        "kind": kind,
        "urgency": urgency,
        "summary": summary[: FollowUp._meta.get_field("summary").max_length],
        "session": session,
        "volunteer": volunteer,
        "message": message,
    }
    existing = FollowUp.objects.filter(cause=cause).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return FollowUp.objects.create(cause=cause, **fields), True
    except IntegrityError:  # raised at the same moment by another worker
        return FollowUp.objects.get(cause=cause), False


@transaction.atomic
def handle_follow_up(follow_up, *, by=None, note=""):
    """Mark a follow-up handled, with what was done. Handling it twice is a conflict."""
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if not follow_up.is_open:
        raise StateConflict(
            f"This follow-up was already handled on "
            f"{timezone.localtime(follow_up.handled_at):%-d %b %Y at %H:%M}.",
            code="follow_up_already_handled",
        )
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationError({"note": "Keep the note to 2,000 characters."})
    follow_up.handled_at = timezone.now()
    follow_up.handled_by = by if getattr(by, "pk", None) else None
    follow_up.handled_note = note
    try:
        follow_up.full_clean(exclude=["session", "volunteer", "message", "handled_by"])
    except ValidationError as refusal:  # only the note can be wrong: say so under its name
        raise ValidationError({"note": refusal.messages}) from None
    follow_up.save(update_fields=["handled_at", "handled_by", "handled_note"])
    if follow_up.message_id is not None:
        # The text it is about leaves the inbox too: the same thing is not handled twice.
        message = (
            Message.objects.select_for_update()
            .filter(pk=follow_up.message_id, needs_attention=True)
            .first()
        )
        if message is not None:
            mark_handled(message, note=_note_for_the_text(follow_up), by=by)
    return follow_up


def _note_for_the_text(follow_up):
    done = f": {follow_up.handled_note}" if follow_up.handled_note else ""
    return f"Handled as follow-up {follow_up.pk}{done}"


# Replies in the inbox --------------------------------------------------------------------

NOTE_MAX_CHARACTERS = 2000


def _needing_attention(message):
    """The text, locked, if it still needs attention; otherwise a conflict that says so."""
    message = Message.objects.select_for_update().get(pk=message.pk)
    if not message.needs_attention:
        when = timezone.localtime(message.handled_at) if message.handled_at else None
        raise StateConflict(
            f"This text was already handled on {when:%-d %b %Y at %H:%M}."
            if when
            else "This text does not need attention.",
            code="already_handled",
        )
    return message


def _clean_note(note):
    note = (note or "").strip()
    problem = hidden_character_problem(note)
    if problem:
        raise ValidationError({"note": problem})
    if len(note) > NOTE_MAX_CHARACTERS:
        raise ValidationError({"note": f"Keep the note to {NOTE_MAX_CHARACTERS:,} characters."})
    return note


@transaction.atomic
def handle_reply(message, *, by=None, note=""):
    """Take a text out of the coordinator's inbox with a note of what was done. The
    follow-up raised for it, if one was, is handled with the same note (and the text with
    it), so neither is left waiting for the other. Handled already is a conflict."""
    message = _needing_attention(message)
    note = _clean_note(note)
    follow_up = FollowUp.objects.open().filter(cause=message_cause(message.pk)).first()
    if follow_up is not None:
        handle_follow_up(follow_up, by=by, note=note)
        message.refresh_from_db()
    else:
        mark_handled(message, note=note, by=by)
    return message


@transaction.atomic
def text_back(reply, *, body, by=None):
    """Answer a reply from the inbox with a text the coordinator wrote, then handle it.

    The answer goes through the outbox like any coordinator's text: quiet hours hold it until
    morning, and a number that opted out is refused with nothing written (nor handled).
    Returns the queued answer."""
    reply = _needing_attention(reply)
    if reply.direction != Message.Direction.INBOUND:
        raise ValidationError("Only a received text can be answered.", code="not_a_reply")
    answer = send_coordinator_text(
        reply.from_number, body, by=by, context={"in_answer_to": reply.pk}
    )
    handle_reply(reply, by=by, note=f"Answered by text {answer.pk}: {_quoted(answer.body)}")
    return answer


# Texts that need a person ----------------------------------------------------------------

HANDLED_IN_THE_INBOX = "Handled in the inbox"
# How much of a text a follow-up quotes.
QUOTED = 60
# A text about a session this close needs someone today.
URGENT_BEFORE_SESSION = datetime.timedelta(hours=24)
# At most this many texts a pass; the next pass takes the rest.
TEXTS_PER_PASS = 1000
TEXT_KINDS = [Kind.UNREADABLE_REPLY, Kind.FAILED_TEXT]


def message_cause(message_id):
    return f"message:{message_id}"


def _quoted(body):
    body = " ".join((body or "").split())
    if len(body) > QUOTED:
        body = body[:QUOTED].rstrip() + "…"
    return f"“{body}”"


def _session_id(context):
    value = (context or {}).get("session_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def raise_for_texts(*, now=None):
    """Raise a follow-up for every text that needs attention and has none yet, and close the
    open ones whose text was handled elsewhere (in the inbox). Returns what it did."""
    now = now or timezone.now()
    with transaction.atomic():
        raised = _raise_for_texts_needing_attention(now)
        closed = (
            FollowUp.objects.open()
            .filter(kind__in=TEXT_KINDS, message__needs_attention=False)
            .update(
                handled_at=Coalesce(
                    Subquery(
                        Message.objects.filter(pk=OuterRef("message_id")).values("handled_at")[:1]
                    ),
                    Value(now),
                ),
                handled_note=HANDLED_IN_THE_INBOX,
            )
        )
    return {"raised": raised, "closed": closed}


def _raise_for_texts_needing_attention(now):
    has_follow_up = FollowUp.objects.filter(
        cause=Concat(Value("message:"), Cast(OuterRef("pk"), CharField()))
    )
    waiting = list(
        Message.objects.filter(needs_attention=True)
        .exclude(Exists(has_follow_up))
        .order_by("created_at", "pk")[:TEXTS_PER_PASS]
    )
    if not waiting:
        return 0
    phones = {str(message.phone) for message in waiting if message.phone}
    volunteers = {
        str(phone): (pk, name)
        for pk, name, phone in Volunteer.objects.filter(phone__in=phones).values_list(
            "pk", "full_name", "phone"
        )
    }
    peers = {
        str(phone): name
        for name, phone in Peer.objects.filter(phone__in=phones).values_list(
            "preferred_name", "phone"
        )
    }
    sessions = {
        pk: (volunteer_id, starts_at)
        for pk, volunteer_id, starts_at in Session.objects.filter(
            pk__in={_session_id(message.context) for message in waiting} - {None}
        ).values_list("pk", "match__volunteer_id", "starts_at")
    }
    follow_ups = []
    for message in waiting:
        phone = str(message.phone) if message.phone else ""
        number = message.phone.as_national if message.phone else "an unknown number"
        volunteer_id, name = volunteers.get(phone, (None, None))
        if name:
            who = f"{name} ({number})"
        elif phone in peers:
            who = f"{peers[phone]}, a peer ({number})"
        else:
            who = number
        session_id = _session_id(message.context)
        session_id = session_id if session_id in sessions else None
        urgency = Urgency.SOON
        if session_id is not None:
            volunteer_id, starts_at = sessions[session_id]
            if now < starts_at <= now + URGENT_BEFORE_SESSION:
                urgency = Urgency.URGENT
        if message.direction == Message.Direction.INBOUND:
            kind = Kind.UNREADABLE_REPLY
            summary = (
                f"Reply from {who} not understood: {_quoted(message.body)}. Read and answer it."
            )
        else:
            kind = Kind.FAILED_TEXT
            what = "failed" if message.status == Message.Status.FAILED else "was not delivered"
            why = f" ({message.error[:80]})" if message.error else ""
            summary = f"Text to {who} {what}{why}: {_quoted(message.body)}"
        follow_ups.append(
            FollowUp(
                kind=kind,
                urgency=urgency,
                summary=summary[: FollowUp._meta.get_field("summary").max_length],
                session_id=session_id,
                volunteer_id=volunteer_id,
                message=message,
                cause=message_cause(message.pk),
                raised_at=now,
            )
        )
    FollowUp.objects.bulk_create(follow_ups, ignore_conflicts=True)
    return len(follow_ups)


# Training and PVG ------------------------------------------------------------------------

TRAINING_KINDS = [Kind.TRAINING_EXPIRING, Kind.TRAINING_LAPSED]
TRAINING_TOPIC = "training.expiring"
RENEWED = "Nothing to do now: the training is current again (or no longer required)."
NO_LONGER_ACTIVE = "Nothing to do now: the volunteer is no longer active."
LAPSED_SINCE = "It has lapsed since: see the follow-up about the lapse."


def _day(day):
    return f"{day.day} {day:%b %Y}"


def training_cause(state, *, volunteer_id, course_id, expires_on):
    """`expires_on` is the first day the training no longer counts (None: never done)."""
    tag = "expiring" if state == "expiring" else "lapsed"
    when = expires_on.isoformat() if expires_on else "missing"
    return f"training.{tag}:{volunteer_id}:{course_id}:{when}"


def notice_key(record_id, expires_on):
    return f"{TRAINING_TOPIC}:{record_id}:{expires_on.isoformat()}"


def raise_for_training(*, today=None):
    """Raise a follow-up for every required course or check of an active volunteer that runs
    out within TRAINING_EXPIRY_WARNING_DAYS with no renewal (soon), or is missing or lapsed
    (urgent while they support someone: they are matched without it); close those no longer
    true; and text each volunteer who can be texted once per expiry, when it first comes
    within the window. Returns what it did."""
    today = today or timezone.localdate()
    courses = list(Course.objects.filter(required_for_matching=True).order_by("pk"))
    opted_out = OptOut.objects.current().filter(phone=OuterRef("phone"))
    volunteers = {
        volunteer.pk: volunteer
        for volunteer in Volunteer.objects.filter(status=Volunteer.Status.ACTIVE)
        .annotate(
            active_matches=Count("matches", filter=Q(matches__status=Match.Status.ACTIVE)),
            opted_out=Exists(opted_out),
        )
        .only("pk", "full_name", "phone", "sms_consent")
    }
    records = defaultdict(list)
    record_ids = {}
    for pk, volunteer_id, course_id, completed_on, expires_on in TrainingRecord.objects.filter(
        volunteer__status=Volunteer.Status.ACTIVE, course__required_for_matching=True
    ).values_list("pk", "volunteer_id", "course_id", "completed_on", "expires_on"):
        records[volunteer_id].append(RequiredRecord(course_id, completed_on, expires_on))
        key = (volunteer_id, course_id, expires_on)
        record_ids[key] = max(pk, record_ids.get(key, pk))

    wanted, gaps_now, notices = {}, {}, []
    for volunteer in volunteers.values():
        for gap in training_gaps(records[volunteer.pk], courses, on=today):
            course, state, expires_on = gap["course"], gap["state"], gap["expires_on"]
            cause = training_cause(
                state, volunteer_id=volunteer.pk, course_id=course.pk, expires_on=expires_on
            )
            gaps_now[(volunteer.pk, course.pk)] = state
            wanted[cause] = _training_follow_up(volunteer, course, state, expires_on, cause)
            if state == "expiring" and _can_be_texted(volunteer):
                record_id = record_ids[(volunteer.pk, course.pk, expires_on)]
                notices.append((volunteer, course, expires_on, notice_key(record_id, expires_on)))

    with transaction.atomic():
        raised = _raise_new(wanted)
        closed = _close_no_longer_true(wanted, gaps_now, volunteers)
    texted = _send_notices(notices)
    return {"raised": raised, "closed": closed, "texted": texted}


def _can_be_texted(volunteer):
    return volunteer.sms_consent and bool(volunteer.phone) and not volunteer.opted_out


def _training_follow_up(volunteer, course, state, expires_on, cause):
    supporting = volunteer.active_matches
    matches = f"; they support {supporting} {'person' if supporting == 1 else 'people'}"
    if state == "expiring":
        summary = (
            f"{volunteer.full_name}'s {course.name} runs out on {_day(expires_on)}: "
            "arrange the renewal."
        )
        kind, urgency = Kind.TRAINING_EXPIRING, Urgency.SOON
    else:
        if expires_on is None:
            summary = f"{volunteer.full_name} has no record of {course.name}"
        else:
            summary = f"{volunteer.full_name}'s {course.name} lapsed on {_day(expires_on)}"
        summary += (matches if supporting else "") + ": arrange it, or pause them."
        kind = Kind.TRAINING_LAPSED
        urgency = Urgency.URGENT if supporting else Urgency.SOON
    return FollowUp(
        kind=kind,
        urgency=urgency,
        summary=summary[: FollowUp._meta.get_field("summary").max_length],
        volunteer_id=volunteer.pk,
        cause=cause,
    )


def _raise_new(wanted):
    if not wanted:
        return 0
    existing = set(FollowUp.objects.filter(cause__in=wanted).values_list("cause", flat=True))
    new = [follow_up for cause, follow_up in wanted.items() if cause not in existing]
    now = timezone.now()
    for follow_up in new:
        follow_up.raised_at = now
    FollowUp.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def _close_no_longer_true(wanted, gaps_now, volunteers):
    """Open training follow-ups whose cause has gone: renewed, lapsed since, or the volunteer
    is no longer active."""
    notes = defaultdict(list)
    open_ones = FollowUp.objects.open().filter(kind__in=TRAINING_KINDS).values_list("pk", "cause")
    for pk, cause in open_ones:
        if cause in wanted:
            continue
        try:
            _, volunteer_id, course_id, _ = cause.split(":")
            volunteer_id, course_id = int(volunteer_id), int(course_id)
        except ValueError:
            continue  # raised by something else, in its own words: left for a person
        if volunteer_id not in volunteers:
            notes[NO_LONGER_ACTIVE].append(pk)
        elif cause.startswith("training.expiring:") and gaps_now.get((volunteer_id, course_id)) in {
            "missing",
            "expired",
        }:
            notes[LAPSED_SINCE].append(pk)
        else:
            notes[RENEWED].append(pk)
    now = timezone.now()
    return sum(
        FollowUp.objects.open().filter(pk__in=pks).update(handled_at=now, handled_note=note)
        for note, pks in notes.items()
    )


def _send_notices(notices):
    """The volunteer's own text, once per expiry (its key is tied to the training record and
    the date it runs out), held by quiet hours like any other."""
    if not notices:
        return 0
    keys = [key for *_, key in notices]
    sent_already = set(
        Message.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
    )
    texted = 0
    for volunteer, course, expires_on, key in notices:
        if key in sent_already:
            continue
        try:
            with transaction.atomic():
                send_sms(
                    volunteer.phone,
                    texts.training_expiring_text(
                        course_name=course.name, course_kind=course.kind, expires_on=expires_on
                    ),
                    topic=TRAINING_TOPIC,
                    idempotency_key=key,
                    context={"volunteer_id": volunteer.pk, "course": course.code},
                )
        except ValidationError as refusal:
            logger.warning(
                "Volunteer %s cannot be told of %s: %s",
                volunteer.pk,
                course.code,
                refusal.messages[0],
            )
            continue
        texted += 1
    return texted
