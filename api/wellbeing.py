"""A volunteer's weekly wellbeing answers, for coordinators only.

The list is a page like every other (`count`, `next`, `previous`, `results`), newest week
first, with one key more: `trend`, the volunteer's answers over the last 4 weeks against the
4 weeks before (matching.models.WellbeingCheckInQuerySet.trend says the rule). It is the same
on every page, since it is about the volunteer, not the page.
"""

from rest_framework import mixins, serializers, viewsets
from rest_framework.generics import get_object_or_404

from api.filters import KnownParametersOnly
from api.pagination import PageNumberPagination
from api.serializers import ModelSerializer
from api.views import ThrottleBeforePermissions
from matching.models import WellbeingCheckIn
from volunteers.models import Volunteer

TREND_WEEKS = 4
TREND_DIRECTIONS = ["higher", "lower", "steady", "not_enough_answers"]
TREND_EXAMPLE = {
    "direction": "lower",
    "words": "Lower than the 4 weeks before: 2.5 on average, was 4.2.",
    "weeks": TREND_WEEKS,
    "recent_average": 2.5,
    "earlier_average": 4.2,
}
TREND_SCHEMA = {
    "type": "object",
    "description": "The answers of the last `weeks` weeks (this one included) against the "
    "`weeks` weeks before: averages at least half a point apart are higher or lower, closer "
    "ones steady; without an answer in both periods, not_enough_answers. Unanswered weeks "
    "count for neither.",
    "required": ["direction", "words", "weeks", "recent_average", "earlier_average"],
    "properties": {
        "direction": {"type": "string", "enum": TREND_DIRECTIONS},
        "words": {"type": "string", "description": "The trend in words, for a person."},
        "weeks": {"type": "integer", "description": "How many weeks each period holds."},
        "recent_average": {
            "type": "number",
            "nullable": True,
            "description": "The average answer of the last `weeks` weeks, to one decimal.",
        },
        "earlier_average": {
            "type": "number",
            "nullable": True,
            "description": "The average answer of the `weeks` weeks before those.",
        },
    },
}
# Each property carries its example, so the page's example is built from them.
for _name, _example in TREND_EXAMPLE.items():
    TREND_SCHEMA["properties"][_name]["example"] = _example


class WellbeingCheckInSerializer(ModelSerializer):
    """One week's wellbeing check-in and its answer."""

    score = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        min_value=WellbeingCheckIn.LOWEST,
        max_value=WellbeingCheckIn.HIGHEST,
        help_text="1 (struggling) to 5 (great); null while unanswered.",
    )

    class Meta:
        model = WellbeingCheckIn
        fields = ["week", "asked_at", "score", "answered_at"]
        read_only_fields = fields


class PageWithTrend(PageNumberPagination):
    """A page of check-ins with the volunteer's trend beside it (set by the view)."""

    trend = None

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["trend"] = self.trend
        return response

    def get_paginated_response_schema(self, schema):
        page = super().get_paginated_response_schema(schema)
        page["properties"]["trend"] = TREND_SCHEMA
        page["required"] = [*page.get("required", []), "trend"]
        return page


class WellbeingViewSet(ThrottleBeforePermissions, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A volunteer's answers to the weekly wellbeing check-in, newest week first, with
    their trend. A 1 or 2 has already raised an urgent follow-up."""

    queryset = WellbeingCheckIn.objects.all()
    serializer_class = WellbeingCheckInSerializer
    pagination_class = PageWithTrend
    filter_backends = [KnownParametersOnly]
    summaries = {"list": "List a volunteer's wellbeing answers"}
    example = {
        "week": "2026-11-23",
        "asked_at": "2026-11-23T10:00:00+00:00",
        "score": 2,
        "answered_at": "2026-11-23T12:41:07+00:00",
    }

    def volunteer(self):
        if not hasattr(self, "_volunteer"):
            self._volunteer = get_object_or_404(Volunteer, pk=self.kwargs["volunteer_id"])
        return self._volunteer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WellbeingCheckIn.objects.none()
        return WellbeingCheckIn.objects.filter(volunteer=self.volunteer()).order_by("-week", "-pk")

    def list(self, request, *args, **kwargs):
        trend = self.get_queryset().trend(weeks=TREND_WEEKS)
        self.paginator.trend = trend._asdict()
        return super().list(request, *args, **kwargs)
