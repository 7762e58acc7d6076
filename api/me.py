"""/api/v1/me/: the signed-in volunteer's own profile, for the partner app.

A volunteer reads their profile and changes what is theirs to change: the name they go by,
their area and how far they travel, how they meet, their languages and lived experience,
and whether they get the weekly wellbeing check-in. The office keeps the rest: the phone
number (their texts and sign-in codes go to it), the email address, their full name and
status. Writes go through `volunteers.services.update_volunteer`, as the coordinator's do.

The reminder before each session goes SESSION_REMINDER_HOURS ahead for everyone (the
schedule's passes are set-based over every session), so it is not a preference here.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from api import fields
from api.permissions import IsVolunteer
from api.serializers import CodeRelatedField, StrictModelSerializer, prefetch_codes
from api.views import AtomicWrites, ThrottleBeforePermissions
from community.models import Area, Focus, Language
from community.phones import PhoneSerializerField, normalise_phone
from volunteers import services
from volunteers.models import TrainingState, Volunteer

MY_PROFILE_EXAMPLE = {
    "id": 17,
    "preferred_name": "Aileen",
    "full_name": "Aileen Docherty",
    "phone": "+447700900123",
    "email": "aileen@example.org",
    "area": "coatbridge",
    "travel_radius_km": 10,
    "meets_in_person": True,
    "meets_by_phone": True,
    "meets_by_video": False,
    "languages": ["en"],
    "focuses": ["alcohol", "family"],
    "wellbeing_opt_in": True,
    "status": "active",
    "training_state": "expiring",
}


def office_keeps(what):
    return (
        f"The office keeps your {what}: it is where your texts and sign-in codes go. "
        f"To change it, call the office on {settings.OFFICE_PHONE}."
    )


class RecordedEmailField(serializers.EmailField):
    """An email address the office may not have: null rather than an empty string, which is
    no email address."""

    def to_representation(self, value):
        return super().to_representation(value) if value else None


class MyProfileSerializer(StrictModelSerializer):
    """Your volunteer profile: what the office knows of you, and what you may change."""

    phone = PhoneSerializerField(
        read_only=True,
        allow_null=True,
        help_text="The number your texts and sign-in codes go to; the office keeps it.",
    )
    email = RecordedEmailField(
        read_only=True,
        allow_null=True,
        help_text="Your email address; the office keeps it. null when it has none.",
    )
    area = CodeRelatedField(
        slug_field="slug",
        queryset=Area.objects.all(),
        help_text="Where you are based (an area's slug, from /api/v1/areas/).",
    )
    languages = CodeRelatedField(
        slug_field="code",
        queryset=Language.objects.all(),
        many=True,
        required=False,
        help_text="Languages you speak (codes, from /api/v1/languages/).",
    )
    focuses = CodeRelatedField(
        slug_field="slug",
        queryset=Focus.objects.all(),
        many=True,
        required=False,
        help_text="Your lived experience (slugs, from /api/v1/focuses/).",
    )
    training_state = fields.ChoiceField(
        choices=TrainingState.choices,
        read_only=True,
        help_text="complete; expiring (a required course lapses soon); lapsed (a required "
        "course is missing or expired).",
    )

    update_with = services.update_volunteer
    instance_argument = "volunteer"

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
            "meets_in_person",
            "meets_by_phone",
            "meets_by_video",
            "languages",
            "focuses",
            "wellbeing_opt_in",
            "status",
            "training_state",
        ]
        read_only_fields = ["full_name", "email", "status"]
        extra_kwargs = {
            "preferred_name": {"help_text": "The name you go by, as texts and the app use it."},
            "full_name": {"help_text": "Your full name, as the office records it."},
            "wellbeing_opt_in": {
                "help_text": "true: a text each week asks how you are doing; false: none."
            },
            "status": {"help_text": "Where you stand with the office (active, paused, ...)."},
        }

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {}
            if "phone" in data and not self._same_phone(data["phone"]):
                errors["phone"] = [office_keeps("phone number")]
            if "email" in data and not self._same_email(data["email"]):
                errors["email"] = [office_keeps("email address")]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def _same_phone(self, value):
        current = self.instance.phone
        if value is None or value == "":
            return not current
        if not isinstance(value, str) or not current:
            return False
        try:
            return normalise_phone(value) == getattr(current, "as_e164", current)
        except ValidationError:
            return False

    def _same_email(self, value):
        current = self.instance.email or ""
        if value is None:
            return not current
        return isinstance(value, str) and value.strip().lower() == current.lower()


class MyProfileViewSet(AtomicWrites, ThrottleBeforePermissions, viewsets.GenericViewSet):
    """Your own volunteer profile."""

    permission_classes = [IsVolunteer]
    serializer_class = MyProfileSerializer
    queryset = Volunteer.objects.none()
    summaries = {"retrieve": "Read my profile", "partial_update": "Change my profile"}
    example = MY_PROFILE_EXAMPLE
    request_example = {"travel_radius_km": 15, "meets_by_video": True, "wellbeing_opt_in": False}

    def get_object(self):
        return (
            Volunteer.objects.select_related("area")
            .prefetch_related(*prefetch_codes("languages", "focuses"))
            .with_training_state()
            .get(pk=self.request.volunteer.pk)
        )

    def retrieve(self, request):
        """Your profile. 403 when this sign-in belongs to no volunteer, or your volunteer
        record is closed (you have left)."""
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=MyProfileSerializer, responses=MyProfileSerializer)
    def partial_update(self, request):
        """Change any of: preferred_name, area, travel_radius_km, meets_in_person,
        meets_by_phone, meets_by_video, languages, focuses, wellbeing_opt_in. A phone number
        or email address other than the one on record is a 400 under that field (the office
        keeps them: call it); so is any field not on the profile. All or nothing: a refused
        change saves none of the others."""
        profile = self.get_serializer(self.get_object(), data=request.data, partial=True)
        profile.is_valid(raise_exception=True)
        profile.save()
        return Response(self.get_serializer(self.get_object()).data)
