"""Follow-ups for coordinators: everything that needs a person from the office.

They are raised by matching (a declined or unconfirmed session, a no show, a low wellbeing
answer, a reply nobody could read, a text that never arrived, training or PVG running out)
and handled here with a note, through `matching.follow_ups.handle_follow_up`: nobody writes
or edits one by hand.
"""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from api import fields
from api.filters import RecordFilter
from api.matches import ActionViewSet, search_described
from api.serializers import ModelSerializer, StrictSerializer
from matching import follow_ups
from matching.models import FollowUp, Session
from volunteers.models import Volunteer

FOLLOW_UP_EXAMPLE = {
    "id": 412,
    "kind": "session_declined",
    "kind_label": "Session declined",
    "urgency": "urgent",
    "urgency_label": "Urgent: today",
    "summary": "Aileen Murray said NO to her session with Jamie on Thu 14 May at 14:00: "
    "find another time.",
    "session": 210,
    "volunteer": 17,
    "message": 5020,
    "raised_at": "2026-05-13T09:02:00+01:00",
    "handled_at": None,
    "handled_by": None,
    "handled_by_name": "",
    "handled_note": "",
}

HANDLED_EXAMPLE = {
    **FOLLOW_UP_EXAMPLE,
    "handled_at": "2026-05-13T10:15:00+01:00",
    "handled_by": 3,
    "handled_by_name": "Morag Dunn",
    "handled_note": "Phoned Aileen; the session moves to Friday at 11:00.",
}

STATES = [
    ("open", "Open: still needs someone (the default)"),
    ("handled", "Handled, with a note"),
    ("all", "All"),
]


class FollowUpSerializer(ModelSerializer):
    """Something that needs a person from the office, and how it was handled."""

    kind_label = serializers.CharField(
        source="get_kind_display", read_only=True, help_text="The kind, in words."
    )
    urgency_label = serializers.CharField(
        source="get_urgency_display", read_only=True, help_text="The urgency, in words."
    )
    handled_by_name = serializers.SerializerMethodField(
        help_text="Who handled it, by name (or email); empty while open."
    )

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "kind",
            "kind_label",
            "urgency",
            "urgency_label",
            "summary",
            "session",
            "volunteer",
            "message",
            "raised_at",
            "handled_at",
            "handled_by",
            "handled_by_name",
            "handled_note",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "urgency": {"help_text": "urgent (today), soon, or routine (when you can)."},
            "session": {"help_text": "The session's id, if it is about one."},
            "volunteer": {"help_text": "The volunteer's id, if it is about one."},
            "message": {"help_text": "The text's id (in the message log), if it is about one."},
            "raised_at": {"help_text": "When it was raised."},
            "handled_at": {"help_text": "When it was handled; null while open."},
            "handled_by": {"help_text": "The id of the user who handled it, if a person did."},
            "handled_note": {"help_text": "What was done."},
        }

    def get_handled_by_name(self, follow_up) -> str:
        user = follow_up.handled_by
        if user is None:
            return ""
        return user.name or user.email


class HandleSerializer(StrictSerializer):
    """What was done, for the record."""

    note = fields.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="What was done, e.g. “Phoned Aileen; the session moves to Friday.”",
    )


class FollowUpFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=STATES, method="filter_state", label="open (the default), handled, or all."
    )
    kind = django_filters.ChoiceFilter(choices=FollowUp.Kind.choices)
    urgency = django_filters.ChoiceFilter(choices=FollowUp.Urgency.choices)
    volunteer = RecordFilter(queryset=Volunteer.objects.all(), label="The volunteer's id.")
    session = RecordFilter(queryset=Session.objects.all(), label="The session's id.")

    class Meta:
        model = FollowUp
        fields = ["state", "kind", "urgency", "volunteer", "session"]

    def filter_state(self, queryset, name, value):
        if value == "open":
            return queryset.open()
        if value == "handled":
            return queryset.handled()
        return queryset


@search_described("Words to find in the summary or in the volunteer's names.")
class FollowUpViewSet(ActionViewSet):
    """Everything that needs a person from the office, in one list: open ones by default
    (`state=handled` or `state=all` for the others), most urgent first and the longest
    waiting first within each urgency. Handle one with a note of what was done; a follow-up
    about a text takes that text out of the inbox too."""

    queryset = FollowUp.objects.all()
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter
    search_fields = ["summary", "volunteer__full_name", "volunteer__preferred_name"]
    # No `ordering`: by default the queryset's, most urgent first.
    ordering_fields = ["raised_at", "handled_at"]
    conflict_actions = {"handle"}
    summaries = {
        "list": "List the follow-ups",
        "retrieve": "Read a follow-up",
        "handle": "Mark a follow-up handled",
    }
    example = FOLLOW_UP_EXAMPLE
    action_examples = {
        "handle": {
            "request": {"note": "Phoned Aileen; the session moves to Friday at 11:00."},
            "response": HANDLED_EXAMPLE,
        }
    }

    def get_queryset(self):
        return FollowUp.objects.select_related("handled_by").most_urgent_first()

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action == "list" and not self.request.query_params.get("state"):
            # Open ones unless another state is asked for (one read by its id is found
            # whatever its state).
            queryset = queryset.open()
        return queryset

    @extend_schema(request=HandleSerializer, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def handle(self, request, pk=None):
        """Mark it handled, with an optional note of what was done (kept with your name and
        the time). A follow-up about a text also takes that text out of the inbox. 409 when
        it was handled already."""
        follow_up = self.get_object()
        handle = HandleSerializer(data=request.data)
        handle.is_valid(raise_exception=True)
        follow_ups.handle_follow_up(
            follow_up, by=request.user, note=handle.validated_data.get("note", "")
        )
        return self.answer(follow_up)
