"""Volunteers, their training records, availability and absences, for coordinators."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action

from api import fields
from api.matches import MATCHES_HELP, MatchOfVolunteerSerializer
from api.serializers import (
    CodeRelatedField,
    StrictModelSerializer,
    StrictSerializer,
    prefetch_codes,
)
from api.sessions import (
    UPCOMING_HELP,
    UPCOMING_SESSIONS_EXAMPLE,
    UpcomingSessionSerializer,
    prefetch_matches_and_sessions,
    upcoming_of,
)
from api.views import NestedRecordViewSet, RecordViewSet
from api.weekly_windows import WeeklyWindowSerializer, WeeklyWindowViewSet
from community.models import Area, Focus, Language
from community.phones import PhoneSerializerField
from volunteers import services
from volunteers.models import (
    Absence,
    AvailabilityWindow,
    Course,
    TrainingRecord,
    TrainingState,
    Volunteer,
    attach_required_training,
    training_gaps,
)

VOLUNTEER_EXAMPLE = {
    "id": 17,
    "preferred_name": "Aileen",
    "full_name": "Aileen Docherty",
    "phone": "+447700900123",
    "email": "aileen@example.org",
    "area": "coatbridge",
    "travel_radius_km": 10,
    "gender": "female",
    "languages": ["en"],
    "focuses": ["alcohol", "family"],
    "meets_in_person": True,
    "meets_by_phone": True,
    "meets_by_video": False,
    "sms_consent": True,
    "sms_consent_at": "2026-03-02T10:15:00+00:00",
    "wellbeing_opt_in": True,
    "max_active_matches": 2,
    "status": "active",
    "status_changed_at": "2026-04-01T09:00:00+01:00",
    "training_state": "expiring",
    "training_gaps": [
        {
            "course": "NALOXONE",
            "course_name": "Naloxone administration",
            "state": "expiring",
            "expires_on": "2026-12-01",
        }
    ],
    "notes": "",
    "created_at": "2026-03-02T10:15:00+00:00",
    "updated_at": "2026-04-01T09:00:00+01:00",
}


class TrainingGapSerializer(serializers.Serializer):
    """A required course that is missing, expired or about to expire."""

    course = serializers.CharField(source="course.code", help_text="The course's code.")
    course_name = serializers.CharField(source="course.name")
    state = fields.ChoiceField(
        choices=["missing", "expired", "expiring"],
        help_text="missing: never done; expired: done, no longer current; expiring: current "
        "now, lapses within the warning period.",
    )
    expires_on = serializers.DateField(
        allow_null=True, help_text="When it lapsed or will lapse (the first day not valid)."
    )


class VolunteerSerializer(StrictModelSerializer):
    """A volunteer peer supporter, with their training state."""

    phone = PhoneSerializerField(
        required=False, allow_null=True, help_text="Any common UK form in; E.164 out."
    )
    area = CodeRelatedField(slug_field="slug", queryset=Area.objects.all())
    languages = CodeRelatedField(
        slug_field="code", queryset=Language.objects.all(), many=True, required=False
    )
    focuses = CodeRelatedField(
        slug_field="slug", queryset=Focus.objects.all(), many=True, required=False
    )
    training_state = fields.ChoiceField(
        choices=TrainingState.choices,
        read_only=True,
        help_text="complete; expiring (a required course lapses within the warning period); "
        "lapsed (a required course is missing or expired).",
    )
    training_gaps = serializers.SerializerMethodField(
        help_text="The required courses that are missing, expired or expiring."
    )

    create_with = services.create_volunteer
    update_with = services.update_volunteer
    instance_argument = "volunteer"
    refused_fields = {
        "status": "New volunteers start as applicants; change a volunteer's status with "
        "POST /api/v1/volunteers/{id}/status/."
    }

    class Meta:
        model = Volunteer
        fields = [
            "id",
            "preferred_name",
            "full_name",
            "phone",
            "email",
            "area",
            "travel_radius_km",
            "gender",
            "languages",
            "focuses",
            "meets_in_person",
            "meets_by_phone",
            "meets_by_video",
            "sms_consent",
            "sms_consent_at",
            "wellbeing_opt_in",
            "max_active_matches",
            "status",
            "status_changed_at",
            "training_state",
            "training_gaps",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "status_changed_at", "sms_consent_at"]

    @staticmethod
    def _required_courses(context):
        if "required_courses" not in context:
            context["required_courses"] = list(Course.objects.filter(required_for_matching=True))
        return context["required_courses"]

    @extend_schema_field(TrainingGapSerializer(many=True))
    def get_training_gaps(self, volunteer):
        if not hasattr(volunteer, "required_records"):
            attach_required_training([volunteer])
        gaps = training_gaps(volunteer.required_records, self._required_courses(self.context))
        # Plain dicts in the form TrainingGapSerializer documents: a page holds hundreds.
        return [
            {
                "course": gap["course"].code,
                "course_name": gap["course"].name,
                "state": gap["state"],
                "expires_on": gap["expires_on"].isoformat() if gap["expires_on"] else None,
            }
            for gap in gaps
        ]


class VolunteerDetailSerializer(VolunteerSerializer):
    """A volunteer peer supporter, with their training state, matches and sessions to come."""

    matches = MatchOfVolunteerSerializer(
        source="recent_matches", many=True, read_only=True, help_text=MATCHES_HELP
    )
    upcoming_sessions = serializers.SerializerMethodField(help_text=UPCOMING_HELP)

    class Meta(VolunteerSerializer.Meta):
        fields = [*VolunteerSerializer.Meta.fields, "matches", "upcoming_sessions"]

    @extend_schema_field(UpcomingSessionSerializer(many=True))
    def get_upcoming_sessions(self, volunteer):
        return upcoming_of(volunteer)


class VolunteerStatusSerializer(StrictSerializer):
    """A move to another status, with a note of why."""

    status = fields.ChoiceField(choices=Volunteer.Status.choices)
    note = fields.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Why, for the record."
    )


class VolunteerFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Volunteer.Status.choices)
    area = django_filters.ModelChoiceFilter(
        queryset=Area.objects.all(), to_field_name="slug", label="Area (its slug)."
    )
    training_state = django_filters.ChoiceFilter(
        choices=TrainingState.choices, label="Training state on today's date."
    )
    matchable_on = django_filters.DateFilter(
        method="filter_matchable_on",
        label="Only those who could be matched on this date: active, every required course "
        "current, not absent.",
    )

    class Meta:
        model = Volunteer
        fields = ["status", "area", "training_state", "matchable_on"]

    def filter_matchable_on(self, queryset, name, value):
        return queryset.matchable(on=value)


class VolunteerViewSet(RecordViewSet):
    """Volunteer peer supporters. There is no delete: a volunteer who leaves becomes `left`."""

    queryset = Volunteer.objects.all()
    serializer_class = VolunteerSerializer
    filterset_class = VolunteerFilter
    search_fields = ["preferred_name", "full_name", "email"]
    phone_search_field = "phone"
    ordering_fields = [
        "preferred_name",
        "full_name",
        "status",
        "status_changed_at",
        "training_state",
        "created_at",
    ]
    ordering = ["preferred_name", "full_name"]
    conflict_actions = {"status"}
    summaries = {"status": "Change a volunteer's status"}
    example = VOLUNTEER_EXAMPLE
    request_example = {
        "preferred_name": "Aileen",
        "full_name": "Aileen Docherty",
        "phone": "07700 900123",
        "email": "aileen@example.org",
        "area": "coatbridge",
        "gender": "female",
        "languages": ["en"],
        "focuses": ["alcohol"],
        "sms_consent": True,
    }
    action_examples = {
        "status": {"request": {"status": "in_training", "note": "PVG received."}},
        "retrieve": {
            "response": {
                **VOLUNTEER_EXAMPLE,
                "matches": [
                    {
                        "id": 31,
                        "peer": 123,
                        "peer_reference": "P-000123",
                        "status": "active",
                        "proposed_at": "2026-05-11T10:30:00+01:00",
                        "started_on": "2026-05-12",
                        "ended_on": None,
                    }
                ],
                "upcoming_sessions": UPCOMING_SESSIONS_EXAMPLE,
            }
        },
    }

    def get_queryset(self):
        volunteers = (
            Volunteer.objects.select_related("area")
            .prefetch_related(*prefetch_codes("languages", "focuses"))
            .with_training_state()
        )
        if self.action == "retrieve":
            volunteers = volunteers.prefetch_related(
                prefetch_matches_and_sessions(other_party="peer")
            )
        return volunteers

    def get_serializer_class(self):
        if self.action == "retrieve":
            return VolunteerDetailSerializer
        return VolunteerSerializer

    def get_serializer(self, *args, **kwargs):
        if args and isinstance(args[0], list):  # a page: everyone's training in one query
            attach_required_training(args[0])
        return super().get_serializer(*args, **kwargs)

    @extend_schema(request=VolunteerStatusSerializer, responses=VolunteerSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        """Move the volunteer to another status, if the move is allowed, and log it with
        the note. The answer is the volunteer as changed; 409 says which moves are allowed."""
        return self.change_status(
            request,
            change_serializer=VolunteerStatusSerializer,
            change_with=services.change_volunteer_status,
            record_argument="volunteer",
        )


class TrainingRecordSerializer(StrictModelSerializer):
    """A completed course or check, and when it stops counting."""

    course = CodeRelatedField(
        slug_field="code",
        queryset=Course.objects.all(),
        help_text="The course's code, e.g. NALOXONE.",
    )
    course_name = serializers.CharField(source="course.name", read_only=True)
    expires_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="The first day it no longer counts. Leave it out to follow the course.",
    )
    is_current = serializers.SerializerMethodField(help_text="Whether it counts today.")

    create_with = services.record_training
    update_with = services.change_training_record
    instance_argument = "record"

    class Meta:
        model = TrainingRecord
        fields = [
            "id",
            "course",
            "course_name",
            "completed_on",
            "expires_on",
            "notes",
            "is_current",
        ]

    def get_is_current(self, record) -> bool:
        return record.is_current()


class TrainingRecordFilter(django_filters.FilterSet):
    course = django_filters.ModelChoiceFilter(
        queryset=Course.objects.all(), to_field_name="code", label="Course (its code)."
    )
    current_on = django_filters.DateFilter(
        method="filter_current_on", label="Only records that count on this date."
    )

    class Meta:
        model = TrainingRecord
        fields = ["course", "current_on"]

    def filter_current_on(self, queryset, name, value):
        return queryset.current(on=value)


class TrainingRecordViewSet(NestedRecordViewSet):
    """A volunteer's completed courses and checks, with when each stops counting."""

    queryset = TrainingRecord.objects.select_related("course")
    serializer_class = TrainingRecordSerializer
    parent_model = Volunteer
    parent_field = "volunteer"
    filterset_class = TrainingRecordFilter
    search_fields = ["course__name", "course__code", "notes"]
    ordering_fields = ["completed_on", "expires_on"]
    ordering = ["-completed_on"]
    remove_with = services.remove_training_record
    remove_argument = "record"
    example = {
        "id": 41,
        "course": "NALOXONE",
        "course_name": "Naloxone administration",
        "completed_on": "2025-12-01",
        "expires_on": "2026-12-01",
        "notes": "",
        "is_current": True,
    }
    request_example = {"course": "NALOXONE", "completed_on": "2026-11-02"}


class AvailabilitySerializer(WeeklyWindowSerializer):
    """When a volunteer is free each week."""

    create_with = services.add_availability
    update_with = services.change_availability

    class Meta(WeeklyWindowSerializer.Meta):
        model = AvailabilityWindow


class AvailabilityViewSet(WeeklyWindowViewSet):
    """When a volunteer is free each week, in local time; windows never overlap."""

    queryset = AvailabilityWindow.objects.all()
    serializer_class = AvailabilitySerializer
    parent_model = Volunteer
    parent_field = "volunteer"
    remove_with = services.remove_availability


class AbsenceSerializer(StrictModelSerializer):
    """Dates a volunteer is away; the last day is included."""

    create_with = services.add_absence
    update_with = services.change_absence
    instance_argument = "absence"

    class Meta:
        model = Absence
        fields = ["id", "starts_on", "ends_on", "reason"]


class AbsenceFilter(django_filters.FilterSet):
    on = django_filters.DateFilter(method="filter_on", label="Only absences covering this date.")
    ends_after = django_filters.DateFilter(
        field_name="ends_on", lookup_expr="gte", label="Only absences ending on or after this date."
    )

    class Meta:
        model = Absence
        fields = ["on", "ends_after"]

    def filter_on(self, queryset, name, value):
        return queryset.filter(starts_on__lte=value, ends_on__gte=value)


class AbsenceViewSet(NestedRecordViewSet):
    """Dates a volunteer is away (holiday, illness); no matches or sessions then."""

    queryset = Absence.objects.all()
    serializer_class = AbsenceSerializer
    parent_model = Volunteer
    parent_field = "volunteer"
    filterset_class = AbsenceFilter
    search_fields = ["reason"]
    ordering_fields = ["starts_on", "ends_on"]
    ordering = ["starts_on"]
    remove_with = services.remove_absence
    remove_argument = "absence"
    example = {"id": 3, "starts_on": "2026-12-21", "ends_on": "2027-01-04", "reason": "Holiday"}
    request_example = {"starts_on": "2026-12-21", "ends_on": "2027-01-04", "reason": "Holiday"}
