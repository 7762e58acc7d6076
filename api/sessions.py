"""Sessions of active matches, for coordinators: schedule, reschedule, cancel, confirm or
decline for the volunteer, and record what happened.

Every change goes through `matching.services`: a time that has passed, a way of meeting one
of them does not use, a day the volunteer is away or a clash with another of their sessions
is a 400 (a ValidationError, with `errors`); an action that does not fit the session's or the
match's state (a session for an ended match, cancelling a completed session) is a 409.
"""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from api import fields
from api.filters import RecordFilter
from api.matches import (
    RECENT_DAYS,
    ActionViewSet,
    RecordIdField,
    peer_reference_search,
    read_nothing,
    same_enum_as,
    search_described,
)
from api.serializers import ModelSerializer, StrictModelSerializer, StrictSerializer
from matching import services
from matching.models import ConfirmationState, Match, Session
from messaging.models import Message
from peers.models import Peer
from volunteers.models import Volunteer

SESSION_EXAMPLE = {
    "id": 210,
    "match": 31,
    "peer": 123,
    "peer_reference": "P-000123",
    "volunteer": 17,
    "volunteer_name": "Aileen",
    "starts_at": "2026-05-14T14:00:00+01:00",
    "ends_at": "2026-05-14T15:00:00+01:00",
    "mode": "in_person",
    "place": "Coatbridge library",
    "status": "scheduled",
    "confirmed_at": None,
    "outcome_notes": "",
    "hours": None,
    "confirmation_state": "awaiting_reply",
    "reminded_at": "2026-05-13T14:00:04+01:00",
    "reminder_status": "delivered",
    "answer": None,
    "answered_at": None,
    "at_risk_since": None,
    "created_at": "2026-05-11T10:40:00+01:00",
    "updated_at": "2026-05-11T10:40:00+01:00",
}
# A session moved to a new time: the old reminder no longer counts, a new one is to come.
NOT_REMINDED = {
    "confirmation_state": "not_reminded_yet",
    "reminded_at": None,
    "reminder_status": None,
}


class OffsetDateTimeField(fields.DateTimeField):
    """A moment as ISO 8601 with its offset from UTC; a time without one is refused rather
    than guessed, since 14:00 means another moment in summer and in winter."""

    default_error_messages = {
        "invalid": "Give a date and time in ISO 8601 with its offset, e.g. "
        "2026-05-14T14:00:00+01:00.",
        "no_offset": "Give the time with its offset from UTC, e.g. 2026-05-14T14:00:00+01:00 "
        "(or Z for UTC).",
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            self.fail("invalid")
        if parsed is not None and timezone.is_naive(parsed):
            self.fail("no_offset")
        return super().to_internal_value(value)


@same_enum_as("MessageStatusEnum")
class ReminderStatusField(fields.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Message.Status.choices, read_only=True, **kwargs)


class SessionSerializer(StrictModelSerializer):
    """One meeting of a volunteer and the peer they support, and what came of it."""

    peer = serializers.IntegerField(
        source="match.peer_id", read_only=True, help_text="The peer's id."
    )
    peer_reference = serializers.CharField(source="match.peer.reference", read_only=True)
    volunteer = serializers.IntegerField(
        source="match.volunteer_id", read_only=True, help_text="The volunteer's id."
    )
    volunteer_name = serializers.CharField(source="match.volunteer.preferred_name", read_only=True)
    hours = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="Volunteer hours, recorded when the session is completed.",
    )
    confirmation_state = fields.ChoiceField(
        choices=ConfirmationState.choices,
        read_only=True,
        help_text="Where the volunteer's confirmation stands: not_reminded_yet (the reminder "
        "is still to come); awaiting_reply (reminded, no answer yet); confirmed; declined; "
        "at_risk (not confirmed in time); cannot_text (the volunteer has not agreed to texts, "
        "opted out, has no mobile number, or the reminder did not reach them); settled "
        "(cancelled, or it has taken place).",
    )
    reminded_at = fields.DateTimeField(
        source="reminder.sent_at",
        read_only=True,
        allow_null=True,
        help_text="When the reminder for this time was sent; null until it goes.",
    )
    reminder_status = ReminderStatusField(
        source="reminder.status",
        allow_null=True,
        help_text="The reminder's delivery (queued, sent, delivered, failed, ...); null "
        "before it is written.",
    )
    answer = serializers.CharField(
        source="reminder.answered_by.body",
        read_only=True,
        allow_null=True,
        help_text="What the volunteer replied to the reminder, as they wrote it; null "
        "until they answer.",
    )
    answered_at = fields.DateTimeField(
        source="reminder.answered_by.created_at",
        read_only=True,
        allow_null=True,
        help_text="When their answer was received.",
    )

    class Meta:
        model = Session
        fields = [
            "id",
            "match",
            "peer",
            "peer_reference",
            "volunteer",
            "volunteer_name",
            "starts_at",
            "ends_at",
            "mode",
            "place",
            "status",
            "confirmed_at",
            "outcome_notes",
            "hours",
            "confirmation_state",
            "reminded_at",
            "reminder_status",
            "answer",
            "answered_at",
            "at_risk_since",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "at_risk_since": {
                "help_text": "When it was flagged for not being confirmed in time; null if not."
            },
            "status": {
                "help_text": "scheduled; confirmed or declined by the volunteer; cancelled; "
                "completed or no_show once it has taken place (or not)."
            },
            "confirmed_at": {"help_text": "When the volunteer confirmed."},
            "outcome_notes": {"help_text": "What came of it, or why it was cancelled."},
        }


STARTS_AT_HELP = "ISO 8601 with its offset; a time to come."
ENDS_AT_HELP = "ISO 8601 with its offset; after starts_at."


class NewSessionSerializer(StrictSerializer):
    """A session to plan for an active match, at a time to come that suits both of them."""

    match = RecordIdField(queryset=Match.objects.all(), help_text="The match's id.")
    starts_at = OffsetDateTimeField(help_text=STARTS_AT_HELP)
    ends_at = OffsetDateTimeField(help_text=ENDS_AT_HELP)
    mode = fields.ChoiceField(choices=Session.Mode.choices, help_text="How they meet.")
    place = fields.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Where they meet; required for in_person.",
    )


class RescheduleSerializer(StrictSerializer):
    """The new time, and the new way or place if they change too."""

    starts_at = OffsetDateTimeField(help_text=STARTS_AT_HELP)
    ends_at = OffsetDateTimeField(help_text=ENDS_AT_HELP)
    mode = fields.ChoiceField(
        choices=Session.Mode.choices, required=False, help_text="Leave it out to keep it."
    )
    place = fields.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Leave it out to keep it; required for in_person.",
    )


class CancelSerializer(StrictSerializer):
    """Why the session is called off; kept in its notes."""

    reason = fields.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Why, for the record."
    )


class OutcomeSerializer(StrictSerializer):
    """What happened at a session that has started."""

    attended = fields.BooleanField(
        help_text="true: it took place (completed, with hours); false: a no show."
    )
    hours = fields.DecimalField(
        max_digits=4,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("24"),
        required=False,
        allow_null=True,
        help_text="Volunteer hours, more than 0 and at most 24, e.g. 1.5: required when it "
        "took place, left out for a no show.",
        error_messages={
            "min_value": "Hours are more than 0 and at most 24.",
            "max_value": "Hours are more than 0 and at most 24.",
        },
    )
    notes = fields.CharField(
        required=False, allow_blank=True, max_length=4000, help_text="What came of it."
    )


class SessionFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        after, before = cleaned.get("starts_after"), cleaned.get("starts_before")
        if after and before and before < after:
            self.add_error(
                "starts_before",
                f"The range ends ({before}) before it starts ({after}): "
                "starts_before must be on or after starts_after.",
            )
        return cleaned


class SessionDates(django_filters.FilterSet):
    """The date range every list of sessions takes (the coordinator's and the volunteer's)."""

    starts_after = django_filters.DateFilter(
        field_name="starts_at",
        lookup_expr="date__gte",
        label="Only sessions starting on or after this date (Europe/London).",
    )
    starts_before = django_filters.DateFilter(
        field_name="starts_at",
        lookup_expr="date__lte",
        label="Only sessions starting on or before this date (Europe/London).",
    )


class SessionFilter(SessionDates):
    match = RecordFilter(queryset=Match.objects.all(), label="The match's id.")
    volunteer = RecordFilter(
        field_name="match__volunteer",
        queryset=Volunteer.objects.all(),
        label="The volunteer's id.",
    )
    peer = RecordFilter(
        field_name="match__peer", queryset=Peer.objects.all(), label="The peer's id."
    )
    status = django_filters.ChoiceFilter(choices=Session.Status.choices)
    confirmation_state = django_filters.ChoiceFilter(
        choices=ConfirmationState.choices,
        label="Only sessions whose confirmation stands so (at_risk, cannot_text, ...).",
    )

    class Meta:
        model = Session
        form = SessionFilterForm
        fields = [
            "match",
            "volunteer",
            "peer",
            "status",
            "confirmation_state",
            "starts_after",
            "starts_before",
        ]


# What a row shows, and nothing more of the joined records: a page of 100 otherwise reads
# (and parses) every column of each match, peer, volunteer and reminder.
SESSION_COLUMNS = (
    *(field.name for field in Session._meta.concrete_fields),
    "match__peer__preferred_name",
    "match__volunteer__preferred_name",
    "reminder__sent_at",
    "reminder__status",
    "reminder__answered_by__body",
    "reminder__answered_by__created_at",
)


@search_described(
    "Words to find in the place or in the volunteer's or the peer's names; or the peer's "
    "reference as on screen (P-000123)."
)
class SessionViewSet(ActionViewSet):
    """Sessions of a volunteer and the peer they support, soonest first. A coordinator
    schedules one for an active match and reschedules or cancels it; the volunteer confirms
    or declines by replying to the reminder (or a coordinator records their answer here);
    once it has started, a coordinator records what happened. Sessions are never deleted:
    a cancelled one stays with its reason."""

    queryset = Session.objects.all()
    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    search_fields = [
        "place",
        "match__volunteer__preferred_name",
        "match__volunteer__full_name",
        "match__peer__preferred_name",
        "match__peer__full_name",
    ]
    ordering_fields = ["starts_at", "created_at"]
    ordering = ["starts_at"]
    conflict_actions = {"create", "reschedule", "cancel", "outcome", "confirm", "decline"}
    summaries = {
        "create": "Schedule a session",
        "reschedule": "Move a session to another time",
        "cancel": "Cancel a session",
        "outcome": "Record what happened at a session",
        "confirm": "Confirm a session for the volunteer",
        "decline": "Decline a session for the volunteer",
    }
    example = SESSION_EXAMPLE
    action_examples = {
        "create": {
            "request": {
                "match": 31,
                "starts_at": "2026-05-14T14:00:00+01:00",
                "ends_at": "2026-05-14T15:00:00+01:00",
                "mode": "in_person",
                "place": "Coatbridge library",
            },
            "response": {**SESSION_EXAMPLE, **NOT_REMINDED},
        },
        "reschedule": {
            "request": {
                "starts_at": "2026-05-15T11:00:00+01:00",
                "ends_at": "2026-05-15T12:00:00+01:00",
                "mode": "phone",
            },
            "response": {
                **SESSION_EXAMPLE,
                **NOT_REMINDED,
                "starts_at": "2026-05-15T11:00:00+01:00",
                "ends_at": "2026-05-15T12:00:00+01:00",
                "mode": "phone",
            },
        },
        "cancel": {
            "request": {"reason": "Jamie is unwell."},
            "response": {
                **SESSION_EXAMPLE,
                "status": "cancelled",
                "confirmation_state": "settled",
                "outcome_notes": "Jamie is unwell.",
            },
        },
        "outcome": {
            "request": {"attended": True, "hours": 1.5, "notes": "Walked to the recovery cafe."},
            "response": {
                **SESSION_EXAMPLE,
                "status": "completed",
                "confirmation_state": "settled",
                "hours": 1.5,
                "outcome_notes": "Walked to the recovery cafe.",
            },
        },
        "confirm": {
            "response": {
                **SESSION_EXAMPLE,
                "status": "confirmed",
                "confirmed_at": "2026-05-13T09:02:00+01:00",
                "confirmation_state": "confirmed",
            }
        },
        "decline": {
            "response": {
                **SESSION_EXAMPLE,
                "status": "declined",
                "confirmation_state": "declined",
            }
        },
    }

    def get_queryset(self):
        return (
            Session.objects.with_confirmation_state()
            .select_related("match__peer", "match__volunteer", "reminder__answered_by")
            .only(*SESSION_COLUMNS)
        )

    def extra_search(self, term):
        return peer_reference_search(term, field="match__peer_id")

    @extend_schema(request=NewSessionSerializer, responses={201: SessionSerializer})
    def create(self, request, *args, **kwargs):
        """Plan a session of an active match at a time to come. 400 when the time has passed
        or ends before it starts, one of them does not meet that way (or an in-person
        session has no place), the volunteer is away on that day, or it overlaps another of
        the volunteer's sessions; 409 when the match is not active (proposed, declined or
        ended)."""
        new = NewSessionSerializer(data=request.data)
        new.is_valid(raise_exception=True)
        data = new.validated_data
        session = services.schedule_session(
            data["match"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            mode=data["mode"],
            place=data.get("place", ""),
        )
        return self.answer(session, status=201)

    @extend_schema(request=RescheduleSerializer, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        """Move a session that has not been settled (scheduled, confirmed or declined) to a
        new time, and way or place if given; it is scheduled again, for the volunteer to
        confirm. The same 400s as scheduling; 409 when it is cancelled, completed or a no
        show, or its match is no longer active."""
        session = self.get_object()
        moved = RescheduleSerializer(data=request.data)
        moved.is_valid(raise_exception=True)
        data = moved.validated_data
        services.reschedule_session(
            session,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            mode=data.get("mode"),
            place=data.get("place"),
        )
        return self.answer(session)

    @extend_schema(request=CancelSerializer, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Call off a session that has not been settled; the reason goes in its notes. 409
        when it is cancelled already, completed or a no show."""
        session = self.get_object()
        cancel = CancelSerializer(data=request.data)
        cancel.is_valid(raise_exception=True)
        services.cancel_session(session, reason=cancel.validated_data.get("reason", ""))
        return self.answer(session)

    @extend_schema(request=OutcomeSerializer, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):
        """Record what happened once the session has started: it took place (completed,
        with the volunteer's hours) or the peer did not come (a no show, without hours).
        409 when it has not started yet, or was cancelled or settled already."""
        session = self.get_object()
        outcome = OutcomeSerializer(data=request.data)
        outcome.is_valid(raise_exception=True)
        data = outcome.validated_data
        services.record_outcome(
            session,
            attended=data["attended"],
            hours=data.get("hours"),
            notes=data.get("notes", ""),
        )
        return self.answer(session)

    @extend_schema(request=None, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Record that the volunteer will be there (as their YES to the reminder does), for
        a volunteer who told the office another way. 409 when it is confirmed already, has
        started, or was cancelled or settled."""
        read_nothing(request)
        session = self.get_object()
        services.confirm_session(session)
        return self.answer(session)

    @extend_schema(request=None, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Record that the volunteer cannot come (as their NO does); reschedule or cancel it
        next. 409 when it is declined already, has started, or was cancelled or settled."""
        read_nothing(request)
        session = self.get_object()
        services.decline_session(session)
        return self.answer(session)


# A volunteer's or peer's sessions to come, on their detail answer -----------------------


@same_enum_as("SessionStatusEnum")
class SessionStatusField(fields.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Session.Status.choices, read_only=True, **kwargs)


class UpcomingSessionSerializer(ModelSerializer):
    """A session still to come."""

    status = SessionStatusField()

    class Meta:
        model = Session
        fields = ["id", "match", "starts_at", "ends_at", "mode", "status"]
        read_only_fields = fields


# A volunteer's or peer's sessions to come, as their detail answers show them.
UPCOMING_SESSIONS_EXAMPLE = [
    {
        "id": 210,
        "match": 31,
        "starts_at": "2026-05-14T14:00:00+01:00",
        "ends_at": "2026-05-14T15:00:00+01:00",
        "mode": "in_person",
        "status": "confirmed",
    }
]

UPCOMING_HELP = (
    "Sessions not over yet, scheduled, confirmed or declined (to reschedule), soonest first."
)


def prefetch_matches_and_sessions(*, other_party):
    """For a volunteer's or peer's detail answer, in two queries: their recent matches
    (`Match.objects.recent`, with the other party, "peer" or "volunteer") and each match's
    sessions still to come (`Session.objects.upcoming`). Upcoming sessions belong to active matches
    (ending a match cancels those to come), so every one is reached through these matches."""
    matches = (
        Match.objects.recent(days=RECENT_DAYS)
        .select_related(other_party)
        .prefetch_related(
            Prefetch("sessions", queryset=Session.objects.upcoming(), to_attr="upcoming_sessions")
        )
    )
    return Prefetch("matches", queryset=matches, to_attr="recent_matches")


def upcoming_of(record):
    """The sessions to come of a volunteer or peer fetched with
    `prefetch_matches_and_sessions`, soonest first."""
    sessions = [session for match in record.recent_matches for session in match.upcoming_sessions]
    sessions.sort(key=lambda session: (session.starts_at, session.pk))
    return UpcomingSessionSerializer(sessions, many=True).data
