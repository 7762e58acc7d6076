"""A sign-in code reaches the phone it is for and nobody else: the stored body holds only its
mask, whatever the text's state, and the backends put the code back as the text leaves."""

import importlib
from datetime import timedelta

import pytest

from messaging import backends, services
from messaging.models import Message
from tests.conftest import SIGN_IN_CODE, SIGN_IN_PHONE

pytestmark = pytest.mark.django_db

MASK = "•" * len(SIGN_IN_CODE)


def texts_to_phone(twilio):
    return [request.params["Body"] for request in twilio.requests_of("create")]


@pytest.mark.parametrize("state", ["queued", "retrying", "sent", "failed"])
def test_the_stored_body_never_holds_the_code(state, sign_in_code_text):
    message = sign_in_code_text(state)

    assert SIGN_IN_CODE not in message.body
    assert MASK in message.body
    assert SIGN_IN_CODE not in str(message)
    assert not Message.objects.filter(body__contains=SIGN_IN_CODE).exists()
    assert not Message.objects.filter(body__contains=SIGN_IN_CODE[:4]).exists()
    assert message.shown_context == {}


@pytest.mark.parametrize("state", ["queued", "retrying", "sent", "failed"])
def test_the_code_is_kept_only_while_the_text_may_still_be_sent(state, sign_in_code_text):
    message = sign_in_code_text(state)

    waiting = state in {"queued", "retrying"}
    assert (services.SECRET in message.context) is waiting


def test_twilio_is_sent_the_code_itself(sign_in_code_text, twilio):
    message = sign_in_code_text("sent")

    [sent] = texts_to_phone(twilio)
    assert SIGN_IN_CODE in sent
    assert sent == message.body.replace(MASK, SIGN_IN_CODE)
    assert twilio.messages[0]["to"] == SIGN_IN_PHONE


def test_a_retry_after_a_503_sends_the_code_itself(sign_in_code_text, twilio):
    message = sign_in_code_text("retrying")
    Message.objects.filter(pk=message.pk).update(send_after=message.created_at)

    services.deliver(message.pk)

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert [SIGN_IN_CODE in body for body in texts_to_phone(twilio)] == [True, True]
    assert message.context == {} and SIGN_IN_CODE not in message.body


def test_a_code_twilio_took_before_answering_500_is_found_and_not_sent_twice(
    sign_in_code_text, twilio
):
    """The retry asks Twilio for the text as the phone got it, code and all."""
    message = sign_in_code_text("queued")
    twilio.fail_next(500, accepted=True)
    services.deliver(message.pk)
    Message.objects.filter(pk=message.pk).update(send_after=message.created_at)

    services.deliver(message.pk)

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.twilio_sid == twilio.messages[0]["sid"]
    assert len(twilio.messages) == 1


def test_the_console_backend_prints_the_code_as_the_phone_would_show_it(
    settings, capsys, sign_in_code_text
):
    settings.SMS_BACKEND = "console"
    backends._backend.cache_clear()
    message = sign_in_code_text("queued")

    services.deliver(message.pk)

    assert SIGN_IN_CODE in capsys.readouterr().out
    backends._backend.cache_clear()


def test_an_expired_code_is_never_sent_and_leaves_nothing_behind(sign_in_code_text, twilio):
    message = sign_in_code_text("queued")
    Message.objects.filter(pk=message.pk).update(expires_at=message.created_at + timedelta(0))

    services.deliver(message.pk)

    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.context == {}
    assert texts_to_phone(twilio) == []


def test_codes_left_waiting_from_before_are_masked_by_the_migration():
    from django.apps import apps

    migration = importlib.import_module("messaging.migrations.0004_secrets_masked_in_bodies")
    waiting = Message.objects.create(
        direction=Message.Direction.OUTBOUND,
        to_number=SIGN_IN_PHONE,
        body=f"Your PeerPath sign-in code is {SIGN_IN_CODE}.",
        status=Message.Status.QUEUED,
        topic="account.login_code",
        context={services.SECRET: SIGN_IN_CODE},
    )

    migration.mask_secrets(apps, None)

    waiting.refresh_from_db()
    assert waiting.body == f"Your PeerPath sign-in code is {MASK}."
    assert waiting.text_to_send() == f"Your PeerPath sign-in code is {SIGN_IN_CODE}."
