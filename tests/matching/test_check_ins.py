"""The after-session check-in: asked once, hours after the session, never in quiet hours,
never about a session already closed; YES completes it with its hours, NO records a no show.
And the follow-ups sessions raise: declined, at risk, no show, check-in unanswered, once each.

The end-to-end tests send the check-in through the real twilio SDK to the local Twilio stub
and bring the answer in through the signed webhook, as Twilio does.
"""

import datetime
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from matching import check_ins, reminders, replies, services, texts
from matching.models import FollowUp, Session
from messaging import services as messaging
from messaging import texts as messaging_texts
from messaging.models import Message
from messaging.segments import count_segments
from tests.factories import MatchFactory
from tests.matching.conftest import HOUR, NOW, at, texted_session
from tests.matching.test_replies import NO_FORMS, YES_FORMS
from tests.messaging.twilio_requests import inbound_params, sign

pytestmark = pytest.mark.django_db
Status = Session.Status
Kind = FollowUp.Kind
Urgency = FollowUp.Urgency
CHECK_IN_BODY = (
    "PeerPath: did your session with Sam on Monday happen? Reply YES or NO. "
    "If it ran longer or shorter, reply YES and the hours, e.g. YES 1.5"
)


@pytest.fixture(autouse=True)
def _now(time_machine, settings):
    settings.SMS_SENDER_NAME = "PeerPath"
    time_machine.move_to(NOW, tick=False)


def check_ins_sent():
    return list(Message.objects.filter(topic=check_ins.CHECK_IN_TOPIC).order_by("pk"))


def follow_ups(kind):
    return list(FollowUp.objects.filter(kind=kind).order_by("pk"))


def quiet_hours(settings):
    settings.SMS_QUIET_HOURS = "21:00-08:00"


def phone_of(session):
    return session.match.volunteer.phone


def last_text(outbox):
    return outbox[-1]["body"]


@pytest.fixture
def checked_in(run_passes):
    """A two-hour session that ended two hours ago, whose volunteer was just asked."""
    session = texted_session(NOW - 4 * HOUR, hours=2)
    run_passes()
    session.refresh_from_db()
    assert session.check_in.status == Message.Status.SENT
    return session


# When the check-in goes ------------------------------------------------------------------


def test_the_check_in_goes_two_hours_after_the_end_naming_the_peer_and_the_day(
    run_passes, outbox, time_machine
):
    session = texted_session(at(11, 23, 14), match__peer__preferred_name="Sam Jo Reid")
    time_machine.move_to(at(11, 23, 16, 59), tick=False)
    run_passes()
    assert outbox == []

    time_machine.move_to(at(11, 23, 17), tick=False)
    assert run_passes()["checked_in"] == 1

    [text] = outbox
    assert text["to"] == phone_of(session)
    assert text["body"] == CHECK_IN_BODY
    assert count_segments(text["body"]).count == 1
    [message] = check_ins_sent()
    assert message.reply_handler == check_ins.REPLY_HANDLER
    assert message.context["session_id"] == session.pk
    assert str(session.pk) in message.idempotency_key
    assert session.starts_at.isoformat() in message.idempotency_key
    assert message.question_open
    assert message.expires_at == at(11, 24, 17)  # a day to answer
    session.refresh_from_db()
    assert session.check_in == message


def test_the_hours_after_come_from_the_setting(run_passes, outbox, settings, time_machine):
    settings.SESSION_CHECK_IN_HOURS_AFTER = 5
    texted_session(at(11, 23, 8))
    time_machine.move_to(at(11, 23, 13, 59), tick=False)
    run_passes()
    assert outbox == []
    time_machine.move_to(at(11, 23, 14), tick=False)
    run_passes()
    assert len(outbox) == 1


def test_running_the_passes_twice_asks_once(run_passes, outbox):
    texted_session(NOW - 3 * HOUR)
    run_passes()
    run_passes()
    assert len(outbox) == 1
    assert len(check_ins_sent()) == 1


def test_a_confirmed_session_is_asked_too(run_passes, outbox):
    texted_session(NOW - 3 * HOUR, status=Status.CONFIRMED, confirmed_at=NOW - 4 * HOUR)
    run_passes()
    assert len(outbox) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Status.COMPLETED},
        {"status": Status.NO_SHOW},
        {"status": Status.CANCELLED},
        {"status": Status.DECLINED},
    ],
    ids=["completed", "no show", "cancelled", "declined"],
)
def test_a_session_the_office_already_closed_gets_no_check_in(run_passes, outbox, fields):
    session = texted_session(NOW - 3 * HOUR)
    hours = 1 if fields["status"] == Status.COMPLETED else None
    Session.objects.filter(pk=session.pk).update(hours=hours, **fields)
    run_passes()
    assert outbox == []
    session.refresh_from_db()
    assert session.check_in is None


def test_a_session_not_over_long_enough_or_long_past_gets_no_check_in(run_passes, outbox):
    texted_session(NOW - HOUR)  # ended now
    texted_session(NOW - 3 * HOUR + datetime.timedelta(minutes=1))  # ended 1 h 59 min ago
    texted_session(NOW - 49 * HOUR)  # ended two days ago: the office records it
    run_passes()
    assert outbox == []


@pytest.mark.parametrize(
    "volunteer",
    [
        {"match__volunteer__sms_consent": False},
        {"match__volunteer__phone": None},
        {"match__volunteer__phone": "+447700900555", "opted_out": True},
    ],
    ids=["no consent", "no number", "opted out"],
)
def test_a_volunteer_who_cannot_be_texted_is_not_asked(run_passes, outbox, volunteer):
    volunteer = dict(volunteer)
    if volunteer.pop("opted_out", False):
        messaging.record_opt_out("+447700900555", word="STOP")
    session = texted_session(NOW - 3 * HOUR, **volunteer)
    run_passes()
    assert outbox == []
    assert Message.objects.filter(topic=check_ins.CHECK_IN_TOPIC).count() == 0
    session.refresh_from_db()
    assert session.check_in is None


# Quiet hours and clock changes -----------------------------------------------------------


def test_a_session_ending_at_20_30_is_asked_at_08_00_next_morning(
    run_passes, sweep, outbox, settings, time_machine
):
    quiet_hours(settings)
    texted_session(at(11, 23, 19), hours=1.5)  # Monday 19:00 to 20:30
    time_machine.move_to(at(11, 23, 22, 30), tick=False)
    run_passes()
    [message] = check_ins_sent()
    assert message.send_after == at(11, 24, 8)
    assert outbox == []

    time_machine.move_to(at(11, 24, 7, 59), tick=False)
    sweep()
    assert outbox == []
    time_machine.move_to(at(11, 24, 8), tick=False)
    sweep()
    [text] = outbox
    assert "on Monday happen?" in text["body"]
    message.refresh_from_db()
    assert message.reply_expires_at == at(11, 25, 8)  # a day from the morning


def test_the_night_the_clocks_go_forward_the_check_in_waits_for_08_00_summer_time(
    run_passes, sweep, outbox, settings, time_machine
):
    quiet_hours(settings)
    texted_session(at(3, 28, 19), hours=1.5)  # Saturday 28 March, 19:00 to 20:30 GMT
    time_machine.move_to(at(3, 28, 22, 30), tick=False)
    run_passes()
    [message] = check_ins_sent()
    assert message.send_after == at(3, 29, 7)  # 08:00 BST
    time_machine.move_to(at(3, 29, 7), tick=False)
    sweep()
    assert "on Saturday happen?" in last_text(outbox)


def test_the_day_the_clocks_go_forward_the_hours_after_are_real_hours(
    run_passes, outbox, time_machine
):
    texted_session(at(3, 29, 8))  # Sunday 29 March, 09:00 to 10:00 BST
    time_machine.move_to(at(3, 29, 10, 55), tick=False)  # 11:55 BST
    run_passes()
    assert outbox == []
    time_machine.move_to(at(3, 29, 11), tick=False)  # 12:00 BST, two hours after the end
    run_passes()
    assert "on Sunday happen?" in last_text(outbox)


def test_the_night_the_clocks_go_back_the_check_in_waits_for_08_00_winter_time(
    run_passes, sweep, outbox, settings, time_machine
):
    quiet_hours(settings)
    texted_session(at(10, 24, 18), hours=1.5)  # Saturday 24 October, 19:00 to 20:30 BST
    time_machine.move_to(at(10, 24, 21, 30), tick=False)  # 22:30 BST
    run_passes()
    [message] = check_ins_sent()
    assert message.send_after == at(10, 25, 8)  # 08:00 GMT
    time_machine.move_to(at(10, 25, 7, 59), tick=False)
    sweep()
    assert outbox == []
    time_machine.move_to(at(10, 25, 8), tick=False)
    sweep()
    assert "on Saturday happen?" in last_text(outbox)


def test_a_session_across_the_hour_the_clocks_go_back_is_asked_in_the_morning(
    run_passes, sweep, outbox, settings, time_machine
):
    quiet_hours(settings)
    texted_session(at(10, 24, 23, 30), hours=2)  # 00:30 BST to 01:30 GMT, Sunday 25 October
    time_machine.move_to(at(10, 25, 3, 30), tick=False)
    run_passes()
    [message] = check_ins_sent()
    assert message.send_after == at(10, 25, 8)
    time_machine.move_to(at(10, 25, 8), tick=False)
    sweep()
    assert "on Sunday happen?" in last_text(outbox)


# Replies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body", YES_FORMS)
def test_yes_in_its_forms_completes_the_session_with_its_scheduled_hours(
    checked_in, text_in, outbox, body
):
    reply = text_in(phone_of(checked_in), body)
    checked_in.refresh_from_db()
    assert checked_in.status == Status.COMPLETED
    assert checked_in.hours == Decimal("2.00")
    assert last_text(outbox) == "Thanks, 2 hours recorded."
    assert not reply.needs_attention
    assert not checked_in.check_in.question_open


@pytest.mark.parametrize(
    "body, hours, answer",
    [
        ("YES 1.5", "1.50", "Thanks, 1.5 hours recorded."),
        ("yes 1,5", "1.50", "Thanks, 1.5 hours recorded."),
        ("Yes, 2 hours", "2.00", "Thanks, 2 hours recorded."),
        ("y 0.5", "0.50", "Thanks, 0.5 hours recorded."),
        ("Yes 1.", "1.00", "Thanks, 1 hour recorded."),
        ("yes 45 mins", "0.75", "Thanks, 0.75 hours recorded."),
        ("Yep, 3 hrs, went well", "3.00", "Thanks, 3 hours recorded."),
    ],
)
def test_yes_with_hours_records_those_hours(checked_in, text_in, outbox, body, hours, answer):
    text_in(phone_of(checked_in), body)
    checked_in.refresh_from_db()
    assert checked_in.status == Status.COMPLETED
    assert checked_in.hours == Decimal(hours)
    assert last_text(outbox) == answer


def test_a_session_of_a_length_in_minutes_records_its_hours_to_the_hundredth(
    run_passes, text_in, outbox
):
    session = texted_session(NOW - 2 * HOUR - datetime.timedelta(minutes=50), hours=5 / 6)
    run_passes()
    text_in(phone_of(session), "yes")
    session.refresh_from_db()
    assert session.hours == Decimal("0.83")
    assert last_text(outbox) == "Thanks, 0.83 hours recorded."


@pytest.mark.parametrize(
    "body", ["YES 0", "yes 25", "yes 1.5.2", "yes 1 or 2", "Yes 1,,5"], ids=repr
)
def test_hours_that_cannot_be_right_go_to_the_coordinator(checked_in, text_in, outbox, body):
    reply = text_in(phone_of(checked_in), body)
    checked_in.refresh_from_db()
    assert checked_in.status == Status.SCHEDULED
    assert checked_in.hours is None
    assert reply.needs_attention
    assert reply.context["session_id"] == checked_in.pk
    assert reply.topic == "reply.session.check_in"
    assert last_text(outbox) == messaging_texts.not_understood_text()
    assert checked_in.check_in.question_open  # a clear answer may still come


@pytest.mark.parametrize("body", NO_FORMS)
def test_no_in_its_forms_records_a_no_show_and_answers_kindly(checked_in, text_in, outbox, body):
    reply = text_in(phone_of(checked_in), body)
    checked_in.refresh_from_db()
    assert checked_in.status == Status.NO_SHOW
    assert checked_in.hours is None
    assert last_text(outbox) == texts.no_show_text()
    assert "sorry" in last_text(outbox)
    assert not reply.needs_attention
    [follow_up] = follow_ups(Kind.NO_SHOW)
    assert follow_up.session == checked_in


@pytest.mark.parametrize("body", ["It was grand", "", "😀", "1.5", "maybe, Sam was late"], ids=repr)
def test_anything_else_goes_to_the_coordinator_with_the_session(checked_in, text_in, outbox, body):
    reply = text_in(phone_of(checked_in), body)
    checked_in.refresh_from_db()
    assert checked_in.status == Status.SCHEDULED
    assert reply.needs_attention
    assert reply.context["session_id"] == checked_in.pk
    assert last_text(outbox) == messaging_texts.not_understood_text()


def test_yes_twice_records_once(checked_in, text_in, outbox):
    text_in(phone_of(checked_in), "YES 1.5")
    second = text_in(phone_of(checked_in), "YES 3")
    checked_in.refresh_from_db()
    assert checked_in.hours == Decimal("1.50")
    assert second.needs_attention


def test_a_reply_after_the_check_in_expired_changes_nothing(
    checked_in, text_in, outbox, time_machine
):
    time_machine.move_to(checked_in.check_in.expires_at, tick=False)
    text_in(phone_of(checked_in), "YES")
    checked_in.refresh_from_db()
    assert checked_in.status == Status.SCHEDULED
    assert last_text(outbox) == messaging_texts.not_understood_text()


@pytest.mark.parametrize("attended", [True, False])
def test_a_reply_after_the_office_recorded_the_outcome_changes_nothing(
    checked_in, text_in, outbox, django_capture_on_commit_callbacks, attended
):
    with django_capture_on_commit_callbacks(execute=True):
        services.record_outcome(checked_in, attended=attended, hours=1 if attended else None)
    checked_in.refresh_from_db()
    assert not checked_in.check_in.question_open
    text_in(phone_of(checked_in), "NO" if attended else "YES 2")
    checked_in.refresh_from_db()
    assert checked_in.status == (Status.COMPLETED if attended else Status.NO_SHOW)
    assert checked_in.hours == (Decimal("1.00") if attended else None)
    assert last_text(outbox) == messaging_texts.not_understood_text()


def test_a_reply_after_the_office_cancelled_the_session_changes_nothing(
    checked_in, text_in, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_session(checked_in, reason="Recorded in error.")
    checked_in.refresh_from_db()
    assert not checked_in.check_in.question_open
    text_in(phone_of(checked_in), "YES")
    checked_in.refresh_from_db()
    assert checked_in.status == Status.CANCELLED
    assert checked_in.hours is None


def test_a_question_about_a_session_closed_by_hand_is_answered_politely(
    checked_in, text_in, outbox
):
    # Changed in the database without its check-in being closed.
    Session.objects.filter(pk=checked_in.pk).update(status=Status.CANCELLED)
    reply = text_in(phone_of(checked_in), "YES")
    checked_in.refresh_from_db()
    assert checked_in.status == Status.CANCELLED
    assert last_text(outbox) == texts.no_longer_open_text()
    assert not reply.needs_attention


def test_an_outcome_recorded_before_the_morning_means_the_check_in_is_never_sent(
    run_passes, sweep, outbox, settings, time_machine, django_capture_on_commit_callbacks
):
    quiet_hours(settings)
    session = texted_session(at(11, 23, 19), hours=1.5)
    time_machine.move_to(at(11, 23, 22, 30), tick=False)
    run_passes()
    time_machine.move_to(at(11, 23, 23), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_outcome(session, attended=True, hours="1.5")
    time_machine.move_to(at(11, 24, 8), tick=False)
    sweep()
    assert outbox == []
    [message] = check_ins_sent()
    assert message.status == Message.Status.WITHDRAWN


def test_the_next_question_goes_once_the_check_in_is_answered(
    checked_in, run_passes, text_in, outbox
):
    texted_session(NOW + 5 * HOUR, match__volunteer=checked_in.match.volunteer)
    run_passes()
    assert len(reminders_to(checked_in)) == 1
    assert last_text(outbox) == CHECK_IN_BODY  # the reminder waits for the answer
    text_in(phone_of(checked_in), "YES")
    assert "Reply YES to confirm" in last_text(outbox)


def reminders_to(session):
    return Message.objects.filter(topic=reminders.REMINDER_TOPIC, to_number=phone_of(session))


# Reading hours ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, hours",
    [("yes", None), ("YES 1.5", Decimal("1.5")), ("y .5", Decimal("0.5")), ("ok 90 min", 1.5)],
)
def test_hours_are_read_from_the_reply(body, hours):
    assert replies.hours_in(body) == hours


@pytest.mark.parametrize("body", ["yes 1.5.2", "yes 1 2", "yes 1,5.5"])
def test_hours_that_are_not_one_number_are_unreadable(body):
    with pytest.raises(replies.UnreadableHours):
        replies.hours_in(body)


# Follow-ups ------------------------------------------------------------------------------


def test_no_raises_one_no_show_follow_up_however_often_the_passes_run(
    checked_in, run_passes, text_in
):
    text_in(phone_of(checked_in), "no")
    run_passes()
    run_passes()
    [follow_up] = follow_ups(Kind.NO_SHOW)
    assert follow_up.session == checked_in
    assert follow_up.volunteer == checked_in.match.volunteer
    assert follow_up.urgency == Urgency.SOON
    assert follow_up.summary == (
        f"Senga: their session with {checked_in.match.peer.reference} on 23 November 2026 at "
        "08:00 did not happen. Check in with them both."
    )


def test_a_no_show_recorded_by_the_office_raises_the_follow_up_too():
    session = texted_session(NOW - 3 * HOUR)
    services.record_outcome(session, attended=False)
    assert [f.session for f in follow_ups(Kind.NO_SHOW)] == [session]
    services.record_outcome(texted_session(NOW - 6 * HOUR), attended=True, hours=1)
    assert len(follow_ups(Kind.NO_SHOW)) == 1


def test_an_unanswered_check_in_raises_one_routine_follow_up_once_its_window_passes(
    checked_in, run_passes, time_machine
):
    time_machine.move_to(checked_in.check_in.expires_at - datetime.timedelta(minutes=1))
    run_passes()
    assert follow_ups(Kind.CHECK_IN_UNANSWERED) == []

    time_machine.move_to(checked_in.check_in.expires_at, tick=False)
    assert run_passes()["check_ins_unanswered"] == 1
    assert run_passes()["check_ins_unanswered"] == 0
    [follow_up] = follow_ups(Kind.CHECK_IN_UNANSWERED)
    assert follow_up.urgency == Urgency.ROUTINE
    assert follow_up.session == checked_in
    assert follow_up.message == checked_in.check_in
    assert str(checked_in.pk) in follow_up.cause
    assert "record what happened" in follow_up.summary


def test_an_unreadable_answer_still_raises_the_unanswered_follow_up(
    checked_in, run_passes, text_in, time_machine
):
    text_in(phone_of(checked_in), "it was ok I think")
    time_machine.move_to(checked_in.check_in.expires_at, tick=False)
    run_passes()
    assert len(follow_ups(Kind.CHECK_IN_UNANSWERED)) == 1


@pytest.mark.parametrize("body", ["YES", "NO"])
def test_an_answered_check_in_raises_no_unanswered_follow_up(
    checked_in, run_passes, text_in, time_machine, body
):
    text_in(phone_of(checked_in), body)
    time_machine.move_to(checked_in.check_in.expires_at + HOUR, tick=False)
    run_passes()
    assert follow_ups(Kind.CHECK_IN_UNANSWERED) == []


def test_a_check_in_the_office_made_needless_raises_no_unanswered_follow_up(
    checked_in, run_passes, time_machine
):
    services.record_outcome(checked_in, attended=True, hours=2)
    time_machine.move_to(checked_in.check_in.expires_at + HOUR, tick=False)
    run_passes()
    assert follow_ups(Kind.CHECK_IN_UNANSWERED) == []


def test_a_no_from_the_reminder_raises_an_urgent_declined_follow_up_once(run_passes, text_in):
    session = texted_session(NOW + 5 * HOUR)
    run_passes()
    text_in(phone_of(session), "sorry no")
    run_passes()
    [follow_up] = follow_ups(Kind.SESSION_DECLINED)
    assert follow_up.session == session
    assert follow_up.urgency == Urgency.URGENT
    assert follow_up.summary == (
        f"Senga cannot make their session with {session.match.peer.reference} on 23 November "
        "2026 at 17:00: reschedule or cancel it."
    )


def test_a_decline_more_than_two_days_ahead_is_soon_and_a_rescheduled_one_is_raised_again():
    session = texted_session(NOW + 72 * HOUR)
    services.decline_session(session)
    services.reschedule_session(session, starts_at=NOW + 24 * HOUR, ends_at=NOW + 25 * HOUR)
    services.decline_session(session)
    assert [f.urgency for f in follow_ups(Kind.SESSION_DECLINED)] == [
        Urgency.SOON,
        Urgency.URGENT,
    ]


def test_every_session_flagged_at_risk_raises_one_urgent_follow_up(run_passes, time_machine):
    first = texted_session(at(11, 23, 14))
    second = texted_session(at(11, 23, 15))
    texted_session(at(11, 23, 15), status=Status.CONFIRMED, confirmed_at=NOW)
    run_passes()
    time_machine.move_to(at(11, 23, 12, 5), tick=False)
    run_passes()
    raised = follow_ups(Kind.SESSION_AT_RISK)
    assert {f.session for f in raised} == {first, second}
    assert {f.urgency for f in raised} == {Urgency.URGENT}
    assert "has not confirmed their session" in raised[0].summary


def test_a_session_flagged_again_after_a_reschedule_raises_a_new_follow_up(
    run_passes, time_machine
):
    session = texted_session(NOW + 2 * HOUR, mode="phone", place="")
    run_passes()
    services.reschedule_session(session, starts_at=NOW + 3 * HOUR, ends_at=NOW + 4 * HOUR)
    run_passes()
    assert len(follow_ups(Kind.SESSION_AT_RISK)) == 2


# The passes are set-based ----------------------------------------------------------------


def test_finding_no_check_in_due_among_many_sessions_is_one_query(django_assert_num_queries):
    for day in range(1, 5):
        texted_session(NOW + day * 24 * HOUR)
        texted_session(NOW - day * 24 * HOUR + 21 * HOUR, status=Status.CANCELLED)
    with django_assert_num_queries(1):
        assert check_ins.send_due_check_ins() == 0


@pytest.mark.parametrize("count", [3, 30])
def test_checking_in_many_sessions_costs_the_queries_of_checking_in_one(count, queue):
    texted_session(NOW - 3 * HOUR)
    with CaptureQueriesContext(connection) as one:
        assert check_ins.send_due_check_ins() == 1
    Message.objects.all().delete()
    Session.objects.all().delete()
    for minutes in range(count):
        texted_session(NOW - 3 * HOUR - minutes * datetime.timedelta(minutes=5))
    with CaptureQueriesContext(connection) as many:
        assert check_ins.send_due_check_ins() == count
    assert len(many) == len(one)
    assert Session.objects.filter(check_in__isnull=True).count() == 0
    assert len(check_ins_sent()) == count


def _changing_the_session_as_it_is_checked_in(monkeypatch, change):
    """Run `change` after the pass chose its sessions and before it writes their texts."""
    real = check_ins.send_many

    def send_many(texts, **options):
        change()
        return real(texts, **options)

    monkeypatch.setattr(check_ins, "send_many", send_many)


@pytest.mark.parametrize(
    "change",
    [
        lambda session: services.record_outcome(session, attended=True, hours=1),
        lambda session: services.record_outcome(session, attended=False),
        lambda session: services.cancel_session(session, reason="Recorded in error."),
    ],
    ids=["completed", "no show", "cancelled"],
)
def test_a_session_closed_as_the_pass_runs_gets_no_check_in(run_passes, outbox, change):
    session = texted_session(NOW - 3 * HOUR)
    other = texted_session(NOW - 4 * HOUR)
    with pytest.MonkeyPatch.context() as patch:
        _changing_the_session_as_it_is_checked_in(patch, lambda: change(session))
        assert run_passes()["checked_in"] == 1

    assert [text["to"] for text in outbox] == [phone_of(other)]
    session.refresh_from_db()
    assert session.check_in is None
    stale = Message.objects.get(topic=check_ins.CHECK_IN_TOPIC, context__session_id=session.pk)
    assert stale.status == Message.Status.WITHDRAWN
    assert run_passes()["checked_in"] == 0


def test_a_session_rescheduled_as_the_pass_runs_is_asked_after_its_new_time(
    run_passes, outbox, time_machine
):
    session = texted_session(NOW - 3 * HOUR)
    with pytest.MonkeyPatch.context() as patch:
        _changing_the_session_as_it_is_checked_in(
            patch,
            lambda: services.reschedule_session(
                session, starts_at=NOW + 24 * HOUR, ends_at=NOW + 25 * HOUR
            ),
        )
        assert run_passes()["checked_in"] == 0

    assert [text["body"] for text in outbox if "happen?" in text["body"]] == []
    session.refresh_from_db()
    assert session.check_in is None
    stale = Message.objects.get(topic=check_ins.CHECK_IN_TOPIC)
    assert stale.status == Message.Status.WITHDRAWN
    assert not stale.idempotency_key.startswith(check_ins.CHECK_IN_TOPIC)

    time_machine.move_to(NOW + 27 * HOUR, tick=False)
    assert run_passes()["checked_in"] == 1
    session.refresh_from_db()
    assert "on Tuesday happen?" in session.check_in.body


def test_a_pass_that_died_halfway_asks_each_once_when_it_runs_again(run_passes, outbox):
    for hour in range(3, 7):
        texted_session(NOW - hour * HOUR)

    def dies(asked, **options):
        raise RuntimeError("the worker stopped halfway through the pass")

    with pytest.MonkeyPatch.context() as patch, pytest.raises(RuntimeError):
        patch.setattr(check_ins, "tie_questions", dies)
        run_passes()
    assert not Message.objects.filter(topic=check_ins.CHECK_IN_TOPIC).exists()

    run_passes()
    run_passes()
    assert len(check_ins_sent()) == 4
    assert Session.objects.filter(check_in__isnull=False).count() == 4


def test_a_volunteer_whose_number_cannot_take_texts_holds_back_no_other_check_in(
    run_passes, outbox
):
    landline = texted_session(NOW - 3 * HOUR, match__volunteer__phone="+441236440000")
    other = texted_session(NOW - 4 * HOUR)
    assert run_passes()["checked_in"] == 1
    assert [text["to"] for text in outbox] == [phone_of(other)]
    landline.refresh_from_db()
    assert landline.check_in is None


def test_raising_unanswered_follow_ups_costs_the_same_for_one_as_for_many(run_passes, time_machine):
    texted_session(NOW - 3 * HOUR)
    run_passes()
    time_machine.move_to(NOW + 25 * HOUR, tick=False)
    with CaptureQueriesContext(connection) as one:
        assert check_ins.raise_unanswered_check_ins() == 1
    for hour in range(3, 6):
        session = texted_session(NOW - hour * HOUR)
        message = messaging.send_sms(
            phone_of(session), "Did it happen?", topic="t", expires_at=NOW + HOUR
        )
        Session.objects.filter(pk=session.pk).update(check_in=message)
    with CaptureQueriesContext(connection) as three:
        assert check_ins.raise_unanswered_check_ins() == 3
    assert len(three) == len(one)
    with CaptureQueriesContext(connection) as none:
        assert check_ins.raise_unanswered_check_ins() == 0
    assert len(none) == 1


# Texts -----------------------------------------------------------------------------------

LONG_NAME = "Alexandrina-Margaret " * 5


@pytest.mark.parametrize("name", ["Sam", LONG_NAME[:100]])
@pytest.mark.parametrize("day", range(23, 30))  # every weekday
def test_every_check_in_text_fits_one_segment_with_long_names(name, day):
    bodies = [
        texts.check_in_text(peer_name=name, starts_at=at(11, day, 14)),
        texts.hours_recorded_text(hours=Decimal("12.25")),
        texts.no_show_text(),
    ]
    for body in bodies:
        segments = count_segments(body)
        assert (segments.encoding, segments.count) == ("GSM-7", 1), body
    assert "e.g. YES 1.5" in bodies[0]


def test_a_name_outside_gsm_7_drops_the_word_on_hours_to_stay_short():
    body = texts.check_in_text(peer_name="Zoë", starts_at=at(11, 25, 14))
    assert body == "PeerPath: did your session with Zoë on Wednesday happen? Reply YES or NO."
    assert count_segments(body).count == 2  # 73 characters, past the 70 of one such segment


# End to end: the real twilio SDK, the local Twilio stub, the signed webhook ---------------

MOBILE = "+447911123456"


def post_inbound(client, settings, twilio, capture, body):
    path = reverse("messaging:twilio-inbound")
    params = inbound_params(body, From=MOBILE, To=twilio.from_number)
    with capture(execute=True):
        response = client.post(
            path,
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            HTTP_X_TWILIO_SIGNATURE=sign(
                settings.PUBLIC_BASE_URL + path, params, token=twilio.auth_token
            ),
        )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body, status, hours, answer",
    [
        ("YES 1.5", Status.COMPLETED, Decimal("1.50"), "Thanks, 1.5 hours recorded."),
        ("NO", Status.NO_SHOW, None, texts.NO_SHOW.format(sender="PeerPath")),
    ],
)
def test_a_check_in_through_twilio_answered_through_the_webhook(
    twilio,
    run_passes,
    client,
    settings,
    time_machine,
    django_capture_on_commit_callbacks,
    body,
    status,
    hours,
    answer,
):
    match = MatchFactory(
        active=True,
        volunteer__sms_consent=True,
        volunteer__phone=MOBILE,
        peer__preferred_name="Sam",
    )
    session = services.schedule_session(
        match,
        starts_at=NOW + 5 * HOUR,
        ends_at=NOW + 6 * HOUR,
        mode="in_person",
        place="Coatbridge library",
    )
    run_passes()  # the reminder
    time_machine.move_to(session.ends_at + 2 * HOUR, tick=False)
    assert run_passes()["checked_in"] == 1

    created = twilio.requests_of("create")[-1]
    assert created.params["To"] == MOBILE
    assert created.params["Body"] == CHECK_IN_BODY
    session.refresh_from_db()
    assert session.check_in.twilio_sid

    post_inbound(client, settings, twilio, django_capture_on_commit_callbacks, body)
    session.refresh_from_db()
    assert (session.status, session.hours) == (status, hours)
    assert twilio.requests_of("create")[-1].params["Body"] == answer
    assert [f.session for f in follow_ups(Kind.NO_SHOW)] == (
        [session] if status == Status.NO_SHOW else []
    )


def test_a_session_rescheduled_after_its_check_in_is_asked_again_after_its_new_time(
    checked_in, run_passes, text_in, outbox, time_machine, django_capture_on_commit_callbacks
):
    first = checked_in.check_in
    with django_capture_on_commit_callbacks(execute=True):
        services.reschedule_session(
            checked_in, starts_at=NOW + 24 * HOUR, ends_at=NOW + 25 * HOUR, mode="phone"
        )
    first.refresh_from_db()
    assert not first.question_open
    text_in(phone_of(checked_in), "YES")  # to the old question: nothing changes
    checked_in.refresh_from_db()
    assert (checked_in.status, checked_in.check_in) == (Status.SCHEDULED, None)

    time_machine.move_to(NOW + 27 * HOUR, tick=False)
    run_passes()
    checked_in.refresh_from_db()
    assert checked_in.check_in not in (None, first)
    assert "on Tuesday happen?" in last_text(outbox)
