import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from community.errors import StateConflict
from peers import services
from peers.models import Peer, PeerStatusChange, PreferredTime
from tests.factories import (
    PeerFactory,
    PreferredTimeFactory,
    area,
    back_after_a_match,
    focus,
    waiting_for,
)

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


def test_reference_is_shown_instead_of_a_name():
    peer = PeerFactory()
    assert peer.reference == f"P-{peer.pk:06d}"
    assert str(peer).startswith(peer.reference)


@pytest.mark.parametrize(
    ("typed", "found"), [("P-000123", 123), ("p123", 123), (" P-42 ", 42), ("Morag", None)]
)
def test_a_typed_reference_gives_the_id(typed, found):
    assert Peer.id_from_reference(typed) == found


def test_a_new_waiting_peer_has_a_waiting_since_time():
    peer = services.create_peer(
        preferred_name="Jamie", area=area("Wishaw"), status="waiting", focuses=[focus("drugs")]
    )
    assert peer.waiting_since is not None
    assert peer.preferred_supporter_gender == "any"


def test_a_new_peer_cannot_start_matched():
    with pytest.raises(ValidationError) as refused:
        services.create_peer(preferred_name="Jamie", area=area(), status="matched")
    assert "starts as referred or waiting" in refused.value.message_dict["status"][0]
    assert not Peer.objects.exists()


def test_status_changes_are_dated_and_logged(coordinator):
    peer = PeerFactory(status="referred")
    services.change_peer_status(peer=peer, to="waiting", by=coordinator)
    peer.refresh_from_db()
    assert peer.status == "waiting" and peer.waiting_since == peer.status_changed_at
    services.change_peer_status(peer=peer, to="paused", note="In hospital")
    log = list(peer.status_log.values_list("from_status", "to_status", "note"))
    assert log == [("waiting", "paused", "In hospital"), ("referred", "waiting", "")]


def test_an_illegal_status_change_is_refused_and_nothing_changes():
    peer = PeerFactory(status="referred")
    with pytest.raises(StateConflict) as refused:
        services.change_peer_status(peer=peer, to="paused")
    assert refused.value.message == (
        f"{peer.reference} is referred and cannot become paused; "
        "from referred they can become: waiting for a supporter, closed."
    )
    assert Peer.objects.get(pk=peer.pk).status == "referred"
    assert not PeerStatusChange.objects.exists()


def test_a_closed_record_can_be_reopened_onto_the_waiting_list():
    peer = PeerFactory(status="closed")
    services.change_peer_status(peer=peer, to="waiting")
    assert Peer.objects.get(pk=peer.pk).status == "waiting"


def test_the_database_refuses_a_waiting_peer_without_a_waiting_since():
    peer = PeerFactory(status="referred")
    with pytest.raises(IntegrityError), transaction.atomic():
        Peer.objects.filter(pk=peer.pk).update(status="waiting")


def test_overlapping_preferred_times_are_refused():
    peer = PeerFactory()
    services.add_preferred_time(
        peer=peer, weekday=4, starts_at=datetime.time(10), ends_at=datetime.time(12)
    )
    with pytest.raises(ValidationError) as refused:
        services.add_preferred_time(
            peer=peer, weekday=4, starts_at=datetime.time(11), ends_at=datetime.time(13)
        )
    assert "overlaps Friday 10:00–12:00" in refused.value.messages[0]
    assert peer.preferred_times.count() == 1


def test_the_database_refuses_overlapping_preferred_times():
    time = PreferredTimeFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PreferredTime.objects.create(
            peer=time.peer, weekday=time.weekday, starts_at=time.starts_at, ends_at=time.ends_at
        )


def test_a_peer_phone_is_optional_but_checked_when_given():
    assert services.create_peer(preferred_name="Sam", area=area()).phone is None
    with pytest.raises(ValidationError) as refused:
        services.create_peer(preferred_name="Sam", area=area(), phone="077009")
    assert "not a valid phone number" in refused.value.message_dict["phone"][0]
    assert Peer.objects.count() == 1


def test_the_waiting_list_comes_first_longest_waiting_first():
    now = timezone.now()
    recent = PeerFactory(status="waiting", waiting_since=now - datetime.timedelta(days=2))
    longest = PeerFactory(status="waiting", waiting_since=now - datetime.timedelta(days=40))
    matched_long_ago = PeerFactory(
        status="matched", waiting_since=now - datetime.timedelta(days=90)
    )
    referred = PeerFactory(status="referred")
    ordered = list(Peer.objects.waiting_first())
    assert ordered == [longest, recent, matched_long_ago, referred]
    assert ordered[2].queue_since is None


def test_the_admin_list_shows_the_waiting_list_first(coordinator_client):
    waiting = PeerFactory(
        status="waiting", waiting_since=timezone.now() - datetime.timedelta(days=3)
    )
    PeerFactory(status="matched", waiting_since=timezone.now() - datetime.timedelta(days=90))
    page = coordinator_client.get("/admin/peers/peer/")
    rows = list(page.context["cl"].result_list)
    assert rows[0] == waiting


def test_a_peer_back_from_a_match_keeps_their_place_by_total_time_waited(time_machine):
    time_machine.move_to(NOW, tick=False)
    longest = waiting_for(days=40)
    back = back_after_a_match(time_machine, waited_days=30, matched_days=60)
    recent = waiting_for(days=20)

    ordered = list(Peer.objects.waiting_first())

    assert ordered == [longest, back, recent]
    assert (back.waiting_since, back.waited_before) == (NOW, 30 * DAY)
    assert ordered[1].queue_since == NOW - 30 * DAY


@pytest.mark.parametrize("away", ["paused", "closed"])
def test_time_paused_or_closed_is_not_counted_and_the_earlier_wait_is_kept(time_machine, away):
    time_machine.move_to(NOW - 50 * DAY, tick=False)
    peer = services.create_peer(preferred_name="Jamie", area=area(), status="waiting")
    time_machine.move_to(NOW - 40 * DAY, tick=False)
    services.change_peer_status(peer=peer, to=away)
    time_machine.move_to(NOW - 10 * DAY, tick=False)
    services.change_peer_status(peer=peer, to="waiting")
    time_machine.move_to(NOW, tick=False)

    [listed] = Peer.objects.waiting_first()

    assert listed.waited_before == 10 * DAY
    assert listed.queue_since == NOW - 20 * DAY


def test_every_spell_on_the_waiting_list_adds_to_the_time_waited(time_machine):
    time_machine.move_to(NOW - 100 * DAY, tick=False)
    peer = services.create_peer(preferred_name="Jamie", area=area(), status="waiting")
    for leaves, comes_back, away in [(90, 80, "matched"), (70, 40, "paused"), (30, 5, "closed")]:
        time_machine.move_to(NOW - leaves * DAY, tick=False)
        services.change_peer_status(peer=peer, to=away)
        time_machine.move_to(NOW - comes_back * DAY, tick=False)
        services.change_peer_status(peer=peer, to="waiting")
    time_machine.move_to(NOW, tick=False)

    [listed] = Peer.objects.waiting_first()

    # 10 days, then 10, then 10 before the current wait of 5.
    assert listed.waited_before == 30 * DAY
    assert listed.queue_since == NOW - 35 * DAY


def test_the_database_refuses_a_negative_time_waited():
    peer = PeerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Peer.objects.filter(pk=peer.pk).update(waited_before=-DAY)
