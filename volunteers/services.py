"""Every change to a volunteer's record: one function each, one transaction each."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.services import allow_sign_in
from community.services import change_reference, create_reference, remove_reference
from community.transitions import Transitions
from community.validated_save import change_validated, save_validated
from volunteers import calendar_feeds
from volunteers.models import (
    Absence,
    AvailabilityWindow,
    Course,
    TrainingRecord,
    Volunteer,
    VolunteerStatusChange,
)

Status = Volunteer.Status

# Where a volunteer may go from each status. Leaving is always possible; a volunteer who
# left and comes back starts again as an applicant.
VOLUNTEER_TRANSITIONS = Transitions(
    Status,
    {
        Status.APPLICANT: {Status.IN_TRAINING, Status.LEFT},
        Status.IN_TRAINING: {Status.APPLICANT, Status.ACTIVE, Status.PAUSED, Status.LEFT},
        Status.ACTIVE: {Status.PAUSED, Status.LEFT},
        Status.PAUSED: {Status.ACTIVE, Status.IN_TRAINING, Status.LEFT},
        Status.LEFT: {Status.APPLICANT},
    },
)


@transaction.atomic
def change_volunteer_status(*, volunteer, to, by=None, note=""):
    """Move a volunteer to another status, if the move is allowed, and log it."""
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    current = volunteer.status
    target = VOLUNTEER_TRANSITIONS.check(current=current, to=to, who=volunteer.preferred_name)
    now = timezone.now()
    volunteer.status = target
    volunteer.status_changed_at = now
    volunteer.save(update_fields=["status", "status_changed_at", "updated_at"])
    if Status.LEFT in (current, target):  # a volunteer who left signs in nowhere
        allow_sign_in(volunteer.user, allowed=target != Status.LEFT)
    VolunteerStatusChange.objects.create(
        volunteer=volunteer,
        from_status=current,
        to_status=target,
        changed_at=now,
        changed_by=by,
        note=note,
    )
    calendar_feeds.revoke_if_left(volunteer=volunteer)
    return volunteer


@transaction.atomic
def create_volunteer(*, languages=(), focuses=(), **fields):
    volunteer = save_validated(Volunteer(**fields))
    volunteer.languages.set(languages)
    volunteer.focuses.set(focuses)
    return volunteer


@transaction.atomic
def update_volunteer(*, volunteer, languages=None, focuses=None, **fields):
    if "status" in fields:
        raise ValidationError({"status": "Change a volunteer's status with a status change."})
    change_validated(volunteer, **fields)
    if languages is not None:
        volunteer.languages.set(languages)
    if focuses is not None:
        volunteer.focuses.set(focuses)
    return volunteer


def _course_by_code(code):
    found = Course.objects.filter(code__iexact=code.strip()).first()
    if found is None:
        raise ValidationError({"course": f"There is no course with the code “{code}”."})
    return found


@transaction.atomic
def record_training(*, volunteer, course, completed_on, expires_on=None, notes=""):
    """Record a completed course; its expiry follows from the course unless given."""
    if isinstance(course, str):
        course = _course_by_code(course)
    record = TrainingRecord(
        volunteer=volunteer,
        course=course,
        completed_on=completed_on,
        expires_on=expires_on or course.expiry_for(completed_on),
        notes=notes,
    )
    return save_validated(record)


@transaction.atomic
def add_availability(*, volunteer, weekday, starts_at, ends_at):
    return save_validated(
        AvailabilityWindow(
            volunteer=volunteer, weekday=weekday, starts_at=starts_at, ends_at=ends_at
        )
    )


@transaction.atomic
def add_absence(*, volunteer, starts_on, ends_on, reason=""):
    return save_validated(
        Absence(volunteer=volunteer, starts_on=starts_on, ends_on=ends_on, reason=reason)
    )


@transaction.atomic
def change_training_record(*, record, **fields):
    """Change a training record; its expiry follows a new course or date unless given."""
    if isinstance(fields.get("course"), str):
        fields["course"] = _course_by_code(fields["course"])
    if "expires_on" not in fields and {"course", "completed_on"} & fields.keys():
        course = fields.get("course", record.course)
        fields["expires_on"] = course.expiry_for(fields.get("completed_on", record.completed_on))
    return change_validated(record, **fields)


@transaction.atomic
def remove_training_record(*, record):
    record.delete()


@transaction.atomic
def change_availability(*, window, **fields):
    return change_validated(window, **fields)


@transaction.atomic
def remove_availability(*, window):
    window.delete()


@transaction.atomic
def change_absence(*, absence, **fields):
    return change_validated(absence, **fields)


@transaction.atomic
def remove_absence(*, absence):
    absence.delete()


def create_course(**fields):
    """Add a course or check, validated as every piece of reference data is."""
    return create_reference(model=Course, **fields)


def change_course(*, course, **fields):
    return change_reference(item=course, **fields)


def remove_course(*, course):
    """Delete a course, unless a training record still names it (a StateConflict)."""
    remove_reference(item=course)
