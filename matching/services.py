"""Matches, exclusions and sessions: every change, one function each, one transaction each.

Each refusal is a ValidationError in words, or a StateConflict (the API's 409) when the action
does not fit the state of the records, and a refused call changes nothing.

Locks: whatever can add to a volunteer's load or fill their time (approving a match,
scheduling a session) first locks the volunteer's row, so two coordinators acting at the same
moment queue up instead of both passing the check. Every service takes its locks in the same
order (volunteer, then match, then session, then peer through the peers app), so they never
deadlock each other.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from community.errors import StateConflict
from community.plain_text import hidden_character_problem
from community.transitions import Transitions
from community.validated_save import change_validated, save_validated
from matching import check_ins, engine, reminders
from matching.follow_ups import Kind, Urgency, raise_follow_up, session_cause, their_session
from matching.models import Exclusion, Match, Session
from peers.models import Peer
from peers.services import change_peer_status
from volunteers.models import Absence, Volunteer

MatchStatus = Match.Status
SessionStatus = Session.Status

# A proposal is approved or declined; an active match ends. Declined and ended are final: a
# second try is a new proposal, so each match keeps the story of one decision.
MATCH_TRANSITIONS = Transitions(
    MatchStatus,
    {
        MatchStatus.PROPOSED: {MatchStatus.ACTIVE, MatchStatus.DECLINED},
        MatchStatus.ACTIVE: {MatchStatus.ENDED},
        MatchStatus.DECLINED: set(),
        MatchStatus.ENDED: set(),
    },
)

# A session is confirmed or declined by the volunteer, and ends completed, no show or
# cancelled. A declined session becomes scheduled again only by rescheduling it.
SESSION_TRANSITIONS = Transitions(
    SessionStatus,
    {
        SessionStatus.SCHEDULED: {
            SessionStatus.CONFIRMED,
            SessionStatus.DECLINED,
            SessionStatus.CANCELLED,
            SessionStatus.COMPLETED,
            SessionStatus.NO_SHOW,
        },
        SessionStatus.CONFIRMED: {
            SessionStatus.DECLINED,
            SessionStatus.CANCELLED,
            SessionStatus.COMPLETED,
            SessionStatus.NO_SHOW,
        },
        SessionStatus.DECLINED: {SessionStatus.SCHEDULED, SessionStatus.CANCELLED},
        SessionStatus.CANCELLED: set(),
        SessionStatus.COMPLETED: set(),
        SessionStatus.NO_SHOW: set(),
    },
)
RESCHEDULABLE = [SessionStatus.SCHEDULED, SessionStatus.CONFIRMED, SessionStatus.DECLINED]

HOW_THEY_MEET = {
    Session.Mode.IN_PERSON: "in person",
    Session.Mode.PHONE: "by phone",
    Session.Mode.VIDEO: "by video",
}
MOST_HOURS = Decimal(24)
# A session declined closer to its start than this is the coordinator's first job today.
DECLINED_URGENT_WITHIN = datetime.timedelta(hours=48)
# A volunteer's note on declining (in the app) is quoted in the coordinator's follow-up,
# whose summary holds 300 characters.
DECLINE_NOTE_MOST = 160


# Reading and locking ---------------------------------------------------------------------


def _lock_volunteer(volunteer_id):
    return Volunteer.objects.select_for_update().get(pk=volunteer_id)


def _lock_match(match):
    return (
        Match.objects.select_for_update(of=("self",))
        .select_related("peer", "volunteer")
        .get(pk=match.pk)
    )


def _lock_session(session):
    return (
        Session.objects.select_for_update(of=("self",))
        .select_related("match__peer", "match__volunteer")
        .get(pk=session.pk)
    )


def _volunteer_id_of(session):
    return Session.objects.values_list("match__volunteer_id", flat=True).get(pk=session.pk)


# Words -----------------------------------------------------------------------------------


def _local(moment):
    return timezone.localtime(moment, timezone.get_default_timezone())


def _when(moment):
    return f"{_local(moment):%-d %B %Y at %H:%M}"


def _match_words(match):
    return f"The match of {match.volunteer.preferred_name} with {match.peer.reference}"


def _session_words(session):
    match = session.match
    return (
        f"The session of {match.volunteer.preferred_name} with {match.peer.reference} on "
        f"{_when(session.starts_at)}"
    )


def _move(transitions, *, current, to, who, instead):
    """The status to move to, or a StateConflict; `instead` says what to do with a record
    whose status is final."""
    current = transitions.statuses(current)
    if to != current and to in transitions.statuses.values and not transitions.moves[current]:
        raise StateConflict(
            f"{who} is {current.label.lower()}, and that is final; {instead}",
            code="final_status",
        )
    return transitions.check(current=current, to=to, who=who)


def _a_match(match):
    """'a proposed match' or 'an active match', for sentences."""
    status = match.get_status_display().lower()
    return f"{'an' if status[0] in 'aeiou' else 'a'} {status} match"


def _decided_at(match):
    # Never before the proposal, even when the servers' clocks differ by a moment.
    return max(timezone.now(), match.proposed_at)


def _capacity_refusal(volunteer, load):
    people = "person" if load == 1 else "people"
    return StateConflict(
        f"{volunteer.preferred_name} already supports {load} {people} and their capacity is "
        f"{volunteer.max_active_matches}; end one of their matches or raise their capacity "
        "first.",
        code="at_capacity",
    )


# Matches ---------------------------------------------------------------------------------


def _refuse_if_excluded(peer, volunteer):
    exclusion = Exclusion.objects.filter(peer=peer, volunteer=volunteer).first()
    if exclusion:
        raise _exclusion_refusal(exclusion, peer, volunteer)


def _exclusion_refusal(exclusion, peer, volunteer):
    return StateConflict(
        f"{volunteer.preferred_name} must never be matched with {peer.reference}: "
        f"{exclusion.reason}",
        code="excluded",
    )


def _refuse_unless_volunteer_active(volunteer):
    if volunteer.status != Volunteer.Status.ACTIVE:
        raise StateConflict(
            f"{volunteer.preferred_name} is {volunteer.get_status_display().lower()}, not "
            "active; only an active volunteer can support someone.",
            code="volunteer_not_active",
        )


def _refuse_unless_waiting(peer, *, otherwise):
    if peer.status != Peer.Status.WAITING:
        raise StateConflict(
            f"{peer.reference} is {peer.get_status_display().lower()}, not waiting for a "
            f"supporter; {otherwise}",
            code="peer_not_waiting",
        )


@transaction.atomic
def propose_match(peer, volunteer, *, by):
    """Propose a volunteer for a peer who is waiting; a coordinator then approves or declines.

    The one door for a single proposal: every hard rule of the matching engine is checked
    here (`engine.why_not`), whoever calls, and the match keeps the engine's score and
    reasons as they are now (`engine.suggestion_for`). Refused when the peer already has a
    proposed or active match or is not on the waiting list, and when the volunteer fails
    any rule for the peer (not active, training or PVG, capacity, away, excluded, meeting,
    gender, language), with every reason in words. Approval checks capacity again, under a
    lock, since loads change in between.
    """
    peer = Peer.objects.select_for_update().get(pk=peer.pk)
    volunteer = Volunteer.objects.get(pk=volunteer.pk)
    _refuse_unless_peer_free(peer, current=_open_match_of(peer))
    failures = engine.why_not(peer, volunteer)
    if failures:
        raise StateConflict(
            f"{volunteer.preferred_name} cannot be proposed for {peer.reference}: "
            f"{' '.join(failures)}",
            code="not_eligible",
        )
    suggestion = engine.suggestion_for(peer, volunteer)
    return save_validated(
        Match(
            peer=peer,
            volunteer=volunteer,
            status=MatchStatus.PROPOSED,
            proposed_by=by,
            proposed_at=timezone.now(),
            score=suggestion.score,
            reasons=list(suggestion.reasons),
        )
    )


def _open_match_of(peer):
    return Match.objects.open().filter(peer=peer).select_related("volunteer").first()


def _refuse_unless_peer_free(peer, *, current):
    """A proposal is for a peer on the waiting list without a proposed or active match
    (`current`, or None)."""
    if current:
        raise StateConflict(
            f"{peer.reference} already has {_a_match(current)} with "
            f"{current.volunteer.preferred_name}; end or decline it before proposing another.",
            code="peer_has_match",
        )
    _refuse_unless_waiting(peer, otherwise="put them on the waiting list first.")


def lock_for_proposals(pairs):
    """Lock the peers of (peer, volunteer) `pairs` and check, as they stand now, what the
    records' state allows: each peer free (`_refuse_unless_peer_free`), each volunteer active,
    not excluded from the peer and below capacity. For bulk assignment, whose engine checked
    every hard rule when it chose the pairs, in the same transaction, just before.

    A fixed number of queries however many pairs; the peers are locked in id order, so two
    runs at once queue up, and the second finds the first's peers taken. The pairs' peers and
    volunteers take the statuses and capacities read now. Refuses with the first pair that
    fails, with the same errors as `propose_match` and `approve_match`.
    """
    peer_ids = sorted({peer.pk for peer, _ in pairs})
    volunteer_ids = {volunteer.pk for _, volunteer in pairs}
    # Only the columns the checks read: whole rows of thousands of peers cost more.
    peer_statuses = dict(
        Peer.objects.select_for_update()
        .filter(pk__in=peer_ids)
        .order_by("pk")
        .values_list("pk", "status")
    )
    open_matches = {
        match.peer_id: match
        for match in Match.objects.open().filter(peer__in=peer_ids).select_related("volunteer")
    }
    volunteer_rows = {
        pk: (status, capacity)
        for pk, status, capacity in Volunteer.objects.filter(pk__in=volunteer_ids).values_list(
            "pk", "status", "max_active_matches"
        )
    }
    exclusions = {
        (exclusion.peer_id, exclusion.volunteer_id): exclusion
        for exclusion in Exclusion.objects.filter(
            peer__in=peer_ids, volunteer__in=volunteer_ids
        ).order_by()
    }
    loads = dict(
        Match.objects.active()
        .filter(volunteer__in=volunteer_ids)
        .order_by()
        .values_list("volunteer_id")
        .annotate(count=Count("id"))
    )
    for peer, volunteer in pairs:
        peer.status = peer_statuses[peer.pk]
        volunteer.status, volunteer.max_active_matches = volunteer_rows[volunteer.pk]
        _refuse_unless_peer_free(peer, current=open_matches.get(peer.pk))
        _refuse_unless_volunteer_active(volunteer)
        exclusion = exclusions.get((peer.pk, volunteer.pk))
        if exclusion:
            raise _exclusion_refusal(exclusion, peer, volunteer)
        load = loads.get(volunteer.pk, 0)
        if load >= volunteer.max_active_matches:
            raise _capacity_refusal(volunteer, load)


@transaction.atomic
def approve_match(match, *, by):
    """Start a proposed match: the volunteer starts supporting the peer today, and the peer
    becomes matched.

    The volunteer's row is locked before their active matches are counted, so when two
    coordinators approve two proposals for the last place at the same moment, the second
    waits for the first and then finds the volunteer at capacity.
    """
    volunteer = _lock_volunteer(match.volunteer_id)
    match = _lock_match(match)
    _move(
        MATCH_TRANSITIONS,
        current=match.status,
        to=MatchStatus.ACTIVE,
        who=_match_words(match),
        instead="propose a new match.",
    )
    _refuse_unless_volunteer_active(volunteer)
    _refuse_unless_waiting(
        match.peer, otherwise="put them back on the waiting list, or decline this match."
    )
    _refuse_if_excluded(match.peer, volunteer)
    load = Match.objects.active().filter(volunteer=volunteer).count()
    if load >= volunteer.max_active_matches:
        raise _capacity_refusal(volunteer, load)
    change_validated(
        match,
        status=MatchStatus.ACTIVE,
        decided_by=by,
        decided_at=_decided_at(match),
        started_on=timezone.localdate(),
    )
    change_peer_status(
        peer=match.peer,
        to=Peer.Status.MATCHED,
        by=by,
        note=f"Matched with {volunteer.preferred_name}.",
    )
    return match


@transaction.atomic
def decline_match(match, *, by, reason=""):
    """Decline a proposal; the peer stays on the waiting list."""
    match = _lock_match(match)
    _move(
        MATCH_TRANSITIONS,
        current=match.status,
        to=MatchStatus.DECLINED,
        who=_match_words(match),
        instead="propose a new match.",
    )
    return change_validated(
        match,
        status=MatchStatus.DECLINED,
        decided_by=by,
        decided_at=_decided_at(match),
        end_reason=(reason or "").strip(),
    )


@transaction.atomic
def end_match(match, *, by, reason, peer_back_to_waiting=True):
    """End an active match today, with the reason, and cancel its sessions still to come.

    A peer who is matched goes back on the waiting list for another supporter, or, with
    `peer_back_to_waiting=False`, their record is closed (their support has ended). A peer
    whom a coordinator has paused or closed meanwhile stays as they are.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the match ended; it stays on the record."})
    match = _lock_match(match)
    _move(
        MATCH_TRANSITIONS,
        current=match.status,
        to=MatchStatus.ENDED,
        who=_match_words(match),
        instead="nothing more can change it.",
    )
    now = timezone.now()
    change_validated(
        match, status=MatchStatus.ENDED, ended_on=timezone.localdate(now), end_reason=reason
    )
    match.sessions.filter(status__in=RESCHEDULABLE, starts_at__gt=now).update(
        status=SessionStatus.CANCELLED,
        confirmed_at=None,
        outcome_notes="Cancelled: the match ended.",
        updated_at=now,
    )
    if match.peer.status == Peer.Status.MATCHED:
        change_peer_status(
            peer=match.peer,
            to=Peer.Status.WAITING if peer_back_to_waiting else Peer.Status.CLOSED,
            by=by,
            note=f"Match with {match.volunteer.preferred_name} ended: {reason}",
        )
    return match


# Exclusions ------------------------------------------------------------------------------


def check_exclusion(peer, volunteer, *, reason):
    """The reason, cleaned; or a refusal while the two have a proposed or active match (decline
    or end it first, so an exclusion never contradicts a match in play)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why they must never be matched."})
    current = Match.objects.open().filter(peer=peer, volunteer=volunteer).first()
    if current:
        verb = "decline" if current.status == MatchStatus.PROPOSED else "end"
        raise StateConflict(
            f"{volunteer.preferred_name} has {_a_match(current)} with {peer.reference}; "
            f"{verb} it before excluding them.",
            code="match_open",
        )
    return reason


@transaction.atomic
def add_exclusion(peer, volunteer, *, reason, by=None):
    """Record that a peer and a volunteer must never be matched, and why."""
    peer = Peer.objects.select_for_update().get(pk=peer.pk)
    reason = check_exclusion(peer, volunteer, reason=reason)
    return save_validated(
        Exclusion(
            peer=peer,
            volunteer=volunteer,
            reason=reason,
            created_by=by,
            created_at=timezone.now(),
        )
    )


@transaction.atomic
def remove_exclusion(exclusion):
    """Allow the pair to be matched again."""
    Exclusion.objects.filter(pk=exclusion.pk).delete()


# Sessions --------------------------------------------------------------------------------


def _clean_times(starts_at, ends_at, *, now):
    errors = {}
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime.datetime):
            errors[name] = "Give a date and a time."
        elif timezone.is_naive(value):
            errors[name] = "Give the time with its offset from UTC (e.g. +00:00)."
    if errors:
        raise ValidationError(errors)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "A session must end after it starts."})
    if starts_at <= now:
        raise ValidationError(
            {"starts_at": f"{_when(starts_at)} has passed; sessions are scheduled ahead."}
        )


def _clean_mode_and_place(mode, place):
    try:
        mode = Session.Mode(mode)
    except ValueError:
        choices = ", ".join(Session.Mode.values)
        raise ValidationError(
            {"mode": f"“{mode}” is not a way of meeting. Choose one of: {choices}."}
        ) from None
    place = (place or "").strip()
    if mode == Session.Mode.IN_PERSON and not place:
        raise ValidationError({"place": "Say where they will meet in person."})
    return mode, place


def _check_session_fits(*, match, volunteer, starts_at, ends_at, mode, session=None):
    """Refuse a session that one of them does not meet by, that falls on a day the volunteer
    is away (whole local days), or that overlaps another of the volunteer's sessions."""
    peer = match.peer
    unwilling = [
        name
        for name, person in ((volunteer.preferred_name, volunteer), (peer.reference, peer))
        if mode not in person.meeting_modes
    ]
    if unwilling:
        both = [HOW_THEY_MEET[m] for m in volunteer.meeting_modes if m in peer.meeting_modes]
        raise ValidationError(
            {
                "mode": f"{' and '.join(unwilling)} {'do' if len(unwilling) > 1 else 'does'} "
                f"not meet {HOW_THEY_MEET[mode]}. "
                + (f"Both meet: {', '.join(both)}." if both else "They share no way of meeting.")
            }
        )
    local = timezone.get_default_timezone()
    first_day = timezone.localdate(starts_at, local)
    last_day = timezone.localdate(ends_at - datetime.timedelta(microseconds=1), local)
    absence = Absence.objects.filter(
        volunteer=volunteer, starts_on__lte=last_day, ends_on__gte=first_day
    ).first()
    if absence:
        raise ValidationError(
            f"{volunteer.preferred_name} is away from {absence}; choose a day outside their "
            "absence.",
            code="absent",
        )
    clashes = (
        Session.objects.live()
        .of_volunteer(volunteer)
        .overlapping(starts_at=starts_at, ends_at=ends_at)
        .select_related("match__peer")
    )
    if session is not None:
        clashes = clashes.exclude(pk=session.pk)
    clash = clashes.order_by("starts_at").first()
    if clash:
        raise ValidationError(
            f"{volunteer.preferred_name} already has a session from {_when(clash.starts_at)} "
            f"to {_local(clash.ends_at):%H:%M} with {clash.match.peer.reference}; one "
            "volunteer's sessions cannot overlap.",
            code="overlap",
        )


def check_session(match, *, starts_at, ends_at, mode, place="", session=None):
    """Every rule a new or moved session meets, checked without writing anything.

    The times are aware and to come, the end after the start; the match is active; both of
    them meet that way, with a place for in person; the volunteer is not away on any of its
    local days and has no other session then. Answers the mode and place, cleaned. The
    services call it holding the volunteer's lock; forms call it to show problems beside the
    fields. `session` is the one being moved, which cannot clash with itself.
    """
    _clean_times(starts_at, ends_at, now=timezone.now())
    mode, place = _clean_mode_and_place(mode, place)
    if match.status != MatchStatus.ACTIVE:
        raise StateConflict(
            f"{_match_words(match)} is {match.get_status_display().lower()}; sessions are "
            "only for an active match.",
            code="match_not_active",
        )
    _check_session_fits(
        match=match,
        volunteer=match.volunteer,
        starts_at=starts_at,
        ends_at=ends_at,
        mode=mode,
        session=session,
    )
    return mode, place


@transaction.atomic
def schedule_session(match, *, starts_at, ends_at, mode, place=""):
    """Plan a session of an active match, at a time to come that suits both of them."""
    _lock_volunteer(match.volunteer_id)
    match = _lock_match(match)
    mode, place = check_session(match, starts_at=starts_at, ends_at=ends_at, mode=mode, place=place)
    return save_validated(
        Session(match=match, starts_at=starts_at, ends_at=ends_at, mode=mode, place=place)
    )


def check_reschedulable(session):
    if session.status not in RESCHEDULABLE:
        raise StateConflict(
            f"{_session_words(session)} is {session.get_status_display().lower()}; only a "
            "scheduled, confirmed or declined session can be rescheduled.",
            code="not_reschedulable",
        )


@transaction.atomic
def reschedule_session(session, *, starts_at, ends_at, mode=None, place=None):
    """Move a session that has not been settled to a new time (and way or place, if given).

    The session is scheduled again, unconfirmed: the volunteer confirms the new details. The
    old reminder no longer counts, and the schedule sends a fresh one for the new time.
    """
    _lock_volunteer(_volunteer_id_of(session))
    session = _lock_session(session)
    check_reschedulable(session)
    mode, place = check_session(
        session.match,
        starts_at=starts_at,
        ends_at=ends_at,
        mode=session.mode if mode is None else mode,
        place=session.place if place is None else place,
        session=session,
    )
    reminders.withdraw_reminder(session, reason="Not needed: the session was rescheduled.")
    check_ins.withdraw_check_in(session, reason="Not needed: the session was rescheduled.")
    return change_validated(
        session,
        starts_at=starts_at,
        ends_at=ends_at,
        mode=mode,
        place=place,
        status=SessionStatus.SCHEDULED,
        confirmed_at=None,
        reminder=None,
        at_risk_since=None,
        check_in=None,
    )


def _move_session(session, to):
    return _move(
        SESSION_TRANSITIONS,
        current=session.status,
        to=to,
        who=_session_words(session),
        instead="schedule a new session.",
    )


@transaction.atomic
def cancel_session(session, *, reason=""):
    """Call off a session that has not been settled; the reason goes in its notes. A reminder
    not sent yet is not sent; a volunteer who was reminded is told it is cancelled. An
    after-session check-in still open no longer counts."""
    session = _lock_session(session)
    _move_session(session, SessionStatus.CANCELLED)
    reminder = reminders.withdraw_reminder(session, reason="Not needed: the session was cancelled.")
    check_ins.withdraw_check_in(session, reason="Not needed: the session was cancelled.")
    session = change_validated(
        session,
        status=SessionStatus.CANCELLED,
        confirmed_at=None,
        outcome_notes=(reason or "").strip(),
    )
    reminders.tell_cancelled(session, reminder=reminder)
    return session


def _refuse_if_started(session, *, now, doing):
    if session.starts_at <= now:
        raise StateConflict(
            f"{_session_words(session)} has already started; it is too late to {doing} it.",
            code="session_started",
        )


def answers_open(session, *, now=None):
    """(may confirm, may decline): what the volunteer may still answer about the session,
    by the rules `confirm_session` and `decline_session` keep (for showing; they decide)."""
    if session.starts_at <= (now or timezone.now()):
        return False, False
    moves = SESSION_TRANSITIONS.moves[SessionStatus(session.status)]
    return SessionStatus.CONFIRMED in moves, SessionStatus.DECLINED in moves


@transaction.atomic
def confirm_session(session):
    """The volunteer will be there: their YES to the reminder, their answer in the app, or
    the office recording what they said. Whichever way the answer came, the reminder's
    question is answered: a later YES or NO text is no longer read as its answer, and the
    next question held behind it can go."""
    now = timezone.now()
    session = _lock_session(session)
    _move_session(session, SessionStatus.CONFIRMED)
    _refuse_if_started(session, now=now, doing="confirm")
    reminders.settle_reminder(session)
    return change_validated(session, status=SessionStatus.CONFIRMED, confirmed_at=now)


def _clean_decline_note(note):
    note = " ".join((note or "").split())
    problem = hidden_character_problem(note)
    if problem:
        raise ValidationError({"note": problem})
    if len(note) > DECLINE_NOTE_MOST:
        raise ValidationError(
            {"note": f"Keep the note to {DECLINE_NOTE_MOST} characters; it has {len(note)}."}
        )
    return note


@transaction.atomic
def decline_session(session, *, note=""):
    """The volunteer cannot come (their NO, or in the app, with an optional note): the
    coordinator reschedules or cancels it, so a follow-up is raised, urgent when it is due
    within two days, its summary quoting the note. The reminder's question is answered, as
    for `confirm_session`."""
    now = timezone.now()
    note = _clean_decline_note(note)
    session = _lock_session(session)
    _move_session(session, SessionStatus.DECLINED)
    _refuse_if_started(session, now=now, doing="decline")
    reminders.settle_reminder(session)
    session = change_validated(session, status=SessionStatus.DECLINED, confirmed_at=None)
    said = f" (“{note}”)" if note else ""
    raise_follow_up(
        kind=Kind.SESSION_DECLINED,
        cause=session_cause(Kind.SESSION_DECLINED, session),
        urgency=Urgency.URGENT
        if session.starts_at - now <= DECLINED_URGENT_WITHIN
        else Urgency.SOON,
        summary=f"{session.match.volunteer.preferred_name} cannot make "
        f"{their_session(session)}{said}: reschedule or cancel it.",
        session=session,
    )
    return session


def _clean_hours(hours, *, attended):
    missing = hours is None or (isinstance(hours, str) and not hours.strip())
    if not attended:
        if not missing:
            raise ValidationError(
                {"hours": "Hours are recorded only for a session that took place."}
            )
        return None
    if missing:
        raise ValidationError({"hours": "Say how many hours the session took, e.g. 1.5."})
    try:
        value = Decimal(str(hours).strip())
    except InvalidOperation:
        raise ValidationError({"hours": f"“{hours}” is not a number of hours."}) from None
    if not value.is_finite() or not 0 < value <= MOST_HOURS:
        raise ValidationError({"hours": "Hours are more than 0 and at most 24."})
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@transaction.atomic
def record_outcome(session, *, attended, hours=None, notes=""):
    """Say what happened at a session that has started: completed, with the volunteer's
    hours, or a no show (without hours), which raises a follow-up. An after-session check-in
    still open no longer counts: the answer is in."""
    if not isinstance(attended, bool):
        raise ValidationError({"attended": "Say whether the session took place (yes or no)."})
    hours = _clean_hours(hours, attended=attended)
    session = _lock_session(session)
    target = SessionStatus.COMPLETED if attended else SessionStatus.NO_SHOW
    _move_session(session, target)
    if session.starts_at > timezone.now():
        raise StateConflict(
            f"{_session_words(session)} has not started yet; record what happened once it has.",
            code="session_not_started",
        )
    check_ins.withdraw_check_in(session, reason="Not needed: the outcome is recorded.")
    session = change_validated(
        session, status=target, hours=hours, outcome_notes=(notes or "").strip()
    )
    if not attended:
        raise_follow_up(
            kind=Kind.NO_SHOW,
            cause=session_cause(Kind.NO_SHOW, session),
            summary=f"{session.match.volunteer.preferred_name}: {their_session(session)} did "
            "not happen. Check in with them both.",
            session=session,
        )
    return session


def volunteer_hours_by_month(volunteer, *, year=None):
    """The volunteer's hours of completed sessions per local month (`MonthlyHours` rows,
    oldest first, months without any left out); `year` keeps one calendar year."""
    return Session.objects.of_volunteer(volunteer).hours_by_month(year=year)
