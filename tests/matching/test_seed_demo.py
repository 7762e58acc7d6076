"""seed_demo: demo data a coordinator can sign in to at once, and synthetic sets for benchmarks."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from community.models import Focus
from matching.demo_data import (
    DEMO_COORDINATOR_EMAIL,
    DEMO_COORDINATOR_PASSWORD,
    SYNTHETIC_PEER_NOTE,
    SYNTHETIC_VOLUNTEER_NOTE,
)
from matching.models import ConfirmationState, FollowUp, Match, Session, WellbeingCheckIn
from messaging.models import Message
from peers.models import Peer, PeerStatusChange, PreferredTime
from volunteers.models import Absence, AvailabilityWindow, Course, TrainingRecord, Volunteer

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture(autouse=True)
def _developer_machine(settings):
    """seed_demo is for a developer's machine (DEBUG on); hashing can be quick in tests."""
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*arguments):
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("seed_demo", *arguments, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def everything():
    """How many rows of each kind seed_demo writes."""
    models = (
        Volunteer,
        Volunteer.languages.through,
        Volunteer.focuses.through,
        TrainingRecord,
        AvailabilityWindow,
        Absence,
        Peer,
        Peer.languages.through,
        Peer.focuses.through,
        PreferredTime,
        PeerStatusChange,
        Match,
        User,
    )
    return {model.__name__: model.objects.count() for model in models}


def test_running_twice_makes_the_same_people_and_no_duplicates():
    seed()
    first = everything()
    people = set(Volunteer.objects.values_list("full_name", "phone"))

    stdout, _ = seed()

    assert everything() == first
    assert set(Volunteer.objects.values_list("full_name", "phone")) == people
    assert "nothing to add" in stdout


def test_the_sign_in_address_printed_is_where_the_site_is_served():
    stdout, _ = seed("--site-url", "http://0.0.0.0:8100/")
    assert "Sign in at http://0.0.0.0:8100/\n" in stdout
    assert ":8000" not in stdout


def test_rerun_prints_the_login_again_and_keeps_a_changed_password():
    seed()
    stdout, _ = seed()
    assert DEMO_COORDINATOR_PASSWORD in stdout

    coordinator = User.objects.get(email=DEMO_COORDINATOR_EMAIL)
    coordinator.set_password("a-password-of-their-own-81")
    coordinator.save()
    stdout, _ = seed()

    coordinator.refresh_from_db()
    assert coordinator.check_password("a-password-of-their-own-81")
    assert DEMO_COORDINATOR_EMAIL in stdout
    assert "--coordinator-password" in stdout
    assert User.objects.filter(email=DEMO_COORDINATOR_EMAIL).count() == 1


def test_coordinator_email_and_password_can_be_chosen(client):
    stdout, _ = seed(
        "--coordinator-email", "Office@Example.org", "--coordinator-password", "kelvin-hall-4711"
    )

    assert client.login(email="office@example.org", password="kelvin-hall-4711")
    assert "office@example.org" in stdout and "kelvin-hall-4711" in stdout
    assert not User.objects.filter(email=DEMO_COORDINATOR_EMAIL).exists()


def test_a_weak_coordinator_password_is_refused_with_the_reason():
    with pytest.raises(CommandError, match="too short"):
        seed("--coordinator-password", "abc")


def test_the_public_demo_password_is_refused_when_debug_is_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--coordinator-password"):
        seed()

    assert not User.objects.filter(email=DEMO_COORDINATOR_EMAIL).exists()
    seed("--coordinator-password", "kelvin-hall-4711")
    assert User.objects.get(email=DEMO_COORDINATOR_EMAIL).check_password("kelvin-hall-4711")


def test_missing_reference_data_is_loaded_again():
    Course.objects.all().delete()
    Focus.objects.all().delete()

    seed()

    assert Course.objects.filter(required_for_matching=True).count() == 7
    assert Focus.objects.filter(slug="alcohol").exists()
    assert TrainingRecord.objects.exists()


def test_synthetic_sets_are_added_on_top_and_topped_up_not_duplicated():
    stdout, stderr = seed("--volunteers", "300", "--peers", "200", "--batch-size", "120")

    assert Volunteer.objects.count() == 40 + 300
    assert Peer.objects.count() == 60 + 200
    assert "300/300 (100%)" in stderr and "200/200 (100%)" in stderr
    assert DEMO_COORDINATOR_EMAIL in stdout and DEMO_COORDINATOR_PASSWORD in stdout

    before = everything()
    seed("--volunteers", "300", "--peers", "200")
    assert everything() == before

    seed("--volunteers", "350")
    assert Volunteer.objects.filter(notes=SYNTHETIC_VOLUNTEER_NOTE).count() == 350
    assert Peer.objects.filter(notes=SYNTHETIC_PEER_NOTE).count() == 200


def test_synthetic_volunteers_are_realistic_for_matching():
    seed("--volunteers", "300", "--peers", "200")
    volunteers = Volunteer.objects.filter(notes=SYNTHETIC_VOLUNTEER_NOTE)
    peers = Peer.objects.filter(notes=SYNTHETIC_PEER_NOTE)

    assert volunteers.values("area").distinct().count() >= 25
    assert volunteers.matchable().count() > volunteers.count() // 2
    assert volunteers.training_expiring().exists()
    assert set(volunteers.values_list("max_active_matches", flat=True)) == {1, 2, 3}
    assert AvailabilityWindow.objects.filter(volunteer__in=volunteers).count() > 300
    assert Volunteer.languages.through.objects.filter(volunteer__in=volunteers).count() >= 300
    assert Volunteer.focuses.through.objects.filter(volunteer__in=volunteers).count() >= 300
    assert peers.filter(status=Peer.Status.WAITING).count() > peers.count() // 2
    assert not peers.filter(status=Peer.Status.WAITING, waiting_since__isnull=True).exists()
    assert not volunteers.filter(sms_consent=True, sms_consent_at__isnull=True).exists()
    for record in TrainingRecord.objects.filter(volunteer__in=volunteers).select_related("course"):
        assert record.expires_on == record.course.expiry_for(record.completed_on)


def test_synthetic_volunteers_past_the_drama_range_have_no_phone():
    seed("--volunteers", "905", "--batch-size", "500")
    volunteers = Volunteer.objects.filter(notes=SYNTHETIC_VOLUNTEER_NOTE)

    with_phone = [v.phone for v in volunteers.exclude(phone=None)]
    assert len(with_phone) == 900
    assert all(phone.is_fictional for phone in with_phone)
    assert volunteers.filter(phone=None).count() == 5


def test_a_demo_volunteer_can_sign_in_to_the_app_by_text(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    from messaging import backends, services

    monkeypatch.setattr(services, "async_task", lambda func, pk, **options: services.deliver(pk))
    stdout, _ = seed()
    seed()  # a second run keeps the same account

    user = User.objects.get(email="volunteer@peerpath.local")
    assert not user.has_usable_password()
    assert user.volunteer.phone == user.phone
    assert user.phone.as_national in stdout
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/_allauth/app/v1/auth/code/request",
            {"phone": user.phone.as_national},
            content_type="application/json",
        )
    assert response.status_code == 401  # a code is pending
    assert [sent["to"] for sent in backends.outbox] == [user.phone.as_e164]


# The demo set's history ------------------------------------------------------------------

LONDON = ZoneInfo("Europe/London")
# A Tuesday morning, in summer time; and a winter evening, when no session is near.
TUESDAY_MORNING = datetime.datetime(2026, 6, 16, 10, 7, tzinfo=LONDON)
LATE_EVENING = datetime.datetime(2026, 11, 17, 23, 10, tzinfo=LONDON)


def history_rows():
    return {
        model.__name__: model.objects.count()
        for model in (Session, Message, WellbeingCheckIn, FollowUp)
    }


@pytest.fixture
def seeded_on_tuesday(time_machine):
    time_machine.move_to(TUESDAY_MORNING, tick=False)
    seed()
    return TUESDAY_MORNING


def test_no_text_of_the_history_waits_to_be_sent(time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(TUESDAY_MORNING, tick=False)
    with django_capture_on_commit_callbacks() as callbacks:
        seed()

    assert callbacks == []
    assert Message.objects.count() > 150
    assert not Message.objects.filter(status=Message.Status.QUEUED).exists()
    assert not Message.objects.outbound().filter(idempotency_key=None).exists()
    assert not Message.objects.inbound().filter(idempotency_key=None).exists()


def history_as_written():
    sessions = Session.objects.with_confirmation_state().order_by("starts_at", "match__peer__phone")
    return (
        list(
            sessions.values_list(
                "match__volunteer__phone",
                "starts_at",
                "status",
                "hours",
                "place",
                "confirmation_state",
            )
        ),
        sorted(Message.objects.values_list("to_number", "body", "created_at")),
        sorted(WellbeingCheckIn.objects.values_list("volunteer__phone", "week", "score")),
        sorted(FollowUp.objects.values_list("kind", "summary", "raised_at", "handled_at")),
    )


def test_seeding_at_the_same_moment_writes_the_same_history(time_machine):
    time_machine.move_to(TUESDAY_MORNING, tick=False)
    seed()
    first = history_as_written()
    Session.objects.update(reminder=None)
    for model in (FollowUp, WellbeingCheckIn, Session, Message):
        model.objects.all().delete()
    Volunteer.objects.update(wellbeing_opt_in=False)

    seed()

    assert history_as_written() == first


def test_late_in_the_evening_the_at_risk_session_is_the_first_tomorrow(time_machine):
    time_machine.move_to(LATE_EVENING, tick=False)
    seed()

    at_risk = Session.objects.with_confirmation_state().get(
        confirmation_state=ConfirmationState.AT_RISK
    )
    starts = at_risk.starts_at.astimezone(LONDON)
    assert starts == datetime.datetime(2026, 11, 18, 9, 0, tzinfo=LONDON)
    assert at_risk.at_risk_since == LATE_EVENING
    assert (
        Session.objects.with_confirmation_state()
        .filter(confirmation_state=ConfirmationState.AWAITING_REPLY)
        .count()
        == 2
    )


def test_synthetic_volunteers_get_no_history():
    seed("--volunteers", "200")

    synthetic = Volunteer.objects.filter(notes=SYNTHETIC_VOLUNTEER_NOTE)
    assert not Session.objects.filter(match__volunteer__in=synthetic).exists()
    assert not WellbeingCheckIn.objects.filter(volunteer__in=synthetic).exists()
    assert not FollowUp.objects.filter(volunteer__in=synthetic).exists()
