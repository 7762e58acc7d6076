"""/api/v1/follow-ups/: everything that needs a person, for coordinators, handled with a note."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from matching.follow_ups import Kind, Urgency, handle_follow_up, raise_follow_up, raise_for_texts
from matching.models import FollowUp
from messaging import backends, services
from tests.api.conftest import problem_of
from tests.factories import SessionFactory, UserFactory, VolunteerFactory

pytestmark = pytest.mark.django_db

FOLLOW_UPS = "/api/v1/follow-ups/"
PASSWORD = "correct horse battery staple"


def detail(follow_up):
    return f"{FOLLOW_UPS}{follow_up.pk}/"


def handle_url(follow_up):
    return f"{FOLLOW_UPS}{follow_up.pk}/handle/"


def follow_up(cause, *, urgency=Urgency.SOON, kind=Kind.NO_SHOW, summary=None, **subject):
    if not subject:
        subject = {"volunteer": VolunteerFactory()}
    raised, _ = raise_follow_up(
        kind=kind, cause=cause, summary=summary or f"About {cause}", urgency=urgency, **subject
    )
    return raised


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# Who may use it -----------------------------------------------------------------------------


def token_client(user):
    signed_in = APIClient().post(
        "/_allauth/app/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert signed_in.status_code == 200, signed_in.content
    client = APIClient()
    client.credentials(HTTP_X_SESSION_TOKEN=signed_in.json()["meta"]["session_token"])
    return client


@pytest.mark.parametrize("method", ["list", "detail", "handle"])
def test_anonymous_callers_get_401_and_volunteers_and_other_staff_403(method, coordinator):
    chosen = follow_up("a")
    volunteer_user = UserFactory(email="senga@example.org")
    VolunteerFactory(user=volunteer_user)
    staff = APIClient()
    staff.force_login(UserFactory(email="staff@example.org", is_staff=True))
    callers = {
        401: [APIClient()],
        403: [token_client(volunteer_user), staff],
    }
    for status, clients in callers.items():
        for client in clients:
            if method == "list":
                response = client.get(FOLLOW_UPS)
            elif method == "detail":
                response = client.get(detail(chosen))
            else:
                response = client.post(handle_url(chosen), {"note": "x"}, format="json")
            assert problem_of(response)["status"] == status
    chosen.refresh_from_db()
    assert chosen.is_open
    assert token_client(coordinator).get(FOLLOW_UPS).status_code == 200


# The list ----------------------------------------------------------------------------------


def test_open_ones_most_urgent_first_then_the_longest_waiting(api, time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 23, 9, tzinfo=datetime.UTC), tick=False)
    older_soon = follow_up("a")
    time_machine.shift(datetime.timedelta(hours=1))
    routine = follow_up("b", urgency=Urgency.ROUTINE)
    newer_soon = follow_up("c")
    urgent = follow_up("d", urgency=Urgency.URGENT)
    handle_follow_up(follow_up("e", urgency=Urgency.URGENT), note="Done")

    assert ids(api.get(FOLLOW_UPS)) == [urgent.pk, older_soon.pk, newer_soon.pk, routine.pk]


def test_a_row_says_what_who_and_how_it_was_handled(api):
    session = SessionFactory()
    coordinator = UserFactory(name="Morag Dunn")
    raised = follow_up("a", kind=Kind.SESSION_DECLINED, urgency=Urgency.URGENT, session=session)
    handle_follow_up(raised, by=coordinator, note="Moved to Friday.")

    row = api.get(detail(raised)).json()

    assert row == {
        "id": raised.pk,
        "kind": "session_declined",
        "kind_label": "Session declined",
        "urgency": "urgent",
        "urgency_label": "Urgent: today",
        "summary": "About a",
        "session": session.pk,
        "volunteer": session.match.volunteer_id,
        "message": None,
        "raised_at": row["raised_at"],
        "handled_at": row["handled_at"],
        "handled_by": coordinator.pk,
        "handled_by_name": "Morag Dunn",
        "handled_note": "Moved to Friday.",
    }
    assert row["raised_at"][-6:] in {"+00:00", "+01:00"}
    assert row["handled_at"] is not None


def test_filters_by_state_kind_urgency_volunteer_and_session(api):
    session = SessionFactory()
    declined = follow_up("a", kind=Kind.SESSION_DECLINED, urgency=Urgency.URGENT, session=session)
    lapsed = follow_up("b", kind=Kind.TRAINING_LAPSED, summary="Book the PVG renewal")
    done = handle_follow_up(follow_up("c"), note="Done")

    assert ids(api.get(FOLLOW_UPS, {"state": "handled"})) == [done.pk]
    assert set(ids(api.get(FOLLOW_UPS, {"state": "all"}))) == {declined.pk, lapsed.pk, done.pk}
    assert ids(api.get(FOLLOW_UPS, {"state": "open"})) == [declined.pk, lapsed.pk]
    assert ids(api.get(FOLLOW_UPS, {"kind": "training_lapsed"})) == [lapsed.pk]
    assert ids(api.get(FOLLOW_UPS, {"urgency": "urgent"})) == [declined.pk]
    assert ids(api.get(FOLLOW_UPS, {"volunteer": lapsed.volunteer_id})) == [lapsed.pk]
    assert ids(api.get(FOLLOW_UPS, {"session": session.pk})) == [declined.pk]
    assert ids(api.get(FOLLOW_UPS, {"search": "pvg renewal"})) == [lapsed.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "closed"}, "state"),
        ({"kind": "everything"}, "kind"),
        ({"urgency": "now"}, "urgency"),
        ({"volunteer": "١"}, "volunteer"),
        ({"state": ""}, "state"),
        ({"status": "open"}, "status"),
        ({"ordering": "urgency"}, "ordering"),
    ],
)
def test_a_parameter_it_cannot_read_is_a_400_naming_it(api, params, field):
    follow_up("a")

    problem = problem_of(api.get(FOLLOW_UPS, params))

    assert problem["status"] == 400
    assert field in problem["errors"]


def test_the_list_costs_the_same_queries_for_one_or_thirty(api):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = api.get(FOLLOW_UPS, {"state": "all"})
        assert response.status_code == 200
        return len(captured), response.json()["count"]

    follow_up("first")
    one, count = queries()
    assert count == 1
    coordinator = UserFactory()
    for number in range(29):
        raised = follow_up(f"more {number}", session=SessionFactory())
        if number % 2:
            handle_follow_up(raised, by=coordinator, note="Done")
    thirty, count = queries()
    assert count == 30
    assert thirty == one


# Handling -----------------------------------------------------------------------------------


def test_handle_with_a_note_answers_with_the_follow_up_handled(api, coordinator):
    chosen = follow_up("a")

    response = api.post(handle_url(chosen), {"note": "  Phoned her; all well. "}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["handled_note"] == "Phoned her; all well."
    assert body["handled_by"] == coordinator.pk
    assert body["handled_at"] is not None
    assert ids(api.get(FOLLOW_UPS)) == []


def test_handle_without_a_note_is_fine(api):
    chosen = follow_up("a")

    assert api.post(handle_url(chosen)).status_code == 200
    chosen.refresh_from_db()
    assert not chosen.is_open and chosen.handled_note == ""


def test_handling_twice_is_a_409_and_keeps_the_first_note(api):
    chosen = follow_up("a")
    api.post(handle_url(chosen), {"note": "First"}, format="json")

    problem = problem_of(api.post(handle_url(chosen), {"note": "Second"}, format="json"))

    assert problem["status"] == 409
    assert "already handled" in problem["detail"]
    chosen.refresh_from_db()
    assert chosen.handled_note == "First"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"note": "x" * 2001}, "note"),
        ({"note": 12}, "note"),
        ({"note": ["a"]}, "note"),
        ({"note": None}, "note"),
        ({"note": "ok\x00"}, "non_field_errors"),
        ({"note": "Called \u202eher"}, "note"),
        ({"note": "Called\x07 her"}, "note"),
        ({"note": "ok", "handled_by": 1}, "handled_by"),
    ],
)
def test_a_bad_note_is_a_400_and_nothing_is_handled(api, body, field):
    chosen = follow_up("a")

    problem = problem_of(api.post(handle_url(chosen), body, format="json"))

    assert problem["status"] == 400
    assert field in problem["errors"]
    chosen.refresh_from_db()
    assert chosen.is_open


def test_handling_a_follow_up_about_a_reply_takes_it_out_of_the_inbox(api):
    reply, _ = services.receive(
        sid="SM" + "2" * 32, from_number="+447700900999", to_number="+447700900001", body="?"
    )
    raise_for_texts()
    chosen = FollowUp.objects.get()

    assert api.post(handle_url(chosen), {"note": "Wrong number"}, format="json").status_code == 200

    reply.refresh_from_db()
    assert not reply.needs_attention
    assert reply.pk not in ids(api.get("/api/v1/inbox/"))


def test_an_unknown_follow_up_is_a_404(api):
    assert problem_of(api.post(f"{FOLLOW_UPS}999999/handle/", {}, format="json"))["status"] == 404


def test_follow_ups_cannot_be_written_by_hand(api):
    chosen = follow_up("a")

    assert api.post(FOLLOW_UPS, {"summary": "x"}, format="json").status_code == 405
    assert api.patch(detail(chosen), {"summary": "x"}, format="json").status_code == 405
    assert api.delete(detail(chosen)).status_code == 405


def test_a_body_that_is_not_an_object_is_a_400(api):
    chosen = follow_up("a")

    response = api.generic("POST", handle_url(chosen), "null", "application/json")

    assert problem_of(response)["status"] == 400
    chosen.refresh_from_db()
    assert chosen.is_open


def test_the_message_log_shows_a_failed_sent_text_among_those_needing_attention(api, monkeypatch):
    def refuse(self, message):
        raise backends.SendFailed("Unreachable", code=30003, transient=False)

    monkeypatch.setattr(backends.LocmemBackend, "send", refuse)
    lost = services.send_sms("+447700900123", "Your session is tomorrow.", topic="test")
    services.deliver(lost.pk)
    withdrawn = services.send_sms("+447700900124", "Your session is tomorrow.", topic="test")
    services.close_question(withdrawn, reason="Not needed: the session was rescheduled.")

    waiting = api.get("/api/v1/messages/", {"needs_attention": "true"}).json()["results"]
    not_sent = api.get("/api/v1/messages/", {"status": "withdrawn"}).json()["results"]

    assert [(row["id"], row["direction"], row["status"]) for row in waiting] == [
        (lost.pk, "outbound", "failed")
    ]
    assert [row["id"] for row in not_sent] == [withdrawn.pk]
