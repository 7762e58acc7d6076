"""Follow-ups: everything that needs a person from the office, in one place.

Whatever notices a cause raises a follow-up for it with `raise_follow_up`; the same cause
raises it once, however often a schedule runs or a webhook arrives (`cause` is unique). The
coordinator handles it, from the admin, the API or the dashboard, with `handle_follow_up`.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from community.errors import StateConflict
from matching.models import FollowUp

Kind = FollowUp.Kind
Urgency = FollowUp.Urgency


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
