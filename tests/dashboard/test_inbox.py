"""The inbox: replies that need a person, each with the text it answers; the coordinator
texts back through the outbox (quiet hours and opt-outs hold) or marks one handled, and the
follow-up raised for it is handled with it. With htmx the row is answered in place, without
it the form posts and the page comes back."""

import datetime
import itertools
import re
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from matching.follow_ups import raise_for_texts
from matching.models import FollowUp
from messaging import services
from messaging.models import Message
from messaging.services import COORDINATOR_TEXT_TOPIC, record_opt_out
from tests.api.signed_in_volunteers import HOSTILE_TEXT
from tests.dashboard.posting import post_form
from tests.dashboard.today_data import at
from tests.factories import PeerFactory, VolunteerFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
OFFICE = "+447700900999"
_sids = itertools.count(1)


def asked(phone, body="How are you doing this week? Reply 1 to 5", *, hours_ago=2, **fields):
    """A question sent to `phone`, still waiting for its reply."""
    sent_at = timezone.now() - datetime.timedelta(hours=hours_ago)
    values = {
        "direction": Message.Direction.OUTBOUND,
        "to_number": phone,
        "from_number": OFFICE,
        "body": body,
        "status": Message.Status.DELIVERED,
        "topic": "wellbeing.check_in",
        "reply_handler": "matching.wellbeing",
        "question_open": True,
        "reply_expires_at": sent_at + datetime.timedelta(days=1),
        "created_at": sent_at,
        "sent_at": sent_at,
        "attempts": 1,
    }
    values.update(fields)
    return Message.objects.create(**values)


def sent(phone, body, *, hours_ago=3, **fields):
    """A text that asked nothing, delivered `hours_ago`."""
    return asked(
        phone,
        body,
        hours_ago=hours_ago,
        topic="coordinator.text",
        reply_handler="",
        question_open=False,
        reply_expires_at=None,
        **fields,
    )


def received(phone, body="Not sure really, rough week"):
    """A text from `phone` as the Twilio webhook hands it over."""
    reply, _ = services.receive(
        sid=f"SM{next(_sids):032d}", from_number=phone, to_number=OFFICE, body=body
    )
    assert reply.needs_attention
    return reply


@pytest.fixture
def ailsa():
    return VolunteerFactory(preferred_name="Ailsa", full_name="Ailsa Munro", sms_consent=True)


@pytest.fixture
def reply(ailsa):
    asked(str(ailsa.phone))
    return received(str(ailsa.phone))


def inbox(client):
    response = client.get("/inbox/")
    assert response.status_code == 200
    return response.content.decode()


def answer_url(reply):
    return f"/inbox/{reply.pk}/answer/"


def handle_url(reply):
    return f"/inbox/{reply.pk}/handle/"


# Who may use it ----------------------------------------------------------------------------


def test_anonymous_callers_are_sent_to_sign_in(anonymous_client, reply):
    response = anonymous_client.get("/inbox/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote('/inbox/')}"
    for url, data in [(answer_url(reply), {"body": "Hi"}), (handle_url(reply), {"note": "x"})]:
        response = anonymous_client.post(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    reply.refresh_from_db()
    assert reply.needs_attention
    assert not Message.objects.filter(topic=COORDINATOR_TEXT_TOPIC).exists()


@pytest.mark.parametrize(
    ("who", "says"),
    [("volunteer_client", "partner app"), ("staff_client", "not in the Coordinators group")],
)
def test_volunteers_and_other_staff_are_refused_and_nothing_changes(request, reply, who, says):
    client = request.getfixturevalue(who)
    response = client.get("/inbox/")
    assert response.status_code == 403
    assert says in response.content.decode()
    for url, data in [(answer_url(reply), {"body": "Hi"}), (handle_url(reply), {"note": "x"})]:
        assert client.post(url, data).status_code == 403
    reply.refresh_from_db()
    assert reply.needs_attention
    assert not Message.objects.filter(topic=COORDINATOR_TEXT_TOPIC).exists()


def test_the_actions_are_posts_only(coordinator_client, reply):
    assert coordinator_client.get(answer_url(reply)).status_code == 405
    assert coordinator_client.get(handle_url(reply)).status_code == 405


def test_an_unknown_text_or_a_sent_one_is_a_404(coordinator_client, ailsa):
    question = asked(str(ailsa.phone))
    assert coordinator_client.post("/inbox/999999/answer/", {"body": "Hi"}).status_code == 404
    assert coordinator_client.post("/inbox/999999/handle/", {"note": "x"}).status_code == 404
    assert coordinator_client.post(answer_url(question), {"body": "Hi"}).status_code == 404
    assert not Message.objects.filter(topic=COORDINATOR_TEXT_TOPIC).exists()


def test_csrf_is_checked(coordinator, reply):
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    assert client.post(handle_url(reply), {"note": "x"}).status_code == 403
    reply.refresh_from_db()
    assert reply.needs_attention


# What it shows ----------------------------------------------------------------------------


def test_a_reply_is_shown_with_the_question_it_answers_and_who_sent_it(coordinator_client, ailsa):
    sent(str(ailsa.phone), "Earlier: the office is closed on Friday.", hours_ago=5)
    question = asked(str(ailsa.phone), "How are you doing this week? Reply 1 (struggling)")
    reply = received(str(ailsa.phone), "meh, ask me tomorrow")
    page = inbox(coordinator_client)
    row = page.split(f'id="reply-{reply.pk}"')[1].split("</li>")[0]
    assert f'<a href="/volunteers/{ailsa.pk}/">Ailsa (Ailsa Munro)</a>' in row
    assert ailsa.phone.as_national in row
    assert "In answer to" in row
    assert question.body in row
    assert "meh, ask me tomorrow" in row
    assert "the office is closed on Friday" not in row


def test_a_reply_with_no_question_open_shows_the_last_text_they_were_sent(coordinator_client):
    peer = PeerFactory(preferred_name="Morag")
    sent(str(peer.phone), "Hello from the office, call us when you can.")
    reply = received(str(peer.phone), "who is this")
    row = inbox(coordinator_client).split(f'id="reply-{reply.pk}"')[1].split("</li>")[0]
    assert f"{peer.reference} (Morag), a peer" in row
    assert "No question was waiting; the last text they were sent" in row
    assert "Hello from the office" in row


def test_a_second_reply_answers_what_came_before_the_automatic_not_understood(
    coordinator_client, ailsa
):
    text = sent(str(ailsa.phone), "Can you do Thursday at 2 instead?")
    received(str(ailsa.phone), "hmm maybe")
    # PeerPath answered the first with its "not understood" text, delivered before the second.
    automatic = Message.objects.get(topic="reply.not_understood")
    Message.objects.filter(pk=automatic.pk).update(
        status=Message.Status.DELIVERED, sent_at=timezone.now() - datetime.timedelta(seconds=5)
    )
    second = received(str(ailsa.phone), "ok Thursday then")
    row = inbox(coordinator_client).split(f'id="reply-{second.pk}"')[1].split("</li>")[0]
    assert text.body in row
    assert automatic.body not in row


def test_a_text_from_a_number_never_texted_answers_nothing(coordinator_client):
    reply = received("+447700900777", "hello?")
    row = inbox(coordinator_client).split(f'id="reply-{reply.pk}"')[1].split("</li>")[0]
    assert "Nobody on record" in row
    assert "it answers nothing PeerPath asked" in row


def test_the_longest_waiting_comes_first_and_handled_ones_are_gone(
    coordinator_client, ailsa, time_machine
):
    time_machine.move_to(timezone.now() - datetime.timedelta(hours=1), tick=False)
    first = received("+447700900777", "first")
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=30), tick=False)
    second = received("+447700900778", "second")
    done = received("+447700900779", "done")
    services.mark_handled(done, note="Phoned")
    page = inbox(coordinator_client)
    assert page.index(f'id="reply-{first.pk}"') < page.index(f'id="reply-{second.pk}"')
    assert f'id="reply-{done.pk}"' not in page


def test_an_empty_inbox_says_so(coordinator_client):
    assert "No reply needs attention." in inbox(coordinator_client)


def test_the_inbox_is_in_the_navigation_and_marked_when_open(coordinator_client):
    assert '<a href="/inbox/" aria-current="page">Inbox</a>' in inbox(coordinator_client)
    assert '<a href="/inbox/">Inbox</a>' in coordinator_client.get("/").content.decode()


def test_the_page_is_labelled_has_unique_ids_and_nothing_inline(coordinator_client, reply):
    response = coordinator_client.get("/inbox/")
    html = response.content.decode()
    assert html.count("<h1>") == 1
    labels = set(re.findall(r'<label for="([^"]+)"', html))
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' not in tag:
            assert re.search(r'\bid="([^"]+)"', tag).group(1) in labels, tag
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert "<style" not in html and not re.search(r"\sstyle=", html)
    assert not re.search(r"<script\b[^>]*>(?!</script>)", html)
    assert not re.search(r"\son[a-z]+=", html)
    levels = [int(level) for level in re.findall(r"<h([1-6])\b", html)]
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels


def _queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/inbox/").status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_replies_shown(coordinator_client, ailsa):
    asked(str(ailsa.phone))
    received(str(ailsa.phone))
    one = _queries(coordinator_client)
    for n in range(19):
        if n % 2:
            volunteer = VolunteerFactory()
            asked(str(volunteer.phone))
            received(str(volunteer.phone), f"reply {n}")
        else:
            peer = PeerFactory()
            sent(str(peer.phone), f"text {n}")
            received(str(peer.phone), f"reply {n}")
    assert inbox(coordinator_client).count('<li class="card" id="reply-') == 20
    assert _queries(coordinator_client) == one


def test_replies_that_answer_no_text_add_no_queries(coordinator_client, ailsa):
    received("+447700900501", "who is this?")
    one = _queries(coordinator_client)
    for n in range(10):
        received(f"+4477009006{n:02d}", f"wrong number {n}")
    page = inbox(coordinator_client)
    assert page.count("it answers nothing PeerPath asked") == 11
    assert _queries(coordinator_client) == one


# Answering --------------------------------------------------------------------------------


def test_answering_texts_them_through_the_outbox_and_handles_the_reply(
    coordinator_client, coordinator, reply, ailsa
):
    response = coordinator_client.post(answer_url(reply), {"body": "Sorry to hear it: call?"})
    assert response.status_code == 302
    assert response["Location"] == "/inbox/#replies"
    answer = Message.objects.get(topic=COORDINATOR_TEXT_TOPIC)
    assert answer.to_number == ailsa.phone
    assert answer.body == "Sorry to hear it: call?"
    assert answer.context == {"in_answer_to": reply.pk, "sent_by": coordinator.pk}
    reply.refresh_from_db()
    assert not reply.needs_attention
    assert f"Answered by text {answer.pk}" in reply.handled_note
    page = inbox(coordinator_client)
    assert "is on its way; the reply is handled." in page
    assert f'id="reply-{reply.pk}"' not in page


def test_answering_with_htmx_replaces_the_row_in_place(coordinator_client, reply):
    response = coordinator_client.post(answer_url(reply), {"body": "Call you at 3?"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<li class="card" id="reply-{reply.pk}">')
    assert "Handled" in html
    assert "is on its way; the reply is handled." in html
    assert "Send the answer" not in html


def test_an_answer_in_quiet_hours_waits_for_morning_and_says_so(
    coordinator_client, reply, settings, time_machine
):
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    time_machine.move_to(at(0, 22, 30), tick=False)
    coordinator_client.post(answer_url(reply), {"body": "Speak tomorrow."})
    answer = Message.objects.get(topic=COORDINATOR_TEXT_TOPIC)
    assert timezone.localtime(answer.send_after).hour == 8
    assert "waits for the end of quiet hours, 08:00 on" in inbox(coordinator_client)


def test_answering_a_number_that_opted_out_is_refused_in_words_and_nothing_is_queued(
    coordinator_client, reply, ailsa
):
    record_opt_out(str(ailsa.phone), word="STOP")
    row = inbox(coordinator_client).split(f'id="reply-{reply.pk}"')[1]
    assert "has opted out of texts (STOP):</strong> an answer by text will not go." in row
    for extra in ({}, HTMX):
        response = coordinator_client.post(answer_url(reply), {"body": "Hello"}, **extra)
        assert response.status_code == 400
        html = response.content.decode()
        assert "has opted out of texts (they replied STOP), so nothing was sent" in html
    assert not Message.objects.filter(topic=COORDINATOR_TEXT_TOPIC).exists()
    reply.refresh_from_db()
    assert reply.needs_attention


def test_an_empty_or_overlong_answer_is_refused_beside_the_box(coordinator_client, reply):
    for body, says in [("  ", "Write the answer to send."), ("a" * 481, "at most 480")]:
        response = coordinator_client.post(answer_url(reply), {"body": body})
        assert response.status_code == 400
        html = response.content.decode()
        assert says in html
        assert f'id="reply-{reply.pk}-answer-body_error"' in html
        row = html.split(f'id="reply-{reply.pk}"')[1]
        assert "<details open>\n      <summary>Answer by text</summary>" in row
    assert not Message.objects.filter(topic=COORDINATOR_TEXT_TOPIC).exists()


def test_answering_a_reply_handled_meanwhile_is_refused_and_sends_nothing(
    coordinator_client, reply
):
    services.mark_handled(reply, note="Phoned")
    response = coordinator_client.post(answer_url(reply), {"body": "Hello"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was changed:" in html
    assert "This text was already handled on" in html
    response = coordinator_client.post(answer_url(reply), {"body": "Hello"}, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert html.startswith(f'<li class="card" id="reply-{reply.pk}">')
    assert "This text was already handled on" in html
    assert not Message.objects.filter(topic=COORDINATOR_TEXT_TOPIC).exists()


# Marking handled --------------------------------------------------------------------------


def test_marking_handled_keeps_the_note_and_the_page_comes_back(
    coordinator_client, coordinator, reply
):
    response = coordinator_client.post(handle_url(reply), {"note": "Phoned her; she is fine."})
    assert response.status_code == 302
    reply.refresh_from_db()
    assert not reply.needs_attention
    assert reply.handled_note == f"Phoned her; she is fine. ({coordinator})"
    page = inbox(coordinator_client)
    assert "Handled: the reply from" in page
    assert f'id="reply-{reply.pk}"' not in page
    assert not Message.objects.filter(topic=COORDINATOR_TEXT_TOPIC).exists()


def test_marking_handled_with_htmx_replaces_the_row(coordinator_client, reply):
    response = coordinator_client.post(handle_url(reply), {"note": "Phoned her."}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<li class="card" id="reply-{reply.pk}">')
    assert "Phoned her." in html
    assert "Mark handled" not in html


def test_a_note_is_needed(coordinator_client, reply):
    response = coordinator_client.post(handle_url(reply), {"note": ""}, **HTMX)
    assert response.status_code == 400
    assert "Say what was done, for the record." in response.content.decode()
    reply.refresh_from_db()
    assert reply.needs_attention


def test_the_follow_up_raised_for_the_reply_is_handled_with_it(
    coordinator_client, coordinator, reply
):
    raise_for_texts()
    follow_up = FollowUp.objects.get(message=reply)
    assert follow_up.is_open
    coordinator_client.post(handle_url(reply), {"note": "Phoned her."})
    follow_up.refresh_from_db()
    assert follow_up.handled_note == "Phoned her."
    assert follow_up.handled_by == coordinator
    assert "Reply not understood" not in coordinator_client.get("/").content.decode()


def test_answering_handles_the_follow_up_too(coordinator_client, reply):
    raise_for_texts()
    coordinator_client.post(answer_url(reply), {"body": "Call you at 3?"})
    follow_up = FollowUp.objects.get(message=reply)
    assert not follow_up.is_open
    assert follow_up.handled_note.startswith("Answered by text ")


# Hostile text -----------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_hostile_text_in_the_answer_or_the_note_is_never_a_500(
    coordinator_client, ailsa, text, htmx
):
    extra = HTMX if htmx else {}
    for url, name in [(answer_url, "body"), (handle_url, "note")]:
        asked(str(ailsa.phone), hours_ago=1)
        reply = received(str(ailsa.phone))
        response = post_form(coordinator_client, url(reply), {name: text}, **extra)
        assert response.status_code in {200, 302, 400}, (name, response.status_code)
        Message.objects.filter(question_open=True).update(question_open=False)
    for message in Message.objects.all():
        assert "\x00" not in message.body and "\u202e" not in message.body
        assert "\x00" not in message.handled_note and "\u202e" not in message.handled_note
