"""A volunteer the office cannot text: their sessions say so instead of silently waiting, and
the reminder pass skips them. A landline counts, as messaging would refuse it."""

import pytest

from matching import reminders
from matching.models import ConfirmationState, Session
from messaging.models import Message
from tests.matching.conftest import HOUR, NOW, texted_session

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def state_of(session):
    return Session.objects.with_confirmation_state().get(pk=session.pk).confirmation_state


@pytest.mark.parametrize(
    "phone",
    ["+441236123456", "+442071234567", "+448001234567", "+447012345678", "+447640123456"],
    ids=["Coatbridge landline", "London landline", "freephone", "personal number", "pager"],
)
def test_a_volunteer_without_a_mobile_gets_no_reminder_and_the_session_says_so(
    run_passes, outbox, phone
):
    session = texted_session(NOW + 5 * HOUR, match__volunteer__phone=phone)

    run_passes()

    assert outbox == []
    assert not Message.objects.filter(topic=reminders.REMINDER_TOPIC).exists()
    assert state_of(session) == ConfirmationState.CANNOT_TEXT
    assert not Session.objects.textable().filter(pk=session.pk).exists()


@pytest.mark.parametrize(
    "phone",
    ["+447700900123", "+447911123456", "+447624123456"],
    ids=["drama range", "mobile", "Isle of Man mobile"],
)
def test_a_volunteer_with_a_mobile_is_reminded(run_passes, outbox, phone):
    session = texted_session(NOW + 5 * HOUR, match__volunteer__phone=phone)
    assert state_of(session) == ConfirmationState.NOT_REMINDED_YET

    run_passes()

    assert [text["to"] for text in outbox] == [phone]
    assert state_of(session) == ConfirmationState.AWAITING_REPLY


@pytest.mark.parametrize(
    "status", [Message.Status.FAILED, Message.Status.UNDELIVERED, Message.Status.SUPPRESSED]
)
def test_a_reminder_that_never_reached_the_phone_shows_cannot_be_texted(run_passes, status):
    session = texted_session(NOW + 5 * HOUR)
    run_passes()
    Message.objects.filter(topic=reminders.REMINDER_TOPIC).update(status=status)

    assert state_of(session) == ConfirmationState.CANNOT_TEXT
