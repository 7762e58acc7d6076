"""Suggestions for many peers at once: what `suggest` gives each, from one pass."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community.models import Gender
from matching.engine import suggest, why_not
from matching.models import Match
from matching.suggestions import top_suggestions
from peers.models import Peer
from tests.factories import (
    AbsenceFactory,
    AvailabilityWindowFactory,
    ExclusionFactory,
    MatchFactory,
    PeerFactory,
    PreferredTimeFactory,
    VolunteerFactory,
    area,
    focus,
    fully_trained,
    language,
)
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _now(time_machine, settings):
    time_machine.move_to(NOW, tick=False)
    settings.MATCHING_WEIGHTS = {
        "distance": 2.0,
        "availability": 3.0,
        "focus": 2.0,
        "language": 1.0,
        "gender": 1.0,
        "load": 1.0,
        "continuity": 2.0,
    }
    settings.MATCHING_DISTANCE_ZERO_KM = 30
    settings.MATCHING_FULL_OVERLAP_HOURS = 3


def supporter(**fields):
    return fully_trained(VolunteerFactory(**fields))


def window(volunteer, weekday, starts, ends):
    AvailabilityWindowFactory(
        volunteer=volunteer,
        weekday=weekday,
        starts_at=datetime.time(starts),
        ends_at=datetime.time(ends),
    )


def as_words(suggestions):
    return [(s.volunteer, s.score, s.reasons) for s in suggestions]


@pytest.fixture
def a_busy_office():
    """Peers and volunteers that between them touch every rule and every score."""
    places = ["Coatbridge", "Airdrie", "Motherwell", "Biggar"]
    volunteers = []
    for n in range(12):
        volunteer = supporter(
            area=area(places[n % 4]),
            travel_radius_km=(5, 10, 25)[n % 3],
            gender=(Gender.FEMALE, Gender.MALE, Gender.UNDISCLOSED)[n % 3],
            meets_by_phone=n % 2 == 0,
            max_active_matches=(1, 2, 3)[n % 3],
        )
        volunteer.languages.set([language("en")] + ([language("pl")] if n % 4 == 1 else []))
        volunteer.focuses.set([focus(("alcohol", "drugs", "family")[n % 3])])
        window(volunteer, 2, 17 + n % 3, 21)
        if n % 5 == 0:
            window(volunteer, 4, 9, 12)
        volunteers.append(volunteer)
    supporter(status=Volunteer.Status.PAUSED)
    away = supporter()
    AbsenceFactory(volunteer=away)
    untrained = supporter()
    untrained.training_records.filter(course__code="ROSC").delete()
    full = supporter(max_active_matches=1)
    MatchFactory(volunteer=full, active=True)
    MatchFactory(volunteer=volunteers[2], active=True)
    MatchFactory(volunteer=volunteers[5])  # proposed: counts in the load, not the capacity

    peers = []
    for n in range(6):
        peer = PeerFactory(
            area=area(places[(n + 1) % 4]),
            gender=(Gender.FEMALE, Gender.MALE)[n % 2],
            preferred_supporter_gender=(
                Peer.SupporterGender.ANY,
                Peer.SupporterGender.FEMALE,
                Peer.SupporterGender.ANY,
            )[n % 3],
            meets_by_phone=n % 3 != 1,
        )
        if n % 2:
            peer.languages.set([language("pl"), language("en")])
        if n % 3:
            peer.focuses.set([focus("alcohol"), focus("family")])
        if n != 3:
            PreferredTimeFactory(
                peer=peer, weekday=2, starts_at=datetime.time(18), ends_at=datetime.time(20)
            )
        peers.append(peer)
    ExclusionFactory(peer=peers[0], volunteer=volunteers[0])
    MatchFactory(
        peer=peers[1],
        volunteer=volunteers[1],
        status=Match.Status.ENDED,
        started_on=datetime.date(2025, 9, 1),
        ended_on=datetime.date(2026, 3, 1),
    )
    return peers


@pytest.mark.parametrize("k", [1, 3, 50])
def test_each_peer_gets_the_volunteers_scores_and_words_suggest_gives_them(a_busy_office, k):
    found = top_suggestions(a_busy_office, k)

    assert set(found) == {peer.pk for peer in a_busy_office}
    for peer in a_busy_office:
        assert as_words(found[peer.pk]) == as_words(suggest(peer, limit=k)), peer.reference
    assert any(len(found[peer.pk]) >= min(k, 3) for peer in a_busy_office)


def test_the_peers_may_come_in_any_order(a_busy_office):
    forwards = top_suggestions(a_busy_office)
    backwards = top_suggestions(list(reversed(a_busy_office)))

    assert {pk: as_words(s) for pk, s in forwards.items()} == {
        pk: as_words(s) for pk, s in backwards.items()
    }


def test_equal_scores_are_ordered_by_volunteer_id():
    peer = PeerFactory()
    first, second, third, _ = supporter(), supporter(), supporter(), supporter()

    [ranked] = top_suggestions([peer]).values()

    assert [s.volunteer for s in ranked] == [first, second, third]
    assert len({s.score for s in ranked}) == 1


def test_a_peer_nobody_may_support_gets_an_empty_list():
    alone = PeerFactory(preferred_supporter_gender=Peer.SupporterGender.MALE)
    other = PeerFactory()
    volunteer = supporter(gender=Gender.FEMALE)

    found = top_suggestions([alone, other])

    assert found[alone.pk] == []
    assert [s.volunteer for s in found[other.pk]] == [volunteer]


def test_a_volunteer_without_room_is_never_suggested_as_why_not_refuses_them():
    peer = PeerFactory()
    none_at_all = supporter(max_active_matches=0)
    full = supporter(max_active_matches=1)
    MatchFactory(volunteer=full, active=True)

    assert top_suggestions([peer])[peer.pk] == []
    assert why_not(peer, none_at_all) and why_not(peer, full)


def test_without_peers_or_volunteers_there_is_nothing_to_suggest():
    peer = PeerFactory()

    assert top_suggestions([]) == {}
    assert top_suggestions([peer]) == {peer.pk: []}


def test_the_number_of_queries_does_not_grow_with_the_peers_or_volunteers():
    def office(peers, volunteers):
        for n in range(volunteers):
            volunteer = supporter(area=area(("Coatbridge", "Airdrie")[n % 2]))
            volunteer.languages.set([language("en")])
            volunteer.focuses.set([focus(("alcohol", "drugs")[n % 2])])
            window(volunteer, 2, 17, 21)
        made = []
        for _ in range(peers):
            peer = PeerFactory()
            peer.languages.set([language("en")])
            peer.focuses.set([focus("alcohol")])
            PreferredTimeFactory(peer=peer)
            made.append(peer)
        return made

    def queries(peers):
        with CaptureQueriesContext(connection) as captured:
            found = top_suggestions(peers)
        assert all(len(suggestions) == 3 for suggestions in found.values())
        return len(captured)

    few = queries(office(peers=1, volunteers=3))
    office(peers=20, volunteers=30)
    many = queries(list(Peer.objects.all()))
    assert few == many
