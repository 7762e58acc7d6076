"""/api/v1/me/sessions/: a volunteer's own sessions, confirming and declining them, ETags."""

import datetime
import json
from collections import Counter

import django_filters
import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from api.me_sessions import MySessionFilter
from matching import services
from matching.models import FollowUp, Match, Session
from messaging.models import Message
from messaging.services import record_opt_out
from peers.models import Peer
from tests.api.conftest import problem_of
from tests.factories import AppVolunteerUserFactory, MatchFactory, SessionFactory, VolunteerFactory
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/me/sessions/"
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
ROW_FIELDS = {
    "id",
    "match",
    "starts_at",
    "ends_at",
    "mode",
    "place",
    "status",
    "confirmation_state",
    "hours",
    "peer_name",
    "can_confirm",
    "can_decline",
}


def app_for(volunteer):
    client = APIClient()
    client.force_login(volunteer.user)
    return client


@pytest.fixture
def aileen(db):
    return VolunteerFactory(
        preferred_name="Aileen", sms_consent=True, user=AppVolunteerUserFactory()
    )


@pytest.fixture
def app(aileen):
    return app_for(aileen)


@pytest.fixture
def match(aileen):
    return MatchFactory(
        active=True,
        volunteer=aileen,
        peer__preferred_name="Jamie",
        peer__full_name="Jamie Quarrier",
    )


def at(days, hour=14):
    return (timezone.now() + days * DAY).replace(hour=hour, minute=0, second=0, microsecond=0)


def session_of(match, days, **fields):
    starts = at(days)
    return SessionFactory(match=match, starts_at=starts, ends_at=starts + HOUR, **fields)


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def detail(session):
    return f"{SESSIONS}{session.pk}/"


# Reading ----------------------------------------------------------------------------------


def test_a_row_names_the_peer_by_first_name_only(app, match):
    session = session_of(match, 2)

    response = app.get(detail(session))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == ROW_FIELDS
    assert body["peer_name"] == "Jamie"
    assert body["confirmation_state"] == "not_reminded_yet"
    assert body["can_confirm"] is True and body["can_decline"] is True
    text = response.content.decode()
    peer = match.peer
    for secret in ("Quarrier", peer.reference, str(peer.phone), peer.notes or "P-"):
        assert secret not in text


def test_the_list_covers_every_match_of_theirs_ended_ones_included_and_no_one_elses(
    app, aileen, match
):
    ended = MatchFactory(active=True, volunteer=aileen)
    old = session_of(ended, -30)
    Match.objects.filter(pk=ended.pk).update(status=Match.Status.ENDED, ended_on=at(-10).date())
    mine = session_of(match, 2)
    session_of(MatchFactory(active=True), 2)  # someone else's

    assert sorted(ids(app.get(SESSIONS))) == sorted([old.pk, mine.pk])


def test_upcoming_is_soonest_first_and_past_most_recent_first(app, match):
    later, sooner = session_of(match, 5), session_of(match, 2)
    long_ago, lately = session_of(match, -9), session_of(match, -2)
    cancelled = session_of(match, 3, status=Session.Status.CANCELLED)

    assert ids(app.get(SESSIONS, {"when": "upcoming"})) == [sooner.pk, cancelled.pk, later.pk]
    assert ids(app.get(SESSIONS, {"when": "past"})) == [lately.pk, long_ago.pk]
    assert ids(app.get(SESSIONS)) == [later.pk, cancelled.pk, sooner.pk, lately.pk, long_ago.pk]


def test_a_session_under_way_is_upcoming(app, match):
    starts = timezone.now() - 10 * datetime.timedelta(minutes=1)
    under_way = SessionFactory(match=match, starts_at=starts, ends_at=starts + HOUR)

    assert ids(app.get(SESSIONS, {"when": "upcoming"})) == [under_way.pk]
    assert ids(app.get(SESSIONS, {"when": "past"})) == []


def test_a_date_range_keeps_the_sessions_starting_within_it(app, match):
    session_of(match, 2)
    inside = session_of(match, 6)
    session_of(match, 10)

    found = app.get(
        SESSIONS,
        {"starts_after": at(5).date().isoformat(), "starts_before": at(7).date().isoformat()},
    )

    assert ids(found) == [inside.pk]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"when": "soon"}, "when"),
        ({"when": ""}, "when"),
        ({"starts_after": "yesterday"}, "starts_after"),
        ({"starts_after": "2026-05-10", "starts_before": "2026-05-01"}, "starts_before"),
        ({"peer": "1"}, "peer"),
        ({"search": "Jamie"}, "search"),
        ({"ordering": "starts_at"}, "ordering"),
        ({"page_size": "500"}, "page_size"),
    ],
)
def test_bad_parameters_are_a_400_under_their_name(app, match, params, field):
    response = app.get(SESSIONS, params)

    assert response.status_code == 400
    assert field in problem_of(response)["errors"]


def test_the_list_takes_as_many_queries_for_fifty_sessions_as_for_one(app, match):
    session_of(match, 1)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert app.get(SESSIONS, {"page_size": 100}).status_code == 200
        return len(captured)

    one = queries()
    for day in range(2, 51):
        session_of(match, day)
    assert len(ids(app.get(SESSIONS, {"page_size": 100}))) == 50
    assert queries() == one


def test_a_page_makes_one_record_a_session_and_reads_the_peers_name_as_a_value(app, match):
    for day in range(1, 6):
        session_of(match, day)
    made = Counter()

    def count(sender, **kwargs):
        made[sender] += 1

    post_init.connect(count)
    try:
        rows = app.get(SESSIONS, {"page_size": 100}).json()["results"]
    finally:
        post_init.disconnect(count)

    assert {row["peer_name"] for row in rows} == {match.peer.preferred_name}
    assert made[Session] == 5
    assert made[Match] == made[Peer] == 0


def test_someone_elses_session_is_a_404_to_read_and_to_answer(app):
    theirs = session_of(MatchFactory(active=True), 2)

    assert problem_of(app.get(detail(theirs)))["status"] == 404
    for verb in ("confirm", "decline"):
        response = app.post(f"{detail(theirs)}{verb}/")
        assert response.status_code == 404, verb
    theirs.refresh_from_db()
    assert theirs.status == Session.Status.SCHEDULED
    assert not FollowUp.objects.exists()


def test_only_a_volunteer_of_their_own_gets_in(match, coordinator):
    session = session_of(match, 2)
    assert APIClient().get(SESSIONS).status_code == 401
    office = APIClient()
    office.force_login(coordinator)
    refused = office.get(detail(session))
    assert refused.status_code == 403
    assert problem_of(refused)["code"] == "not_a_volunteer"


# Confirming and declining -----------------------------------------------------------------


def test_confirming_answers_with_the_session_as_the_list_shows_it(app, match):
    session = session_of(match, 2)

    response = app.post(f"{detail(session)}confirm/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body == app.get(detail(session)).json()
    assert body["status"] == "confirmed" and body["confirmation_state"] == "confirmed"
    assert body["can_confirm"] is False and body["can_decline"] is True
    assert response["ETag"] == app.get(detail(session))["ETag"]


def test_confirming_twice_is_a_409_that_says_it_is_already_confirmed(app, match):
    session = session_of(match, 2)
    app.post(f"{detail(session)}confirm/")

    again = app.post(f"{detail(session)}confirm/")

    assert again.status_code == 409
    assert "already confirmed" in problem_of(again)["detail"]


@pytest.mark.parametrize("verb", ["confirm", "decline"])
def test_a_cancelled_session_cannot_be_answered(app, match, verb):
    session = session_of(match, 2)
    services.cancel_session(session, reason="Jamie is unwell.")

    response = app.post(f"{detail(session)}{verb}/")

    assert response.status_code == 409
    assert "cancelled" in problem_of(response)["detail"]
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED


@pytest.mark.parametrize("verb", ["confirm", "decline"])
def test_a_session_that_has_started_cannot_be_answered(app, match, verb):
    starts = timezone.now() - datetime.timedelta(minutes=5)
    session = SessionFactory(match=match, starts_at=starts, ends_at=starts + HOUR)
    assert app.get(detail(session)).json()["can_confirm"] is False

    response = app.post(f"{detail(session)}{verb}/")

    assert response.status_code == 409
    assert problem_of(response)["code"] == "session_started"


def _settle(session, status):
    if status == "declined":
        services.decline_session(session)
    elif status == "confirmed":
        services.confirm_session(session)
    elif status == "cancelled":
        services.cancel_session(session)
    elif status == "completed":
        Session.objects.filter(pk=session.pk).update(status=status, hours=1)


@pytest.mark.parametrize(
    ("status", "verb", "code", "says"),
    [
        ("confirmed", "confirm", "already_in_status", "is already confirmed; nothing was changed."),
        ("declined", "decline", "already_in_status", "is already declined; nothing was changed."),
        ("declined", "confirm", "invalid_transition", "the office will be in touch"),
        ("cancelled", "confirm", "final_status", "is cancelled; there is nothing to confirm."),
        ("cancelled", "decline", "final_status", "is cancelled; there is nothing to decline."),
        ("completed", "decline", "final_status", "has taken place; there is nothing to decline."),
        ("started", "confirm", "session_started", "it is too late to confirm it."),
    ],
)
def test_a_refused_answer_is_said_to_the_volunteer_about_their_session_and_no_one_else(
    app, match, status, verb, code, says
):
    if status == "started":
        starts = timezone.now() - datetime.timedelta(minutes=5)
        session = SessionFactory(match=match, starts_at=starts, ends_at=starts + HOUR)
    else:
        session = session_of(match, 2)
        _settle(session, status)
    when = timezone.localtime(session.starts_at)

    problem = problem_of(app.post(f"{detail(session)}{verb}/"))

    assert problem["status"] == 409
    assert problem["code"] == code
    assert problem["detail"].startswith(f"Your session on {when:%-d %B %Y at %H:%M} ")
    assert says in problem["detail"]
    for office_word in (match.peer.reference, "Quarrier", "Aileen", "schedule a new session"):
        assert office_word not in problem["detail"]


def test_declining_twice_is_a_409_and_raises_one_follow_up(app, match):
    session = session_of(match, 2)
    assert app.post(f"{detail(session)}decline/").status_code == 200

    again = app.post(f"{detail(session)}decline/")

    assert again.status_code == 409
    assert "already declined" in problem_of(again)["detail"]
    assert FollowUp.objects.filter(session=session).count() == 1


def test_a_declined_session_cannot_be_confirmed_until_the_office_moves_it(app, match):
    session = session_of(match, 2)
    app.post(f"{detail(session)}decline/")

    assert app.get(detail(session)).json()["can_confirm"] is False
    assert app.post(f"{detail(session)}confirm/").status_code == 409


def test_the_decline_note_reaches_the_office_in_the_follow_up(app, match):
    session = session_of(match, 2)

    response = app.post(
        f"{detail(session)}decline/", {"note": "  I have a hospital\nappointment. "}
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "declined"
    follow_up = FollowUp.objects.get(session=session, kind=FollowUp.Kind.SESSION_DECLINED)
    assert "(“I have a hospital appointment.”)" in follow_up.summary
    assert follow_up.summary.startswith("Aileen cannot make their session with")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"note": "Sorry \u202eyako"}, "note"),
        ({"note": "Sorry\x00"}, "non_field_errors"),  # the parser refuses NUL anywhere
        ({"note": "x" * 161}, "note"),
        ({"note": 7}, "note"),
        ({"note": "fine", "reason": "extra"}, "reason"),
        ({"status": "confirmed"}, "status"),
    ],
)
def test_a_bad_decline_body_is_a_400_and_nothing_changes(app, match, body, field):
    session = session_of(match, 2)

    response = app.post(f"{detail(session)}decline/", body)

    assert response.status_code == 400
    assert field in problem_of(response)["errors"]
    session.refresh_from_db()
    assert session.status == Session.Status.SCHEDULED
    assert not FollowUp.objects.exists()


def test_confirm_takes_no_body(app, match):
    session = session_of(match, 2)

    response = app.post(f"{detail(session)}confirm/", {"note": "see you"})

    assert response.status_code == 400
    session.refresh_from_db()
    assert session.status == Session.Status.SCHEDULED


def test_answering_in_the_app_settles_the_sms_reminder(app, match):
    session = session_of(match, 1)
    reminder = Message.objects.create(
        direction=Message.Direction.OUTBOUND,
        status=Message.Status.SENT,
        to_number=match.volunteer.phone,
        body="Reply YES or NO",
        reply_handler="matching.session_reminder",
        question_open=True,
        reply_expires_at=session.starts_at,
        context={"session_id": session.pk, "starts_at": session.starts_at.isoformat()},
    )
    Session.objects.filter(pk=session.pk).update(reminder=reminder)
    assert app.get(detail(session)).json()["confirmation_state"] == "awaiting_reply"

    app.post(f"{detail(session)}confirm/")

    reminder.refresh_from_db()
    assert reminder.question_open is False


# ETags ------------------------------------------------------------------------------------


def test_the_list_and_a_session_carry_strong_etags_and_answer_304_while_unchanged(app, match):
    session = session_of(match, 2)
    listed, read = app.get(SESSIONS), app.get(detail(session))
    for response, url in ((listed, SESSIONS), (read, detail(session))):
        tag = response["ETag"]
        assert tag.startswith('"') and tag.endswith('"')
        assert "private" in response["Cache-Control"]

        again = app.get(url, HTTP_IF_NONE_MATCH=tag)
        assert again.status_code == 304
        assert again.content == b""
        assert again["ETag"] == tag
        assert app.get(url, HTTP_IF_NONE_MATCH=f"W/{tag}").status_code == 304
        assert app.get(url, HTTP_IF_NONE_MATCH=f'"other", {tag}').status_code == 304
        assert app.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_the_304_of_the_list_costs_two_queries_fewer_than_the_full_answer(app, match):
    for day in range(1, 30):
        session_of(match, day)
    tag = app.get(SESSIONS)["ETag"]

    with CaptureQueriesContext(connection) as full:
        app.get(SESSIONS)
    with CaptureQueriesContext(connection) as cheap:
        assert app.get(SESSIONS, HTTP_IF_NONE_MATCH=tag).status_code == 304

    # The count, the page's versions and the texting state are one query, where the full
    # answer reads the count, the page and the opt-out each on its own.
    assert len(cheap) == len(full) - 2


def test_an_empty_list_has_a_tag_too_and_answers_304_until_a_session_comes(app, match):
    tag = app.get(SESSIONS)["ETag"]

    assert app.get(SESSIONS, HTTP_IF_NONE_MATCH=tag).status_code == 304
    session_of(match, 2)
    assert app.get(SESSIONS, HTTP_IF_NONE_MATCH=tag).status_code == 200


@pytest.mark.parametrize(
    ("page", "status", "says"),
    [("9", 404, "There is no page 9"), ("x", 400, "is not a page number"), ("0", 400, "from 1")],
)
def test_a_page_that_is_not_one_is_refused_as_without_if_none_match(app, match, page, status, says):
    session_of(match, 2)
    tag = app.get(SESSIONS)["ETag"]

    response = app.get(SESSIONS, {"page": page}, HTTP_IF_NONE_MATCH=tag)

    assert response.status_code == status
    assert says in json.dumps(response.json())


def test_a_page_has_another_tag_than_the_next_page_and_another_query(app, match):
    for day in range(1, 4):
        session_of(match, day)

    tags = {
        app.get(SESSIONS, params)["ETag"]
        for params in ({}, {"page_size": 1}, {"page_size": 1, "page": 2}, {"when": "upcoming"})
    }

    assert len(tags) == 4


SHAPES = [
    {},
    {"when": "upcoming"},
    {"when": "past"},
    {"page_size": 2, "page": 2},
    {"when": "upcoming", "starts_after": "TODAY"},
    {"starts_before": "TODAY"},
    {"when": "past", "starts_after": "LAST_WEEK", "starts_before": "TODAY", "page_size": 1},
]


def dated(params):
    days = {"TODAY": timezone.localdate(), "LAST_WEEK": timezone.localdate() - 7 * DAY}
    return {name: str(days.get(value, value)) for name, value in params.items()}


@pytest.mark.parametrize("params", SHAPES)
def test_every_kind_of_page_answers_304_with_its_own_tag_and_200_once_it_changes(
    app, match, params
):
    sessions = [session_of(match, days) for days in (-9, -5, -2, 1, 3, 8)]
    params = dated(params)
    full = app.get(SESSIONS, params)
    assert full.status_code == 200, full.content
    assert full.json()["results"], "every shape here lists a session"

    assert app.get(SESSIONS, params, HTTP_IF_NONE_MATCH=full["ETag"]).status_code == 304
    listed = Session.objects.get(pk=full.json()["results"][0]["id"])
    Session.objects.filter(pk=listed.pk).update(place="The Time Capsule, Coatbridge")
    changed = app.get(SESSIONS, params, HTTP_IF_NONE_MATCH=full["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != full["ETag"]
    assert changed.json()["results"][0]["place"] == "The Time Capsule, Coatbridge"
    assert {session.pk for session in sessions} >= set(ids(changed))


def test_the_tag_query_knows_every_filter_of_the_list():
    """page_tag_query applies `when` and the date filters; a filter it did not know of would
    leave pages tagged as unfiltered (a 304 for a page that changed)."""
    assert set(MySessionFilter.base_filters) == {"when", "starts_after", "starts_before"}
    assert all(
        isinstance(MySessionFilter.base_filters[name], django_filters.DateFilter)
        for name in ("starts_after", "starts_before")
    )


def test_a_304_compiles_no_query_of_sessions_once_its_kind_of_page_has_been_asked_for(
    app, match, monkeypatch
):
    session_of(match, 2)
    params = {"when": "upcoming", "page_size": 3}
    tag = app.get(SESSIONS, params)["ETag"]
    app.get(SESSIONS, params, HTTP_IF_NONE_MATCH=tag)
    compiled = []
    as_sql = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler,
        "as_sql",
        lambda self, *a, **k: compiled.append(self.query.model) or as_sql(self, *a, **k),
    )

    assert app.get(SESSIONS, params, HTTP_IF_NONE_MATCH=tag).status_code == 304

    assert Session not in compiled


def test_another_volunteers_304_is_read_with_their_own_values(app, match):
    """The compiled page query is shared by every volunteer: only its values differ."""
    session_of(match, 2)
    other = MatchFactory(active=True, volunteer__user=AppVolunteerUserFactory())
    session_of(other, 2)
    theirs = app_for(other.volunteer)
    mine, their_tag = app.get(SESSIONS)["ETag"], theirs.get(SESSIONS)["ETag"]

    assert mine != their_tag
    assert theirs.get(SESSIONS, HTTP_IF_NONE_MATCH=mine).status_code == 200
    assert theirs.get(SESSIONS, HTTP_IF_NONE_MATCH=their_tag).status_code == 304


def test_the_tag_changes_with_anything_the_row_shows(app, match):
    session = session_of(match, 2)
    other = session_of(match, 6)

    def tags():
        return app.get(SESSIONS)["ETag"], app.get(detail(session))["ETag"]

    seen = [tags()]
    services.reschedule_session(
        session, starts_at=at(3), ends_at=at(3) + HOUR, mode="in_person", place="The cafe"
    )
    seen.append(tags())
    # A reminder tied by the schedule's pass (an UPDATE that leaves updated_at alone).
    reminder = Message.objects.create(
        direction=Message.Direction.OUTBOUND,
        status=Message.Status.SENT,
        to_number=match.volunteer.phone,
        body="Reply YES or NO",
    )
    Session.objects.filter(pk=session.pk).update(reminder=reminder)
    assert app.get(detail(session)).json()["confirmation_state"] == "awaiting_reply"
    seen.append(tags())
    Message.objects.filter(pk=reminder.pk).update(status=Message.Status.FAILED)
    assert app.get(detail(session)).json()["confirmation_state"] == "cannot_text"
    seen.append(tags())
    match.peer.preferred_name = "Jay"
    match.peer.save()
    seen.append(tags())
    services.confirm_session(other)
    list_tag, session_tag = tags()
    assert session_tag == seen[-1][1]  # another row changed, not this one
    seen.append((list_tag, session_tag))

    assert len({pair[0] for pair in seen}) == len(seen)
    assert len({pair[1] for pair in seen[:-1]}) == len(seen) - 1


def test_the_tag_changes_when_the_volunteer_opts_out_of_texts(app, aileen, match):
    session = session_of(match, 2)
    listed, read = app.get(SESSIONS)["ETag"], app.get(detail(session))["ETag"]

    record_opt_out(aileen.phone, word="STOP")

    assert app.get(detail(session)).json()["confirmation_state"] == "cannot_text"
    assert app.get(SESSIONS, HTTP_IF_NONE_MATCH=listed).status_code == 200
    assert app.get(detail(session), HTTP_IF_NONE_MATCH=read).status_code == 200


def test_an_opt_out_is_found_whatever_form_the_number_was_written_in(app, aileen, match):
    session = session_of(match, 2)
    read = app.get(detail(session))["ETag"]
    national = "0" + aileen.phone.as_e164.removeprefix("+44")

    record_opt_out(national, word="STOP")

    assert app.get(detail(session)).json()["confirmation_state"] == "cannot_text"
    assert app.get(detail(session), HTTP_IF_NONE_MATCH=read).status_code == 200


def test_a_volunteer_without_a_phone_cannot_be_texted_and_their_tags_hold(match):
    Volunteer.objects.filter(pk=match.volunteer_id).update(phone=None)
    app = app_for(match.volunteer)
    session = session_of(match, 2)

    listed, read = app.get(SESSIONS), app.get(detail(session))

    assert read.json()["confirmation_state"] == "cannot_text"
    assert app.get(SESSIONS, HTTP_IF_NONE_MATCH=listed["ETag"]).status_code == 304
    assert app.get(detail(session), HTTP_IF_NONE_MATCH=read["ETag"]).status_code == 304


def test_the_tag_changes_when_the_start_passes(app, match, time_machine):
    session = session_of(match, 2)
    before = app.get(detail(session))["ETag"]

    time_machine.move_to(session.starts_at + datetime.timedelta(minutes=1))

    assert app.get(detail(session), HTTP_IF_NONE_MATCH=before).status_code == 200


def test_a_stale_if_match_is_a_412_and_nothing_changes(app, match):
    session = session_of(match, 2)
    seen = app.get(detail(session))["ETag"]
    services.reschedule_session(
        session, starts_at=at(4), ends_at=at(4) + HOUR, mode="in_person", place="The cafe"
    )

    for verb in ("confirm", "decline"):
        response = app.post(f"{detail(session)}{verb}/", HTTP_IF_MATCH=seen)
        assert response.status_code == 412
        body = problem_of(response)
        assert body["code"] == "precondition_failed"
        assert "changed since you read it" in body["detail"]
    session.refresh_from_db()
    assert session.status == Session.Status.SCHEDULED
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize("header", ["current", "*", None])
def test_a_current_if_match_or_none_lets_the_answer_through(app, match, header):
    session = session_of(match, 2)
    headers = {}
    if header == "current":
        headers["HTTP_IF_MATCH"] = app.get(detail(session))["ETag"]
    elif header:
        headers["HTTP_IF_MATCH"] = header

    response = app.post(f"{detail(session)}confirm/", **headers)

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("header", ["W/{tag}", "{tag}-ish", "garbage", ""])
def test_a_weak_or_malformed_if_match_does_not_match(app, match, header):
    session = session_of(match, 2)
    tag = app.get(detail(session))["ETag"]

    response = app.post(f"{detail(session)}confirm/", HTTP_IF_MATCH=header.format(tag=tag))

    assert response.status_code == 412
