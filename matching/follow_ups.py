"""Follow-ups: everything that needs a person from the office, in one place.

Whatever notices a cause raises a follow-up for it with `raise_follow_up`; the same cause
raises it once, however often a schedule runs or a webhook arrives (`cause` is unique). The
coordinator handles it, from the admin, the API or the dashboard, with `handle_follow_up`.
"""

from datetime import UTC

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from community.errors import StateConflict
from matching.models import FollowUp

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
    follow_up.full_clean(exclude=["session", "volunteer", "message", "handled_by"])
    follow_up.save(update_fields=["handled_at", "handled_by", "handled_note"])
    return follow_up
