"""seed_demo: demo data a coordinator can sign in to at once, and synthetic sets for benchmarks."""

import io
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Q

from community.coordinators import COORDINATORS_GROUP
from community.models import Focus
from matching.demo_data import (
    DEMO_COORDINATOR_EMAIL,
    DEMO_COORDINATOR_PASSWORD,
    SYNTHETIC_PEER_NOTE,
    SYNTHETIC_VOLUNTEER_NOTE,
)
from matching.models import Match
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


def test_demo_set_is_40_volunteers_and_60_peers_with_drama_range_phones_only():
    seed()

    assert Volunteer.objects.count() == 40
    assert Peer.objects.count() == 60
    phones = [v.phone for v in Volunteer.objects.all()] + [p.phone for p in Peer.objects.all()]
    assert all(phone and phone.is_fictional for phone in phones)
    assert len({phone.as_e164 for phone in phones}) == 100


def test_demo_set_spreads_over_both_councils_statuses_and_preferences():
    seed()

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


def test_running_twice_makes_the_same_people_and_no_duplicates():
    seed()
    first = everything()
    people = set(Volunteer.objects.values_list("full_name", "phone"))

    stdout, _ = seed()

    assert everything() == first
    assert set(Volunteer.objects.values_list("full_name", "phone")) == people
    assert "nothing to add" in stdout


def test_coordinator_can_sign_in_and_the_output_says_how(client):
    stdout, _ = seed()

    coordinator = User.objects.get(email=DEMO_COORDINATOR_EMAIL)
    assert coordinator.is_staff and not coordinator.is_superuser
    assert coordinator.groups.filter(name=COORDINATORS_GROUP).exists()
    assert coordinator.is_coordinator
    assert client.login(email=DEMO_COORDINATOR_EMAIL, password=DEMO_COORDINATOR_PASSWORD)
    assert "Sign in at http://127.0.0.1:8000/admin/" in stdout
    assert DEMO_COORDINATOR_EMAIL in stdout
    assert DEMO_COORDINATOR_PASSWORD in stdout


def test_the_sign_in_address_printed_is_where_the_site_is_served():
    stdout, _ = seed("--site-url", "http://0.0.0.0:8100/")
    assert "Sign in at http://0.0.0.0:8100/admin/" in stdout
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


def test_some_volunteers_are_matchable_and_some_have_training_expiring_soon():
    seed()

    assert Volunteer.objects.matchable().count() >= 15
    assert Volunteer.objects.training_expiring().count() >= 3
    unmatchable = Volunteer.objects.exclude(pk__in=Volunteer.objects.matchable())
    assert unmatchable.filter(status=Volunteer.Status.ACTIVE).exists()


def test_matches_respect_capacity_and_one_open_match_per_peer():
    seed()

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
