import calendar
import datetime
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.utils import timezone

from community.models import (
    Area,
    Focus,
    Gender,
    Language,
    MeetingModes,
    SmsConsent,
    StatusChange,
    WeeklyWindow,
    person_constraints,
    window_ends_after_start,
)
from community.phones import PhoneField
from community.plain_text import PlainText


def add_months(day, months):
    """The same day `months` later, or the month's last day when it is shorter (31 Jan + 1)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


class TrainingState(models.TextChoices):
    COMPLETE = "complete", "Complete"
    EXPIRING = "expiring", "Expiring soon"
    LAPSED = "lapsed", "Missing or expired"


class Course(PlainText, models.Model):
    class Kind(models.TextChoices):
        COURSE = "course", "Course"
        CHECK = "check", "Check"

    code = models.SlugField(max_length=40, unique=True, allow_unicode=False)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COURSE)
    required_for_matching = models.BooleanField(default=False)
    valid_for_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: never needs renewing."
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-required_for_matching", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_for_months__isnull=True) | Q(valid_for_months__gt=0),
                name="course_validity_positive",
            )
        ]

    def __str__(self):
        return self.name

    def expiry_for(self, completed_on):
        """The first day on which training completed on `completed_on` no longer counts."""
        if self.valid_for_months is None or completed_on is None:
            return None
        return add_months(completed_on, self.valid_for_months)


class VolunteerQuerySet(models.QuerySet):
    def _lacking_required_training(self, on):
        """Exists: some required course has no record current on `on` for this volunteer."""
        current = TrainingRecord.objects.current(on=on).filter(
            volunteer=OuterRef(OuterRef("pk")), course=OuterRef("pk")
        )
        return Exists(Course.objects.filter(required_for_matching=True).exclude(Exists(current)))

    def _absent(self, on):
        return Exists(
            Absence.objects.filter(volunteer=OuterRef("pk"), starts_on__lte=on, ends_on__gte=on)
        )

    def matchable(self, *, on=None):
        """Active volunteers with every required course current on the day, and not absent."""
        on = on or timezone.localdate()
        return (
            self.filter(status=Volunteer.Status.ACTIVE)
            .exclude(self._lacking_required_training(on))
            .exclude(self._absent(on))
        )

    def training_expiring(self, *, within_days=None, on=None):
        """Volunteers with a required course current today that lapses within the window."""
        on = on or timezone.localdate()
        within_days = settings.TRAINING_EXPIRY_WARNING_DAYS if within_days is None else within_days
        horizon = on + datetime.timedelta(days=within_days)
        records = TrainingRecord.objects.current(on=on).filter(
            volunteer=OuterRef("pk"), course__required_for_matching=True
        )
        renewed = TrainingRecord.objects.current(on=horizon).filter(
            volunteer=OuterRef("volunteer"), course=OuterRef("course")
        )
        return self.filter(Exists(records.exclude(Exists(renewed))))

    def with_training_state(self, *, on=None, within_days=None):
        """Annotate `training_state`: lapsed (something missing or expired), expiring, complete."""
        on = on or timezone.localdate()
        within_days = settings.TRAINING_EXPIRY_WARNING_DAYS if within_days is None else within_days
        horizon = on + datetime.timedelta(days=within_days)
        return self.annotate(
            training_state=Case(
                When(self._lacking_required_training(on), then=Value(TrainingState.LAPSED)),
                When(self._lacking_required_training(horizon), then=Value(TrainingState.EXPIRING)),
                default=Value(TrainingState.COMPLETE),
                output_field=models.CharField(),
            )
        )

    def in_training_state(self, state, *, on=None, within_days=None):
        return self.with_training_state(on=on, within_days=within_days).filter(training_state=state)

    def _active_at_end_of(self, day):
        """Q: the volunteer was active when `day` (a local date) ended, read from their status
        log: the status the last change before then moved them to; with no change before
        then, the status their first change moved them from; with no log at all, their status
        now. A volunteer recorded after that day does not count."""
        end = datetime.datetime.combine(
            day + datetime.timedelta(days=1),
            datetime.time(),
            tzinfo=timezone.get_default_timezone(),
        )
        log = VolunteerStatusChange.objects.filter(volunteer=OuterRef("pk"))
        then = Coalesce(
            Subquery(
                log.filter(changed_at__lt=end)
                .order_by("-changed_at", "-pk")
                .values("to_status")[:1]
            ),
            Subquery(log.order_by("changed_at", "pk").values("from_status")[:1]),
            F("status"),
        )
        return Q(created_at__lt=end) & Q(Exact(then, Volunteer.Status.ACTIVE))

    def training_compliance(self, days):
        """For each local date in `days`: (volunteers active at its end, how many of them had
        every required course current that day), in one query."""
        counts = {}
        for index, day in enumerate(days):
            active = self._active_at_end_of(day)
            counts[f"active_{index}"] = Count("pk", filter=active)
            counts[f"trained_{index}"] = Count(
                "pk", filter=active & ~Q(self._lacking_required_training(day))
            )
        if not counts:
            return []
        totals = self.aggregate(**counts)
        return [(totals[f"active_{i}"], totals[f"trained_{i}"]) for i in range(len(days))]

    def with_next_absence(self, *, on=None):
        on = on or timezone.localdate()
        upcoming = Absence.objects.filter(volunteer=OuterRef("pk"), ends_on__gte=on).order_by(
            "starts_on"
        )
        return self.annotate(
            next_absence_starts_on=models.Subquery(upcoming.values("starts_on")[:1]),
            next_absence_ends_on=models.Subquery(upcoming.values("ends_on")[:1]),
        )


class Volunteer(PlainText, MeetingModes, SmsConsent, models.Model):
    class Status(models.TextChoices):
        APPLICANT = "applicant", "Applicant"
        IN_TRAINING = "in_training", "In training"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        LEFT = "left", "Left"

    preferred_name = models.CharField(max_length=100)
    full_name = models.CharField(max_length=200)
    phone = PhoneField(
        blank=True, null=True, unique=True, help_text="Mobile for texts, e.g. 07911 123456."
    )
    email = models.EmailField(blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="volunteers")
    travel_radius_km = models.PositiveSmallIntegerField(
        default=10, help_text="How far they will travel to meet in person."
    )
    gender = models.CharField(max_length=20, choices=Gender.choices, default=Gender.UNDISCLOSED)
    languages = models.ManyToManyField(Language, blank=True, related_name="volunteers")
    focuses = models.ManyToManyField(
        Focus, blank=True, related_name="volunteers", verbose_name="lived experience"
    )
    max_active_matches = models.PositiveSmallIntegerField(
        default=2, help_text="How many people they support at once."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.APPLICANT)
    status_changed_at = models.DateTimeField(default=timezone.now)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteer",
        help_text="Their sign-in for the app, if they use it.",
    )
    wellbeing_opt_in = models.BooleanField(
        "weekly wellbeing check-in",
        default=False,
        help_text="They asked for a weekly text asking how they are doing.",
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VolunteerQuerySet.as_manager()

    class Meta:
        ordering = ["preferred_name", "full_name"]
        indexes = [models.Index(fields=["status", "area"])]
        constraints = [
            *person_constraints("volunteer"),
            models.CheckConstraint(
                condition=Q(max_active_matches__lte=20),
                name="volunteer_capacity_sensible",
                violation_error_message="A volunteer supports at most 20 people at once.",
            ),
        ]

    def __str__(self):
        return f"{self.preferred_name} ({self.full_name})"


class RequiredRecord(NamedTuple):
    """The dates of one training record of a required course: all `training_gaps` needs."""

    course_id: int
    completed_on: datetime.date
    expires_on: datetime.date | None

    def is_current(self, on):
        return self.completed_on <= on and (self.expires_on is None or self.expires_on > on)


def attach_required_training(volunteers):
    """Give each volunteer `required_records` (see `training_gaps`), in one query for all."""
    by_volunteer = {volunteer.pk: [] for volunteer in volunteers}
    rows = TrainingRecord.objects.filter(
        volunteer_id__in=by_volunteer, course__required_for_matching=True
    ).values_list("volunteer_id", "course_id", "completed_on", "expires_on")
    for volunteer_id, *dates in rows:
        by_volunteer[volunteer_id].append(RequiredRecord(*dates))
    for volunteer in volunteers:
        volunteer.required_records = by_volunteer[volunteer.pk]
    return volunteers


def training_gaps(records, required_courses, *, on=None, within_days=None):
    """Which required courses a volunteer lacks on the day, has lapsed, or will soon lapse.

    `records` are the volunteer's records of required courses (`attach_required_training`).
    The states follow `with_training_state`: "missing" (never done) and "expired" make the
    volunteer lapsed; "expiring" (not current `within_days` ahead) makes them expiring.
    """
    on = on or timezone.localdate()
    within_days = settings.TRAINING_EXPIRY_WARNING_DAYS if within_days is None else within_days
    horizon = on + datetime.timedelta(days=within_days)
    by_course = {}
    for record in records:
        by_course.setdefault(record.course_id, []).append(record)
    gaps = []
    for course in required_courses:
        mine = by_course.get(course.pk, [])
        current = [record for record in mine if record.is_current(on)]
        if not mine:
            gaps.append({"course": course, "state": "missing", "expires_on": None})
        elif not current:
            last = max((r.expires_on for r in mine if r.expires_on), default=None)
            gaps.append({"course": course, "state": "expired", "expires_on": last})
        elif not any(record.is_current(horizon) for record in current):
            lasts = max(record.expires_on for record in current)
            gaps.append({"course": course, "state": "expiring", "expires_on": lasts})
    return gaps


class VolunteerStatusChange(StatusChange):
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="status_log")
    from_status = models.CharField(max_length=20, choices=Volunteer.Status.choices)
    to_status = models.CharField(max_length=20, choices=Volunteer.Status.choices)


class TrainingRecordQuerySet(models.QuerySet):
    def current(self, *, on):
        """Records that count on the day: completed by then and not yet expired."""
        return self.filter(completed_on__lte=on).filter(
            Q(expires_on__isnull=True) | Q(expires_on__gt=on)
        )


class TrainingRecord(PlainText, models.Model):
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="training_records"
    )
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="records")
    completed_on = models.DateField()
    expires_on = models.DateField(
        null=True,
        blank=True,
        help_text="First day it no longer counts. Left empty, it follows from the course.",
    )
    notes = models.CharField(max_length=300, blank=True)

    objects = TrainingRecordQuerySet.as_manager()

    class Meta:
        ordering = ["course__name", "-completed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "course", "completed_on"], name="training_record_once_a_day"
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=F("completed_on")),
                name="training_expires_after_completion",
                violation_error_message="A training record must expire after it was completed.",
            ),
        ]
        indexes = [models.Index(fields=["volunteer", "course", "expires_on"])]

    def __str__(self):
        return f"{self.course} on {self.completed_on:%-d %B %Y}"

    def save(self, *args, **kwargs):
        if self.expires_on is None:
            self.expires_on = self.course.expiry_for(self.completed_on)
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if self.completed_on and self.completed_on > timezone.localdate():
            raise ValidationError(
                {"completed_on": "Training cannot be recorded as completed in the future."}
            )

    def is_current(self, on=None):
        on = on or timezone.localdate()
        return self.completed_on <= on and (self.expires_on is None or self.expires_on > on)


class AvailabilityWindow(WeeklyWindow):
    owner_field = "volunteer"

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="availability")

    class Meta(WeeklyWindow.Meta):
        verbose_name = "availability window"
        constraints = [window_ends_after_start("availability_ends_after_start")]


class Absence(PlainText, models.Model):
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="absences")
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="The last day away.")
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="absence_ends_after_start",
                violation_error_message="An absence cannot end before it starts.",
            )
        ]

    def __str__(self):
        return f"{self.starts_on:%-d %b %Y} to {self.ends_on:%-d %b %Y}"

    def clean(self):
        super().clean()
        if self.starts_on is None or self.ends_on is None or self.volunteer_id is None:
            return
        clash = (
            Absence.objects.filter(
                volunteer_id=self.volunteer_id,
                starts_on__lte=self.ends_on,
                ends_on__gte=self.starts_on,
            )
            .exclude(pk=self.pk)
            .first()
        )
        if clash:
            raise ValidationError(
                f"The absence from {clash} already covers some of these days; change that "
                "absence instead.",
                code="overlap",
            )


class CalendarFeed(models.Model):
    """A volunteer's private calendar link, which their phone's calendar polls unsigned-in.

    The token is never kept: it is derived from `nonce` and SECRET_KEY, and only its SHA-256
    is stored, for the feed's lookup (volunteers.calendar_feeds says why), so the database
    alone opens no one's calendar.
    """

    volunteer = models.OneToOneField(
        Volunteer, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    nonce = models.CharField(max_length=64, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "calendar link"

    def __str__(self):
        return f"Calendar link of {self.volunteer.preferred_name}"
