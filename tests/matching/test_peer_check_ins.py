"""The weekly check-in text to peers, between sessions: on PEER_CHECK_IN_DAY from
PEER_CHECK_IN_TIME (Europe/London), never in quiet hours, once a week, only to a peer who
agreed to texts and is in an active match that met in the past fortnight, and never when
they meet today or tomorrow."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matching import peer_check_ins
from matching.models import Match, Session
from messaging import services as messaging
from messaging.models import Message
from peers.models import Peer
from tests.factories import MatchFactory, SessionFactory

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
# Wednesday 25 November 2026, 11:00 in London (GMT): the default check-in moment.
WEDNESDAY = datetime.datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _settings(settings, time_machine):
    settings.PEER_CHECK_IN_DAY = "wednesday"
    settings.PEER_CHECK_IN_TIME = "11:00"
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    time_machine.move_to(WEDNESDAY - 7 * DAY, tick=False)


def session(match, starts_at, status=Session.Status.SCHEDULED, **fields):
    if status == Session.Status.COMPLETED:
        fields.setdefault("hours", 1)
    if status == Session.Status.CONFIRMED:
        fields.setdefault("confirmed_at", starts_at - DAY)
    return SessionFactory(
        match=match, starts_at=starts_at, ends_at=starts_at + HOUR, status=status, **fields
    )


def matched_peer(
    *, last=WEDNESDAY - 6 * DAY + 3 * HOUR, next_at=WEDNESDAY + 8 * DAY + 3 * HOUR, **peer
):
    """An active match of a peer who agreed to texts, with Aileen Murray; a session that took
    place at `last` and one planned at `next_at` (either may be None)."""
    peer.setdefault("sms_consent", True)
    match = MatchFactory(
        active=True,
        volunteer__preferred_name="Aileen",
        volunteer__full_name="Aileen Murray",
        peer__preferred_name="Jamie",
        **{f"peer__{name}": value for name, value in peer.items()},
    )
    if last is not None:
        session(match, last, Session.Status.COMPLETED)
    if next_at is not None:
        session(match, next_at)
    return match


def check_ins():
    return list(Message.objects.filter(topic=peer_check_ins.TOPIC).order_by("pk"))


def run_at(time_machine, run_passes, moment):
    time_machine.move_to(moment, tick=False)
    return run_passes()


def test_the_check_in_goes_at_the_weekly_moment_naming_the_volunteer_and_the_next_meeting(
    run_passes, outbox, time_machine
):
    match = matched_peer()

    run_at(time_machine, run_passes, WEDNESDAY - datetime.timedelta(minutes=1))
    assert outbox == []
    assert run_at(time_machine, run_passes, WEDNESDAY)["peers_checked_in"] == 1

    [text] = outbox
    assert text["to"] == str(match.peer.phone)
    assert text["body"] == (
        "Hi, hope your week is going well. Aileen says hello and looks forward to Thu 3 Dec at "
        "14:00. Reply any time, or STOP to stop these texts."
    )
    assert "Murray" not in text["body"] and "Jamie" not in text["body"]


def test_no_session_planned_says_the_volunteer_will_be_in_touch(run_passes, outbox, time_machine):
    matched_peer(next_at=None)

    run_at(time_machine, run_passes, WEDNESDAY + HOUR)

    assert [text["body"] for text in outbox] == [
        "Hi, hope your week is going well. Aileen says hello and will be in touch about when "
        "you next meet. Reply any time, or STOP to stop these texts."
    ]


@pytest.mark.parametrize(
    "moment",
    [WEDNESDAY - DAY, WEDNESDAY + DAY, WEDNESDAY + 4 * DAY, WEDNESDAY - 3 * HOUR],
    ids=["Tuesday", "Thursday", "Sunday", "Wednesday at 8:00"],
)
def test_at_any_other_moment_nothing_is_sent(run_passes, outbox, time_machine, moment):
    matched_peer()

    run_at(time_machine, run_passes, moment)

    assert outbox == []


def test_once_a_week_however_often_the_pass_runs(run_passes, outbox, time_machine):
    matched_peer(next_at=WEDNESDAY + 10 * DAY)

    for minutes in range(0, 10 * 60, 5):  # every five minutes until quiet hours
        run_at(time_machine, run_passes, WEDNESDAY + datetime.timedelta(minutes=minutes))
    assert len(outbox) == 1
    run_at(time_machine, run_passes, WEDNESDAY + 7 * DAY)

    assert len(outbox) == 2
    assert [message.idempotency_key for message in check_ins()] == [
        f"peer.check_in:{Match.objects.get().peer_id}:2026-W48",
        f"peer.check_in:{Match.objects.get().peer_id}:2026-W49",
    ]


def test_a_pass_that_already_texted_everyone_costs_one_query(run_passes, time_machine):
    for _ in range(5):
        matched_peer()
    run_at(time_machine, run_passes, WEDNESDAY)
    assert len(check_ins()) == 5

    with CaptureQueriesContext(connection) as queries:
        sent = peer_check_ins.send_peer_check_ins(now=WEDNESDAY + HOUR)

    assert (sent, len(queries)) == (0, 1)


def test_texting_eight_peers_costs_the_queries_of_texting_one(
    time_machine, django_capture_on_commit_callbacks
):
    def queries_of_a_pass():
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=False),
        ):
            sent = peer_check_ins.send_peer_check_ins(now=WEDNESDAY)
        return sent, len(queries)

    matched_peer()
    one = queries_of_a_pass()
    Message.objects.filter(topic=peer_check_ins.TOPIC).delete()
    for _ in range(7):
        matched_peer()

    assert queries_of_a_pass() == (8, one[1])
    assert one[0] == 1


def test_quiet_hours_hold_it_and_the_day_ends_without_it(run_passes, outbox, time_machine):
    matched_peer()

    run_at(time_machine, run_passes, WEDNESDAY + 10 * HOUR)  # 21:00, quiet hours
    run_at(time_machine, run_passes, WEDNESDAY + 21 * HOUR)  # Thursday 08:00

    assert outbox == []


def test_the_last_moment_before_quiet_hours_still_sends(run_passes, outbox, time_machine):
    matched_peer()

    run_at(time_machine, run_passes, WEDNESDAY + 10 * HOUR - datetime.timedelta(minutes=1))

    assert len(outbox) == 1


def test_a_time_inside_the_mornings_quiet_hours_waits_for_them_to_end(
    run_passes, outbox, time_machine, settings
):
    settings.PEER_CHECK_IN_TIME = "07:00"
    matched_peer()

    run_at(time_machine, run_passes, WEDNESDAY - 4 * HOUR)  # 07:00, quiet
    assert outbox == []
    run_at(time_machine, run_passes, WEDNESDAY - 3 * HOUR)  # 08:00

    assert len(outbox) == 1


def test_in_the_week_after_the_clocks_go_back_the_moment_is_11_gmt(
    run_passes, outbox, time_machine
):
    # The clocks went back on Sunday 25 October; the last session was in summer time.
    wednesday = datetime.datetime(2026, 10, 28, 11, 0, tzinfo=UTC)
    time_machine.move_to(wednesday - 7 * DAY, tick=False)
    matched_peer(
        last=wednesday - 6 * DAY, next_at=datetime.datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
    )

    run_at(time_machine, run_passes, wednesday - datetime.timedelta(minutes=1))
    assert outbox == []
    run_at(time_machine, run_passes, wednesday)

    assert "Thu 5 Nov at 14:00" in outbox[0]["body"]


def test_in_the_week_after_the_clocks_go_forward_the_moment_is_11_bst(
    run_passes, outbox, time_machine
):
    # The clocks went forward on Sunday 29 March: 11:00 in London is 10:00 UTC.
    wednesday = datetime.datetime(2026, 4, 1, 10, 0, tzinfo=UTC)
    time_machine.move_to(wednesday - 7 * DAY, tick=False)
    matched_peer(last=wednesday - 6 * DAY, next_at=datetime.datetime(2026, 4, 9, 13, 0, tzinfo=UTC))

    run_at(time_machine, run_passes, wednesday - datetime.timedelta(minutes=1))
    assert outbox == []
    run_at(time_machine, run_passes, wednesday)

    assert "Thu 9 Apr at 14:00" in outbox[0]["body"]


@pytest.mark.parametrize(
    "peer",
    [
        {"sms_consent": False},
        {"phone": None},
        {"phone": "+441236123456"},
        {"status": Peer.Status.PAUSED},
        {"phone": "+447700900555", "opted_out": True},
    ],
    ids=["no consent", "no phone", "landline", "paused", "opted out"],
)
def test_a_peer_who_cannot_or_should_not_be_texted_gets_none(
    run_passes, outbox, time_machine, peer
):
    peer = dict(peer)
    if peer.pop("opted_out", False):
        messaging.record_opt_out("+447700900555", word="STOP")
    matched_peer(**peer)

    run_at(time_machine, run_passes, WEDNESDAY)

    assert outbox == []
    assert check_ins() == []


def test_a_peer_whose_match_ended_gets_none(run_passes, outbox, time_machine):
    match = matched_peer(next_at=None)
    Match.objects.filter(pk=match.pk).update(
        status=Match.Status.ENDED, ended_on=(WEDNESDAY - DAY).date()
    )

    run_at(time_machine, run_passes, WEDNESDAY)

    assert outbox == []


@pytest.mark.parametrize(
    ("last", "status"),
    [
        (None, None),
        (WEDNESDAY - 15 * DAY, Session.Status.COMPLETED),
        (WEDNESDAY - 2 * DAY, Session.Status.CANCELLED),
        (WEDNESDAY - 2 * DAY, Session.Status.NO_SHOW),
    ],
    ids=["never met", "last met 15 days ago", "cancelled", "no show"],
)
def test_without_a_session_in_the_past_fortnight_there_is_none(
    run_passes, outbox, time_machine, last, status
):
    match = matched_peer(last=None)
    if last is not None:
        session(match, last, status)

    run_at(time_machine, run_passes, WEDNESDAY)

    assert outbox == []


@pytest.mark.parametrize(
    "next_at",
    [
        WEDNESDAY + 5 * HOUR,
        WEDNESDAY + DAY + 10 * HOUR,
        WEDNESDAY - HOUR // 2,
        WEDNESDAY - 3 * HOUR,
    ],
    ids=["later today", "tomorrow evening", "under way", "this morning"],
)
def test_meeting_today_or_tomorrow_means_none_this_week(run_passes, outbox, time_machine, next_at):
    matched_peer(next_at=next_at)

    for hours in range(10):
        run_at(time_machine, run_passes, WEDNESDAY + hours * HOUR)

    assert outbox == []


def test_a_confirmed_session_the_day_after_tomorrow_is_named(run_passes, outbox, time_machine):
    match = matched_peer(next_at=None)
    session(match, WEDNESDAY + 2 * DAY - 10 * HOUR, Session.Status.CONFIRMED)  # Fri 01:00

    run_at(time_machine, run_passes, WEDNESDAY)

    assert "Fri 27 Nov at 01:00" in outbox[0]["body"]


def test_a_reply_lands_in_the_coordinators_inbox(run_passes, text_in, time_machine):
    match = matched_peer()
    run_at(time_machine, run_passes, WEDNESDAY)

    reply = text_in(str(match.peer.phone), "Thanks, all good here")

    assert reply.needs_attention is True
    assert Message.objects.filter(needs_attention=True).get() == reply


def test_what_a_peer_is_texted_back_after_replying_tells_nothing(
    run_passes, text_in, outbox, time_machine
):
    from tests.matching.test_peer_texts import NEVER

    match = matched_peer()
    run_at(time_machine, run_passes, WEDNESDAY)

    text_in(str(match.peer.phone), "Who is this?")

    answer = outbox[-1]
    assert answer["to"] == str(match.peer.phone)
    for word in NEVER:
        assert word.lower() not in answer["body"].lower(), (word, answer["body"])
