"""A volunteer's calendar link and its feed: /api/v1/me/calendar/ makes, shows and resets the
link; /calendar/<token>.ics answers iCalendar to a phone's calendar, which does not sign in."""

import datetime
import hashlib
import io
import re
from urllib.parse import quote

import pytest
from django.core.management import call_command
from icalendar import Calendar
from rest_framework.test import APIClient

from matching import services as matching_services
from matching.calendar import PAST_DAYS
from tests.api.conftest import problem_of
from tests.factories import (
    AppVolunteerUserFactory,
    MatchFactory,
    SessionFactory,
    UserFactory,
    VolunteerFactory,
)
from tests.matching.test_peer_texts import NEVER
from volunteers.models import CalendarFeed, Volunteer
from volunteers.services import change_volunteer_status

pytestmark = pytest.mark.django_db

LINK = "/api/v1/me/calendar/"
RESET = "/api/v1/me/calendar/reset/"
UTC = datetime.UTC
NOW = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # London is on BST
SUMMER = datetime.datetime(2026, 7, 14, 13, 0, tzinfo=UTC)  # 14:00 in London (BST)
WINTER = datetime.datetime(2026, 12, 14, 14, 0, tzinfo=UTC)  # 14:00 in London (GMT)
HOUR = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def volunteer():
    return VolunteerFactory(
        preferred_name="Aileen", full_name="Aileen MacLeod", user=AppVolunteerUserFactory()
    )


def signed_in(user):
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def app(volunteer):
    """The partner app, signed in as the volunteer."""
    return signed_in(volunteer.user)


def session_of(volunteer, starts_at, *, peer_name="Sam", **fields):
    match = fields.pop("match", None) or MatchFactory(
        active=True,
        volunteer=volunteer,
        peer__preferred_name=peer_name,
        peer__full_name=f"{peer_name} Fotheringham",
    )
    return SessionFactory(match=match, starts_at=starts_at, ends_at=starts_at + HOUR, **fields)


def path_of(url):
    return re.sub(r"^[a-z]+://[^/]+", "", url)


def make_link(app):
    response = app.post(LINK)
    assert response.status_code == 201, response.content
    return response.json()


def fetch(client, url, **extra):
    return client.get(path_of(url), **extra)


def events_of(response):
    assert response.status_code == 200, response.content
    return {str(event["UID"]): event for event in Calendar.from_ical(response.content).events}


# The link ---------------------------------------------------------------------------------


def test_before_any_link_the_app_is_told_there_is_none(app):
    response = app.get(LINK)

    assert response.status_code == 200
    assert response.json() == {"exists": False, "created_at": None}
    assert response["Cache-Control"] == "no-store"


def test_a_new_link_is_answered_in_both_forms_and_only_then(app):
    link = make_link(app)

    assert re.fullmatch(r"http://testserver/calendar/[A-Za-z0-9_-]{43}\.ics", link["url"])
    assert link["webcal_url"] == "webcal://" + link["url"].removeprefix("http://")
    assert link["created_at"] == "2026-06-01T10:00:00+01:00"
    assert app.get(LINK).json() == {"exists": True, "created_at": "2026-06-01T10:00:00+01:00"}


def test_over_https_the_link_is_https(app):
    link = app.post(LINK, secure=True).json()

    assert link["url"].startswith("https://testserver/calendar/")
    assert link["webcal_url"].startswith("webcal://testserver/calendar/")


def test_a_second_link_is_refused_and_the_first_keeps_working(app, client):
    first = make_link(app)

    response = app.post(LINK)

    assert response.status_code == 409
    problem = problem_of(response)
    assert problem["code"] == "calendar_link_exists"
    assert "reset" in problem["detail"]
    assert fetch(client, first["url"]).status_code == 200
    assert CalendarFeed.objects.count() == 1


def test_reset_replaces_the_link_and_the_old_one_is_gone_at_once(app, client):
    old = make_link(app)

    response = app.post(RESET)

    assert response.status_code == 200
    new = response.json()
    assert new["url"] != old["url"]
    assert fetch(client, old["url"]).status_code == 404
    assert fetch(client, new["url"]).status_code == 200
    assert CalendarFeed.objects.count() == 1


def test_reset_without_a_link_makes_the_first(app, client):
    response = app.post(RESET)

    assert response.status_code == 200
    assert fetch(client, response.json()["url"]).status_code == 200


@pytest.mark.parametrize("url", [LINK, RESET])
def test_making_a_link_takes_no_body(app, url):
    response = app.post(url, {"token": "mine"}, format="json")

    assert response.status_code == 400
    assert "token" in problem_of(response)["errors"]
    assert not CalendarFeed.objects.exists()


def test_only_the_tokens_hash_is_stored(app, volunteer):
    token = path_of(make_link(app)["url"]).removeprefix("/calendar/").removesuffix(".ics")
    everything = io.StringIO()

    call_command("dumpdata", stdout=everything)

    assert token not in everything.getvalue()
    assert volunteer.calendar_feed.token_hash == hashlib.sha256(token.encode()).hexdigest()


# Who may ask for a link --------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url"), [("get", LINK), ("post", LINK), ("post", RESET)])
def test_anonymous_callers_are_asked_to_sign_in(anonymous_api, method, url):
    response = getattr(anonymous_api, method)(url)

    assert response.status_code == 401
    assert problem_of(response)["code"] == "not_authenticated"
    assert not CalendarFeed.objects.exists()


@pytest.mark.parametrize(("method", "url"), [("get", LINK), ("post", LINK), ("post", RESET)])
def test_a_coordinator_has_no_calendar_link_of_their_own(api, method, url):
    response = getattr(api, method)(url)

    assert response.status_code == 403
    assert problem_of(response)["code"] == "not_a_volunteer"


def test_a_sign_in_without_a_volunteer_is_refused(db):
    response = signed_in(UserFactory()).post(LINK)

    assert response.status_code == 403
    assert problem_of(response)["code"] == "not_a_volunteer"


# The feed ----------------------------------------------------------------------------------


def test_the_feed_has_one_event_per_session_in_london_time_across_the_clock_change(
    app, client, volunteer
):
    summer = session_of(volunteer, SUMMER, place="Coatbridge library")
    winter = session_of(volunteer, WINTER, match=summer.match)
    link = make_link(app)

    response = fetch(client, link["url"])

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    events = events_of(response)
    assert set(events) == {
        f"meeting-{summer.pk}@testserver",
        f"meeting-{winter.pk}@testserver",
    }
    for session in (summer, winter):
        event = events[f"meeting-{session.pk}@testserver"]
        assert event["DTSTART"].params["TZID"] == "Europe/London"
        assert event["DTEND"].params["TZID"] == "Europe/London"
        assert event.start.hour == 14
        assert event.start == session.starts_at
        assert str(event["SUMMARY"]) == "Meeting Sam"
        assert str(event["LOCATION"]) == "Coatbridge library"
    assert b"TZID:Europe/London" in response.content  # the VTIMEZONE that defines it
    assert b"DTSTART;TZID=Europe/London:20260714T140000" in response.content
    assert b"DTSTART;TZID=Europe/London:20261214T140000" in response.content


def test_the_same_url_works_as_webcal_and_https(app, client, volunteer):
    session_of(volunteer, SUMMER)
    link = make_link(app)

    assert path_of(link["webcal_url"]) == path_of(link["url"])
    assert fetch(client, link["url"], secure=True).status_code == 200


def test_a_rescheduled_session_keeps_its_uid_and_says_it_changed(app, client, volunteer, frozen):
    session = session_of(volunteer, SUMMER)
    link = make_link(app)
    uid = f"meeting-{session.pk}@testserver"
    before = events_of(fetch(client, link["url"]))[uid]
    frozen.move_to(NOW + HOUR, tick=False)

    matching_services.reschedule_session(
        session, starts_at=SUMMER + 2 * HOUR, ends_at=SUMMER + 3 * HOUR
    )

    after = events_of(fetch(client, link["url"]))
    assert set(after) == {uid}
    assert after[uid].start.hour == 16
    assert after[uid]["LAST-MODIFIED"].dt > before["LAST-MODIFIED"].dt
    assert after[uid]["DTSTAMP"].dt > before["DTSTAMP"].dt
    assert events_of(fetch(client, link["url"]))[uid].to_ical() == after[uid].to_ical()


def test_cancelled_and_declined_sessions_say_so(app, client, volunteer):
    cancelled = session_of(volunteer, SUMMER)
    declined = session_of(volunteer, SUMMER + 4 * HOUR, match=cancelled.match, mode="phone")
    confirmed = session_of(volunteer, WINTER, match=cancelled.match, mode="video", place="")
    matching_services.cancel_session(cancelled, reason="Sam is unwell.")
    matching_services.decline_session(declined)
    matching_services.confirm_session(confirmed)

    events = events_of(fetch(client, make_link(app)["url"]))

    shown = {
        pk: (str(event["STATUS"]), str(event["TRANSP"]), str(event["SUMMARY"]))
        for pk, event in ((int(uid[8:].split("@")[0]), event) for uid, event in events.items())
    }
    assert shown == {
        cancelled.pk: ("CANCELLED", "TRANSPARENT", "Cancelled: Meeting Sam"),
        declined.pk: ("TENTATIVE", "TRANSPARENT", "Declined: Call with Sam"),
        confirmed.pk: ("CONFIRMED", "OPAQUE", "Video call with Sam"),
    }
    assert "LOCATION" not in events[f"meeting-{confirmed.pk}@testserver"]


def test_a_session_still_to_confirm_is_tentative(app, client, volunteer):
    session_of(volunteer, SUMMER)

    (event,) = events_of(fetch(client, make_link(app)["url"])).values()

    assert str(event["STATUS"]) == "TENTATIVE"
    assert str(event["TRANSP"]) == "OPAQUE"


@pytest.mark.parametrize(
    ("peer_name", "shown"),
    [
        ("Sam", "Meeting Sam"),
        ("Mary Jane", "Meeting Mary"),
        ("Sober Sam", "Meeting your contact"),
        ("Peer", "Meeting your contact"),
        ("Recovery", "Meeting your contact"),
        ("PeerPath", "Meeting your contact"),
        ("", "Meeting your contact"),
    ],
)
def test_the_feed_names_no_surname_and_tells_nothing(app, client, volunteer, peer_name, shown):
    session_of(volunteer, SUMMER, peer_name=peer_name, place="Coatbridge library")

    response = fetch(client, make_link(app)["url"])

    (event,) = events_of(response).values()
    assert str(event["SUMMARY"]) == shown
    body = response.content.decode().lower()
    assert "fotheringham" not in body
    assert "macleod" not in body
    told = [word for word in NEVER if word.lower() in body]
    assert told == []


def test_the_feed_holds_only_the_volunteers_own_recent_and_coming_sessions(app, client, volunteer):
    recent = session_of(volunteer, NOW - datetime.timedelta(days=PAST_DAYS - 1))
    session_of(volunteer, NOW - datetime.timedelta(days=PAST_DAYS + 1), match=recent.match)
    coming = session_of(volunteer, NOW + datetime.timedelta(days=400), match=recent.match)
    session_of(VolunteerFactory(), SUMMER)

    events = events_of(fetch(client, make_link(app)["url"]))

    assert set(events) == {f"meeting-{recent.pk}@testserver", f"meeting-{coming.pk}@testserver"}


def test_an_empty_feed_is_still_a_calendar(app, client):
    calendar = Calendar.from_ical(fetch(client, make_link(app)["url"]).content)

    assert calendar.events == []
    assert str(calendar["X-WR-CALNAME"]) == "Volunteering"


def test_the_feed_is_private_and_answers_304_when_nothing_changed(app, client, volunteer, frozen):
    session = session_of(volunteer, SUMMER)
    url = make_link(app)["url"]
    first = fetch(client, url)

    assert first["Cache-Control"] == "private, no-cache"
    again = fetch(client, url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""

    frozen.move_to(NOW + HOUR, tick=False)
    matching_services.confirm_session(session)
    changed = fetch(client, url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


def test_the_feed_takes_the_same_queries_for_one_session_and_fifty(
    app, client, volunteer, django_assert_num_queries
):
    first = session_of(volunteer, SUMMER)
    url = make_link(app)["url"]
    with django_assert_num_queries(2):
        assert len(events_of(fetch(client, url))) == 1
    for day in range(1, 50):
        session_of(volunteer, SUMMER + datetime.timedelta(days=day), match=first.match)
    with django_assert_num_queries(2):
        assert len(events_of(fetch(client, url))) == 50


def test_the_feed_answers_head_and_refuses_writes(app, client, volunteer):
    url = path_of(make_link(app)["url"])

    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405
    assert client.delete(url).status_code == 405


# Addresses that open nothing ---------------------------------------------------------------


def test_a_reset_token_and_one_never_made_get_the_same_answer(app, client):
    old = make_link(app)
    app.post(RESET)
    never = "/calendar/" + "A" * 43 + ".ics"

    was_reset, made_up = fetch(client, old["url"]), client.get(never)

    assert was_reset.status_code == made_up.status_code == 404
    assert was_reset.content == made_up.content
    assert dict(was_reset.items()) == dict(made_up.items())
    assert old["url"].split("/")[-1] not in was_reset.content.decode()


def test_a_reset_token_and_one_never_made_take_the_same_single_lookup(
    app, client, django_assert_num_queries
):
    old = make_link(app)
    app.post(RESET)

    with django_assert_num_queries(1) as was_reset:
        fetch(client, old["url"])
    with django_assert_num_queries(1) as made_up:
        client.get("/calendar/" + "A" * 43 + ".ics")

    assert [q["sql"].split("WHERE")[0] for q in was_reset.captured_queries] == [
        q["sql"].split("WHERE")[0] for q in made_up.captured_queries
    ]


def test_a_volunteer_who_leaves_loses_their_link_at_once(app, client, volunteer):
    session_of(volunteer, SUMMER)
    url = make_link(app)["url"]
    made_up = client.get("/calendar/" + "A" * 43 + ".ics")

    change_volunteer_status(volunteer=volunteer, to=Volunteer.Status.LEFT)

    response = fetch(client, url)
    assert response.status_code == 404
    assert response.content == made_up.content
    assert dict(response.items()) == dict(made_up.items())
    assert not CalendarFeed.objects.exists()
    assert problem_of(app.get(LINK))["code"] == "volunteer_left"


def test_a_volunteer_marked_left_without_the_service_has_no_feed_either(app, client, volunteer):
    """An import or a data fix that sets the status directly still closes the feed."""
    url = make_link(app)["url"]

    Volunteer.objects.filter(pk=volunteer.pk).update(status=Volunteer.Status.LEFT)

    assert fetch(client, url).status_code == 404


def test_a_volunteer_who_pauses_keeps_their_link(app, client, volunteer):
    url = make_link(app)["url"]

    change_volunteer_status(volunteer=volunteer, to=Volunteer.Status.PAUSED)

    assert fetch(client, url).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        "A" * 10_000,
        "%00",
        "abc%00def",
        quote("☃" * 43),
        "%F0%9F%92%A9",
        "%ED%A0%80",  # a lone surrogate, encoded
        "%C0%AF",  # an overlong slash
        "..%5C..%5Cetc",
        "%25",
        ".",
        "'%20OR%201=1--",
    ],
)
def test_hostile_tokens_are_a_plain_404(client, token):
    response = client.get(f"/calendar/{token}.ics")

    assert response.status_code == 404
    assert response.content == b"There is no calendar at this address.\n"
