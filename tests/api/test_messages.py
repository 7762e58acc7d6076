"""Texts for coordinators: the message log, the inbox of replies, and opt-outs."""

import datetime
import itertools
from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging import backends, services
from messaging.models import Message, OptOut
from tests.api.conftest import problem_of
from tests.conftest import SIGN_IN_CODE

pytestmark = pytest.mark.django_db

MESSAGES = "/api/v1/messages/"
INBOX = "/api/v1/inbox/"
OPT_OUTS = "/api/v1/opt-outs/"

OFFICE = "+447700900001"
AILEEN = "+447700900123"
JAMIE = "+447700900456"

_sids = itertools.count(1)


def sent(to=AILEEN, **fields):
    """An outbound text as the outbox leaves it."""
    values = {
        "direction": Message.Direction.OUTBOUND,
        "to_number": to,
        "from_number": OFFICE,
        "body": "A reminder: you meet J at 14:00 tomorrow. Reply YES or NO.",
        "status": Message.Status.DELIVERED,
        "topic": "session.reminder",
        "attempts": 1,
    }
    values.update(fields)
    return Message.objects.create(**values)


def received(body="Can we make it Thursday instead?", phone=JAMIE):
    """A text from `phone` that answers no question, so it lands in the inbox."""
    reply, _ = services.receive(
        sid=f"SM{next(_sids):032d}", from_number=phone, to_number=OFFICE, body=body
    )
    return reply


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def queries_for(api, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(queries), response.json()["count"]


# Who may use them -------------------------------------------------------------------------


ENDPOINTS = [
    ("get", MESSAGES),
    ("get", f"{MESSAGES}1/"),
    ("get", INBOX),
    ("get", f"{INBOX}1/"),
    ("post", f"{INBOX}1/answer/"),
    ("post", f"{INBOX}1/handled/"),
    ("get", OPT_OUTS),
    ("post", OPT_OUTS),
    ("get", f"{OPT_OUTS}1/"),
    ("post", f"{OPT_OUTS}1/remove/"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anyone_not_signed_in_gets_401(anonymous_api, method, url):
    response = getattr(anonymous_api, method)(url, {}, format="json")

    assert response.status_code == 401
    assert problem_of(response)["code"] == "not_authenticated"


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_signed_in_non_coordinators_get_403(non_coordinator_api, method, url):
    received()

    response = getattr(non_coordinator_api, method)(url, {}, format="json")

    assert response.status_code == 403
    assert problem_of(response)["code"] == "permission_denied"
    assert not Message.objects.filter(topic=services.COORDINATOR_TEXT_TOPIC).exists()
    assert not OptOut.objects.exists()


# The message log --------------------------------------------------------------------------


def test_the_log_shows_each_text_with_its_delivery_and_reply(api):
    question = sent(sent_at=timezone.now())
    reply, _ = services.receive(sid="SM-yes", from_number=AILEEN, to_number=OFFICE, body="OK")
    question.answered_by = reply
    question.reply_handler = "session.confirm"
    question.save()

    body = api.get(f"{MESSAGES}{question.pk}/").json()

    assert body == {
        "id": question.pk,
        "direction": "outbound",
        "to": AILEEN,
        "from": OFFICE,
        "body": question.body,
        "status": "delivered",
        "topic": "session.reminder",
        "error_code": None,
        "error": "",
        "attempts": 1,
        "send_after": body["send_after"],
        "sent_at": body["sent_at"],
        "created_at": body["created_at"],
        "awaits_reply": True,
        "answered_by": reply.pk,
        "needs_attention": False,
        "handled_at": None,
        "handled_note": "",
    }
    for moment in ["send_after", "sent_at", "created_at"]:
        assert datetime.datetime.fromisoformat(body[moment]).tzinfo is not None


def test_the_log_lists_sent_and_received_texts_newest_first(api):
    older = sent(created_at=timezone.now() - datetime.timedelta(hours=2))
    reply = received()  # also answered with a polite "we will be in touch"
    answer = Message.objects.get(topic="reply.not_understood")

    assert ids(api.get(MESSAGES)) == [answer.pk, reply.pk, older.pk]
    assert ids(api.get(MESSAGES, {"ordering": "created_at"})) == [older.pk, reply.pk, answer.pk]


def test_a_text_sent_from_a_pool_of_numbers_has_no_from(api):
    text = sent(from_number="")

    assert api.get(f"{MESSAGES}{text.pk}/").json()["from"] is None


def test_filters_by_direction_status_topic_and_attention(api):
    delivered = sent()
    failed = sent(status=Message.Status.FAILED, error_code=21211, topic="checkin")
    reply = received()
    polite = Message.objects.get(topic="reply.not_understood")

    assert ids(api.get(MESSAGES, {"direction": "inbound"})) == [reply.pk]
    assert set(ids(api.get(MESSAGES, {"direction": "outbound"}))) == {
        delivered.pk,
        failed.pk,
        polite.pk,
    }
    assert ids(api.get(MESSAGES, {"status": "failed"})) == [failed.pk]
    assert ids(api.get(MESSAGES, {"topic": "checkin"})) == [failed.pk]
    assert ids(api.get(MESSAGES, {"needs_attention": "true"})) == [reply.pk]
    assert reply.pk not in ids(api.get(MESSAGES, {"needs_attention": "false"}))


@pytest.mark.parametrize("typed", ["07700 900456", "+44 7700 900456", "07700900456"])
def test_the_phone_filter_finds_texts_to_and_from_a_number_however_it_is_typed(api, typed):
    to_jamie = sent(to=JAMIE)
    from_jamie = received(phone=JAMIE)
    polite = Message.objects.get(topic="reply.not_understood")
    sent(to=AILEEN)

    assert set(ids(api.get(MESSAGES, {"phone": typed}))) == {
        to_jamie.pk,
        from_jamie.pk,
        polite.pk,
    }


def test_an_unreadable_phone_filter_says_why(api):
    response = api.get(MESSAGES, {"phone": "07700 90"})

    assert response.status_code == 400
    assert "not a valid phone number" in problem_of(response)["errors"]["phone"][0]


def test_filters_by_the_day_texts_were_created_in_local_time(api):
    # 23:30 UTC on 31 May is 00:30 on 1 June in London.
    late_may = sent(created_at=datetime.datetime(2026, 5, 31, 22, 30, tzinfo=datetime.UTC))
    first_june = sent(created_at=datetime.datetime(2026, 5, 31, 23, 30, tzinfo=datetime.UTC))
    mid_june = sent(created_at=datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.UTC))

    assert ids(api.get(MESSAGES, {"created_after": "2026-06-01"})) == [mid_june.pk, first_june.pk]
    assert ids(api.get(MESSAGES, {"created_before": "2026-05-31"})) == [late_may.pk]
    assert ids(
        api.get(MESSAGES, {"created_after": "2026-06-01", "created_before": "2026-06-01"})
    ) == [first_june.pk]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"created_after": "2026-06-02", "created_before": "2026-06-01"},
            "created_before",
            "ends (2026-06-01) before it starts (2026-06-02)",
        ),
        ({"created_after": "yesterday"}, "created_after", "Enter a valid date."),
        ({"status": "lost"}, "status", "Select a valid choice."),
        ({"direction": "sideways"}, "direction", "Select a valid choice."),
        ({"needs_attention": "maybe"}, "needs_attention", "Select a valid choice."),
        ({"to": "07700 900123"}, "to", "Unknown parameter"),
        ({"ordering": "body"}, "ordering", "Cannot order by"),
        ({"topic": ""}, "topic", "Give a value"),
    ],
)
def test_bad_filters_are_refused_with_what_would_work(api, params, field, message):
    response = api.get(MESSAGES, params)

    assert response.status_code == 400
    assert message in " ".join(problem_of(response)["errors"][field])


def test_search_finds_words_in_the_text_and_partial_numbers(api):
    thursday = received(body="Can we make it Thursday?", phone=JAMIE)
    friday = received(body="Friday is better", phone=AILEEN)

    assert ids(api.get(MESSAGES, {"search": "thursday"})) == [thursday.pk]
    found = ids(api.get(MESSAGES, {"search": "0770090012", "direction": "inbound"}))
    assert found == [friday.pk]


def test_an_unknown_text_is_a_404_problem(api):
    response = api.get(f"{MESSAGES}999999/")

    assert response.status_code == 404
    assert problem_of(response)["code"] == "not_found"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_log_is_read_only(api, method):
    text = sent()
    url = MESSAGES if method == "post" else f"{MESSAGES}{text.pk}/"

    response = getattr(api, method)(url, {"body": "Changed"}, format="json")

    assert response.status_code == 405
    assert problem_of(response)["code"] == "method_not_allowed"
    text.refresh_from_db()
    assert text.body != "Changed"
    assert Message.objects.count() == 1


def test_the_log_costs_the_same_queries_for_one_text_or_fifty(api):
    reply = received()
    sent(answered_by=reply, reply_handler="session.confirm")
    one, count = queries_for(api, MESSAGES, {"page_size": 100})
    assert count == 3
    for _ in range(47):
        sent(status=Message.Status.FAILED, error="Not a mobile", error_code=21614)

    fifty, count = queries_for(api, MESSAGES, {"page_size": 100})

    assert count == 50
    assert fifty == one


# The inbox --------------------------------------------------------------------------------


def test_the_inbox_lists_received_texts_needing_attention_longest_waiting_first(api):
    first = received(body="Who is this?")
    second = received(body="Can we make it Thursday?", phone=AILEEN)
    handled = received(body="Thanks")
    services.mark_handled(handled, note="Nothing to do")
    sent(to=JAMIE)

    assert ids(api.get(INBOX)) == [first.pk, second.pk]
    assert ids(api.get(INBOX, {"phone": "07700 900123"})) == [second.pk]
    assert ids(api.get(INBOX, {"search": "thursday"})) == [second.pk]


def test_a_handled_text_is_still_read_by_its_id(api):
    reply = received()
    services.mark_handled(reply, note="Phoned back")

    body = api.get(f"{INBOX}{reply.pk}/").json()

    assert body["needs_attention"] is False
    assert body["handled_note"] == "Phoned back"


def test_a_sent_text_is_not_in_the_inbox(api):
    text = sent()

    assert api.get(f"{INBOX}{text.pk}/").status_code == 404
    response = api.post(f"{INBOX}{text.pk}/answer/", {"body": "Hello"}, format="json")
    assert response.status_code == 404
    assert problem_of(response)["code"] == "not_found"


def test_the_inbox_costs_the_same_queries_for_one_text_or_fifty(api):
    received()
    one, count = queries_for(api, INBOX, {"page_size": 100})
    assert count == 1
    for number in range(49):
        received(phone=f"+447700900{200 + number}")

    fifty, count = queries_for(api, INBOX, {"page_size": 100})

    assert count == 50
    assert fifty == one


def test_answering_texts_the_person_back_and_handles_the_reply(
    api, coordinator, monkeypatch, django_capture_on_commit_callbacks
):
    reply = received()
    backends.outbox.clear()
    monkeypatch.setattr(
        services, "async_task", lambda func, message_id, **kw: services.deliver(message_id)
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"{INBOX}{reply.pk}/answer/",
            {"body": "Thursday at 14:00 is fine, see you then."},
            format="json",
        )

    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["direction"] == "outbound"
    assert answer["to"] == JAMIE
    assert answer["body"] == "Thursday at 14:00 is fine, see you then."
    assert answer["topic"] == services.COORDINATOR_TEXT_TOPIC
    assert response["Location"] == f"{MESSAGES}{answer['id']}/"
    assert [text["body"] for text in backends.outbox] == [answer["body"]]
    reply.refresh_from_db()
    assert reply.needs_attention is False
    assert reply.handled_at is not None
    assert reply.handled_note.startswith(
        f"Answered by text {answer['id']}: “Thursday at 14:00 is fine, see you then.”"
    )
    assert str(coordinator) in reply.handled_note
    assert ids(api.get(INBOX)) == []


def test_an_answer_to_a_number_that_opted_out_since_is_refused_and_nothing_is_written(api):
    reply = received()
    services.record_opt_out(JAMIE, word="STOP")

    response = api.post(f"{INBOX}{reply.pk}/answer/", {"body": "See you Thursday."}, format="json")

    assert response.status_code == 400, response.content
    assert (
        "has opted out of texts (they replied STOP), so nothing was sent"
        in (problem_of(response)["detail"])
    )
    assert not Message.objects.filter(topic=services.COORDINATOR_TEXT_TOPIC).exists()
    reply.refresh_from_db()
    assert reply.needs_attention is True


def test_an_answer_in_quiet_hours_waits_for_the_morning(api, settings, time_machine):
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    time_machine.move_to(
        datetime.datetime(2026, 5, 11, 22, 30, tzinfo=timezone.get_default_timezone()),
        tick=False,
    )
    reply = received()

    response = api.post(f"{INBOX}{reply.pk}/answer/", {"body": "Speak tomorrow."}, format="json")

    assert response.status_code == 201, response.content
    answer = Message.objects.get(pk=response.json()["id"])
    assert answer.status == Message.Status.QUEUED
    assert timezone.localtime(answer.send_after) == datetime.datetime(
        2026, 5, 12, 8, 0, tzinfo=timezone.get_default_timezone()
    )


def test_answering_twice_is_a_conflict_and_sends_once(api):
    reply = received()
    first = api.post(f"{INBOX}{reply.pk}/answer/", {"body": "See you Thursday."}, format="json")

    second = api.post(f"{INBOX}{reply.pk}/answer/", {"body": "See you Thursday."}, format="json")

    assert first.status_code == 201
    assert second.status_code == 409
    assert problem_of(second)["code"] == "already_handled"
    assert Message.objects.filter(topic=services.COORDINATOR_TEXT_TOPIC).count() == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"body": ""}, "This field may not be blank."),
        ({"body": "   "}, "This field may not be blank."),
        ({}, "This field is required."),
        ({"body": 7}, "Give text (a JSON string)."),
        ({"body": "x" * 1531}, "The text is 11 SMS segments long"),
        ({"body": "ł" * 671}, "The text is 11 SMS segments long"),
    ],
)
def test_an_answer_that_cannot_be_sent_is_refused_and_nothing_is_sent(api, body, message):
    reply = received()

    response = api.post(f"{INBOX}{reply.pk}/answer/", body, format="json")

    assert response.status_code == 400
    assert message in " ".join(problem_of(response)["errors"]["body"])
    assert not Message.objects.filter(topic=services.COORDINATOR_TEXT_TOPIC).exists()
    reply.refresh_from_db()
    assert reply.needs_attention is True


def test_the_longest_answer_allowed_is_sent_and_one_more_character_is_refused(api):
    longest = services.COORDINATOR_TEXT_MAX_CHARACTERS
    reply = received()

    too_long = api.post(f"{INBOX}{reply.pk}/answer/", {"body": "x" * (longest + 1)}, format="json")
    response = api.post(f"{INBOX}{reply.pk}/answer/", {"body": "x" * longest}, format="json")

    assert too_long.status_code == 400
    assert f"no more than {longest} characters" in problem_of(too_long)["errors"]["body"][0]
    assert response.status_code == 201, response.content


def test_an_answer_with_unknown_fields_or_malformed_json_is_refused(api):
    reply = received()

    unknown = api.post(f"{INBOX}{reply.pk}/answer/", {"body": "Hi", "to": AILEEN}, format="json")
    malformed = api.generic(
        "POST", f"{INBOX}{reply.pk}/answer/", "{not json", content_type="application/json"
    )

    assert unknown.status_code == 400
    assert "Unknown field" in problem_of(unknown)["errors"]["to"][0]
    assert malformed.status_code == 400
    assert problem_of(malformed)["code"] == "parse_error"
    assert not Message.objects.filter(topic=services.COORDINATOR_TEXT_TOPIC).exists()


def test_answering_an_unknown_text_is_a_404(api):
    response = api.post(f"{INBOX}999999/answer/", {"body": "Hello"}, format="json")

    assert response.status_code == 404
    assert problem_of(response)["code"] == "not_found"


def test_marking_handled_takes_a_text_out_of_the_inbox_with_a_note(api, coordinator):
    reply = received()

    response = api.post(f"{INBOX}{reply.pk}/handled/", {"note": "Phoned her back."}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["needs_attention"] is False
    assert body["handled_at"] is not None
    assert body["handled_note"].startswith("Phoned her back.")
    assert str(coordinator) in body["handled_note"]
    assert ids(api.get(INBOX)) == []
    assert not Message.objects.filter(topic=services.COORDINATOR_TEXT_TOPIC).exists()


def test_a_note_is_optional_when_marking_handled(api):
    reply = received()

    response = api.post(f"{INBOX}{reply.pk}/handled/", {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["needs_attention"] is False


def test_marking_handled_twice_is_a_conflict(api):
    reply = received()
    api.post(f"{INBOX}{reply.pk}/handled/", {"note": "Phoned her back."}, format="json")

    response = api.post(f"{INBOX}{reply.pk}/handled/", {"note": "Again"}, format="json")

    assert response.status_code == 409
    assert problem_of(response)["code"] == "already_handled"
    reply.refresh_from_db()
    assert reply.handled_note.startswith("Phoned her back.")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"note": "x" * 201}, "note", "no more than 200 characters"),
        ({"note": 7}, "note", "Give text (a JSON string)."),
        ({"handled": True}, "handled", "Unknown field"),
    ],
)
def test_a_bad_handled_note_is_refused(api, body, field, message):
    reply = received()

    response = api.post(f"{INBOX}{reply.pk}/handled/", body, format="json")

    assert response.status_code == 400
    assert message in problem_of(response)["errors"][field][0]
    reply.refresh_from_db()
    assert reply.needs_attention is True


# Opt-outs ---------------------------------------------------------------------------------


def ended(phone=AILEEN):
    opt_out = services.record_opt_out(phone, word="STOP")
    services.end_opt_out(phone, word="START")
    opt_out.refresh_from_db()
    return opt_out


def test_opt_outs_are_current_ones_unless_another_state_is_asked_for(api):
    old = ended(AILEEN)
    current = services.record_opt_out(JAMIE, word="STOP")

    assert ids(api.get(OPT_OUTS)) == [current.pk]
    assert ids(api.get(OPT_OUTS, {"state": "current"})) == [current.pk]
    assert ids(api.get(OPT_OUTS, {"state": "ended"})) == [old.pk]
    assert set(ids(api.get(OPT_OUTS, {"state": "all"}))) == {old.pk, current.pk}


def test_an_opt_out_reads_as_the_number_said_it(api):
    opt_out = services.record_opt_out(JAMIE, word="STOP")

    assert api.get(f"{OPT_OUTS}{opt_out.pk}/").json() == {
        "id": opt_out.pk,
        "phone": JAMIE,
        "opted_out_at": api.get(f"{OPT_OUTS}{opt_out.pk}/").json()["opted_out_at"],
        "word": "STOP",
        "current": True,
        "ended_at": None,
        "ended_by_word": "",
        "ended_note": "",
    }


def test_an_ended_opt_out_is_read_by_its_id(api):
    opt_out = ended()

    body = api.get(f"{OPT_OUTS}{opt_out.pk}/").json()

    assert body["current"] is False
    assert body["ended_by_word"] == "START"


def test_opt_outs_are_found_by_number_in_any_form(api):
    jamie = services.record_opt_out(JAMIE, word="STOP")
    services.record_opt_out(AILEEN, word="STOP")

    assert ids(api.get(OPT_OUTS, {"phone": "07700 900456"})) == [jamie.pk]
    assert ids(api.get(OPT_OUTS, {"search": "0770090045"})) == [jamie.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"state": "old"}, "state"), ({"phone": "12"}, "phone"), ({"current": "false"}, "current")],
)
def test_bad_opt_out_filters_are_refused(api, params, field):
    response = api.get(OPT_OUTS, params)

    assert response.status_code == 400
    assert field in problem_of(response)["errors"]


def test_the_opt_out_list_costs_the_same_queries_for_one_or_fifty(api):
    services.record_opt_out(JAMIE, word="STOP")
    one, count = queries_for(api, OPT_OUTS, {"state": "all", "page_size": 100})
    assert count == 1
    for number in range(49):
        ended(f"+447700900{200 + number}")

    fifty, count = queries_for(api, OPT_OUTS, {"state": "all", "page_size": 100})

    assert count == 50
    assert fifty == one


def test_the_office_records_an_opt_out_and_nothing_more_is_sent(api):
    queued = services.send_sms(JAMIE, "Your session is tomorrow.", topic="session.reminder")

    response = api.post(OPT_OUTS, {"phone": "07700 900456"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["phone"], body["word"], body["current"]) == (JAMIE, "office", True)
    queued.refresh_from_db()
    assert queued.status == Message.Status.SUPPRESSED
    later = services.send_sms(JAMIE, "Your session is next week.", topic="session.reminder")
    assert later.status == Message.Status.SUPPRESSED


def test_recording_an_opt_out_twice_is_a_conflict_that_says_since_when(api):
    services.record_opt_out(JAMIE, word="STOP")

    response = api.post(OPT_OUTS, {"phone": "07700 900456"}, format="json")

    assert response.status_code == 409
    problem = problem_of(response)
    assert problem["code"] == "already_opted_out"
    assert "(STOP)" in problem["detail"]
    assert OptOut.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"phone": "07700 90"}, "phone", "not a valid phone number"),
        ({}, "phone", "This field is required."),
        ({"phone": 7700900456}, "phone", "Enter a valid phone number."),
        ({"phone": JAMIE, "word": "STOP"}, "word", "Unknown field"),
    ],
)
def test_a_bad_opt_out_is_refused_and_nothing_is_recorded(api, body, field, message):
    response = api.post(OPT_OUTS, body, format="json")

    assert response.status_code == 400
    assert message in problem_of(response)["errors"][field][0]
    assert not OptOut.objects.exists()


def test_ending_an_opt_out_needs_a_note_and_texts_go_again(api, coordinator):
    opt_out = services.record_opt_out(JAMIE, word="STOP")

    response = api.post(
        f"{OPT_OUTS}{opt_out.pk}/remove/",
        {"note": "Phoned on 12 May to ask for reminders again."},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["current"] is False
    assert body["ended_at"] is not None
    assert body["ended_note"].startswith("Phoned on 12 May to ask for reminders again.")
    assert str(coordinator) in body["ended_note"]
    text = services.send_sms(JAMIE, "Your session is tomorrow.", topic="session.reminder")
    assert text.status == Message.Status.QUEUED
    assert ids(api.get(OPT_OUTS)) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "This field is required."),
        ({"note": ""}, "This field may not be blank."),
        ({"note": "   "}, "This field may not be blank."),
        ({"note": "x" * 251}, "no more than 250 characters"),
    ],
)
def test_an_opt_out_is_not_ended_without_a_note(api, body, message):
    opt_out = services.record_opt_out(JAMIE, word="STOP")

    response = api.post(f"{OPT_OUTS}{opt_out.pk}/remove/", body, format="json")

    assert response.status_code == 400
    assert message in problem_of(response)["errors"]["note"][0]
    opt_out.refresh_from_db()
    assert opt_out.ended_at is None


def test_ending_an_opt_out_twice_is_a_conflict(api):
    opt_out = services.record_opt_out(JAMIE, word="STOP")
    api.post(f"{OPT_OUTS}{opt_out.pk}/remove/", {"note": "Asked by phone."}, format="json")

    response = api.post(f"{OPT_OUTS}{opt_out.pk}/remove/", {"note": "Again."}, format="json")

    assert response.status_code == 409
    assert problem_of(response)["code"] == "already_ended"
    opt_out.refresh_from_db()
    assert opt_out.ended_note.startswith("Asked by phone.")


def test_ending_an_unknown_opt_out_is_a_404(api):
    response = api.post(f"{OPT_OUTS}999999/remove/", {"note": "Asked."}, format="json")

    assert response.status_code == 404
    assert problem_of(response)["code"] == "not_found"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_opt_outs_are_never_changed_or_deleted_directly(api, method):
    opt_out = services.record_opt_out(JAMIE, word="STOP")

    response = getattr(api, method)(f"{OPT_OUTS}{opt_out.pk}/", {"word": "x"}, format="json")

    assert response.status_code == 405
    assert OptOut.objects.current().filter(pk=opt_out.pk, word="STOP").exists()


# The contract -----------------------------------------------------------------------------


def test_the_actions_document_their_conflicts():
    committed = Path(__file__).resolve().parents[2] / "api" / "openapi.yaml"
    paths = yaml.safe_load(committed.read_text())["paths"]

    for path in [
        "/api/v1/inbox/{id}/answer/",
        "/api/v1/inbox/{id}/handled/",
        "/api/v1/opt-outs/{id}/remove/",
        "/api/v1/opt-outs/",
    ]:
        assert "409" in paths[path]["post"]["responses"], path
    assert "201" in paths["/api/v1/inbox/{id}/answer/"]["post"]["responses"]


# Sign-in codes ----------------------------------------------------------------------------

CODE_STATES = ["queued", "retrying", "sent", "failed"]


@pytest.mark.parametrize("state", CODE_STATES)
def test_the_log_never_shows_a_sign_in_code(api, state, sign_in_code_text):
    message = sign_in_code_text(state)

    listed = api.get(MESSAGES)
    detail = api.get(f"{MESSAGES}{message.pk}/")

    assert ids(listed) == [message.pk]
    assert detail.status_code == 200
    assert detail.json()["status"] == message.status
    assert "•" * len(SIGN_IN_CODE) in detail.json()["body"]
    for response in (listed, detail):
        assert SIGN_IN_CODE not in response.content.decode()
        assert SIGN_IN_CODE[:4] not in response.content.decode()


@pytest.mark.parametrize("state", CODE_STATES)
@pytest.mark.parametrize("term", [SIGN_IN_CODE, SIGN_IN_CODE[:4], SIGN_IN_CODE[-4:]])
def test_searching_the_log_or_the_inbox_for_a_sign_in_code_finds_nothing(
    api, state, term, sign_in_code_text
):
    sign_in_code_text(state)

    assert ids(api.get(MESSAGES, {"search": term})) == []
    assert ids(api.get(INBOX, {"search": term})) == []
    assert len(ids(api.get(MESSAGES, {"search": "sign-in code"}))) == 1


def test_a_received_text_cut_short_waits_in_the_inbox_saying_so(api):
    reply = received(body="x" * 5000)

    body = api.get(f"{INBOX}{reply.pk}/").json()

    assert ids(api.get(INBOX)) == [reply.pk]
    assert len(body["body"]) == services.MAX_RECEIVED_CHARACTERS
    assert body["error"] == "The text was 5,000 characters long; only the first 1,600 are kept."
