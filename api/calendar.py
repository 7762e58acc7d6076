"""The volunteer's calendar link (/api/v1/me/calendar/) and the feed it opens (/calendar/...).

The link is a private address that a phone's calendar polls without signing in. `GET` shows
it (made on the first asking, the same address every time after, so a new phone subscribes
with it too), and `POST .../reset/` replaces it: the old address answers 404 from that moment.
Its token is never stored (volunteers.calendar_feeds says how it is shown again all the same).
A volunteer who leaves loses theirs.

The feed lives outside /api/v1/: it is iCalendar for calendar apps, not JSON for the app, it
takes no sign-in, and it is not rate-limited per address (Google's and Apple's servers fetch
everyone's calendars from a few addresses; a 256-bit token cannot be guessed anyway). A token
that was replaced, revoked, never made or belongs to a volunteer who left gets the same 404,
byte for byte, by the same path: one lookup by hash.
"""

import hashlib

from django.http import HttpResponse, HttpResponseNotFound
from django.http.request import split_domain_port
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_safe
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api import fields, problems
from api.matches import read_nothing
from api.permissions import IsVolunteer
from api.schema import EXAMPLE_ORIGIN, ProblemSerializer
from api.views import AtomicWrites, ThrottleBeforePermissions
from matching.calendar import calendar_of
from volunteers import calendar_feeds

CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"
# Calendars ask again each time (and get a 304 when nothing changed); no shared cache keeps
# a copy of anyone's schedule.
FEED_CACHE_CONTROL = "private, no-cache"
NOT_FOUND = b"There is no calendar at this address.\n"

EXAMPLE_FEED = "/calendar/q3Xb8mR0c9kP2vLwT5yZ1nH6sJ4fA7dE0gU8iO3pQ2w.ics"
LINK_EXAMPLE = {
    "url": EXAMPLE_ORIGIN + EXAMPLE_FEED,
    "webcal_url": "webcal://" + EXAMPLE_ORIGIN.split("://", 1)[1] + EXAMPLE_FEED,
    "created_at": "2026-05-11T10:40:00+01:00",
}


class CalendarLinkSerializer(serializers.Serializer):
    """Your calendar link, in the two forms calendars take. It stays the same until you reset
    it (or leave)."""

    url = serializers.URLField(
        read_only=True,
        help_text="The feed's address (https, on the live service), for calendars that "
        "subscribe to a web address (Google Calendar's 'From URL', Outlook). It answers "
        "text/calendar without signing in: keep it private.",
    )
    webcal_url = serializers.URLField(
        read_only=True,
        help_text="The same address as webcal://, which a phone opens straight in its "
        "calendar app to subscribe.",
    )
    created_at = fields.DateTimeField(
        read_only=True, help_text="When this address was made (by the first asking or a reset)."
    )


def _problem(status, description, detail, code, **extra):
    body = problems.problem(status, detail, code=code, **extra)
    example = OpenApiExample(str(status), value=body, status_codes=[str(status)])
    return OpenApiResponse(ProblemSerializer, description, [example])


NOT_A_VOLUNTEER = _problem(
    403,
    "Signed in, but not as a volunteer who is still with the office.",
    "Your volunteer record is closed, so the app has nothing for you now. If you are coming "
    "back, call the office.",
    "volunteer_left",
)


def _link(request, token, feed):
    url = request.build_absolute_uri(reverse("calendar-feed", kwargs={"token": token}))
    webcal_url = "webcal://" + url.split("://", 1)[1]
    link = {"url": url, "webcal_url": webcal_url, "created_at": feed.created_at}
    return CalendarLinkSerializer(link).data


def _private(response):
    response["Cache-Control"] = "no-store"
    return response


@extend_schema_view(
    retrieve=extend_schema(
        responses={200: CalendarLinkSerializer, (403, problems.CONTENT_TYPE): NOT_A_VOLUNTEER}
    )
)
class CalendarLinkViewSet(AtomicWrites, ThrottleBeforePermissions, viewsets.GenericViewSet):
    """Your private calendar link: an address your phone's calendar subscribes to, showing
    your sessions (the last 90 days and all to come) and keeping up as they change. Sessions
    name the person you meet by first name only and say nothing of what they are about."""

    permission_classes = [IsVolunteer]
    serializer_class = CalendarLinkSerializer
    summaries = {
        "retrieve": "Read my calendar link",
        "reset": "Replace my calendar link",
    }
    example = LINK_EXAMPLE

    def retrieve(self, request):
        """Your calendar link, made the first time you ask and the same every time after,
        so each of your devices can subscribe with it."""
        token, feed = calendar_feeds.link(volunteer=request.volunteer)
        return _private(Response(_link(request, token, feed)))

    @extend_schema(
        operation_id="me_calendar_reset",
        request=None,
        responses={200: CalendarLinkSerializer, (403, problems.CONTENT_TYPE): NOT_A_VOLUNTEER},
    )
    @action(detail=False, methods=["post"])
    def reset(self, request):
        """A new calendar link in place of your old one (or your first). The old address
        stops working at once: subscribe again with the new one on each device."""
        read_nothing(request)
        token, feed = calendar_feeds.reset(volunteer=request.volunteer)
        return _private(Response(_link(request, token, feed)))


@require_safe
def feed(request, token):
    """GET /calendar/<token>.ics: the volunteer's sessions as text/calendar, or a 404."""
    volunteer = calendar_feeds.volunteer_for(token)
    if volunteer is None:
        response = HttpResponseNotFound(NOT_FOUND, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = FEED_CACHE_CONTROL
        return response
    domain, _ = split_domain_port(request.get_host())
    body = calendar_of(volunteer, domain=domain or "localhost")
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    response = HttpResponse(body, content_type=CALENDAR_CONTENT_TYPE)
    response["ETag"] = etag
    response["Cache-Control"] = FEED_CACHE_CONTROL
    response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    return get_conditional_response(request, etag=etag, response=response)
