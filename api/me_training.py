"""The signed-in volunteer's own training records and training state, read only.

The list is a page like every other (`count`, `next`, `previous`, `results`: the records,
latest completed first), with two keys more, the same on every page since they are about the
volunteer rather than the page: `training_state` and `training_gaps`, worked out by the same
rules as the coordinator's volunteer record shows them (`Volunteer.objects.with_training_state`
and `training_gaps`). So the app can say "your Naloxone training expires on 1 December" from
a gap, or list every course done from the records. The office's notes on a record are theirs
and are not shown.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from api.filters import Filters, KnownParametersOnly, Ordering
from api.own_records import OwnRecords
from api.pagination import PageNumberPagination
from api.volunteers import (
    TrainingGapSerializer,
    TrainingRecordFilter,
    TrainingRecordSerializer,
)
from volunteers.models import (
    Course,
    TrainingRecord,
    TrainingState,
    Volunteer,
    attach_required_training,
    training_gaps,
)

TRAINING_STATE_EXAMPLE = "expiring"
TRAINING_GAPS_EXAMPLE = [
    {
        "course": "NALOXONE",
        "course_name": "Naloxone administration",
        "state": "expiring",
        "expires_on": "2026-12-01",
    }
]


class MyTrainingRecordSerializer(TrainingRecordSerializer):
    """A course or check you completed, and when it stops counting."""

    course = serializers.CharField(
        source="course.code", read_only=True, help_text="The course's code, e.g. NALOXONE."
    )
    expires_on = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="The first day it no longer counts; null when it never needs renewing.",
    )

    class Meta(TrainingRecordSerializer.Meta):
        fields = ["id", "course", "course_name", "completed_on", "expires_on", "is_current"]
        read_only_fields = fields


class PageWithTrainingState(PageNumberPagination):
    """A page of training records with the volunteer's training state beside it (set by the
    view)."""

    training = None

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data.update(self.training)
        return response

    def get_paginated_response_schema(self, schema):
        page = super().get_paginated_response_schema(schema)
        page["properties"]["training_state"] = {
            "allOf": [{"$ref": "#/components/schemas/TrainingStateEnum"}],
            "description": "Your training today: complete; expiring (a required course lapses "
            "within the warning period); lapsed (a required course is missing or expired, "
            "so the office cannot match you until it is done).",
            "example": TRAINING_STATE_EXAMPLE,
        }
        page["properties"]["training_gaps"] = {
            "type": "array",
            "items": {"$ref": "#/components/schemas/TrainingGap"},
            "description": "The required courses you have never done, whose record has "
            "expired, or whose record expires soon; empty when your training is complete.",
            "example": TRAINING_GAPS_EXAMPLE,
        }
        page["required"] = [*page.get("required", []), "training_state", "training_gaps"]
        return page


def training_of(volunteer):
    """The volunteer's training state and gaps today, as the page shows them."""
    state = (
        Volunteer.objects.filter(pk=volunteer.pk)
        .with_training_state()
        .values_list("training_state", flat=True)
        .get()
    )
    attach_required_training([volunteer])
    required = list(Course.objects.filter(required_for_matching=True))
    gaps = training_gaps(volunteer.required_records, required)
    return {
        "training_state": state,
        "training_gaps": TrainingGapSerializer(gaps, many=True).data,
    }


@extend_schema_view(
    list=extend_schema(
        description="Your completed courses and checks, latest first, with your training "
        "state and what is missing, expired or expiring (the same on every page). "
        f"training_state is one of {', '.join(TrainingState.values)}."
    )
)
class MyTrainingViewSet(OwnRecords, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in volunteer's training records and training state. Only the office
    records training: tell them when you complete a course."""

    queryset = TrainingRecord.objects.all()
    serializer_class = MyTrainingRecordSerializer
    pagination_class = PageWithTrainingState
    filter_backends = [KnownParametersOnly, Filters, Ordering]
    filterset_class = TrainingRecordFilter
    ordering_fields = ["completed_on", "expires_on"]
    ordering = ["-completed_on"]
    summaries = {"list": "List your training records and training state"}
    example = {
        "id": 41,
        "course": "NALOXONE",
        "course_name": "Naloxone administration",
        "completed_on": "2025-12-01",
        "expires_on": "2026-12-01",
        "is_current": True,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TrainingRecord.objects.none()
        return TrainingRecord.objects.filter(volunteer=self.request.volunteer).select_related(
            "course"
        )

    def list(self, request, *args, **kwargs):
        records = self.filter_queryset(self.get_queryset())  # bad parameters: 400 first
        page = self.paginate_queryset(records)
        self.paginator.training = training_of(request.volunteer)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
