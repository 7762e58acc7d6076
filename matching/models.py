"""What ties a volunteer to a peer: matches, exclusions and the sessions of a match.

Volunteers and peers know nothing of each other, so everything between them lives here.
Matches and sessions change through `matching.services`; the constraints below are what the
database itself holds, whoever writes.
"""

import datetime
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from community.plain_text import PlainText
from messaging.models import Message, OptOut
from messaging.services import not_mobile
from peers.models import Peer
from volunteers.models import Volunteer


def volunteer_cannot_be_texted(path=""):
    """Q for a volunteer (reached by `path`, e.g. "match__volunteer__") who cannot be texted:
    they have not agreed to texts, have no mobile number (none, or a landline), or opted out.
    (It lives here, not in volunteers, because opt-outs are messaging's.)"""
    opted_out = OptOut.objects.current().filter(phone=OuterRef(f"{path}phone"))
    return (
        Q(**{f"{path}sms_consent": False})
        | Q(**{f"{path}phone__isnull": True})
        | Q(**{f"{path}phone": ""})
        | Q(Exists(opted_out))
        | not_mobile(f"{path}phone")
    )


def _local_month(field):
    """The first day of the Europe/London month of an aware moment, as a date."""
    return TruncMonth(
        field, output_field=models.DateField(), tzinfo=timezone.get_default_timezone()
    )


class MatchQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Match.Status.ACTIVE)

    def open(self):
        """Matches still in play: proposed and waiting for a decision, or active."""
        return self.filter(status__in=Match.OPEN_STATUSES)

    def recent(self, *, days=90):
        """Matches in play, and those declined or ended in the last `days` days."""
        since = timezone.now() - datetime.timedelta(days=days)
        return self.filter(
            Q(status__in=Match.OPEN_STATUSES)
            | Q(status=Match.Status.ENDED, ended_on__gte=timezone.localdate(since))
            | Q(status=Match.Status.DECLINED, decided_at__gte=since)
        ).order_by("-proposed_at", "-pk")

    def approved(self):
        """Matches a coordinator approved: under way now or since ended."""
        return self.filter(started_on__isnull=False)

    def approved_between(self, *, since, until):
        """Matches approved (started) from the local date `since` to `until`, both included."""
        return self.approved().filter(started_on__gte=since, started_on__lte=until)

    def first_of_their_peer(self):
        """Each peer's first approved match: the one no earlier approval of theirs precedes."""
        earlier = Match.objects.approved().filter(
            Q(started_on__lt=OuterRef("started_on"))
            | Q(started_on=OuterRef("started_on"), pk__lt=OuterRef("pk")),
            peer=OuterRef("peer"),
        )
        return self.approved().exclude(Exists(earlier))

    def first_match_waits_by_month(self, *, since, until):
        """Per month of approval, for peers first matched from the local date `since` to
        `until` (both included): how many, and their mean wait from the day they were
        referred to the day their first match was approved (`started_on`), as a duration."""
        wait = ExpressionWrapper(
            F("started_on") - F("peer__referred_on"), output_field=models.DurationField()
        )
        return list(
            self.first_of_their_peer()
            .filter(started_on__gte=since, started_on__lte=until)
            .annotate(month=TruncMonth("started_on", output_field=models.DateField()))
            .values("month")
            .annotate(peers=Count("pk"), mean_wait=Avg(wait))
            .order_by("month")
        )

    def approved_peers_by_area(self, *, since, until):
        """{area id: how many peers had a match approved from the local date `since` to
        `until`, both included}."""
        rows = (
            self.approved_between(since=since, until=until)
            .values("peer__area")
            .annotate(peers=Count("peer", distinct=True))
            .order_by()
        )
        return {row["peer__area"]: row["peers"] for row in rows}


class Match(PlainText, models.Model):
    """A volunteer supporting a peer, from proposal to end."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        DECLINED = "declined", "Declined"
        ENDED = "ended", "Ended"

    OPEN_STATUSES = [Status.PROPOSED, Status.ACTIVE]

    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="matches")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="matches")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who approved or declined the proposal.",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    score = models.FloatField(
        null=True, blank=True, help_text="The matching engine's score when it was proposed."
    )
    reasons = models.JSONField(
        default=list, blank=True, help_text="The score's reasons in words, as at the proposal."
    )
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.TextField(blank=True, help_text="Why it was declined or ended.")

    objects = MatchQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "matches"
        ordering = ["-proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["peer"],
                condition=Q(status__in=["proposed", "active"]),
                name="one_open_match_per_peer",
                violation_error_message="This peer already has a proposed or active match.",
            ),
            models.CheckConstraint(
                condition=Q(started_on__isnull=True)
                | Q(ended_on__isnull=True)
                | Q(ended_on__gte=F("started_on")),
                name="match_ends_after_start",
                violation_error_message="A match cannot end before it started.",
            ),
            models.CheckConstraint(
                condition=Q(status="ended", ended_on__isnull=False)
                | (~Q(status="ended") & Q(ended_on__isnull=True)),
                name="match_end_date_when_ended",
                violation_error_message="An ended match has an end date, and only it has one.",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["proposed", "declined"]) | Q(started_on__isnull=True),
                name="match_starts_only_when_approved",
                violation_error_message="A match that was never approved has no start date.",
            ),
            models.CheckConstraint(
                condition=Q(decided_at__isnull=True) | Q(decided_at__gte=F("proposed_at")),
                name="match_decided_after_proposal",
                violation_error_message="A match cannot be decided before it was proposed.",
            ),
        ]
        indexes = [models.Index(fields=["volunteer", "status"])]

    def __str__(self):
        return f"{self.volunteer.preferred_name} with {self.peer.reference}"


class Exclusion(PlainText, models.Model):
    """A peer and a volunteer who must never be matched: they know each other, say, or a past
    match ended badly. The engine never suggests the pair, and proposals are refused."""

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="exclusions")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="exclusions")
    reason = models.TextField(help_text="Why they must never be matched.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["peer", "volunteer"],
                name="exclusion_once_per_pair",
                violation_error_message="This volunteer is already excluded from this peer.",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="exclusion_has_reason",
                violation_error_message="Say why they must never be matched.",
            ),
        ]

    def __str__(self):
        return f"{self.volunteer.preferred_name} never with {self.peer.reference}"


class MonthlyHours(NamedTuple):
    month: datetime.date  # the first day of the month
    hours: Decimal
    sessions: int


class SessionQuerySet(models.QuerySet):
    def upcoming(self):
        """Sessions not over yet that still need someone: scheduled, confirmed, or declined
        (to be rescheduled); soonest first."""
        return self.filter(
            status__in=Session.UPCOMING_STATUSES, ends_at__gt=timezone.now()
        ).order_by("starts_at", "pk")

    def live(self):
        """Sessions that hold the volunteer's time: planned, confirmed, or done."""
        return self.filter(status__in=Session.LIVE_STATUSES)

    def of_volunteer(self, volunteer):
        return self.filter(match__volunteer=volunteer)

    def overlapping(self, *, starts_at, ends_at):
        """Sessions sharing any time with the period; one ending as another starts is fine."""
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)

    def _volunteer_cannot_be_texted(self):
        return volunteer_cannot_be_texted("match__volunteer__")

    def textable(self):
        """Sessions whose volunteer can be texted: they agreed to texts, have a mobile
        number (not a landline), and have not opted out."""
        return self.exclude(self._volunteer_cannot_be_texted())

    def with_confirmation_state(self):
        """Annotate `confirmation_state` (a `ConfirmationState`): where the volunteer's
        confirmation of each session stands."""
        state = ConfirmationState
        return self.annotate(
            confirmation_state=Case(
                When(status=Session.Status.CONFIRMED, then=Value(state.CONFIRMED)),
                When(status=Session.Status.DECLINED, then=Value(state.DECLINED)),
                When(~Q(status=Session.Status.SCHEDULED), then=Value(state.SETTLED)),
                When(self._volunteer_cannot_be_texted(), then=Value(state.CANNOT_TEXT)),
                # The reminder never reached their phone: nobody will answer it.
                When(
                    reminder__status__in=Session.UNDELIVERED_REMINDER,
                    then=Value(state.CANNOT_TEXT),
                ),
                When(at_risk_since__isnull=False, then=Value(state.AT_RISK)),
                When(reminder__isnull=False, then=Value(state.AWAITING_REPLY)),
                default=Value(state.NOT_REMINDED_YET),
                output_field=models.CharField(),
            )
        )

    def starting_between(self, *, since, until):
        """Sessions starting from `since` up to `until` (aware moments, `until` not included)."""
        return self.filter(starts_at__gte=since, starts_at__lt=until)

    def outcomes_by_month(self, *, since, until):
        """Per local month of the start: sessions completed, no show and cancelled, and the
        volunteer hours of those completed (0 when none), for sessions starting in the range."""
        status = Session.Status
        return list(
            self.starting_between(since=since, until=until)
            .annotate(month=_local_month("starts_at"))
            .values("month")
            .annotate(
                completed=Count("pk", filter=Q(status=status.COMPLETED)),
                no_show=Count("pk", filter=Q(status=status.NO_SHOW)),
                cancelled=Count("pk", filter=Q(status=status.CANCELLED)),
                hours=Sum("hours", filter=Q(status=status.COMPLETED), default=Decimal("0")),
            )
            .order_by("month")
        )

    def confirmations_by_month(self, *, since, until):
        """Per local month of the start, for sessions starting in the range:

        - `asked`: sessions whose reminder, the text asking the volunteer to confirm, was sent
          and not reported undelivered; cancelled ones are left out, since calling a session
          off clears whether it had been confirmed, and so are those not started yet that
          still await their answer;
        - `confirmed`: those of them the volunteer confirmed, by text, in the app or through
          the office (`confirmed_at` stays set once they did, unless cancelled);
        - `answered`: those whose reminder was answered by a reply text PeerPath read;
        - `mean_reply`: the mean time from the reminder being sent to that reply.
        """
        asked = Q(reminder__sent_at__isnull=False) & ~Q(
            reminder__status__in=Session.UNDELIVERED_REMINDER
        )
        answered = asked & Q(reminder__answered_by__isnull=False)
        reply_time = ExpressionWrapper(
            F("reminder__answered_by__created_at") - F("reminder__sent_at"),
            output_field=models.DurationField(),
        )
        return list(
            self.starting_between(since=since, until=until)
            .exclude(status=Session.Status.CANCELLED)
            .exclude(status=Session.Status.SCHEDULED, starts_at__gt=timezone.now())
            .annotate(month=_local_month("starts_at"))
            .values("month")
            .annotate(
                asked=Count("pk", filter=asked),
                confirmed=Count("pk", filter=asked & Q(confirmed_at__isnull=False)),
                answered=Count("pk", filter=answered),
                mean_reply=Avg(reply_time, filter=answered),
            )
            .order_by("month")
        )

    def hours_by_month(self, *, year=None):
        """Hours of completed sessions per local (Europe/London) month, oldest first."""
        local = timezone.get_default_timezone()
        completed = self.filter(status=Session.Status.COMPLETED)
        if year is not None:
            completed = completed.filter(
                starts_at__gte=datetime.datetime(year, 1, 1, tzinfo=local),
                starts_at__lt=datetime.datetime(year + 1, 1, 1, tzinfo=local),
            )
        rows = (
            completed.annotate(
                month=TruncMonth("starts_at", output_field=models.DateField(), tzinfo=local)
            )
            .values("month")
            .annotate(hours=Sum("hours"), sessions=Count("pk"))
            .order_by("month")
        )
        cents = Decimal("0.01")
        return [
            MonthlyHours(row["month"], Decimal(row["hours"]).quantize(cents), row["sessions"])
            for row in rows
        ]


class ConfirmationState(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Declined"
    SETTLED = "settled", "Cancelled or over"
    CANNOT_TEXT = "cannot_text", "Volunteer cannot be texted"
    AT_RISK = "at_risk", "Not confirmed in time"
    AWAITING_REPLY = "awaiting_reply", "Reminded, awaiting reply"
    NOT_REMINDED_YET = "not_reminded_yet", "Reminder still to come"


class Session(PlainText, models.Model):
    """One meeting of a volunteer and the peer they support, and what came of it."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        PHONE = "phone", "Phone"
        VIDEO = "video", "Video"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CONFIRMED = "confirmed", "Confirmed"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No show"

    LIVE_STATUSES = [Status.SCHEDULED, Status.CONFIRMED, Status.COMPLETED]
    # Still needing someone: planned, confirmed, or declined and waiting for a new time.
    UPCOMING_STATUSES = [Status.SCHEDULED, Status.CONFIRMED, Status.DECLINED]
    UNDELIVERED_REMINDER = [
        Message.Status.FAILED,
        Message.Status.UNDELIVERED,
        Message.Status.SUPPRESSED,
    ]

    match = models.ForeignKey(Match, on_delete=models.PROTECT, related_name="sessions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.IN_PERSON)
    place = models.CharField(
        max_length=200, blank=True, help_text="Where they meet; needed for in-person sessions."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the volunteer confirmed."
    )
    outcome_notes = models.TextField(
        blank=True, help_text="What came of it, or why it was cancelled."
    )
    hours = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Volunteer hours, recorded when the session is completed.",
    )
    reminder = models.ForeignKey(
        Message,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The text that asked the volunteer to confirm this session at this time.",
    )
    at_risk_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it was flagged for not being confirmed in time.",
    )
    check_in = models.ForeignKey(
        Message,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The text that asked the volunteer, after the session, whether it happened.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["status", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="session_ends_after_start",
                violation_error_message="A session must end after it starts.",
            ),
            models.CheckConstraint(
                condition=~Q(mode="in_person") | ~Q(place=""),
                name="session_in_person_has_place",
                violation_error_message="Say where an in-person session takes place.",
            ),
            models.CheckConstraint(
                condition=Q(status="completed", hours__isnull=False)
                | (~Q(status="completed") & Q(hours__isnull=True)),
                name="session_hours_when_completed",
                violation_error_message="A completed session has its hours, and only it has them.",
            ),
            models.CheckConstraint(
                condition=Q(hours__isnull=True) | Q(hours__gt=0, hours__lte=24),
                name="session_hours_sensible",
                violation_error_message="Hours are more than 0 and at most 24.",
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed") | Q(confirmed_at__isnull=False),
                name="session_confirmed_has_time",
            ),
        ]

    def __str__(self):
        if self.starts_at is None:
            return "New session"
        starts = timezone.localtime(self.starts_at, timezone.get_default_timezone())
        return f"{self.get_mode_display()} session on {starts:%a %-d %b %Y at %H:%M}"


class FollowUpQuerySet(models.QuerySet):
    def open(self):
        return self.filter(handled_at__isnull=True)

    def handled(self):
        return self.filter(handled_at__isnull=False)

    def most_urgent_first(self):
        """Urgent first, then soon, then routine; oldest first within each. A wellbeing answer
        of 1 or 2 goes ahead of every other: a person who may be struggling comes before any
        session."""
        rank = Case(
            When(kind=FollowUp.Kind.WELLBEING_LOW, then=Value(-1)),
            *(
                When(urgency=urgency, then=Value(order))
                for order, urgency in enumerate(FollowUp.Urgency.values)
            ),
            output_field=models.IntegerField(),
        )
        return self.alias(urgency_rank=rank).order_by("urgency_rank", "raised_at", "pk")


class FollowUp(PlainText, models.Model):
    """Something that needs a person from the office: a call to make, a text to answer, a
    course to book. Raised once per cause (its `cause` is unique), handled once, with a note."""

    class Kind(models.TextChoices):
        SESSION_DECLINED = "session_declined", "Session declined"
        SESSION_AT_RISK = "session_at_risk", "Session not confirmed in time"
        NO_SHOW = "no_show", "Session did not happen"
        CHECK_IN_UNANSWERED = "check_in_unanswered", "After-session check-in unanswered"
        WELLBEING_LOW = "wellbeing_low", "Wellbeing answer of 1 or 2"
        WELLBEING_UNANSWERED = "wellbeing_unanswered", "Wellbeing check-ins unanswered"
        UNREADABLE_REPLY = "unreadable_reply", "Reply not understood"
        FAILED_TEXT = "failed_text", "Text not delivered"
        TRAINING_EXPIRING = "training_expiring", "Training or PVG expiring"
        TRAINING_LAPSED = "training_lapsed", "Training or PVG lapsed"

    class Urgency(models.TextChoices):
        # In order, most urgent first (see FollowUpQuerySet.most_urgent_first).
        URGENT = "urgent", "Urgent: today"
        SOON = "soon", "Soon"
        ROUTINE = "routine", "When you can"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.SOON)
    summary = models.CharField(max_length=300, help_text="What needs doing, in words.")
    session = models.ForeignKey(
        Session, null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups"
    )
    volunteer = models.ForeignKey(
        Volunteer, null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups"
    )
    message = models.ForeignKey(
        Message,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The text it is about, if any.",
    )
    cause = models.CharField(
        max_length=200, unique=True, help_text="What raised it; the same cause raises it once."
    )
    raised_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_note = models.TextField(blank=True, help_text="What was done.")

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        indexes = [
            models.Index(
                fields=["urgency", "raised_at"],
                condition=Q(handled_at__isnull=True),
                name="follow_up_open",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(session__isnull=False)
                | Q(volunteer__isnull=False)
                | Q(message__isnull=False),
                name="follow_up_has_subject",
                violation_error_message="A follow-up is about a session, a volunteer or a text.",
            ),
            models.CheckConstraint(
                condition=Q(handled_at__isnull=False)
                | (Q(handled_by__isnull=True) & Q(handled_note="")),
                name="follow_up_handled_fields_when_handled",
                violation_error_message="Only a handled follow-up says who handled it and how.",
            ),
        ]

    def __str__(self):
        return self.summary

    @property
    def is_open(self):
        return self.handled_at is None


def monday_of(day):
    """The Monday of the week `day` falls in: how a wellbeing check-in's week is named."""
    return day - datetime.timedelta(days=day.weekday())


class WellbeingTrend(NamedTuple):
    """How a volunteer's wellbeing answers move; see WellbeingCheckInQuerySet.trend."""

    direction: str  # "higher", "lower", "steady" or "not_enough_answers"
    words: str
    weeks: int
    recent_average: float | None
    earlier_average: float | None


class WellbeingCheckInQuerySet(models.QuerySet):
    # Averages this far apart or more are a change; closer, the answers are steady.
    TREND_STEP = 0.5

    def answered(self):
        return self.filter(score__isnull=False)

    def unanswered(self, *, now=None):
        """Check-ins whose question reached the volunteer's phone and whose reply window
        closed without an answer. (A text that never went out was never unanswered.)"""
        now = now or timezone.now()
        return self.filter(
            score__isnull=True,
            question__status__in=[Message.Status.SENT, Message.Status.DELIVERED],
            question__expires_at__lte=now,
        )

    def trend(self, *, weeks=4, on=None):
        """A `WellbeingTrend` of these check-ins (one volunteer's) on the day `on`.

        The rule: the average answer of the last `weeks` weeks (this week included) against
        the average of the `weeks` weeks before them. Averages at least TREND_STEP apart are
        "higher" or "lower", closer ones "steady"; with no answer in either period there is
        no trend yet. Unanswered weeks count for neither.
        """
        this_week = monday_of(on or timezone.localdate())
        recent_from = this_week - datetime.timedelta(weeks=weeks - 1)
        earlier_from = recent_from - datetime.timedelta(weeks=weeks)
        rows = self.answered().filter(week__gte=earlier_from, week__lte=this_week)
        recent, earlier = [], []
        for week, score in rows.values_list("week", "score"):
            (recent if week >= recent_from else earlier).append(score)
        recent_average = round(sum(recent) / len(recent), 1) if recent else None
        earlier_average = round(sum(earlier) / len(earlier), 1) if earlier else None
        span = f"the {weeks} weeks before" if weeks > 1 else "the week before"
        if recent_average is None or earlier_average is None:
            return WellbeingTrend(
                "not_enough_answers",
                "Not enough answers yet to show a trend.",
                weeks,
                recent_average,
                earlier_average,
            )
        difference = round(recent_average - earlier_average, 1)
        if difference >= self.TREND_STEP:
            direction, words = "higher", f"Higher than {span}"
        elif difference <= -self.TREND_STEP:
            direction, words = "lower", f"Lower than {span}"
        else:
            direction, words = "steady", f"Steady against {span}"
        words += f": {recent_average:.1f} on average, was {earlier_average:.1f}."
        return WellbeingTrend(direction, words, weeks, recent_average, earlier_average)


class WellbeingCheckIn(models.Model):
    """One week's "How are you doing?" to a volunteer who opted in, and their answer."""

    LOWEST, HIGHEST = 1, 5

    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="wellbeing_check_ins"
    )
    week = models.DateField(help_text="The Monday of the week it was asked in.")
    question = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asked_at = models.DateTimeField(default=timezone.now)
    score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="1 (struggling) to 5 (great); empty until answered."
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    reply = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = WellbeingCheckInQuerySet.as_manager()

    class Meta:
        ordering = ["-week"]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "week"],
                name="wellbeing_check_in_once_a_week",
                violation_error_message="This volunteer was already asked this week.",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="wellbeing_score_one_to_five",
                violation_error_message="A wellbeing answer is from 1 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True, answered_at__isnull=True)
                | Q(score__isnull=False, answered_at__isnull=False),
                name="wellbeing_answered_has_time",
            ),
        ]

    def __str__(self):
        answer = self.score if self.score is not None else "no answer"
        return f"{self.volunteer.preferred_name}, week of {self.week:%-d %b %Y}: {answer}"
