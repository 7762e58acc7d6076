"""Signed webhooks with fields no Twilio request has: each is a 400 naming the field, with
nothing stored, or (for a text's body) a stored row with the words kept and made safe.

Every request is signed with the twilio SDK's RequestValidator, as Twilio signs it: these are
the requests that get past the signature check.
"""

import re
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from messaging import services
from messaging.models import Message, OptOut
from messaging.webhooks import MAX_REQUEST_BYTES
from tests.messaging.twilio_requests import (
    AUTH_TOKEN,
    OFFICE_NUMBER,
    PUBLIC_BASE_URL,
    VOLUNTEER,
    inbound_params,
    new_sid,
    post_signed,
    status_params,
)

pytestmark = pytest.mark.django_db

TWILIO_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
UNSAFE_IN_A_BODY = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = OFFICE_NUMBER


@pytest.fixture
def sent_text():
    """A text PeerPath sent, as the outbox leaves it once Twilio took it."""
    return Message.objects.create(
        direction=Message.Direction.OUTBOUND,
        to_number=VOLUNTEER,
        from_number=OFFICE_NUMBER,
        body="Your session is tomorrow at 10:00.",
        status=Message.Status.SENT,
        topic="test",
        twilio_sid=new_sid(),
        attempts=1,
    )


def stored():
    """Everything a webhook could have written."""
    return (
        list(Message.objects.values_list("pk", "status", "error_code", "error", "topic", "body")),
        list(OptOut.objects.values_list("pk", "ended_at")),
    )


# Bodies: a person's words are kept, without what no phone sends ----------------------------


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("See you\x00 at 10", "See you at 10"),
        ("\x00\x01\x07\x1b[2Jok\x7f", "[2Jok"),
        ("Line one\r\nLine two\rLine three", "Line one\nLine two\nLine three"),
        ("Tabs\tand\nlines stay", "Tabs\tand\nlines stay"),
        ("50% sure \u202eevil\u2066", "50% sure evil"),
        ("\x85next line, a C1 control", "next line, a C1 control"),
        ("\u0633\u0627\u0631\u0627\u200f ok", "\u0633\u0627\u0631\u0627\u200f ok"),
    ],
)
def test_hidden_characters_in_a_body_are_removed_and_the_text_is_kept(sent, kept, client):
    params = inbound_params(sent)

    response = post_signed(client, "inbound", params)

    assert response.status_code == 200
    reply = Message.objects.inbound().get()
    assert reply.twilio_sid == params["MessageSid"]
    assert reply.body == kept


def test_a_body_of_nothing_but_nul_is_stored_empty_and_goes_to_the_inbox(client):
    response = post_signed(client, "inbound", inbound_params("\x00\x00"))

    assert response.status_code == 200
    reply = Message.objects.inbound().get()
    assert reply.body == ""
    assert reply.needs_attention


def test_a_lone_surrogate_in_a_body_arrives_as_a_replacement_character(client):
    """%ED%A0%80 would be U+D800, which no database takes; form decoding makes each of its
    bytes a U+FFFD."""
    params = inbound_params("A\ufffd\ufffd\ufffdB")
    raw = urlencode({**params, "Body": "A"}).replace("Body=A", "Body=A%ED%A0%80B")

    response = post_signed(client, "inbound", params, body=raw)

    assert response.status_code == 200
    assert Message.objects.inbound().get().body == "A\ufffd\ufffd\ufffdB"


def test_the_longest_text_twilio_delivers_is_stored_whole_and_read(client):
    words = "Thursday suits me better. " * 61 + "Yes"
    assert len(words) <= services.MAX_RECEIVED_CHARACTERS

    post_signed(client, "inbound", inbound_params(words))

    reply = Message.objects.inbound().get()
    assert reply.body == words
    assert reply.error == ""
    assert Message.objects.filter(topic="reply.not_understood").exists()  # read and answered


def test_a_body_longer_than_any_text_keeps_its_beginning_for_the_coordinator(client):
    flood = "STOP " + "x" * 4995

    response = post_signed(client, "inbound", inbound_params(flood))

    assert response.status_code == 200
    reply = Message.objects.inbound().get()
    assert reply.body == flood[: services.MAX_RECEIVED_CHARACTERS]
    assert reply.needs_attention
    assert reply.error == "The text was 5,000 characters long; only the first 1,600 are kept."
    # Nothing acts on it or answers it: it is no text a person sent.
    assert not OptOut.objects.exists()
    assert not Message.objects.outbound().exists()


# Whole requests --------------------------------------------------------------------------


@pytest.mark.parametrize("webhook", ["inbound", "status"])
@pytest.mark.parametrize("size", [MAX_REQUEST_BYTES + 1, 1_000_000, 3_000_000])
def test_a_request_larger_than_any_webhook_is_refused_before_it_is_read(
    webhook, size, client, sent_text
):
    before = stored()
    if webhook == "inbound":
        params = inbound_params("")
    else:
        params = status_params(sent_text.twilio_sid, "delivered")
    padding = size - len(urlencode(params))
    params["Body"] = "x" * padding  # a status callback has no Body, but signs every field

    response = post_signed(client, webhook, params)

    assert response.status_code == 413
    assert "64 KB" in response.content.decode()
    assert stored() == before


def test_a_request_just_under_the_limit_is_heard(client):
    params = inbound_params("")
    params["Padding"] = "x" * (MAX_REQUEST_BYTES - len(urlencode(params)) - len("&Padding="))

    response = post_signed(client, "inbound", params)

    assert response.status_code == 200
    assert Message.objects.inbound().count() == 1


# Ids, numbers, statuses, codes: a field in the wrong shape is a 400 naming it -------------


NOT_A_TWILIO_SID = [
    "SM" + "a" * 63,  # longer than the column
    "SM" + "0" * 32 + "a" * 40,
    "SM" + "0" * 31 + "\x00",
    "\x00" + "SM" + "0" * 32,
    "SM-yes",
    "XX" + "0" * 32,
    "SM" + "g" * 32,
    " SM" + "0" * 32,
    "SM" + "٣" * 32,  # digits, but not ASCII ones
]


@pytest.mark.parametrize("sid", NOT_A_TWILIO_SID)
def test_an_inbound_text_whose_id_is_not_twilios_is_refused(sid, client):
    response = post_signed(client, "inbound", inbound_params("STOP", MessageSid=sid))

    assert response.status_code == 400
    assert "MessageSid is not a Twilio message id" in response.content.decode()
    assert not Message.objects.exists()
    assert not OptOut.objects.exists()


@pytest.mark.parametrize("sid", NOT_A_TWILIO_SID)
def test_a_status_whose_id_is_not_twilios_is_refused(sid, client, sent_text):
    before = stored()

    response = post_signed(client, "status", status_params(sid, "delivered"))

    assert response.status_code == 400
    assert "MessageSid is not a Twilio message id" in response.content.decode()
    assert stored() == before


def test_a_picture_messages_id_is_twilios_too(client):
    response = post_signed(client, "inbound", inbound_params(MessageSid="MM" + "0af" * 10 + "12"))

    assert response.status_code == 200


@pytest.mark.parametrize("word", ["bogus", "deliver\x00ed", "delivered; failed", "", "x" * 5000])
def test_a_status_that_is_not_one_of_twilios_is_refused(word, client, sent_text):
    before = stored()

    response = post_signed(client, "status", status_params(sent_text.twilio_sid, word))

    assert response.status_code == 400
    assert "MessageStatus" in response.content.decode()
    assert len(response.content) < 400  # the value is not echoed back
    assert stored() == before


@pytest.mark.parametrize("code", ["30003\x00", "\x0030003", "1" * 10])
def test_an_error_code_with_a_nul_or_too_many_digits_is_refused(code, client, sent_text):
    before = stored()

    response = post_signed(
        client, "status", status_params(sent_text.twilio_sid, "failed", ErrorCode=code)
    )

    assert response.status_code == 400
    assert "ErrorCode must be a number of at most 9 digits" in response.content.decode()
    assert stored() == before


@pytest.mark.parametrize("field", ["From", "To"])
@pytest.mark.parametrize("number", ["\x00", "+44\x007700900123", "+44 7700 900123" * 300])
def test_an_inbound_text_with_a_malformed_number_is_refused_naming_it(field, number, client):
    response = post_signed(client, "inbound", inbound_params("STOP", **{field: number}))

    assert response.status_code == 400
    assert response.content.decode().startswith(field)
    assert "not a valid phone number" in response.content.decode()
    assert not Message.objects.exists()


@pytest.mark.parametrize("field", ["From", "To"])
def test_a_number_with_a_stray_nul_after_it_is_stored_as_plain_e164(field, client):
    response = post_signed(client, "inbound", inbound_params("Hi", **{field: "+447700900123\x00"}))

    assert response.status_code == 200
    reply = Message.objects.inbound().get()
    assert str(getattr(reply, f"{field.lower()}_number")) == "+447700900123"


def test_every_problem_is_named_at_once(client):
    params = inbound_params("Hi", MessageSid="SM-yes", From="nobody")

    response = post_signed(client, "inbound", params)

    assert response.status_code == 400
    assert "MessageSid" in response.content.decode()
    assert "From" in response.content.decode()


# Anything at all, in any field -----------------------------------------------------------

HOSTILE_CHARACTERS = ["\x00", "%", "\u202e", "\u200f", "\r", "\n", "\t", "\x1b", "&", "=", "+"]

hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(
        alphabet=st.one_of(st.sampled_from(HOSTILE_CHARACTERS), st.characters()),
        max_size=200,
    ),
    st.builds(
        lambda piece, times: (piece * times)[:5000],
        st.text(min_size=1, max_size=4),
        st.integers(min_value=1500, max_value=5000),
    ),
)

INBOUND_FIELDS = list(inbound_params())
STATUS_FIELDS = list(status_params(new_sid(), "delivered"))


def assert_sanitised(message):
    assert TWILIO_SID.fullmatch(message.twilio_sid)
    assert not UNSAFE_IN_A_BODY.search(message.body)
    assert len(message.body) <= services.MAX_RECEIVED_CHARACTERS
    for number in (message.to_number, message.from_number):
        assert not number or number.is_valid()


@hypothesis_settings(
    max_examples=120,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@given(
    webhook=st.sampled_from(["inbound", "status"]),
    field_index=st.integers(min_value=0, max_value=max(len(INBOUND_FIELDS), len(STATUS_FIELDS))),
    value=hostile_text,
)
def test_any_text_in_any_field_is_a_clean_refusal_or_a_sanitised_row(
    webhook, field_index, value, client, sent_text
):
    fields = INBOUND_FIELDS if webhook == "inbound" else STATUS_FIELDS
    field = fields[field_index % len(fields)]
    if webhook == "inbound":
        params = inbound_params("Hello", **{field: value})
    else:
        params = status_params(sent_text.twilio_sid, "delivered", **{field: value})
    before = stored()

    response = post_signed(client, webhook, params)

    assert response.status_code in {200, 400, 413}, (field, value, response.content)
    if response.status_code != 200:
        assert stored() == before
    elif webhook == "inbound":
        assert_sanitised(Message.objects.inbound().get(twilio_sid=params["MessageSid"]))
    else:
        sent_text.refresh_from_db()
        assert_sanitised(sent_text)
        assert sent_text.status in {Message.Status.SENT, Message.Status.DELIVERED}
