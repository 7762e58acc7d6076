"""The signed-in volunteer's hours, month by month, from the sessions that took place.

Each row is one UK local month with at least one completed session: the hours recorded for
them (as the office records each outcome) and how many sessions they were. Newest month first,
so the first page is the latest; `year` keeps one calendar year.
"""

import re

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from api.filters import Filters, KnownParametersOnly
from api.own_records import OwnRecords
from matching.models import Session

FIRST_YEAR, LAST_YEAR = 2000, 2100
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


class YearField(forms.IntegerField):
    """A calendar year in ASCII digits (int() alone also reads "٢٠٢٦" as 2026)."""

    default_error_messages = {
        "invalid": f"Give a year as four digits, {FIRST_YEAR} to {LAST_YEAR}, e.g. 2026."
    }

    def __init__(self, **kwargs):
        super().__init__(min_value=FIRST_YEAR, max_value=LAST_YEAR, **kwargs)
        for name in ("min_value", "max_value"):
            self.error_messages[name] = self.error_messages["invalid"]

    def to_python(self, value):
        if value not in self.empty_values and not re.fullmatch(r"[0-9]{4}", str(value).strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


@extend_schema_field(
    {
        "type": "integer",
        "minimum": FIRST_YEAR,
        "maximum": LAST_YEAR,
        "description": "Only this calendar year (UK local time), e.g. 2026.",
    }
)
class YearFilter(django_filters.Filter):
    field_class = YearField


class HoursFilter(django_filters.FilterSet):
    # Europe/London's year, as the months are: __year reads the time in the current zone.
    year = YearFilter(field_name="starts_at", lookup_expr="year")

    class Meta:
        model = Session
        fields = ["year"]


@extend_schema_field(
    {"type": "string", "pattern": MONTH_PATTERN, "example": "2026-05", "description": "YYYY-MM."}
)
class MonthField(serializers.Field):
    def to_representation(self, value):
        return f"{value:%Y-%m}"


class MonthlyHoursSerializer(serializers.Serializer):
    """Your hours in one month, from the sessions that took place."""

    month = MonthField(read_only=True, help_text="The month, in UK local time: YYYY-MM.")
    hours = serializers.FloatField(
        read_only=True, help_text="The hours recorded for those sessions, to 0.01."
    )
    sessions = serializers.IntegerField(
        read_only=True, help_text="How many sessions took place that month."
    )


@extend_schema_view(
    list=extend_schema(
        description="Your hours per month from completed sessions, newest month first; "
        "months without any are left out."
    )
)
class MyHoursViewSet(OwnRecords, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in volunteer's hours of completed sessions, per UK local month."""

    queryset = Session.objects.all()
    serializer_class = MonthlyHoursSerializer
    filter_backends = [KnownParametersOnly, Filters]
    filterset_class = HoursFilter
    summaries = {"list": "List your hours per month"}
    example = {"month": "2026-05", "hours": 6.5, "sessions": 4}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Session.objects.none()
        return Session.objects.of_volunteer(self.request.volunteer)

    def list(self, request, *args, **kwargs):
        sessions = self.filter_queryset(self.get_queryset())
        months = sessions.hours_by_month()[::-1]
        page = self.paginate_queryset(months)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
