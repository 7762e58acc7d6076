from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from community.geography import distance_km
from community.plain_text import PlainText


class Area(PlainText, models.Model):
    """A locality of North or South Lanarkshire, with its centre for distances."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    council = models.CharField(max_length=100)
    latitude = models.DecimalField(max_digits=8, decimal_places=5)
    longitude = models.DecimalField(max_digits=8, decimal_places=5)
    postcode_districts = models.CharField(
        max_length=200, blank=True, help_text="Space-separated, e.g. “G67 G68”."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90)
                & Q(longitude__gte=-180, longitude__lte=180),
                name="area_coordinates_on_earth",
            )
        ]

    def __str__(self):
        return self.name

    def distance_km(self, other):
        return distance_km(self.latitude, self.longitude, other.latitude, other.longitude)


class Language(PlainText, models.Model):
    code = models.SlugField(max_length=20, unique=True, help_text="e.g. “en”, “pl”, “bsl”.")
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Focus(PlainText, models.Model):
    """What a volunteer has lived experience of, or what a peer wants support with."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "focuses"

    def __str__(self):
        return self.name


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    NON_BINARY = "non_binary", "Non-binary"
    UNDISCLOSED = "undisclosed", "Prefers not to say"


class MeetingModes(models.Model):
    """How a person is willing to meet: in person, by phone, by video."""

    meets_in_person = models.BooleanField("meets in person", default=True)
    meets_by_phone = models.BooleanField("meets by phone", default=True)
    meets_by_video = models.BooleanField("meets by video", default=False)

    class Meta:
        abstract = True

    @property
    def meeting_modes(self):
        modes = [
            ("in_person", self.meets_in_person),
            ("phone", self.meets_by_phone),
            ("video", self.meets_by_video),
        ]
        return [mode for mode, accepted in modes if accepted]


class SmsConsent(models.Model):
    """Whether a person agreed to be texted, and when."""

    sms_consent = models.BooleanField("agreed to texts", default=False)
    sms_consent_at = models.DateTimeField("agreed to texts at", null=True, blank=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self._stamp_consent()
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self._stamp_consent()

    def _stamp_consent(self):
        # Consent always carries the time it was given, and loses it when withdrawn.
        if not self.sms_consent:
            self.sms_consent_at = None
        elif self.sms_consent_at is None:
            self.sms_consent_at = timezone.now()


def person_constraints(prefix):
    """The rules every person record holds: consent has its time, and some way to meet."""
    return [
        models.CheckConstraint(
            condition=Q(sms_consent=False, sms_consent_at__isnull=True)
            | Q(sms_consent=True, sms_consent_at__isnull=False),
            name=f"{prefix}_consent_has_time",
        ),
        models.CheckConstraint(
            condition=Q(meets_in_person=True) | Q(meets_by_phone=True) | Q(meets_by_video=True),
            name=f"{prefix}_meets_somehow",
            violation_error_message="Choose at least one way of meeting.",
        ),
    ]


class StatusChange(PlainText, models.Model):
    """One move of a record from one status to another: when, by whom, and why.

    Subclasses add the record and the `from_status` and `to_status` fields with their choices.
    """

    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    note = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["-changed_at", "-id"]

    def __str__(self):
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WeeklyWindow(models.Model):
    """A time window that repeats every week, in local (Europe/London) wall-clock time.

    A window ends on the day it starts; an evening that runs past midnight is two windows.
    Subclasses name the owner in `owner_field`; windows of one owner never overlap.
    """

    owner_field = None

    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts_at = models.TimeField()
    ends_at = models.TimeField()

    class Meta:
        abstract = True
        ordering = ["weekday", "starts_at"]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"

    @property
    def hours(self):
        start = self.starts_at.hour * 60 + self.starts_at.minute
        end = self.ends_at.hour * 60 + self.ends_at.minute
        return (end - start) / 60

    def overlapping(self):
        """Other windows of the same owner that share any time with this one."""
        owner_id = getattr(self, f"{self.owner_field}_id")
        return (
            type(self)
            ._default_manager.filter(
                **{f"{self.owner_field}_id": owner_id},
                weekday=self.weekday,
                starts_at__lt=self.ends_at,
                ends_at__gt=self.starts_at,
            )
            .exclude(pk=self.pk)
        )

    def clean(self):
        super().clean()
        if self.starts_at is None or self.ends_at is None or self.weekday is None:
            return
        if self.ends_at <= self.starts_at:
            raise ValidationError(
                {
                    "ends_at": "The window must end after it starts (split a window that "
                    "runs past midnight into two)."
                }
            )
        if getattr(self, f"{self.owner_field}_id", None) is None:
            return
        clash = self.overlapping().first()
        if clash:
            raise ValidationError(
                f"{self} overlaps {clash}: windows of one person cannot overlap.",
                code="overlap",
            )


def window_ends_after_start(name):
    return models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name=name)
