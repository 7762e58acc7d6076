"""The weekly wellbeing check-in: asked once a week of volunteers who opted in, answered 1 to
5; a 1 or 2 reaches the office at once, two silent weeks gently, and the coordinator sees the
answers' trend."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matching import texts, wellbeing
from matching.follow_ups import Kind, Urgency
from matching.models import FollowUp, WellbeingCheckIn
from messaging import texts as messaging_texts
from messaging.models import Message, OptOut
from messaging.segments import count_segments
from tests.factories import VolunteerFactory
from tests.matching.conftest import texted_session

pytestmark = pytest.mark.django_db


def wellbeing_follow_ups():
    """Follow-ups about wellbeing (the passes also raise others, e.g. for the factories'
    volunteers' missing training)."""
    return FollowUp.objects.filter(kind__in=[Kind.WELLBEING_LOW, Kind.WELLBEING_UNANSWERED])


UTC = datetime.UTC
# Monday 23 November 2026, 10:00 in London (GMT): the default check-in moment.
MONDAY = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
WEEK_OF = datetime.date(2026, 11, 23)
MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)
WEEK = datetime.timedelta(weeks=1)
QUESTION = "PeerPath: How are you doing this week? Reply 1 (struggling) to 5 (great)."


@pytest.fixture(autouse=True)
def _defaults(settings):
    settings.SMS_SENDER_NAME = "PeerPath"
    settings.WELLBEING_CHECK_IN_DAY = "monday"
    settings.WELLBEING_CHECK_IN_TIME = "10:00"
    settings.WELLBEING_REPLY_HOURS = 8
    settings.OFFICE_PHONE = "01236 000000"
    settings.HELPLINE = "Breathing Space, 0800 83 85 87"
    settings.SMS_QUIET_HOURS = "21:00-08:00"


def opted_in(**fields):
    fields.setdefault("preferred_name", "Senga")
    return VolunteerFactory(sms_consent=True, wellbeing_opt_in=True, **fields)


def texts_to(outbox, volunteer):
    return [text["body"] for text in outbox if text["to"] == volunteer.phone]


@pytest.fixture
def asked(time_machine, run_passes, outbox):
    """Senga, asked this Monday at 10:00."""
    time_machine.move_to(MONDAY, tick=False)
    volunteer = opted_in()
    run_passes()
    assert texts_to(outbox, volunteer) == [QUESTION]
    return volunteer


def check_in_of(volunteer, week=WEEK_OF):
    return WellbeingCheckIn.objects.get(volunteer=volunteer, week=week)


# When it is asked ------------------------------------------------------------------------


def test_at_the_weekly_moment_each_volunteer_who_opted_in_is_asked_once(
    time_machine, run_passes, outbox
):
    senga, tam = opted_in(), opted_in(preferred_name="Tam")
    time_machine.move_to(MONDAY - MINUTE, tick=False)
    run_passes()
    assert outbox == []

    time_machine.move_to(MONDAY, tick=False)
    run_passes()
    run_passes()

    assert texts_to(outbox, senga) == [QUESTION]
    assert texts_to(outbox, tam) == [QUESTION]
    check_in = check_in_of(senga)
    assert (check_in.asked_at, check_in.score, check_in.answered_at) == (MONDAY, None, None)
    assert check_in.question.reply_handler == wellbeing.REPLY_HANDLER
    assert check_in.question.idempotency_key == f"wellbeing.check_in:{senga.pk}:2026-11-23"


def test_a_pass_within_a_day_of_the_moment_still_asks_and_later_in_the_week_none_does(
    time_machine, run_passes, outbox
):
    late = opted_in()
    # The worker was down on Monday; it comes back on Tuesday at 09:59.
    time_machine.move_to(MONDAY + datetime.timedelta(days=1) - MINUTE, tick=False)
    run_passes()
    assert texts_to(outbox, late) == [QUESTION]
    assert check_in_of(late).week == WEEK_OF

    later = opted_in(preferred_name="Tam")  # opted in on Tuesday
    for moment in [MONDAY + datetime.timedelta(days=1), MONDAY + datetime.timedelta(days=6)]:
        time_machine.move_to(moment, tick=False)  # Tuesday 10:00, then Sunday 10:00
        run_passes()
    assert texts_to(outbox, later) == []
    assert not WellbeingCheckIn.objects.filter(volunteer=later).exists()

    time_machine.move_to(MONDAY + WEEK, tick=False)  # next Monday: both asked
    run_passes()
    assert texts_to(outbox, later) == [QUESTION]
    assert texts_to(outbox, late) == [QUESTION, QUESTION]


@pytest.mark.parametrize(
    ("day", "before", "at", "week"),
    [
        # Clocks go forward on Sunday 29 March 2026: Monday 10:00 is 09:00 UTC.
        ("monday", "2026-03-30T08:59", "2026-03-30T09:00", "2026-03-30"),
        # Clocks go back on Sunday 25 October 2026: Monday 10:00 is 10:00 UTC again.
        ("monday", "2026-10-26T09:59", "2026-10-26T10:00", "2026-10-26"),
        # On the day of the change itself.
        ("sunday", "2026-03-29T08:59", "2026-03-29T09:00", "2026-03-23"),
        ("sunday", "2026-10-25T09:59", "2026-10-25T10:00", "2026-10-19"),
    ],
)
def test_the_moment_is_london_time_across_both_clock_changes(
    settings, time_machine, run_passes, outbox, day, before, at, week
):
    settings.WELLBEING_CHECK_IN_DAY = day
    volunteer = opted_in()
    time_machine.move_to(datetime.datetime.fromisoformat(before).replace(tzinfo=UTC), tick=False)
    run_passes()
    assert outbox == []
    time_machine.move_to(datetime.datetime.fromisoformat(at).replace(tzinfo=UTC), tick=False)
    run_passes()
    assert texts_to(outbox, volunteer) == [QUESTION]
    assert check_in_of(volunteer, datetime.date.fromisoformat(week))


def test_a_pass_that_died_after_texting_writes_the_check_in_without_texting_again(
    asked, run_passes, outbox
):
    question = check_in_of(asked).question
    WellbeingCheckIn.objects.all().delete()  # as if the row had never been written

    run_passes()

    assert texts_to(outbox, asked) == [QUESTION]
    assert check_in_of(asked).question == question


def test_a_moment_in_quiet_hours_waits_for_the_morning_and_keeps_its_reply_window(
    settings, time_machine, run_passes, sweep, outbox
):
    settings.WELLBEING_CHECK_IN_TIME = "07:00"
    volunteer = opted_in()
    time_machine.move_to(MONDAY.replace(hour=7), tick=False)
    run_passes()
    assert outbox == []
    question = check_in_of(volunteer).question
    assert question.status == Message.Status.QUEUED

    time_machine.move_to(MONDAY.replace(hour=8), tick=False)
    sweep()
    assert texts_to(outbox, volunteer) == [QUESTION]
    question.refresh_from_db()
    assert question.reply_expires_at == MONDAY.replace(hour=16)  # 8 hours from 08:00


@pytest.mark.parametrize(
    "fields",
    [
        {"wellbeing_opt_in": False},
        {"sms_consent": False},
        {"phone": None},
        {"status": "left"},
        {"status": "paused"},
    ],
    ids=["not opted in", "no consent to texts", "no phone", "left", "paused"],
)
def test_those_who_cannot_or_should_not_be_asked_get_nothing(
    time_machine, run_passes, outbox, fields
):
    VolunteerFactory(**{"sms_consent": True, "wellbeing_opt_in": True, **fields})
    time_machine.move_to(MONDAY, tick=False)
    run_passes()
    assert outbox == []
    assert not WellbeingCheckIn.objects.exists()


def test_a_volunteer_who_texted_stop_is_not_asked(time_machine, run_passes, outbox):
    volunteer = opted_in()
    OptOut.objects.create(phone=volunteer.phone, word="STOP")
    time_machine.move_to(MONDAY, tick=False)
    run_passes()
    assert outbox == []
    assert not WellbeingCheckIn.objects.exists()


def test_a_landline_is_skipped_and_the_others_are_still_asked(time_machine, run_passes, outbox):
    VolunteerFactory(sms_consent=True, wellbeing_opt_in=True, phone="+441236000000")
    volunteer = opted_in()
    time_machine.move_to(MONDAY, tick=False)
    run_passes()
    assert [text["to"] for text in outbox] == [volunteer.phone]


def test_a_volunteer_awaiting_a_session_reply_is_asked_once_they_answer_it(
    time_machine, run_passes, text_in, outbox
):
    time_machine.move_to(MONDAY - HOUR, tick=False)
    session = texted_session(MONDAY + 5 * HOUR, match__volunteer__wellbeing_opt_in=True)
    volunteer = session.match.volunteer
    run_passes()
    assert len(texts_to(outbox, volunteer)) == 1  # the reminder

    time_machine.move_to(MONDAY, tick=False)
    run_passes()
    assert len(texts_to(outbox, volunteer)) == 1  # the wellbeing question waits

    time_machine.move_to(MONDAY + 2 * HOUR, tick=False)
    text_in(volunteer.phone, "YES")
    run_passes()
    assert texts_to(outbox, volunteer)[-1] == QUESTION
    question = check_in_of(volunteer).question
    assert question.reply_expires_at == MONDAY + 10 * HOUR  # 8 hours from when it was asked

    text_in(volunteer.phone, "4")
    assert check_in_of(volunteer).score == 4


def test_an_open_check_in_holds_a_session_reminder_back_only_until_it_is_answered(
    asked, time_machine, run_passes, text_in, outbox
):
    texted_session(MONDAY + 6 * HOUR, match__volunteer=asked)
    run_passes()
    assert texts_to(outbox, asked) == [QUESTION]  # the reminder waits behind the question

    time_machine.move_to(MONDAY + HOUR, tick=False)
    text_in(asked.phone, "5")
    question, thanks, reminder = texts_to(outbox, asked)
    assert (question, thanks) == (QUESTION, texts.wellbeing_thanks_text())
    assert reminder.startswith("PeerPath: your session with Sam is Mon 23 Nov at 16:00")


@pytest.mark.parametrize("count", [3, 30])
def test_asking_many_volunteers_costs_the_queries_of_asking_one(time_machine, queue, count):
    time_machine.move_to(MONDAY, tick=False)
    opted_in()
    with CaptureQueriesContext(connection) as one:
        assert wellbeing.send_wellbeing_check_ins() == 1
    WellbeingCheckIn.objects.all().delete()
    Message.objects.all().delete()
    for _ in range(count - 1):
        opted_in()
    with CaptureQueriesContext(connection) as many:
        assert wellbeing.send_wellbeing_check_ins() == count
    assert len(many) == len(one)
    check_ins = WellbeingCheckIn.objects.select_related("question", "volunteer")
    assert len(check_ins) == count
    assert {c.question.to_number for c in check_ins} == {c.volunteer.phone for c in check_ins}


def test_finding_nobody_to_ask_is_one_query(time_machine, django_assert_num_queries):
    time_machine.move_to(MONDAY, tick=False)
    VolunteerFactory(sms_consent=True, wellbeing_opt_in=False)
    with django_assert_num_queries(1):
        assert wellbeing.send_wellbeing_check_ins() == 0


def test_a_check_in_day_or_time_that_cannot_be_read_is_refused_in_words(settings):
    settings.WELLBEING_CHECK_IN_DAY = "Mondy"
    with pytest.raises(ImproperlyConfigured, match="WELLBEING_CHECK_IN_DAY"):
        wellbeing.send_wellbeing_check_ins(now=MONDAY)
    settings.WELLBEING_CHECK_IN_DAY = "Mon"
    settings.WELLBEING_CHECK_IN_TIME = "ten"
    with pytest.raises(ImproperlyConfigured, match="10:00"):
        wellbeing.send_wellbeing_check_ins(now=MONDAY)


# Answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "score"),
    [
        ("3", 3),
        (" 5 ", 5),
        ("4 thanks", 4),
        ("3/5", 3),
        ("4 out of 5", 4),
        ("5!", 5),
        ("five", 5),
        ("Four, good week", 4),
    ],
)
def test_an_answer_of_3_to_5_in_its_forms_is_recorded_and_thanked(
    asked, time_machine, text_in, outbox, body, score
):
    time_machine.move_to(MONDAY + HOUR, tick=False)
    reply = text_in(asked.phone, body)
    check_in = check_in_of(asked)
    assert (check_in.score, check_in.answered_at, check_in.reply) == (score, MONDAY + HOUR, reply)
    assert (
        texts_to(outbox, asked)[-1]
        == "Thanks for letting us know how you are. Take care this week."
    )
    assert not reply.needs_attention
    assert not wellbeing_follow_ups().exists()


@pytest.mark.parametrize(("body", "score"), [("1", 1), ("2", 2), ("2 rough week", 2), ("one", 1)])
def test_1_or_2_raises_one_urgent_follow_up_and_gives_the_office_and_the_helpline(
    asked, time_machine, text_in, outbox, run_passes, body, score
):
    time_machine.move_to(MONDAY + HOUR, tick=False)
    reply = text_in(asked.phone, body)
    run_passes()

    assert check_in_of(asked).score == score
    follow_up = wellbeing_follow_ups().get()
    assert (follow_up.kind, follow_up.urgency) == (Kind.WELLBEING_LOW, Urgency.URGENT)
    assert (follow_up.volunteer, follow_up.message, follow_up.raised_at) == (
        asked,
        reply,
        MONDAY + HOUR,
    )
    assert follow_up.summary.startswith(f"Senga answered {score} of 5")
    # One per volunteer and week, as the demo history raises it too.
    assert follow_up.cause == f"wellbeing_low:volunteer:{asked.pk}:2026-11-23"
    answer = texts_to(outbox, asked)[-1]
    assert "01236 000000" in answer
    assert "Breathing Space, 0800 83 85 87" in answer
    assert answer == texts.wellbeing_low_text()


@pytest.mark.parametrize("body", ["7", "0", "-1", "10", "3.5", "great", "😢", "", "I'm a 2"])
def test_an_answer_that_is_not_1_to_5_goes_to_the_coordinator_and_the_question_stays_open(
    asked, time_machine, text_in, outbox, body
):
    time_machine.move_to(MONDAY + HOUR, tick=False)
    reply = text_in(asked.phone, body)

    check_in = check_in_of(asked)
    assert check_in.score is None
    assert reply.needs_attention
    assert reply.context["wellbeing_check_in_id"] == check_in.pk
    assert texts_to(outbox, asked)[-1] == messaging_texts.not_understood_text()
    assert not wellbeing_follow_ups().exists()

    text_in(asked.phone, "3")  # still asked
    assert check_in_of(asked).score == 3


def test_a_second_answer_changes_nothing_and_is_answered_politely(
    asked, time_machine, text_in, outbox
):
    time_machine.move_to(MONDAY + HOUR, tick=False)
    text_in(asked.phone, "4")
    time_machine.move_to(MONDAY + 2 * HOUR, tick=False)
    second = text_in(asked.phone, "1")

    check_in = check_in_of(asked)
    assert (check_in.score, check_in.answered_at) == (4, MONDAY + HOUR)
    assert not wellbeing_follow_ups().exists()
    assert texts_to(outbox, asked)[-1] == messaging_texts.not_understood_text()
    assert second.needs_attention  # a person reads it


def test_an_answer_after_the_reply_window_changes_nothing_and_reaches_the_coordinator(
    asked, time_machine, text_in, outbox
):
    time_machine.move_to(MONDAY + 8 * HOUR, tick=False)  # 18:00
    late = text_in(asked.phone, "2")

    assert check_in_of(asked).score is None
    assert not wellbeing_follow_ups().exists()
    assert texts_to(outbox, asked)[-1] == messaging_texts.not_understood_text()
    assert late.needs_attention


def test_the_answers_fit_their_segments_with_long_numbers(settings):
    assert count_segments(texts.wellbeing_question_text()).count == 1
    assert count_segments(texts.wellbeing_thanks_text()).count == 1
    assert count_segments(texts.wellbeing_already_answered_text()).count == 1
    assert count_segments(texts.wellbeing_low_text()).count == 1
    settings.SMS_SENDER_NAME = "Lanarkshire Recovery"
    settings.OFFICE_PHONE = "+44 (0)1236 000 000 ext 1234"
    settings.HELPLINE = "Breathing Space, 0800 83 85 87 (Mon-Thu 6pm-2am, weekends 24 hours)"
    low = texts.wellbeing_low_text()
    assert count_segments(low).count == 2
    assert settings.OFFICE_PHONE in low and settings.HELPLINE in low


# Two weeks without an answer -------------------------------------------------------------


def ask_week(time_machine, run_passes, week, *, answer=None, text_in=None, volunteer=None):
    """Run the passes through one week: asked on Monday, answered or not, window closed."""
    monday = MONDAY + week * WEEK
    time_machine.move_to(monday, tick=False)
    run_passes()
    if answer is not None:
        time_machine.move_to(monday + HOUR, tick=False)
        text_in(volunteer.phone, answer)
    time_machine.move_to(monday + 8 * HOUR, tick=False)  # the window closes at 18:00
    run_passes()


def test_two_weeks_unanswered_raise_one_gentle_follow_up_once(time_machine, run_passes, text_in):
    volunteer = opted_in()
    ask_week(time_machine, run_passes, 0)
    assert not wellbeing_follow_ups().exists()

    ask_week(time_machine, run_passes, 1)
    run_passes()
    follow_up = wellbeing_follow_ups().get()
    assert (follow_up.kind, follow_up.urgency) == (Kind.WELLBEING_UNANSWERED, Urgency.ROUTINE)
    assert follow_up.volunteer == volunteer
    assert "weeks of 23 Nov and 30 Nov 2026" in follow_up.summary

    ask_week(time_machine, run_passes, 2)  # a third silent week: the same run
    assert wellbeing_follow_ups().count() == 1


def test_an_answer_between_silent_weeks_raises_nothing(time_machine, run_passes, text_in):
    volunteer = opted_in()
    ask_week(time_machine, run_passes, 0)
    ask_week(time_machine, run_passes, 1, answer="4", text_in=text_in, volunteer=volunteer)
    ask_week(time_machine, run_passes, 2)
    assert not wellbeing_follow_ups().exists()

    ask_week(time_machine, run_passes, 3)  # a new run of two
    assert wellbeing_follow_ups().get().kind == Kind.WELLBEING_UNANSWERED


def silent_weeks(volunteer, *, weeks):
    """`volunteer` asked in each of `weeks` (Mondays) and never answered."""
    for week in weeks:
        moment = datetime.datetime.combine(week, datetime.time(10), tzinfo=UTC)
        question = Message.objects.create(
            direction=Message.Direction.OUTBOUND,
            to_number=volunteer.phone,
            body=QUESTION,
            topic=wellbeing.QUESTION_TOPIC,
            status=Message.Status.DELIVERED,
            expires_at=moment + 8 * HOUR,
        )
        WellbeingCheckIn.objects.create(
            volunteer=volunteer, week=week, asked_at=moment, question=question
        )


@pytest.mark.parametrize("count", [3, 30])
def test_raising_many_unanswered_follow_ups_costs_the_queries_of_raising_one(time_machine, count):
    time_machine.move_to(MONDAY + 2 * WEEK, tick=False)
    silent_weeks(opted_in(), weeks=[WEEK_OF, WEEK_OF + WEEK])
    with CaptureQueriesContext(connection) as one:
        assert wellbeing.raise_unanswered_follow_ups() == 1
    for _ in range(count):
        silent_weeks(opted_in(), weeks=[WEEK_OF, WEEK_OF + WEEK])
    with CaptureQueriesContext(connection) as many:
        assert wellbeing.raise_unanswered_follow_ups() == count
    assert len(many) == len(one)
    assert FollowUp.objects.filter(kind=Kind.WELLBEING_UNANSWERED).count() == count + 1
    assert wellbeing.raise_unanswered_follow_ups() == 0


def test_a_question_that_never_reached_the_phone_is_not_counted_unanswered(
    time_machine, run_passes
):
    volunteer = opted_in()
    ask_week(time_machine, run_passes, 0)
    Message.objects.filter(to_number=volunteer.phone).update(status=Message.Status.FAILED)
    ask_week(time_machine, run_passes, 1)
    assert not wellbeing_follow_ups().exists()


# The trend -------------------------------------------------------------------------------


def answers(volunteer, scores, *, latest=WEEK_OF):
    """Check-ins answered with `scores`, oldest first, the last in the week of `latest`."""
    for weeks_ago, score in enumerate(reversed(scores)):
        week = latest - weeks_ago * WEEK
        moment = datetime.datetime.combine(week, datetime.time(10), tzinfo=UTC)
        WellbeingCheckIn.objects.create(
            volunteer=volunteer,
            week=week,
            asked_at=moment,
            score=score,
            answered_at=None if score is None else moment,
        )


@pytest.mark.parametrize(
    ("scores", "direction", "words"),
    [
        (
            [4, 4, 5, 4, 2, 3, 2, 3],
            "lower",
            "Lower than the 4 weeks before: 2.5 on average, was 4.2.",
        ),
        (
            [2, 3, 2, 3, 4, 4, 5, 4],
            "higher",
            "Higher than the 4 weeks before: 4.2 on average, was 2.5.",
        ),
        (
            [4, 3, 4, 4, 4, 4, 3, 4],
            "steady",
            "Steady against the 4 weeks before: 3.8 on average, was 3.8.",
        ),
        (
            [4, None, None, 4, 2, None, 2, None],
            "lower",
            "Lower than the 4 weeks before: 2.0 on average, was 4.0.",
        ),
        (
            [None, None, None, None, 3, 3, 3, 3],
            "not_enough_answers",
            "Not enough answers yet to show a trend.",
        ),
    ],
)
def test_the_trend_compares_the_last_4_weeks_with_the_4_before(scores, direction, words):
    volunteer = opted_in()
    answers(volunteer, scores)
    answers(opted_in(preferred_name="Tam"), [1] * 8)  # someone else's answers count for nothing
    trend = WellbeingCheckIn.objects.filter(volunteer=volunteer).trend(
        weeks=4, on=WEEK_OF + datetime.timedelta(days=3)
    )
    assert (trend.direction, trend.words) == (direction, words)
