"""Twilio's two webhooks: only Twilio's signed requests are heard, and each is applied once.

Requests are signed with the twilio SDK's own RequestValidator, exactly as Twilio signs them,
for the public URL Twilio was given (PUBLIC_BASE_URL + path). The test client calls PeerPath
as "testserver", so a signature that passes proves the public URL is what is checked.
"""

import logging
import threading
import time
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from messaging import replies, services, texts
from messaging.models import Message, OptOut
from messaging.replies import ReplyOutcome
from tests.messaging.twilio_requests import (
    AUTH_TOKEN,
    OFFICE_NUMBER,
    PUBLIC_BASE_URL,
    VOLUNTEER,
    inbound_params,
    new_sid,
    sign,
    status_params,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = OFFICE_NUMBER
    return settings


@pytest.fixture
def post_to_webhook(client):
    """POST a form to a webhook as Twilio does; signed for the public URL unless told
    otherwise (`signed_url`, `token`, or `signature=None` for no header at all)."""

    def post(
        webhook,
        params,
        *,
        signed_url=None,
        token=AUTH_TOKEN,
        signed_params=None,
        signature="sign",
        **extra,
    ):
        path = reverse(f"messaging:twilio-{webhook}")
        if signature == "sign":
            url = signed_url or PUBLIC_BASE_URL + path
            signature = sign(url, params if signed_params is None else signed_params, token)
        if signature is not None:
            extra["HTTP_X_TWILIO_SIGNATURE"] = signature
        return client.post(
            path, urlencode(params), content_type="application/x-www-form-urlencoded", **extra
        )

    return post


@pytest.fixture
def sent_text(queue, django_capture_on_commit_callbacks):
    """A text PeerPath sent: delivered to the locmem backend, now `sent` with its SID."""
    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_sms(VOLUNTEER, "Your session is tomorrow at 10:00.", topic="test")
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    return message


@pytest.fixture
def confirm_handler():
    calls = []

    def handler(question, reply):
        calls.append((question.pk, reply.body))
        return ReplyOutcome(understood=True, answer="Thanks, see you then.")

    replies.register("tests.webhooks.confirm", handler)
    yield calls
    replies.unregister("tests.webhooks.confirm")


def params_for(webhook, sent_text):
    """A request each webhook would act on: a STOP, or the sent text's delivery."""
    if webhook == "inbound":
        return inbound_params("STOP")
    return status_params(sent_text.twilio_sid, "delivered")


def stored():
    """Everything a webhook could have written."""
    return (
        list(Message.objects.values_list("pk", "status", "error_code", "topic")),
        list(OptOut.objects.values_list("pk", "ended_at")),
    )


# Signatures --------------------------------------------------------------------------------


@pytest.mark.parametrize("webhook", ["inbound", "status"])
def test_a_request_without_signature_is_refused_and_nothing_is_stored(
    webhook, post_to_webhook, sent_text
):
    before = stored()
    params = params_for(webhook, sent_text)

    response = post_to_webhook(webhook, params, signature=None)

    assert response.status_code == 403
    assert stored() == before


@pytest.mark.parametrize("webhook", ["inbound", "status"])
@pytest.mark.parametrize(
    "forgery",
    ["another token", "another url", "another path", "tampered param", "added param", "garbage"],
)
def test_a_forged_signature_is_refused_and_nothing_is_stored(
    webhook, forgery, post_to_webhook, sent_text
):
    before = stored()
    if webhook == "inbound":
        params = inbound_params("STOP")
        tampered = {**params, "Body": "Hello"}
    else:
        params = status_params(sent_text.twilio_sid, "failed", ErrorCode="21610")
        tampered = {**params, "MessageStatus": "sent"}
    other_path = "status" if webhook == "inbound" else "inbound"
    options = {
        "another token": {"token": "someone-elses-token"},
        "another url": {
            "signed_url": "https://attacker.example.com" + reverse(f"messaging:twilio-{webhook}")
        },
        "another path": {"signed_url": PUBLIC_BASE_URL + reverse(f"messaging:twilio-{other_path}")},
        "tampered param": {"signed_params": tampered},
        "added param": {"signed_params": {k: v for k, v in params.items() if k != "To"}},
        "garbage": {"signature": "bm90IGEgc2lnbmF0dXJl"},
    }[forgery]

    response = post_to_webhook(webhook, params, **options)

    assert response.status_code == 403
    assert stored() == before


@pytest.mark.parametrize("webhook", ["inbound", "status"])
def test_without_an_auth_token_every_request_is_refused(
    webhook, post_to_webhook, settings, sent_text, caplog
):
    """Even one 'signed' with the empty token, which anyone could compute."""
    settings.TWILIO_AUTH_TOKEN = ""
    before = stored()
    params = params_for(webhook, sent_text)

    for token in (AUTH_TOKEN, ""):
        assert post_to_webhook(webhook, params, token=token).status_code == 403
    assert stored() == before
    assert "TWILIO_AUTH_TOKEN" in caplog.text


@pytest.mark.parametrize("webhook", ["inbound", "status"])
def test_the_webhooks_answer_only_post(webhook, client):
    response = client.get(reverse(f"messaging:twilio-{webhook}"))

    assert response.status_code == 405


def test_a_signature_for_the_public_url_passes_behind_a_proxy(post_to_webhook, settings):
    """The proxy calls PeerPath over plain HTTP on an inside address; Twilio signed the
    public https URL."""
    settings.ALLOWED_HOSTS = ["10.0.0.5"]

    response = post_to_webhook("inbound", inbound_params(), HTTP_HOST="10.0.0.5:8000")

    assert response.status_code == 200
    assert Message.objects.inbound().count() == 1


def test_a_signature_for_another_public_url_is_refused(post_to_webhook, settings):
    settings.PUBLIC_BASE_URL = "https://peerpath-staging.example.org"

    response = post_to_webhook("inbound", inbound_params())

    assert response.status_code == 403
    assert not Message.objects.exists()


def test_without_public_base_url_the_requests_own_url_is_checked(post_to_webhook, settings):
    settings.PUBLIC_BASE_URL = ""
    own_url = "http://testserver" + reverse("messaging:twilio-inbound")

    signed_for_public = post_to_webhook("inbound", inbound_params())
    signed_for_own = post_to_webhook("inbound", inbound_params(), signed_url=own_url)

    assert signed_for_public.status_code == 403
    assert signed_for_own.status_code == 200
    assert Message.objects.inbound().count() == 1


def test_a_query_string_in_the_url_twilio_called_is_part_of_the_signature(client):
    path = reverse("messaging:twilio-inbound") + "?office=coatbridge"
    params = inbound_params()
    headers = {"HTTP_X_TWILIO_SIGNATURE": sign(PUBLIC_BASE_URL + path, params)}

    response = client.post(
        path, urlencode(params), content_type="application/x-www-form-urlencoded", **headers
    )

    assert response.status_code == 200


def test_a_field_sent_twice_is_checked_as_twilio_signed_it(client):
    """Twilio signs every value of a repeated field, sorted; the check must see them all."""
    form = QueryDict(mutable=True)
    form.update(inbound_params("Hello"))
    form.appendlist("Body", "again")
    path = reverse("messaging:twilio-inbound")
    headers = {"HTTP_X_TWILIO_SIGNATURE": sign(PUBLIC_BASE_URL + path, form)}

    response = client.post(
        path, form.urlencode(), content_type="application/x-www-form-urlencoded", **headers
    )

    assert response.status_code == 200


# Malformed but signed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("webhook", "field"),
    [
        ("inbound", "MessageSid"),
        ("inbound", "From"),
        ("status", "MessageSid"),
        ("status", "MessageStatus"),
    ],
)
@pytest.mark.parametrize("how", ["absent", "blank"])
def test_a_signed_request_missing_a_field_is_refused_naming_it(
    webhook, field, how, post_to_webhook, sent_text
):
    before = stored()
    params = params_for(webhook, sent_text)
    if how == "absent":
        del params[field]
    else:
        params[field] = "  "

    response = post_to_webhook(webhook, params)

    assert response.status_code == 400
    assert field in response.content.decode()
    assert stored() == before


@pytest.mark.parametrize("sender", ["not a number", "+44", "07700 90"])
def test_an_inbound_text_from_a_malformed_number_is_refused(sender, post_to_webhook):
    response = post_to_webhook("inbound", inbound_params("STOP", From=sender))

    assert response.status_code == 400
    assert "not a valid phone number" in response.content.decode()
    assert not Message.objects.exists()
    assert not OptOut.objects.exists()


@pytest.mark.parametrize("code", ["abc", "30003x", "-1", "3.5", "²", "٣٠٠٠٣", "99999999999"])
def test_a_status_with_an_error_code_that_is_not_a_number_is_refused(
    code, post_to_webhook, sent_text
):
    before = stored()

    response = post_to_webhook(
        "status", status_params(sent_text.twilio_sid, "undelivered", ErrorCode=code)
    )

    assert response.status_code == 400
    assert "ErrorCode" in response.content.decode()
    assert stored() == before


def test_an_inbound_text_without_to_is_still_stored(post_to_webhook, settings):
    settings.TWILIO_FROM_NUMBER = ""  # a Messaging Service sends; no number configured
    params = inbound_params("Hello")
    del params["To"]

    response = post_to_webhook("inbound", params)

    assert response.status_code == 200
    reply = Message.objects.inbound().get()
    assert str(reply.from_number) == VOLUNTEER


# Inbound -----------------------------------------------------------------------------------


def test_an_inbound_text_is_answered_with_empty_twiml(post_to_webhook):
    response = post_to_webhook("inbound", inbound_params("Hello"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Response"
    assert list(root) == []


def test_an_inbound_text_is_stored_as_received(post_to_webhook):
    params = inbound_params("Running 5 minutes late")

    post_to_webhook("inbound", params)

    reply = Message.objects.inbound().get()
    assert reply.direction == Message.Direction.INBOUND
    assert reply.status == Message.Status.RECEIVED
    assert reply.twilio_sid == params["MessageSid"]
    assert str(reply.from_number) == VOLUNTEER
    assert str(reply.to_number) == OFFICE_NUMBER
    assert reply.body == "Running 5 minutes late"


def test_the_same_inbound_webhook_twice_is_applied_once(
    post_to_webhook, confirm_handler, queue, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        question = services.send_sms(
            VOLUNTEER, "Reply YES to confirm.", topic="test", reply_handler="tests.webhooks.confirm"
        )
    params = inbound_params("yes")

    with django_capture_on_commit_callbacks(execute=True):
        first = post_to_webhook("inbound", params)
    with django_capture_on_commit_callbacks(execute=True):
        second = post_to_webhook("inbound", params)

    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert Message.objects.inbound().count() == 1
    assert confirm_handler == [(question.pk, "yes")]
    assert [sent["body"] for sent in outbox] == ["Reply YES to confirm.", "Thanks, see you then."]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_inbound_webhook_at_the_same_moment_is_applied_once(queue):
    """Twilio's retry arrives while the first delivery is still being handled: the second
    waits on the unique SID, then answers as for a repeat."""
    entered = threading.Event()
    calls = []

    def slow_handler(question, reply):
        calls.append(reply.body)
        entered.set()
        time.sleep(0.5)  # the second request reaches its insert meanwhile
        return ReplyOutcome(understood=True, answer="Thanks, see you then.")

    replies.register("tests.webhooks.slow", slow_handler)
    try:
        services.send_sms(
            VOLUNTEER, "Reply YES to confirm.", topic="test", reply_handler="tests.webhooks.slow"
        )
        params = inbound_params("YES")
        path = reverse("messaging:twilio-inbound")
        headers = {"HTTP_X_TWILIO_SIGNATURE": sign(PUBLIC_BASE_URL + path, params)}
        responses = []

        def deliver_webhook():
            try:
                responses.append(
                    Client().post(
                        path,
                        urlencode(params),
                        content_type="application/x-www-form-urlencoded",
                        **headers,
                    )
                )
            finally:
                connection.close()

        first = threading.Thread(target=deliver_webhook)
        second = threading.Thread(target=deliver_webhook)
        first.start()
        assert entered.wait(10)
        second.start()
        first.join(10)
        second.join(10)
    finally:
        replies.unregister("tests.webhooks.slow")

    assert [response.status_code for response in responses] == [200, 200]
    assert responses[0].content == responses[1].content
    assert Message.objects.inbound().count() == 1
    assert calls == ["YES"]
    assert Message.objects.outbound().filter(body="Thanks, see you then.").count() == 1


def test_the_same_stop_twice_records_one_opt_out(post_to_webhook):
    params = inbound_params("STOP")

    post_to_webhook("inbound", params)
    post_to_webhook("inbound", params)

    assert OptOut.objects.count() == 1
    assert Message.objects.inbound().count() == 1


def test_stop_through_the_webhook_suppresses_queued_texts(post_to_webhook):
    later = services.send_sms(VOLUNTEER, "See you Friday.", topic="test")  # not committed: queued

    response = post_to_webhook("inbound", inbound_params(" Stop! "))

    assert response.status_code == 200
    assert OptOut.objects.current().filter(phone=VOLUNTEER).exists()
    later.refresh_from_db()
    assert later.status == Message.Status.SUPPRESSED


@pytest.mark.parametrize("word", ["HELP", "info"])
def test_help_from_a_number_that_opted_out_is_answered_with_the_office_number(
    word, post_to_webhook, queue, outbox, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_to_webhook("inbound", inbound_params("STOP"))
        response = post_to_webhook("inbound", inbound_params(word))

    assert response.status_code == 200
    [answer] = outbox
    assert answer["to"] == VOLUNTEER
    assert settings.OFFICE_PHONE in answer["body"]
    assert answer["body"] == texts.help_text()
    help_answer = Message.objects.outbound().get(topic="keyword.help")
    assert help_answer.status == Message.Status.SENT
    assert help_answer.error == ""
    # The number is still opted out: nothing else goes to it.
    assert OptOut.objects.current().filter(phone=VOLUNTEER).exists()
    later = services.send_sms(VOLUNTEER, "See you Friday.", topic="test")
    assert later.status == Message.Status.SUPPRESSED


def test_a_help_answer_waiting_when_the_number_says_stop_still_goes(post_to_webhook, outbox):
    post_to_webhook("inbound", inbound_params("HELP"))  # its delivery not yet run
    other = services.send_sms(VOLUNTEER, "See you Friday.", topic="test")
    post_to_webhook("inbound", inbound_params("STOP"))

    for message in Message.objects.outbound():
        services.deliver(message.pk)

    assert [sent["body"] for sent in outbox] == [texts.help_text()]
    other.refresh_from_db()
    assert other.status == Message.Status.SUPPRESSED


def test_a_handler_that_fails_loses_no_text_and_twilio_gets_its_answer(
    post_to_webhook, queue, outbox, caplog, django_capture_on_commit_callbacks
):
    def broken(question, reply):
        raise RuntimeError("handler bug")

    replies.register("tests.webhooks.broken", broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.send_sms(
                VOLUNTEER, "Reply YES.", topic="test", reply_handler="tests.webhooks.broken"
            )
        with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
            response = post_to_webhook("inbound", inbound_params("YES"))
    finally:
        replies.unregister("tests.webhooks.broken")

    assert response.status_code == 200
    reply = Message.objects.inbound().get()
    assert reply.body == "YES"
    assert reply.needs_attention
    assert "handler bug" in caplog.text


# Delivery status ---------------------------------------------------------------------------


def status_of(message):
    message.refresh_from_db()
    return message.status


def test_a_sent_text_becomes_delivered(post_to_webhook, sent_text):
    response = post_to_webhook("status", status_params(sent_text.twilio_sid, "delivered"))

    assert response.status_code == 200
    assert status_of(sent_text) == Message.Status.DELIVERED


def test_a_late_sent_does_not_undo_delivered(post_to_webhook, sent_text):
    post_to_webhook("status", status_params(sent_text.twilio_sid, "delivered"))
    response = post_to_webhook("status", status_params(sent_text.twilio_sid, "sent"))

    assert response.status_code == 200
    assert status_of(sent_text) == Message.Status.DELIVERED


def test_undelivered_keeps_the_readable_reason(post_to_webhook, sent_text):
    post_to_webhook("status", status_params(sent_text.twilio_sid, "undelivered", ErrorCode="30003"))

    sent_text.refresh_from_db()
    assert sent_text.status == Message.Status.UNDELIVERED
    assert sent_text.error_code == 30003
    assert sent_text.error == "The phone is switched off or out of signal."


@pytest.mark.parametrize("final", ["failed", "undelivered"])
@pytest.mark.parametrize("late", ["sent", "delivered", "queued"])
def test_a_failure_is_never_overwritten_by_a_late_callback(final, late, post_to_webhook, sent_text):
    post_to_webhook("status", status_params(sent_text.twilio_sid, final, ErrorCode="30008"))
    post_to_webhook("status", status_params(sent_text.twilio_sid, late))

    sent_text.refresh_from_db()
    assert sent_text.status == final
    assert sent_text.error_code == 30008


@pytest.mark.parametrize("twilio_status", ["queued", "accepted", "sending", "scheduled", "read"])
def test_twilios_own_early_statuses_are_ignored(twilio_status, post_to_webhook, sent_text):
    response = post_to_webhook("status", status_params(sent_text.twilio_sid, twilio_status))

    assert response.status_code == 200
    assert status_of(sent_text) == Message.Status.SENT


def test_a_status_in_capitals_is_understood(post_to_webhook, sent_text):
    post_to_webhook("status", status_params(sent_text.twilio_sid, "Delivered"))

    assert status_of(sent_text) == Message.Status.DELIVERED


def test_a_status_for_an_unknown_sid_is_logged_and_answered_ok(post_to_webhook, caplog):
    unknown = new_sid()

    with caplog.at_level(logging.WARNING, logger="messaging"):
        response = post_to_webhook("status", status_params(unknown, "delivered"))

    assert response.status_code == 200
    assert unknown in caplog.text
    assert not Message.objects.exists()


def test_a_status_for_an_inbound_text_changes_nothing(post_to_webhook):
    params = inbound_params("Hello")
    post_to_webhook("inbound", params)

    response = post_to_webhook("status", status_params(params["MessageSid"], "delivered"))

    assert response.status_code == 200
    assert Message.objects.inbound().get().status == Message.Status.RECEIVED


def test_unsubscribed_in_a_status_callback_records_an_opt_out(post_to_webhook, sent_text):
    post_to_webhook("status", status_params(sent_text.twilio_sid, "failed", ErrorCode="21610"))

    sent_text.refresh_from_db()
    assert sent_text.status == Message.Status.FAILED
    assert sent_text.error_code == 21610
    opt_out = OptOut.objects.current().get()
    assert str(opt_out.phone) == VOLUNTEER
    assert opt_out.word == "Twilio 21610"


def test_an_unknown_error_code_is_kept_with_a_plain_reason(post_to_webhook, sent_text):
    post_to_webhook("status", status_params(sent_text.twilio_sid, "failed", ErrorCode="30999"))

    sent_text.refresh_from_db()
    assert sent_text.error_code == 30999
    assert sent_text.error == "Twilio error 30999."
