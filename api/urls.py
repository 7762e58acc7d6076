"""/api/v1/: the resources, the OpenAPI schema and its Swagger UI."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from api import (
    calendar,
    follow_ups,
    matches,
    me,
    me_availability,
    me_hours,
    me_matches,
    me_sessions,
    me_training,
    messages,
    peers,
    problems,
    reference_data,
    sessions,
    volunteers,
    wellbeing,
)


class FormatQueryNegotiation(DefaultContentNegotiation):
    """The schema alone takes `?format=json` (or yaml), so a browser can fetch either form;
    the API's operations choose by the Accept header only (URL_FORMAT_OVERRIDE is off)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return super().select_renderer(
            request, renderers, format_suffix or request.query_params.get("format")
        )


def nested(prefix, viewset, basename):
    """List and detail routes for records under a parent, e.g. volunteers/{id}/absences/."""
    return [
        path(
            f"{prefix}/",
            viewset.as_view({"get": "list", "post": "create"}),
            name=f"{basename}-list",
        ),
        path(
            f"{prefix}/<int:pk>/",
            viewset.as_view(
                {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
            ),
            name=f"{basename}-detail",
        ),
    ]


class Router(DefaultRouter):
    """Records are named by id with Django's int converter, ASCII digits only: Python's int()
    also reads "١" (an Arabic-Indic one) as 1, so a plain pattern let /volunteers/١/ find
    volunteer 1. Reference data is named by slug (its viewsets say so). No `.json` suffixes:
    the Accept header chooses the format."""

    include_format_suffixes = False

    def __init__(self):
        super().__init__(trailing_slash=True, use_regex_path=False)
        self._default_value_pattern = "int"


router = Router()
router.include_root_view = False
router.register("volunteers", volunteers.VolunteerViewSet, basename="volunteer")
router.register("peers", peers.PeerViewSet, basename="peer")
router.register("courses", reference_data.CourseViewSet, basename="course")
router.register("areas", reference_data.AreaViewSet, basename="area")
router.register("languages", reference_data.LanguageViewSet, basename="language")
router.register("focuses", reference_data.FocusViewSet, basename="focus")
router.register("messages", messages.MessageViewSet, basename="message")
router.register("inbox", messages.InboxViewSet, basename="inbox")
router.register("opt-outs", messages.OptOutViewSet, basename="opt-out")
router.register("matches", matches.MatchViewSet, basename="match")
router.register("exclusions", matches.ExclusionViewSet, basename="exclusion")
router.register("sessions", sessions.SessionViewSet, basename="session")
router.register("follow-ups", follow_ups.FollowUpViewSet, basename="follow-up")
router.register("me/sessions", me_sessions.MySessionViewSet, basename="my-session")

app_name = "api"
urlpatterns = [
    path("", include(router.urls)),
    path(
        "me/",
        me.MyProfileViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="my-profile",
    ),
    *nested(
        "volunteers/<int:volunteer_id>/training-records",
        volunteers.TrainingRecordViewSet,
        "volunteer-training-record",
    ),
    *nested(
        "volunteers/<int:volunteer_id>/availability",
        volunteers.AvailabilityViewSet,
        "volunteer-availability",
    ),
    *nested(
        "volunteers/<int:volunteer_id>/absences", volunteers.AbsenceViewSet, "volunteer-absence"
    ),
    path(
        "volunteers/<int:volunteer_id>/wellbeing/",
        wellbeing.WellbeingViewSet.as_view({"get": "list"}),
        name="volunteer-wellbeing",
    ),
    *nested(
        "peers/<int:peer_id>/preferred-times",
        peers.PreferredTimeViewSet,
        "peer-preferred-time",
    ),
    path(
        "peers/<int:peer_id>/suggestions/",
        matches.SuggestionViewSet.as_view({"get": "suggestions"}),
        name="peer-suggestions",
    ),
    path(
        "peers/<int:peer_id>/why-not/<int:volunteer_id>/",
        matches.SuggestionViewSet.as_view({"get": "why_not"}),
        name="peer-why-not",
    ),
    path(
        "waiting-list/assignment/",
        matches.WaitingListViewSet.as_view({"post": "assignment"}),
        name="waiting-list-assignment",
    ),
    # The signed-in volunteer's own availability, absences, training, matches and hours.
    *nested("me/availability", me_availability.MyAvailabilityViewSet, "me-availability"),
    *nested("me/absences", me_availability.MyAbsenceViewSet, "me-absence"),
    path(
        "me/training/",
        me_training.MyTrainingViewSet.as_view({"get": "list"}),
        name="me-training",
    ),
    path("me/matches/", me_matches.MyMatchViewSet.as_view({"get": "list"}), name="me-match-list"),
    path(
        "me/matches/<int:pk>/",
        me_matches.MyMatchViewSet.as_view({"get": "retrieve"}),
        name="me-match-detail",
    ),
    path("me/hours/", me_hours.MyHoursViewSet.as_view({"get": "list"}), name="me-hours"),
    path(
        "me/calendar/",
        calendar.CalendarLinkViewSet.as_view({"get": "retrieve"}),
        name="me-calendar",
    ),
    path(
        "me/calendar/reset/",
        calendar.CalendarLinkViewSet.as_view({"post": "reset"}),
        name="me-calendar-reset",
    ),
    path(
        "schema/",
        SpectacularAPIView.as_view(
            permission_classes=[AllowAny],
            authentication_classes=[],
            content_negotiation_class=FormatQueryNegotiation,
        ),
        name="schema",
    ),
    path(
        "docs/",
        # The split view serves Swagger UI's start-up script from docs/?script rather than
        # inline, so the page works under the CSP (no 'unsafe-inline' for scripts).
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema",
            permission_classes=[AllowAny],
            template_name="api/swagger_ui.html",
        ),
        name="docs",
    ),
    re_path(r"^", problems.nothing_here),
]
