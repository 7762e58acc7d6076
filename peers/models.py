import datetime
import re

from django.db import models
from django.db.models import Q
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

REFERENCE_PATTERN = re.compile(r"^\s*P-?0*(\d{1,12})\s*$", re.IGNORECASE)


def queue_since():
    """A waiting peer's place on the waiting list; empty for everyone else.

    It is the moment they would have joined the list had they never left it: the start of
    their current wait less the time they waited before it. Ordering by it orders the list by
    total time waited, so someone who comes back keeps the wait they already had.
    """
    return models.Case(
        models.When(
            status="waiting",
            then=models.ExpressionWrapper(
                models.F("waiting_since") - models.F("waited_before"),
                output_field=models.DateTimeField(),
            ),
        ),
        default=None,
        output_field=models.DateTimeField(),
    )


class PeerQuerySet(models.QuerySet):
    def waiting_by_area(self):
        """{area id: how many peers are on the waiting list now}."""
        rows = (
            self.filter(status=Peer.Status.WAITING)
            .values("area")
            .annotate(peers=models.Count("pk"))
            .order_by()
        )
        return {row["area"]: row["peers"] for row in rows}

    def waiting_first(self):
        """Those waiting for a supporter first, longest waiting in all first (see `Peer`);
        everyone else after. Each peer carries `queue_since`, their place on the list."""
        return self.annotate(queue_since=queue_since()).order_by(
            queue_since().asc(nulls_last=True), "id"
        )


class Peer(PlainText, MeetingModes, SmsConsent, models.Model):
    """A person in recovery who has asked for, or been referred for, a peer supporter.

    Screens and texts show the reference (P-000123) rather than a name wherever they can.

    The waiting list is ordered by the total time each person has spent waiting for a
    supporter. `waiting_since` is when their current wait began; `waited_before` is the time
    they waited before it, in earlier spells on the list, and grows each time they leave it
    (matched, paused or closed). Someone whose match ends after six months and who comes back
    keeps the month they had waited: they go ahead of those who have waited less than a month
    in all and behind those who have waited longer, neither jumping the queue for the time
    they were supported nor starting again at the back. Time matched, paused or closed is
    not waiting, so it does not count.
    """

    class Status(models.TextChoices):
        REFERRED = "referred", "Referred"
        WAITING = "waiting", "Waiting for a supporter"
        MATCHED = "matched", "Matched"
        PAUSED = "paused", "Paused"
        CLOSED = "closed", "Closed"

    class SupporterGender(models.TextChoices):
        ANY = "any", "Any"
        FEMALE = "female", "Female"
        MALE = "male", "Male"

    class ReferralSource(models.TextChoices):
        SELF = "self", "Self-referral"
        FAMILY = "family", "Family or friend"
        GP = "gp", "GP or primary care"
        ALCOHOL_DRUG_SERVICE = "alcohol_drug_service", "Alcohol and drug service"
        JUSTICE = "justice", "Justice or prison throughcare"
        HOUSING = "housing", "Housing or homelessness service"
        HOSPITAL = "hospital", "Hospital"
        COMMUNITY = "community", "Community or mutual aid group"
        OTHER = "other", "Other"

    preferred_name = models.CharField(max_length=100)
    full_name = models.CharField(max_length=200, blank=True)
    phone = PhoneField(blank=True, null=True, unique=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="peers")
    gender = models.CharField(max_length=20, choices=Gender.choices, default=Gender.UNDISCLOSED)
    preferred_supporter_gender = models.CharField(
        max_length=10, choices=SupporterGender.choices, default=SupporterGender.ANY
    )
    languages = models.ManyToManyField(Language, blank=True, related_name="peers")
    focuses = models.ManyToManyField(
        Focus, blank=True, related_name="peers", verbose_name="wants support with"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REFERRED)
    status_changed_at = models.DateTimeField(default=timezone.now)
    waiting_since = models.DateTimeField(
        null=True, blank=True, help_text="When they last joined the waiting list."
    )
    waited_before = models.DurationField(
        default=datetime.timedelta(0),
        help_text="Time they waited for a supporter before their current wait, in earlier "
        "spells on the waiting list; it keeps their place when they come back.",
    )
    referral_source = models.CharField(
        max_length=30, choices=ReferralSource.choices, default=ReferralSource.SELF
    )
    referred_on = models.DateField(default=timezone.localdate)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PeerQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "waiting_since"])]
        constraints = [
            *person_constraints("peer"),
            models.CheckConstraint(
                condition=~Q(status="waiting") | Q(waiting_since__isnull=False),
                name="peer_waiting_has_since",
            ),
            models.CheckConstraint(
                condition=Q(waited_before__gte=datetime.timedelta(0)),
                name="peer_waited_before_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.reference} ({self.preferred_name})"

    def save(self, *args, **kwargs):
        self._stamp_waiting_since()
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self._stamp_waiting_since()

    def _stamp_waiting_since(self):
        if self.status == self.Status.WAITING and self.waiting_since is None:
            self.waiting_since = timezone.now()

    @property
    def reference(self):
        return f"P-{self.pk:06d}" if self.pk else "P-(new)"

    @staticmethod
    def id_from_reference(text):
        """The id in a reference typed by a coordinator ("P-000123", "p123"), or None."""
        found = REFERENCE_PATTERN.match(text or "")
        return int(found.group(1)) if found else None


class PeerStatusChange(StatusChange):
    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="status_log")
    from_status = models.CharField(max_length=20, choices=Peer.Status.choices)
    to_status = models.CharField(max_length=20, choices=Peer.Status.choices)


class PreferredTime(WeeklyWindow):
    owner_field = "peer"

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="preferred_times")

    class Meta(WeeklyWindow.Meta):
        constraints = [window_ends_after_start("preferred_time_ends_after_start")]
