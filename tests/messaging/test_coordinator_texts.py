"""A text a coordinator writes goes through the outbox: held by quiet hours, and refused,
with nothing written, to a number that opted out or when it is empty, too long or hidden."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from messaging.models import Message
from messaging.services import (
    COORDINATOR_TEXT_TOPIC,
    record_opt_out,
    send_coordinator_text,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PHONE = "+447700900321"
UK = ZoneInfo("Europe/London")


def test_a_coordinators_text_is_queued_with_who_wrote_it():
    coordinator = UserFactory()
    message = send_coordinator_text("07700 900321", "  Can you call the office?  ", by=coordinator)
    assert message.status == Message.Status.QUEUED
    assert message.to_number == PHONE
    assert message.body == "Can you call the office?"
    assert message.topic == COORDINATOR_TEXT_TOPIC
    assert message.context["sent_by"] == coordinator.pk


def test_quiet_hours_hold_it_until_morning(settings, time_machine):
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    time_machine.move_to(datetime(2026, 1, 14, 22, 30, tzinfo=UK), tick=False)
    message = send_coordinator_text(PHONE, "See you tomorrow.")
    assert message.send_after == datetime(2026, 1, 15, 8, 0, tzinfo=UK)


def test_a_number_that_opted_out_is_refused_and_nothing_is_written():
    record_opt_out(PHONE, word="STOP")
    with pytest.raises(ValidationError, match="opted out of texts"):
        send_coordinator_text(PHONE, "Hello")
    assert not Message.objects.outbound().exists()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("", "body is empty"),
        ("   ", "body is empty"),
        ("a" * 481, "480 characters"),
        ("Holi\x00day", "invisible character"),
        ("\u202eyadiloH", "invisible character"),
    ],
)
def test_a_bad_body_is_refused_beside_the_box(body, says):
    with pytest.raises(ValidationError) as refusal:
        send_coordinator_text(PHONE, body)
    assert says in " ".join(refusal.value.message_dict["body"])
    assert not Message.objects.exists()


def test_a_landline_is_refused():
    with pytest.raises(ValidationError, match="not a mobile number"):
        send_coordinator_text("01236 000000", "Hello")
