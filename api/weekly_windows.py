"""Windows of time that repeat every week: a volunteer's availability, a peer's preferred
times. One serializer, filter and viewset serve both."""

import django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api import fields
from api.serializers import StrictModelSerializer
from api.views import NestedRecordViewSet


class WeekdayField(fields.ChoiceField):
    """A weekday as its lowercase English name; stored as 0 (Monday) to 6 (Sunday)."""

    NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    def __init__(self, **kwargs):
        super().__init__(choices=self.NAMES, **kwargs)

    def to_internal_value(self, data):
        return self.NAMES.index(super().to_internal_value(data))

    def to_representation(self, value):
        return self.NAMES[value]


class WeeklyWindowSerializer(StrictModelSerializer):
    """A window of time that repeats every week, in local time."""

    weekday = WeekdayField()
    starts_at = fields.LocalTimeField()
    ends_at = fields.LocalTimeField(
        example="21:00", help_text="Local (Europe/London) time, HH:MM, after starts_at."
    )
    hours = serializers.FloatField(read_only=True)

    instance_argument = "window"

    class Meta:
        fields = ["id", "weekday", "starts_at", "ends_at", "hours"]


WINDOW_EXAMPLE = {
    "id": 8,
    "weekday": "tuesday",
    "starts_at": "18:00",
    "ends_at": "21:00",
    "hours": 3.0,
}
WINDOW_REQUEST = {"weekday": "tuesday", "starts_at": "18:00", "ends_at": "21:00"}


@extend_schema_field({"type": "string", "enum": WeekdayField.NAMES})
class WeekdayFilter(django_filters.ChoiceFilter):
    def __init__(self, **kwargs):
        super().__init__(
            choices=[(name, name) for name in WeekdayField.NAMES], method="filter_weekday", **kwargs
        )


class WeeklyWindowFilter(django_filters.FilterSet):
    weekday = WeekdayFilter(label="Only windows on this day of the week.")

    def filter_weekday(self, queryset, name, value):
        return queryset.filter(weekday=WeekdayField.NAMES.index(value))


class WeeklyWindowViewSet(NestedRecordViewSet):
    """Subclasses name the model, serializer, parent and removal service."""

    filterset_class = WeeklyWindowFilter
    ordering_fields = ["weekday", "starts_at"]
    ordering = ["weekday", "starts_at"]
    remove_argument = "window"
    example = WINDOW_EXAMPLE
    request_example = WINDOW_REQUEST
