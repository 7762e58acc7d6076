"""A volunteer's calendar link and its feed: /api/v1/me/calendar/ shows the link (made on the
first asking) and .../reset/ replaces it; /calendar/<token>.ics answers iCalendar to a phone's
calendar, which does not sign in."""

import datetime
import hashlib
import io
import re
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils.crypto import salted_hmac
from django.utils.http import urlsafe_base64_encode
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
    response = app.get(LINK)
    assert response.status_code == 200, response.content
    return response.json()


def token_of(url):
    return path_of(url).removeprefix("/calendar/").removesuffix(".ics")


def fetch(client, url, **extra):
    return client.get(path_of(url), **extra)


def events_of(response):
    assert response.status_code == 200, response.content
    return {str(event["UID"]): event for event in Calendar.from_ical(response.content).events}


# The link ---------------------------------------------------------------------------------


def test_the_first_read_makes_the_link_and_every_read_shows_it_again(app, client):
    assert not CalendarFeed.objects.exists()

    first, again = app.get(LINK), app.get(LINK)

    assert first.status_code == again.status_code == 200
    assert first["Cache-Control"] == again["Cache-Control"] == "no-store"
    assert first.json() == again.json()
    assert CalendarFeed.objects.count() == 1
    assert fetch(client, first.json()["url"]).status_code == 200


def test_the_link_is_answered_in_both_forms(app):
    link = make_link(app)

    assert set(link) == {"url", "webcal_url", "created_at"}
    assert re.fullmatch(r"http://testserver/calendar/[A-Za-z0-9_-]{43}\.ics", link["url"])
    assert link["webcal_url"] == "webcal://" + link["url"].removeprefix("http://")
    assert link["created_at"] == "2026-06-01T10:00:00+01:00"


def test_the_link_is_shown_the_same_on_a_new_phone_the_next_day(app, volunteer, frozen):
    link = make_link(app)
    frozen.move_to(NOW + datetime.timedelta(days=1), tick=False)

    assert signed_in(volunteer.user).get(LINK).json() == link


def test_over_https_the_link_is_https(app):
    link = app.get(LINK, secure=True).json()

    assert link["url"].startswith("https://testserver/calendar/")
    assert link["webcal_url"].startswith("webcal://testserver/calendar/")


def test_there_is_no_post_to_make_a_link(app, client):
    link = make_link(app)

    response = app.post(LINK)

    assert response.status_code == 405
    assert app.get(LINK).json() == link
    assert fetch(client, link["url"]).status_code == 200


def test_reset_replaces_the_link_and_the_old_one_is_gone_at_once(app, client):
    old = make_link(app)

    response = app.post(RESET)

    assert response.status_code == 200
    new = response.json()
    assert new["url"] != old["url"]
    assert fetch(client, old["url"]).status_code == 404
    assert fetch(client, new["url"]).status_code == 200
    assert app.get(LINK).json() == new
    assert response["Cache-Control"] == "no-store"
    assert CalendarFeed.objects.count() == 1


def test_reset_without_a_link_makes_the_first(app, client):
    response = app.post(RESET)

    assert response.status_code == 200
    assert fetch(client, response.json()["url"]).status_code == 200


def test_reset_takes_no_body(app):
    old = make_link(app)

    response = app.post(RESET, {"token": "mine"}, format="json")

    assert response.status_code == 400
    assert "token" in problem_of(response)["errors"]
    assert app.get(LINK).json() == old


def test_neither_the_token_nor_what_gives_it_without_the_secret_key_is_stored(app, volunteer):
    token = token_of(make_link(app)["url"])
    everything = io.StringIO()

    call_command("dumpdata", stdout=everything)

    assert token not in everything.getvalue()
    feed = volunteer.calendar_feed
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert feed.nonce in everything.getvalue() and feed.nonce != token
    value = f"{volunteer.pk}:{feed.nonce}"

    def derived(secret):
        mac = salted_hmac("peerpath.calendar-link", value, secret=secret, algorithm="sha256")
        return urlsafe_base64_encode(mac.digest())

    assert derived(settings.SECRET_KEY) == token
    assert derived("a key someone with the database guessed") != token


# Rotating SECRET_KEY -----------------------------------------------------------------------


NEW_KEY = "a new secret key, long and random enough for the tests " * 2


def test_a_rotated_secret_key_keeps_the_link_and_shows_the_same(app, client, volunteer):
    link = make_link(app)
    stored = volunteer.calendar_feed.token_hash

    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]):
        assert signed_in(volunteer.user).get(LINK).json() == link
        assert fetch(client, link["url"]).status_code == 200

    assert CalendarFeed.objects.get().token_hash == stored


def test_once_the_old_key_is_gone_the_link_is_made_again_and_the_old_one_stops(
    app, client, volunteer, frozen
):
    old = make_link(app)
    frozen.move_to(NOW + HOUR, tick=False)

    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
        app = signed_in(volunteer.user)  # the old key's sign-in has gone with it
        new = app.get(LINK).json()

        assert new["url"] != old["url"]
        assert new["created_at"] == "2026-06-01T11:00:00+01:00"
        assert app.get(LINK).json() == new
        assert fetch(client, old["url"]).status_code == 404
        assert fetch(client, new["url"]).status_code == 200
        assert CalendarFeed.objects.count() == 1


# Who may ask for a link --------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url"), [("get", LINK), ("post", RESET)])
def test_anonymous_callers_are_asked_to_sign_in(anonymous_api, method, url):
    response = getattr(anonymous_api, method)(url)

    assert response.status_code == 401
    assert problem_of(response)["code"] == "not_authenticated"
    assert not CalendarFeed.objects.exists()


@pytest.mark.parametrize(("method", "url"), [("get", LINK), ("post", RESET)])
def test_a_coordinator_has_no_calendar_link_of_their_own(api, method, url):
    response = getattr(api, method)(url)

    assert response.status_code == 403
    assert problem_of(response)["code"] == "not_a_volunteer"
    assert not CalendarFeed.objects.exists()


def test_a_sign_in_without_a_volunteer_is_refused(db):
    response = signed_in(UserFactory()).get(LINK)

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
    assert token_of(old["url"]) not in was_reset.content.decode()


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
    # Leaving signs them out of the app too, so asking for a link again is not signed in.
    for asking in (app.get(LINK), app.post(RESET)):
        assert asking.status_code == 401
    assert not CalendarFeed.objects.exists()


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
