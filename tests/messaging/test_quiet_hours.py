"""Quiet hours (SMS_QUIET_HOURS, default 21:00-08:00 UK time): texts asked for inside them wait
until they end, correctly on both clock-change days."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured

from messaging import services
from messaging.models import Message
from messaging.quiet_hours import quiet_window

pytestmark = pytest.mark.django_db

UK = ZoneInfo("Europe/London")
MOBILE = "+447911123456"


@pytest.fixture(autouse=True)
def _quiet_hours(settings):
    settings.SMS_QUIET_HOURS = "21:00-08:00"


@pytest.fixture
def ask(queue, django_capture_on_commit_callbacks, time_machine):
    """Ask for a text at a UK wall-clock time; returns the message as it stands after."""

    def ask(when, **options):
        time_machine.move_to(when, tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            message = services.send_sms(MOBILE, "Hello", topic="test.quiet", **options)
        message.refresh_from_db()
        return message

    return ask


def uk(*fields):
    return datetime(*fields, tzinfo=UK)


def utc(*fields):
    return datetime(*fields, tzinfo=UTC)


@pytest.mark.parametrize(
    ("asked", "goes_at"),
    [
        # Winter (GMT: UK time is UTC).
        (uk(2026, 1, 14, 20, 59), utc(2026, 1, 14, 20, 59)),
        (uk(2026, 1, 14, 21, 0), utc(2026, 1, 15, 8, 0)),
        (uk(2026, 1, 14, 23, 59), utc(2026, 1, 15, 8, 0)),
        (uk(2026, 1, 15, 0, 0), utc(2026, 1, 15, 8, 0)),
        (uk(2026, 1, 15, 7, 59), utc(2026, 1, 15, 8, 0)),
        (uk(2026, 1, 15, 8, 0), utc(2026, 1, 15, 8, 0)),
        # Summer (BST: UK time is UTC+1).
        (uk(2026, 7, 14, 20, 59), utc(2026, 7, 14, 19, 59)),
        (uk(2026, 7, 14, 21, 0), utc(2026, 7, 15, 7, 0)),
        (uk(2026, 7, 15, 7, 59), utc(2026, 7, 15, 7, 0)),
        (uk(2026, 7, 15, 8, 0), utc(2026, 7, 15, 7, 0)),
    ],
    ids=[
        "winter-20:59",
        "winter-21:00",
        "winter-23:59",
        "winter-midnight",
        "winter-07:59",
        "winter-08:00",
        "summer-20:59",
        "summer-21:00",
        "summer-07:59",
        "summer-08:00",
    ],
)
def test_a_text_asked_for_in_quiet_hours_waits_until_8(ask, outbox, asked, goes_at):
    message = ask(asked)

    assert message.send_after == goes_at
    if goes_at <= asked:
        assert message.status == Message.Status.SENT
        assert len(outbox) == 1
    else:
        assert message.status == Message.Status.QUEUED
        assert outbox == []


@pytest.mark.parametrize(
    ("asked", "goes_at"),
    [
        # Spring forward, 29 March 2026: 01:00 GMT becomes 02:00 BST; 08:00 BST is 07:00 UTC.
        (uk(2026, 3, 28, 23, 30), utc(2026, 3, 29, 7, 0)),
        (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 7, 0)),  # 00:30 GMT
        (utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 7, 0)),  # 02:30 BST
        (uk(2026, 3, 29, 20, 59), utc(2026, 3, 29, 19, 59)),
        (uk(2026, 3, 29, 21, 0), utc(2026, 3, 30, 7, 0)),
        # Fall back, 25 October 2026: 02:00 BST becomes 01:00 GMT; 08:00 GMT is 08:00 UTC.
        (uk(2026, 10, 24, 23, 30), utc(2026, 10, 25, 8, 0)),
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 8, 0)),  # 01:30 BST, the first time
        (utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 8, 0)),  # 01:30 GMT, the second time
        (uk(2026, 10, 25, 20, 59), utc(2026, 10, 25, 20, 59)),
        (uk(2026, 10, 25, 21, 0), utc(2026, 10, 26, 8, 0)),
    ],
    ids=[
        "spring-eve-23:30",
        "spring-00:30",
        "spring-02:30-bst",
        "spring-20:59",
        "spring-21:00",
        "autumn-eve-23:30",
        "autumn-01:30-bst",
        "autumn-01:30-gmt",
        "autumn-20:59",
        "autumn-21:00",
    ],
)
def test_quiet_hours_end_at_8_uk_time_on_clock_change_days(ask, asked, goes_at):
    message = ask(asked)

    assert message.send_after == goes_at
    assert message.send_after.astimezone(UK).hour == (
        8 if goes_at > asked else asked.astimezone(UK).hour
    )


def test_a_held_text_goes_with_the_sweep_at_8(ask, outbox, time_machine):
    message = ask(uk(2026, 3, 28, 23, 30))

    time_machine.move_to(utc(2026, 3, 29, 6, 59), tick=False)  # 07:59 BST
    assert services.sweep()["enqueued"] == 0
    time_machine.move_to(utc(2026, 3, 29, 7, 0), tick=False)  # 08:00 BST
    assert services.sweep()["enqueued"] == 1

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert len(outbox) == 1


def test_a_text_due_before_21_but_claimed_after_is_held_until_morning(queue, outbox, time_machine):
    time_machine.move_to(uk(2026, 1, 14, 20, 59), tick=False)
    message = services.send_sms(MOBILE, "Hello", topic="test.quiet")  # its enqueue is lost
    assert message.send_after == utc(2026, 1, 14, 20, 59)

    time_machine.move_to(uk(2026, 1, 14, 21, 1), tick=False)
    assert services.sweep()["enqueued"] == 1

    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert message.send_after == utc(2026, 1, 15, 8, 0)
    assert message.attempts == 0
    assert outbox == []


def test_a_text_that_ignores_quiet_hours_is_never_held(ask, outbox):
    message = ask(uk(2026, 1, 14, 23, 30), quiet_hours=False)

    assert message.status == Message.Status.SENT
    assert len(outbox) == 1


def test_a_text_that_ignores_quiet_hours_is_not_held_when_claimed_at_night(
    queue, outbox, time_machine
):
    time_machine.move_to(uk(2026, 1, 14, 23, 30), tick=False)
    message = services.send_sms(MOBILE, "Hello", topic="test.quiet", quiet_hours=False)

    assert services.deliver(message.pk) is True
    assert len(outbox) == 1


def test_empty_quiet_hours_turn_them_off(ask, outbox, settings):
    settings.SMS_QUIET_HOURS = "  "

    message = ask(uk(2026, 1, 14, 23, 30))

    assert message.status == Message.Status.SENT
    assert quiet_window() is None


def test_quiet_hours_within_one_day(ask, settings):
    settings.SMS_QUIET_HOURS = "12:30-14:00"

    assert ask(uk(2026, 1, 14, 12, 29)).send_after == utc(2026, 1, 14, 12, 29)
    assert ask(uk(2026, 1, 14, 12, 30)).send_after == utc(2026, 1, 14, 14, 0)
    assert ask(uk(2026, 1, 14, 13, 59)).send_after == utc(2026, 1, 14, 14, 0)
    assert ask(uk(2026, 1, 14, 14, 0)).send_after == utc(2026, 1, 14, 14, 0)
    assert ask(uk(2026, 1, 14, 23, 0)).send_after == utc(2026, 1, 14, 23, 0)


@pytest.mark.parametrize("value", ["9pm-8am", "21:00", "21:00-", "25:00-08:00", "21:60-08:00"])
def test_a_malformed_setting_is_refused_with_an_example(settings, value):
    settings.SMS_QUIET_HOURS = value

    with pytest.raises(ImproperlyConfigured) as refused:
        services.send_sms(MOBILE, "Hello", topic="test.quiet")

    assert str(refused.value) == (
        f"SMS_QUIET_HOURS must look like 21:00-08:00 (or be empty), not {value!r}."
    )
    assert not Message.objects.exists()


def test_a_window_that_starts_and_ends_together_is_refused(settings):
    settings.SMS_QUIET_HOURS = "21:00-21:00"

    with pytest.raises(ImproperlyConfigured, match="starts and ends at the same time"):
        quiet_window()
