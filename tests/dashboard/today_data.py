"""Records for the Today page's tests: sessions at local times, follow-ups, training."""

import datetime

from django.utils import timezone

from matching.follow_ups import Kind, Urgency, raise_follow_up
from messaging.services import send_sms
from tests.factories import SessionFactory, TrainingRecordFactory, VolunteerFactory, course
from volunteers.models import Course

UK = timezone.get_default_timezone()


def at(days, hour, minute=0):
    """An aware moment `days` from today at the UK wall-clock time."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=UK)


def session_at(days, hour, *, hours=1, **fields):
    fields.setdefault("match__volunteer__sms_consent", True)
    starts_at = at(days, hour)
    return SessionFactory(
        starts_at=starts_at, ends_at=starts_at + datetime.timedelta(hours=hours), **fields
    )


def reminded(session):
    """The session with a reminder sent, as the schedule's pass leaves it."""
    session.reminder = send_sms(
        session.match.volunteer.phone, "Session tomorrow: reply YES or NO", topic="test.reminder"
    )
    session.save(update_fields=["reminder"])
    return session


def follow_up(cause, *, kind=Kind.NO_SHOW, urgency=Urgency.SOON, summary=None, volunteer=None):
    raised, _ = raise_follow_up(
        kind=kind,
        cause=cause,
        summary=summary or f"Follow up {cause}",
        urgency=urgency,
        volunteer=volunteer or VolunteerFactory(),
    )
    return raised


def trained_but(volunteer, code, *, expires_on):
    """Every required course current, `code`'s record running out on `expires_on`."""
    long_ago = timezone.localdate() - datetime.timedelta(days=30)
    for required in Course.objects.filter(required_for_matching=True).exclude(code=code):
        TrainingRecordFactory(volunteer=volunteer, course=required, completed_on=long_ago)
    TrainingRecordFactory(
        volunteer=volunteer,
        course=course(code),
        completed_on=long_ago,
        expires_on=expires_on,
    )
    return volunteer
