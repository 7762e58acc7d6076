"""Session reminders: one text before each session, sent once, around quiet hours and clock
changes; rescheduling asks again, cancelling tells the volunteer; at-risk flags."""

import datetime

import pytest
from django_q.models import Schedule

from matching import reminders, services, texts
from matching.models import ConfirmationState, FollowUp, Session
from messaging import services as messaging
from messaging.models import Message
from messaging.segments import count_segments
from tests.matching.conftest import HOUR, NOW, at, texted_session

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def reminders_sent():
    return list(Message.objects.filter(topic=reminders.REMINDER_TOPIC).order_by("pk"))


def state_of(session):
    return Session.objects.with_confirmation_state().get(pk=session.pk).confirmation_state


def quiet_hours(settings):
    settings.SMS_QUIET_HOURS = "21:00-08:00"


# The reminder ----------------------------------------------------------------------------


def test_the_reminder_goes_a_day_before_with_day_time_place_and_first_name(
    run_passes, outbox, time_machine
):
    session = texted_session(
        at(11, 25, 14), place="Coatbridge library", match__peer__preferred_name="Sam Jo Reid"
    )
    time_machine.move_to(at(11, 24, 13, 59), tick=False)
    run_passes()
    assert outbox == []

    time_machine.move_to(at(11, 24, 14), tick=False)
    run_passes()

    [text] = outbox
    volunteer = session.match.volunteer
    assert text["to"] == volunteer.phone
    assert text["body"] == (
        "PeerPath: your session with Sam is Wed 25 Nov at 14:00, Coatbridge library. "
        "Reply YES to confirm or NO if you can't make it."
    )
    assert "CANCEL" not in text["body"].upper()
    [message] = reminders_sent()
    assert message.reply_handler == reminders.REPLY_HANDLER
    assert message.context["session_id"] == session.pk
    assert str(session.pk) in message.idempotency_key
    assert session.starts_at.isoformat() in message.idempotency_key
    assert message.expires_at == session.starts_at
    assert message.question_open
    assert message.reply_expires_at <= session.starts_at
    session.refresh_from_db()
    assert session.reminder == message


@pytest.mark.parametrize("mode, where", [("phone", "by phone"), ("video", "by video")])
def test_a_phone_or_video_session_says_how_instead_of_where(run_passes, outbox, mode, where):
    texted_session(NOW + 3 * HOUR, mode=mode, place="")
    run_passes()
    [text] = outbox
    assert f"at 15:00, {where}. Reply YES" in text["body"]


def test_running_the_pass_twice_sends_once(run_passes, outbox):
    texted_session(NOW + 5 * HOUR)
    run_passes()
    run_passes()
    assert len(outbox) == 1
    assert len(reminders_sent()) == 1


def test_the_same_reminder_asked_for_twice_is_one_text(run_passes, outbox):
    session = texted_session(NOW + 5 * HOUR)
    run_passes()
    Session.objects.filter(pk=session.pk).update(reminder=None)  # as if the pass had died
    run_passes()
    assert len(outbox) == 1


def test_a_session_booked_later_than_the_reminder_time_is_reminded_at_once(run_passes, outbox):
    texted_session(NOW + 6 * HOUR)
    assert state_of(Session.objects.get()) == ConfirmationState.NOT_REMINDED_YET
    run_passes()
    assert len(outbox) == 1
    assert state_of(Session.objects.get()) == ConfirmationState.AWAITING_REPLY


def test_the_hours_before_come_from_the_setting(run_passes, outbox, settings, time_machine):
    settings.SESSION_REMINDER_HOURS = 48
    texted_session(at(11, 27, 10))
    time_machine.move_to(at(11, 25, 9, 59), tick=False)
    run_passes()
    assert outbox == []
    time_machine.move_to(at(11, 25, 10), tick=False)
    run_passes()
    assert len(outbox) == 1


def test_with_no_hours_before_a_reminder_is_never_sent(run_passes, outbox, settings):
    settings.SESSION_REMINDER_HOURS = 0
    texted_session(NOW + 2 * HOUR)
    run_passes()
    assert outbox == []


def test_settled_and_past_sessions_get_no_reminder(run_passes, outbox):
    texted_session(NOW + 3 * HOUR, status=Session.Status.CONFIRMED, confirmed_at=NOW)
    texted_session(NOW + 4 * HOUR, status=Session.Status.CANCELLED)
    texted_session(NOW - 3 * HOUR)
    run_passes()
    assert reminders_sent() == []


# Clock changes ---------------------------------------------------------------------------


def test_across_the_spring_clock_change_the_text_shows_summer_time(
    run_passes, outbox, time_machine
):
    # Sunday 29 March 2026, 10:00 BST is 09:00 UTC; 24 hours earlier is 09:00 GMT on Saturday.
    time_machine.move_to(at(3, 20, 12), tick=False)
    texted_session(at(3, 29, 9))
    time_machine.move_to(at(3, 28, 8, 59), tick=False)
    run_passes()
    assert outbox == []
    time_machine.move_to(at(3, 28, 9), tick=False)
    run_passes()
    [text] = outbox
    assert "Sun 29 Mar at 10:00" in text["body"]


def test_across_the_autumn_clock_change_the_text_shows_winter_time(
    run_passes, outbox, time_machine
):
    # Sunday 25 October 2026, 10:00 GMT is 10:00 UTC; 24 hours earlier is 11:00 BST.
    time_machine.move_to(at(10, 20, 12), tick=False)
    texted_session(at(10, 25, 10))
    time_machine.move_to(at(10, 24, 9, 59), tick=False)
    run_passes()
    assert outbox == []
    time_machine.move_to(at(10, 24, 10), tick=False)
    run_passes()
    [text] = outbox
    assert "Sun 25 Oct at 10:00" in text["body"]


# Quiet hours -----------------------------------------------------------------------------


def test_a_reminder_due_in_quiet_hours_waits_for_the_morning(
    run_passes, sweep, outbox, settings, time_machine
):
    quiet_hours(settings)
    texted_session(at(11, 24, 22))  # due 22:00 on Monday, in quiet hours
    time_machine.move_to(at(11, 23, 22), tick=False)
    run_passes()
    [message] = reminders_sent()
    assert message.send_after == at(11, 24, 8)
    assert outbox == []

    time_machine.move_to(at(11, 24, 7, 59), tick=False)
    sweep()
    assert outbox == []
    time_machine.move_to(at(11, 24, 8), tick=False)
    sweep()
    assert len(outbox) == 1


def test_a_reminder_quiet_hours_would_hold_past_the_start_goes_before_they_begin(
    run_passes, outbox, settings, time_machine
):
    quiet_hours(settings)
    settings.SESSION_REMINDER_HOURS = 2
    texted_session(at(11, 24, 7, 30))  # due 05:30, quiet until 08:00: after the start
    time_machine.move_to(at(11, 23, 20, 29), tick=False)
    run_passes()
    assert outbox == []
    time_machine.move_to(at(11, 23, 20, 30), tick=False)
    run_passes()
    [text] = outbox
    assert "Tue 24 Nov at 07:30" in text["body"]


def test_a_reminder_that_could_only_arrive_after_the_start_is_never_sent(
    run_passes, sweep, outbox, settings, time_machine
):
    quiet_hours(settings)
    time_machine.move_to(at(11, 23, 22), tick=False)
    session = texted_session(at(11, 24, 7, 30))  # booked in quiet hours that end at 08:00
    for hour in (22, 23):
        time_machine.move_to(at(11, 23, hour), tick=False)
        run_passes()
    for hour in range(0, 8):
        time_machine.move_to(at(11, 24, hour, 15), tick=False)
        run_passes()
        sweep()
    assert outbox == []
    assert reminders_sent() == []
    assert state_of(session) == ConfirmationState.AT_RISK


def test_a_reminder_held_by_quiet_hours_past_the_start_expires_unsent(
    run_passes, sweep, outbox, settings, time_machine
):
    quiet_hours(settings)
    settings.SESSION_REMINDER_HOURS = 2
    texted_session(at(11, 24, 7, 30))
    time_machine.move_to(at(11, 23, 20, 45), tick=False)
    with pytest.MonkeyPatch.context() as patch:  # the worker is down until quiet hours begin
        patch.setattr(messaging, "enqueue_delivery", lambda message_id: None)
        run_passes()
    time_machine.move_to(at(11, 24, 8, 1), tick=False)
    sweep()
    assert outbox == []
    [message] = reminders_sent()
    assert message.status == Message.Status.FAILED


def test_quiet_hours_end_at_8_local_on_the_morning_the_clocks_go_forward(
    run_passes, outbox, settings, time_machine
):
    quiet_hours(settings)
    settings.SESSION_REMINDER_HOURS = 2
    time_machine.move_to(at(3, 20, 12), tick=False)
    texted_session(at(3, 29, 7, 30))  # 08:30 BST; due 06:30 BST, quiet until 08:00 BST
    time_machine.move_to(at(3, 29, 5, 30), tick=False)
    run_passes()
    [message] = reminders_sent()
    assert message.send_after == at(3, 29, 7)  # 08:00 BST
    assert outbox == []


def test_before_quiet_hours_begin_means_before_21_00_summer_time_the_night_they_go_back(
    run_passes, outbox, settings, time_machine
):
    quiet_hours(settings)
    settings.SESSION_REMINDER_HOURS = 2
    time_machine.move_to(at(10, 20, 12), tick=False)
    texted_session(at(10, 25, 7, 45))  # 07:45 GMT on Sunday: quiet hours end after it
    time_machine.move_to(at(10, 24, 19, 29), tick=False)  # 20:29 BST
    run_passes()
    assert outbox == []
    time_machine.move_to(at(10, 24, 19, 30), tick=False)  # 20:30 BST, half an hour before 21:00
    run_passes()
    [text] = outbox
    assert "Sun 25 Oct at 07:45" in text["body"]


# Rescheduling and cancelling -------------------------------------------------------------


def test_rescheduling_closes_the_old_question_and_sends_a_fresh_reminder(run_passes, outbox):
    session = texted_session(NOW + 5 * HOUR, mode="phone", place="")
    run_passes()
    [old] = reminders_sent()

    services.reschedule_session(session, starts_at=NOW + 6 * HOUR, ends_at=NOW + 7 * HOUR)
    old.refresh_from_db()
    assert not old.question_open
    session.refresh_from_db()
    assert session.reminder is None

    run_passes()
    assert len(outbox) == 2
    assert "at 18:00, by phone" in outbox[1]["body"]
    new = reminders_sent()[1]
    assert new.question_open
    session.refresh_from_db()
    assert session.reminder == new


def test_moving_a_session_away_and_back_asks_again_for_the_first_time(run_passes, outbox):
    session = texted_session(NOW + 5 * HOUR, mode="phone", place="")
    run_passes()
    services.reschedule_session(session, starts_at=NOW + 6 * HOUR, ends_at=NOW + 7 * HOUR)
    run_passes()
    services.reschedule_session(session, starts_at=NOW + 5 * HOUR, ends_at=NOW + 6 * HOUR)
    run_passes()
    times = [text["body"].split(" at ")[1][:5] for text in outbox]
    assert times == ["17:00", "18:00", "17:00"]


def test_a_reminder_waiting_for_morning_is_never_sent_for_a_rescheduled_session(
    run_passes, sweep, outbox, settings, time_machine
):
    quiet_hours(settings)
    session = texted_session(at(11, 24, 22), mode="phone", place="")
    time_machine.move_to(at(11, 23, 22), tick=False)
    run_passes()
    [held] = reminders_sent()
    services.reschedule_session(session, starts_at=at(11, 26, 22), ends_at=at(11, 26, 23))
    time_machine.move_to(at(11, 24, 8), tick=False)
    sweep()
    assert outbox == []
    held.refresh_from_db()
    assert held.status == Message.Status.WITHDRAWN
    assert "rescheduled" in held.error


def test_cancelling_after_the_reminder_tells_the_volunteer(
    run_passes, outbox, django_capture_on_commit_callbacks
):
    session = texted_session(NOW + 5 * HOUR)
    run_passes()
    [reminder] = reminders_sent()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_session(session, reason="Sam is unwell.")
    reminder.refresh_from_db()
    assert not reminder.question_open
    assert len(outbox) == 2
    assert outbox[1]["body"] == (
        "PeerPath: your session with Sam on Mon 23 Nov at 17:00 is cancelled. No need to reply."
    )


def test_cancelling_before_any_reminder_sends_nothing(
    run_passes, outbox, django_capture_on_commit_callbacks
):
    session = texted_session(NOW + 48 * HOUR)
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_session(session)
    run_passes()
    assert outbox == []
    assert Message.objects.count() == 0


def test_cancelling_while_the_reminder_waits_for_morning_sends_neither(
    run_passes, sweep, outbox, settings, time_machine, django_capture_on_commit_callbacks
):
    quiet_hours(settings)
    session = texted_session(at(11, 24, 22))
    time_machine.move_to(at(11, 23, 22), tick=False)
    run_passes()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_session(session)
    time_machine.move_to(at(11, 24, 8), tick=False)
    sweep()
    assert outbox == []


# Volunteers who cannot be texted ---------------------------------------------------------


@pytest.mark.parametrize(
    "volunteer",
    [
        {"match__volunteer__sms_consent": False},
        {"match__volunteer__phone": None},
        {"match__volunteer__phone": "+447700900555", "opted_out": True},
    ],
    ids=["no consent", "no number", "opted out"],
)
def test_a_volunteer_who_cannot_be_texted_gets_no_reminder_and_the_session_says_so(
    run_passes, outbox, volunteer
):
    volunteer = dict(volunteer)
    if volunteer.pop("opted_out", False):
        messaging.record_opt_out("+447700900555", word="STOP")
    session = texted_session(NOW + 5 * HOUR, **volunteer)
    run_passes()
    assert outbox == []
    assert reminders_sent() == []
    assert state_of(session) == ConfirmationState.CANNOT_TEXT


# Not confirmed in time -------------------------------------------------------------------


def test_an_unconfirmed_session_is_flagged_at_risk_at_the_deadline(run_passes, time_machine):
    session = texted_session(at(11, 24, 14))
    confirmed = texted_session(at(11, 24, 15), status=Session.Status.CONFIRMED, confirmed_at=NOW)
    time_machine.move_to(at(11, 24, 9, 59), tick=False)
    run_passes()
    session.refresh_from_db()
    assert session.at_risk_since is None

    time_machine.move_to(at(11, 24, 10), tick=False)
    run_passes()
    time_machine.move_to(at(11, 24, 10, 5), tick=False)
    run_passes()
    session.refresh_from_db()
    assert session.at_risk_since == at(11, 24, 10)
    assert state_of(session) == ConfirmationState.AT_RISK
    confirmed.refresh_from_db()
    assert confirmed.at_risk_since is None
    assert state_of(confirmed) == ConfirmationState.CONFIRMED


def test_the_deadline_comes_from_the_setting(run_passes, settings, time_machine):
    settings.SESSION_CONFIRM_DEADLINE_HOURS = 8
    session = texted_session(at(11, 24, 14))
    time_machine.move_to(at(11, 24, 6), tick=False)
    run_passes()
    session.refresh_from_db()
    assert session.at_risk_since == at(11, 24, 6)


def test_rescheduling_clears_the_at_risk_flag(run_passes, time_machine):
    session = texted_session(at(11, 24, 14), mode="phone", place="")
    time_machine.move_to(at(11, 24, 11), tick=False)
    run_passes()
    services.reschedule_session(session, starts_at=at(11, 26, 14), ends_at=at(11, 26, 15))
    session.refresh_from_db()
    assert session.at_risk_since is None


# The passes are set-based ----------------------------------------------------------------


def test_flagging_many_sessions_at_risk_costs_what_flagging_one_does():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    texted_session(NOW + HOUR)
    with CaptureQueriesContext(connection) as one:
        assert reminders.flag_at_risk() == 1
    for hour in range(2, 5):
        texted_session(NOW + hour * HOUR)
    with CaptureQueriesContext(connection) as three:
        assert reminders.flag_at_risk() == 3
    assert len(three) == len(one)
    assert FollowUp.objects.filter(kind=FollowUp.Kind.SESSION_AT_RISK).count() == 4


def test_finding_no_session_at_risk_is_one_query_in_its_transaction(django_assert_num_queries):
    texted_session(NOW + 9 * HOUR)
    with django_assert_num_queries(3):  # the select between a savepoint and its release
        assert reminders.flag_at_risk() == 0


def test_finding_no_reminder_due_among_many_sessions_is_one_query(django_assert_num_queries):
    for day in range(3, 8):
        texted_session(NOW + day * 24 * HOUR)
    with django_assert_num_queries(1):
        assert reminders.send_due_reminders() == 0


@pytest.mark.parametrize("count", [3, 30])
def test_reminding_many_sessions_costs_the_queries_of_reminding_one(count, queue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    texted_session(NOW + 2 * HOUR)
    with CaptureQueriesContext(connection) as one:
        assert reminders.send_due_reminders() == 1
    Message.objects.all().delete()
    Session.objects.all().delete()
    for minutes in range(count):
        texted_session(NOW + 2 * HOUR + minutes * datetime.timedelta(minutes=5))
    with CaptureQueriesContext(connection) as many:
        assert reminders.send_due_reminders() == count
    assert len(many) == len(one)
    assert Session.objects.filter(reminder__isnull=True).count() == 0


def _changing_the_session_as_it_is_reminded(monkeypatch, change):
    """Run `change` after the pass chose its sessions and before it writes their texts."""
    real = reminders.send_many

    def send_many(texts, **options):
        change()
        return real(texts, **options)

    monkeypatch.setattr(reminders, "send_many", send_many)


def test_a_session_rescheduled_as_it_is_reminded_gets_no_stale_reminder(run_passes, outbox):
    session = texted_session(NOW + 5 * HOUR, mode="phone", place="")
    other = texted_session(NOW + 6 * HOUR)
    with pytest.MonkeyPatch.context() as patch:
        _changing_the_session_as_it_is_reminded(
            patch,
            lambda: services.reschedule_session(
                session, starts_at=NOW + 9 * HOUR, ends_at=NOW + 10 * HOUR
            ),
        )
        assert run_passes()["reminded"] == 1

    assert [text["to"] for text in outbox] == [other.match.volunteer.phone]
    session.refresh_from_db()
    assert session.reminder is None
    stale = Message.objects.get(context__session_id=session.pk)
    assert stale.status == Message.Status.WITHDRAWN
    assert not stale.idempotency_key.startswith(reminders.REMINDER_TOPIC)

    run_passes()
    assert "at 21:00, by phone" in outbox[-1]["body"]
    session.refresh_from_db()
    assert session.reminder.body == outbox[-1]["body"]


def test_a_session_cancelled_as_it_is_reminded_gets_no_reminder(run_passes, outbox):
    session = texted_session(NOW + 5 * HOUR)
    with pytest.MonkeyPatch.context() as patch:
        _changing_the_session_as_it_is_reminded(
            patch, lambda: services.cancel_session(session, reason="Sam is unwell.")
        )
        assert run_passes()["reminded"] == 0

    assert outbox == []
    session.refresh_from_db()
    assert (session.status, session.reminder) == (Session.Status.CANCELLED, None)
    assert Message.objects.get().status == Message.Status.WITHDRAWN


def test_a_pass_that_died_halfway_sends_each_reminder_once_when_it_runs_again(run_passes, outbox):
    for hour in range(2, 6):
        texted_session(NOW + hour * HOUR)

    def dies(asked):
        raise RuntimeError("the worker stopped halfway through the pass")

    with pytest.MonkeyPatch.context() as patch, pytest.raises(RuntimeError):
        patch.setattr(reminders, "_tie_reminders", dies)
        run_passes()
    assert outbox == []
    assert not Message.objects.exists()

    run_passes()
    run_passes()
    assert len(outbox) == 4
    assert Session.objects.filter(reminder__isnull=False).count() == 4


def test_a_volunteer_whose_number_cannot_take_texts_holds_back_no_one_else(run_passes, outbox):
    landline = texted_session(NOW + 3 * HOUR, match__volunteer__phone="+441236440000")
    texted_session(NOW + 4 * HOUR)
    run_passes()
    assert len(outbox) == 1
    landline.refresh_from_db()
    assert landline.reminder is None


# The schedule ----------------------------------------------------------------------------


def test_a_schedule_runs_the_passes_every_five_minutes():
    schedule = Schedule.objects.get(func="matching.tasks.session_passes")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 5, -1)


def test_creating_the_schedule_twice_keeps_one(django_db_blocker):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("matching.migrations.0006_session_passes_every_five_minutes")
    migration.schedule_passes(apps, None)
    migration.schedule_passes(apps, None)
    assert Schedule.objects.filter(func="matching.tasks.session_passes").count() == 1


# Texts -----------------------------------------------------------------------------------

LONG_NAME = "Alexandrina-Margaret " * 5
LONG_PLACE = "The Community Rooms, Upper Floor, Old Coatbridge Municipal Buildings, " * 3


@pytest.mark.parametrize("place", ["Coatbridge library", LONG_PLACE[:200]])
@pytest.mark.parametrize("name", ["Sam", LONG_NAME[:100]])
@pytest.mark.parametrize("mode", ["in_person", "phone", "video"])
def test_every_session_text_fits_one_segment_with_long_names_and_places(
    name, place, mode, settings
):
    settings.SMS_SENDER_NAME = "PeerPath"
    starts_at = at(11, 25, 14)
    bodies = [
        texts.reminder_text(peer_name=name, starts_at=starts_at, mode=mode, place=place),
        texts.confirmed_text(starts_at=starts_at),
        texts.declined_text(),
        texts.cancelled_text(peer_name=name, starts_at=starts_at),
        texts.no_longer_open_text(),
    ]
    for body in bodies:
        segments = count_segments(body)
        assert (segments.encoding, segments.count) == ("GSM-7", 1), body


def test_a_long_place_is_shortened_visibly_and_the_reply_words_survive():
    body = texts.reminder_text(
        peer_name="Sam", starts_at=at(11, 25, 14), mode="in_person", place=LONG_PLACE[:200]
    )
    assert "The Community Rooms" in body
    assert "..." in body
    assert body.endswith("Reply YES to confirm or NO if you can't make it.")


def test_a_name_outside_gsm_7_still_makes_a_short_text():
    body = texts.reminder_text(
        peer_name="Zoë", starts_at=at(11, 25, 14), mode="in_person", place=LONG_PLACE[:200]
    )
    assert "Zoë" in body
    assert count_segments(body).count <= 3


def test_rescheduling_an_unanswered_session_lets_the_next_question_go(
    run_passes, outbox, django_capture_on_commit_callbacks
):
    first = texted_session(NOW + 5 * HOUR, mode="phone", place="")
    texted_session(NOW + 8 * HOUR, match__volunteer=first.match.volunteer)
    run_passes()
    assert len(outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.reschedule_session(first, starts_at=NOW + 30 * HOUR, ends_at=NOW + 31 * HOUR)
    assert len(outbox) == 2
    assert "at 20:00" in outbox[1]["body"]
