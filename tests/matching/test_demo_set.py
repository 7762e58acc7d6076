"""The demo set seed_demo writes, and its history: what a coordinator finds on signing in.

These tests only read the demo set (or change it and have it put back), so it is seeded once
for the module, on a Tuesday morning, inside a transaction that is rolled back when the
module is done; each test runs in a savepoint of its own within it, as usual.
"""

import datetime
import io
import itertools
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine as time_travel
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Q
from django.test import override_settings

from community.coordinators import COORDINATORS_GROUP
from matching.demo_data import DEMO_COORDINATOR_EMAIL, DEMO_COORDINATOR_PASSWORD
from matching.models import ConfirmationState, FollowUp, Match, Session, WellbeingCheckIn
from matching.reminders import REPLY_HANDLER, reminder_key
from messaging.models import Message
from peers.models import Peer, PreferredTime
from volunteers.models import Absence, Volunteer

pytestmark = pytest.mark.django_db

User = get_user_model()
LONDON = ZoneInfo("Europe/London")
# A Tuesday morning, in summer time.
TUESDAY_MORNING = datetime.datetime(2026, 6, 16, 10, 7, tzinfo=LONDON)
# seed_demo is for a developer's machine (DEBUG on); hashing can be quick in tests.
DEVELOPER_MACHINE = {
    "DEBUG": True,
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
}


def seed(*arguments):
    stdout, stderr = io.StringIO(), io.StringIO()
    with override_settings(**DEVELOPER_MACHINE):
        call_command("seed_demo", *arguments, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def demo_set(django_db_setup, django_db_blocker):
    """What seed_demo printed, once the demo set is written (see the module's docstring)."""
    with django_db_blocker.unblock():
        module = transaction.atomic()
        module.__enter__()
        with time_travel.travel(TUESDAY_MORNING, tick=False):
            stdout, _ = seed()
    yield stdout
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        module.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _on_tuesday_morning(demo_set, time_machine, settings):
    """Every test reads the demo set at the moment it was written, on the same machine."""
    time_machine.move_to(TUESDAY_MORNING, tick=False)
    for name, value in DEVELOPER_MACHINE.items():
        setattr(settings, name, value)


@pytest.fixture
def seeded_on_tuesday():
    return TUESDAY_MORNING


def history_rows():
    return {
        model.__name__: model.objects.count()
        for model in (Session, Message, WellbeingCheckIn, FollowUp)
    }


def test_demo_set_is_40_volunteers_and_60_peers_with_drama_range_phones_only(demo_set):
    assert Volunteer.objects.count() == 40
    assert Peer.objects.count() == 60
    phones = [v.phone for v in Volunteer.objects.all()] + [p.phone for p in Peer.objects.all()]
    assert all(phone and phone.is_fictional for phone in phones)
    assert len({phone.as_e164 for phone in phones}) == 100


def test_demo_set_spreads_over_both_councils_statuses_and_preferences(demo_set):
    councils = set(Volunteer.objects.values_list("area__council", flat=True))
    assert councils == {"North Lanarkshire", "South Lanarkshire"}
    assert set(Volunteer.objects.values_list("status", flat=True)) == set(Volunteer.Status)
    peer_statuses = Counter(Peer.objects.values_list("status", flat=True))
    assert peer_statuses[Peer.Status.WAITING] > peer_statuses[Peer.Status.MATCHED]
    waiting_since = Peer.objects.filter(status=Peer.Status.WAITING).values_list(
        "waiting_since", flat=True
    )
    assert (max(waiting_since) - min(waiting_since)).days >= 21
    assert Peer.objects.filter(sms_consent=True).exists()
    assert Peer.objects.filter(sms_consent=False).exists()
    assert Peer.objects.exclude(preferred_supporter_gender=Peer.SupporterGender.ANY).exists()
    assert PreferredTime.objects.exists()
    assert Absence.objects.exists()


def test_coordinator_can_sign_in_and_the_output_says_how(demo_set, client):
    stdout = demo_set
    coordinator = User.objects.get(email=DEMO_COORDINATOR_EMAIL)
    assert coordinator.is_staff and not coordinator.is_superuser
    assert coordinator.groups.filter(name=COORDINATORS_GROUP).exists()
    assert coordinator.is_coordinator
    assert client.login(email=DEMO_COORDINATOR_EMAIL, password=DEMO_COORDINATOR_PASSWORD)
    assert "Sign in at http://127.0.0.1:8000/\n" in stdout
    assert DEMO_COORDINATOR_EMAIL in stdout
    assert DEMO_COORDINATOR_PASSWORD in stdout


def test_some_volunteers_are_matchable_and_some_have_training_expiring_soon(demo_set):
    assert Volunteer.objects.matchable().count() >= 15
    assert Volunteer.objects.training_expiring().count() >= 3
    unmatchable = Volunteer.objects.exclude(pk__in=Volunteer.objects.matchable())
    assert unmatchable.filter(status=Volunteer.Status.ACTIVE).exists()


def test_matches_respect_capacity_and_one_open_match_per_peer(demo_set):
    matches = Match.objects.active()
    assert matches.count() >= 3
    over_capacity = Volunteer.objects.annotate(
        load=Count("matches", filter=Q(matches__status=Match.Status.ACTIVE))
    ).filter(load__gt=F("max_active_matches"))
    assert not over_capacity.exists()
    assert set(matches.values_list("peer__status", flat=True)) == {Peer.Status.MATCHED}
    assert Peer.objects.filter(status=Peer.Status.MATCHED).count() == matches.count()
    matchable = set(Volunteer.objects.matchable().values_list("pk", flat=True))
    assert set(matches.values_list("volunteer", flat=True)) <= matchable


def test_the_past_three_months_have_completed_sessions_no_shows_and_cancellations(
    seeded_on_tuesday,
):
    now = seeded_on_tuesday
    past = Session.objects.filter(ends_at__lt=now)

    assert Counter(past.values_list("status", flat=True)) == {
        Session.Status.COMPLETED: 53,
        Session.Status.NO_SHOW: 5,
        Session.Status.CANCELLED: 10,
    }
    assert past.earliest("starts_at").starts_at >= now - datetime.timedelta(days=92)
    completed = past.filter(status=Session.Status.COMPLETED)
    assert not completed.filter(Q(hours__isnull=True) | Q(confirmed_at__isnull=True)).exists()
    assert sum(completed.values_list("hours", flat=True)) >= 53
    assert not past.filter(status=Session.Status.CANCELLED, outcome_notes="").exists()
    assert not past.filter(status__in=Session.UPCOMING_STATUSES).exists()


def test_the_next_two_weeks_show_every_confirmation_state(seeded_on_tuesday):
    now = seeded_on_tuesday
    upcoming = Session.objects.upcoming().with_confirmation_state()

    assert Counter(upcoming.values_list("confirmation_state", flat=True)) == {
        ConfirmationState.CONFIRMED: 2,
        ConfirmationState.AWAITING_REPLY: 2,
        ConfirmationState.DECLINED: 1,
        ConfirmationState.AT_RISK: 1,
        ConfirmationState.NOT_REMINDED_YET: 10,
    }
    assert upcoming.latest("starts_at").starts_at <= now + datetime.timedelta(days=14)
    at_risk = upcoming.get(confirmation_state=ConfirmationState.AT_RISK)
    deadline = datetime.timedelta(hours=settings.SESSION_CONFIRM_DEADLINE_HOURS)
    assert now < at_risk.starts_at <= now + deadline
    assert at_risk.at_risk_since == at_risk.starts_at - deadline
    assert at_risk.status == Session.Status.SCHEDULED
    confirmed = upcoming.filter(confirmation_state=ConfirmationState.CONFIRMED)
    assert all(now - datetime.timedelta(days=1) < s.confirmed_at <= now for s in confirmed)


def test_a_session_awaiting_a_reply_has_its_reminder_sent_and_its_question_open(
    seeded_on_tuesday,
):
    now = seeded_on_tuesday
    awaiting = (
        Session.objects.with_confirmation_state()
        .filter(confirmation_state=ConfirmationState.AWAITING_REPLY)
        .select_related("reminder", "match__volunteer")
    )

    assert awaiting.count() == 2
    for session in awaiting:
        reminder = session.reminder
        assert reminder.idempotency_key == reminder_key(session)
        assert reminder.status == Message.Status.DELIVERED and reminder.sent_at <= now
        assert reminder.reply_handler == REPLY_HANDLER
        assert reminder.context["session_id"] == session.pk
        phone = session.match.volunteer.phone
        assert Message.objects.open_question_for(phone, now=now).get() == reminder
        assert "Reply YES to confirm" in reminder.body
    declined = Session.objects.get(status=Session.Status.DECLINED)
    assert declined.reminder.answered_by.body.lower().startswith("sorry no")
    assert not declined.reminder.question_open


def test_sessions_fall_in_working_hours_and_one_volunteers_never_overlap(seeded_on_tuesday):
    sessions = list(Session.objects.select_related("match__volunteer", "match__peer"))

    for session in sessions:
        starts = session.starts_at.astimezone(LONDON)
        ends = session.ends_at.astimezone(LONDON)
        assert datetime.time(9) <= starts.time() <= datetime.time(19)
        assert ends.time() <= datetime.time(20, 30) and ends.date() == starts.date()
        assert session.mode in session.match.volunteer.meeting_modes
        assert session.mode in session.match.peer.meeting_modes
        assert starts.date() >= session.match.started_on
        session.full_clean()
    for volunteer_id in {s.match.volunteer_id for s in sessions}:
        theirs = sorted(
            (s for s in sessions if s.match.volunteer_id == volunteer_id),
            key=lambda s: s.starts_at,
        )
        assert all(a.ends_at <= b.starts_at for a, b in itertools.pairwise(theirs))
    for row in (*Message.objects.all(), *FollowUp.objects.all(), *WellbeingCheckIn.objects.all()):
        row.full_clean()


def test_wellbeing_answers_for_volunteers_who_opted_in_with_one_low_this_week(seeded_on_tuesday):
    answered = WellbeingCheckIn.objects.answered()

    assert answered.count() == 61
    assert set(WellbeingCheckIn.objects.values_list("volunteer__wellbeing_opt_in", flat=True)) == {
        True
    }
    assert Volunteer.objects.filter(wellbeing_opt_in=True).count() == 9
    low = answered.get(score__lte=2)
    assert low.week == datetime.date(2026, 6, 15)
    trend = list(low.volunteer.wellbeing_check_ins.order_by("week").values_list("score", flat=True))
    assert trend[-1] == 2 and trend[0] == 4


def test_open_follow_ups_of_each_kind_and_one_handled_with_a_note(seeded_on_tuesday):
    open_kinds = Counter(FollowUp.objects.open().values_list("kind", flat=True))

    assert open_kinds == {
        FollowUp.Kind.SESSION_DECLINED: 1,
        FollowUp.Kind.SESSION_AT_RISK: 1,
        FollowUp.Kind.NO_SHOW: 1,
        FollowUp.Kind.WELLBEING_LOW: 1,
        FollowUp.Kind.TRAINING_LAPSED: 1,
    }
    urgent = FollowUp.objects.open().filter(urgency=FollowUp.Urgency.URGENT)
    declined = FollowUp.objects.get(kind=FollowUp.Kind.SESSION_DECLINED)
    # A declined session is urgent when it is less than two days away (decline_session's rule).
    soon = declined.session.starts_at - seeded_on_tuesday < datetime.timedelta(hours=48)
    assert set(urgent.values_list("kind", flat=True)) == {
        FollowUp.Kind.SESSION_AT_RISK,
        FollowUp.Kind.WELLBEING_LOW,
        *([FollowUp.Kind.SESSION_DECLINED] if soon else []),
    }
    handled = FollowUp.objects.handled().get()
    assert handled.kind == FollowUp.Kind.NO_SHOW
    assert handled.handled_note and handled.handled_by.email == DEMO_COORDINATOR_EMAIL
    assert handled.raised_at < handled.handled_at < seeded_on_tuesday
    lapsed = FollowUp.objects.get(kind=FollowUp.Kind.TRAINING_LAPSED)
    assert lapsed.volunteer.status == Volunteer.Status.ACTIVE
    assert "PVG" in lapsed.summary
    assert lapsed.volunteer.training_records.filter(
        course__code="PVG", expires_on__lt=seeded_on_tuesday.date()
    ).exists()


def test_the_volunteer_who_signs_in_by_text_has_consent_a_match_and_sessions_ahead(
    seeded_on_tuesday,
):
    volunteer = User.objects.get(email="volunteer@peerpath.local").volunteer

    assert volunteer.sms_consent and volunteer.status == Volunteer.Status.ACTIVE
    assert Volunteer.objects.matchable().filter(pk=volunteer.pk).exists()
    assert Match.objects.active().filter(volunteer=volunteer).count() == 1
    upcoming = Session.objects.upcoming().of_volunteer(volunteer).with_confirmation_state()
    assert upcoming.count() == 2
    assert upcoming.first().confirmation_state == ConfirmationState.AWAITING_REPLY
    assert Session.objects.of_volunteer(volunteer).filter(status="completed").count() >= 3


def test_a_second_run_adds_no_history(seeded_on_tuesday, time_machine):
    first = history_rows()
    keys = set(Message.objects.values_list("idempotency_key", flat=True))

    stdout, _ = seed()
    time_machine.move_to(TUESDAY_MORNING + datetime.timedelta(days=3), tick=False)
    seed()

    assert history_rows() == first
    assert set(Message.objects.values_list("idempotency_key", flat=True)) == keys
    assert "nothing to add" in stdout


def test_the_schedule_over_the_demo_history_raises_nothing_it_already_holds(
    seeded_on_tuesday, django_capture_on_commit_callbacks, settings
):
    from matching import tasks

    settings.SMS_BACKEND = "locmem"
    seeded = Counter(FollowUp.objects.values_list("kind", "volunteer_id", "session_id"))

    with django_capture_on_commit_callbacks(execute=False):
        tasks.session_passes()

    after = Counter(FollowUp.objects.values_list("kind", "volunteer_id", "session_id"))
    assert {key: after[key] for key in seeded} == seeded
