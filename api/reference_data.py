"""Reference data: courses, areas, languages and focuses.

Anyone signed in reads them; coordinators add, change and delete them. Each is named in URLs
by its code or slug, matched without regard to case. Deleting one that records still use is
refused with a 409 that says how many use it.
"""

from functools import partial

import django_filters
from django import forms
from django.http import Http404

from api import fields
from api.serializers import StrictModelSerializer
from api.views import ReferenceViewSet
from community import services as community_services
from community.models import Area, Focus, Language
from volunteers import services as volunteer_services
from volunteers.models import Course


class YesNoField(forms.TypedChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=[("true", "true"), ("false", "false")],
            coerce=lambda value: value == "true",
            empty_value=None,
            **kwargs,
        )


class YesNoFilter(django_filters.BooleanFilter):
    """`true` or `false`, nothing else: a typo is a 400, never the whole list (django-filter's
    own boolean filter ignores a value it cannot read)."""

    field_class = YesNoField


class CodeLookupViewSet(ReferenceViewSet):
    """Reference data named in the URL by `lookup_field` (a code or slug), in any case."""

    lookup_value_converter = "slug"
    conflict_actions = {"destroy"}

    def get_object(self):
        queryset = self.filter_queryset(self.get_queryset())
        value = self.kwargs[self.lookup_field]
        found = (
            queryset.filter(**{self.lookup_field: value}).first()
            or queryset.filter(**{f"{self.lookup_field}__iexact": value}).first()
        )
        if found is None:
            kind = queryset.model._meta.verbose_name
            raise Http404(f"There is no {kind} with the {self.lookup_field} “{value}”.")
        self.check_object_permissions(self.request, found)
        return found


# Courses


class CourseSerializer(StrictModelSerializer):
    """A course or check that volunteers complete, and how long a completion counts."""

    create_with = volunteer_services.create_course
    update_with = volunteer_services.change_course
    instance_argument = "course"

    class Meta:
        model = Course
        fields = ["code", "name", "kind", "required_for_matching", "valid_for_months", "notes"]
        extra_kwargs = {
            "code": {"help_text": "A short code, e.g. NALOXONE: letters, digits, - and _."},
            "required_for_matching": {
                "help_text": "Whether a volunteer needs it current to be matched."
            },
            "valid_for_months": {
                "min_value": 1,
                "help_text": "How long a completion counts; empty: it never needs renewing.",
            },
        }


class CourseFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Course.Kind.choices)
    required_for_matching = YesNoFilter(label="Only courses required (true) or not (false).")

    class Meta:
        model = Course
        fields = ["kind", "required_for_matching"]


class CourseViewSet(CodeLookupViewSet):
    """Courses and checks (PVG, say) that volunteers complete; some are required for matching."""

    queryset = Course.objects.all()
    serializer_class = CourseSerializer
    lookup_field = "code"
    filterset_class = CourseFilter
    search_fields = ["name", "code"]
    ordering_fields = ["name", "code"]
    ordering = ["name"]
    remove_with = volunteer_services.remove_course
    remove_argument = "course"
    example = {
        "code": "NALOXONE",
        "name": "Naloxone administration",
        "kind": "course",
        "required_for_matching": True,
        "valid_for_months": 12,
        "notes": "",
    }
    request_example = {
        "code": "TRAUMA",
        "name": "Trauma-informed practice",
        "kind": "course",
        "required_for_matching": False,
        "valid_for_months": 36,
    }


# Areas, languages and focuses: written through community.services.


class CommunityReferenceSerializer(StrictModelSerializer):
    """Reference data written through community.services."""

    update_with = community_services.change_reference
    instance_argument = "item"


class AreaSerializer(CommunityReferenceSerializer):
    """A locality, with its centre (for distances) and postcode districts."""

    latitude = fields.DecimalField(
        max_digits=8, decimal_places=5, min_value=-90, max_value=90, coerce_to_string=False
    )
    longitude = fields.DecimalField(
        max_digits=8, decimal_places=5, min_value=-180, max_value=180, coerce_to_string=False
    )

    create_with = staticmethod(partial(community_services.create_reference, model=Area))

    class Meta:
        model = Area
        fields = ["slug", "name", "council", "latitude", "longitude", "postcode_districts"]


class AreaFilter(django_filters.FilterSet):
    council = django_filters.CharFilter(
        lookup_expr="iexact", label="Council, e.g. North Lanarkshire (any case)."
    )

    class Meta:
        model = Area
        fields = ["council"]


class AreaViewSet(CodeLookupViewSet):
    """Localities of North and South Lanarkshire, with their centres for distances."""

    queryset = Area.objects.all()
    serializer_class = AreaSerializer
    lookup_field = "slug"
    filterset_class = AreaFilter
    search_fields = ["name", "postcode_districts"]
    ordering_fields = ["name", "council"]
    ordering = ["name"]
    remove_with = community_services.remove_reference
    remove_argument = "item"
    example = {
        "slug": "coatbridge",
        "name": "Coatbridge",
        "council": "North Lanarkshire",
        "latitude": 55.8622,
        "longitude": -4.0266,
        "postcode_districts": "ML5",
    }
    request_example = {
        "slug": "salsburgh",
        "name": "Salsburgh",
        "council": "North Lanarkshire",
        "latitude": 55.8625,
        "longitude": -3.8734,
        "postcode_districts": "ML7",
    }


class LanguageSerializer(CommunityReferenceSerializer):
    """A language, named by a short code (en, pl, bsl)."""

    create_with = staticmethod(partial(community_services.create_reference, model=Language))

    class Meta:
        model = Language
        fields = ["code", "name"]


class LanguageViewSet(CodeLookupViewSet):
    """Languages people speak, so a peer can ask for a supporter who speaks theirs."""

    queryset = Language.objects.all()
    serializer_class = LanguageSerializer
    lookup_field = "code"
    search_fields = ["name", "code"]
    ordering_fields = ["name", "code"]
    ordering = ["name"]
    remove_with = community_services.remove_reference
    remove_argument = "item"
    example = {"code": "pl", "name": "Polish"}
    request_example = {"code": "so", "name": "Somali"}


class FocusSerializer(CommunityReferenceSerializer):
    """Something a volunteer has lived experience of, or a peer wants support with."""

    create_with = staticmethod(partial(community_services.create_reference, model=Focus))

    class Meta:
        model = Focus
        fields = ["slug", "name", "description"]


class FocusViewSet(CodeLookupViewSet):
    """What a volunteer has lived experience of, or what a peer wants support with."""

    queryset = Focus.objects.all()
    serializer_class = FocusSerializer
    lookup_field = "slug"
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "slug"]
    ordering = ["name"]
    remove_with = community_services.remove_reference
    remove_argument = "item"
    example = {
        "slug": "family",
        "name": "Family member affected",
        "description": "A family member or friend affected by someone's use.",
    }
    request_example = {"slug": "gambling", "name": "Gambling", "description": ""}
