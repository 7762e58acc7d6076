"""The matching engine: who may support a peer, in what order, and why, in words."""

import datetime

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matching import engine
from matching.engine import suggest, why_not
from matching.models import Match
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
    course,
    focus,
    fully_trained,
    language,
)
from volunteers.models import Course, Volunteer

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 23)
WEIGHTS = {
    "distance": 2.0,
    "availability": 3.0,
    "focus": 2.0,
    "language": 1.0,
    "gender": 1.0,
    "load": 1.0,
    "continuity": 2.0,
}


@pytest.fixture(autouse=True)
def _now(time_machine, settings):
    time_machine.move_to(NOW, tick=False)
    settings.MATCHING_WEIGHTS = WEIGHTS
    settings.MATCHING_DISTANCE_ZERO_KM = 30
    settings.MATCHING_FULL_OVERLAP_HOURS = 3


def supporter(**fields):
    """An active volunteer with every required course current: eligible unless told."""
    fields.setdefault("preferred_name", "Morag")
    return fully_trained(VolunteerFactory(**fields))


def suggested(peer, **options):
    return [suggestion.volunteer for suggestion in suggest(peer, limit=None, **options)]


def reasons_of(peer, volunteer):
    [found] = [s for s in suggest(peer, limit=None) if s.volunteer == volunteer]
    return found.reasons


def reason_about(peer, volunteer, start):
    [reason] = [r for r in reasons_of(peer, volunteer) if r.startswith(start)]
    return reason


class TestHardRules:
    def test_an_eligible_volunteer_is_suggested_and_fails_no_rule(self):
        peer, volunteer = PeerFactory(), supporter()

        assert suggested(peer) == [volunteer]
        assert why_not(peer, volunteer) == []

    def test_a_volunteer_who_is_not_active_is_left_out(self):
        peer = PeerFactory()
        volunteer = supporter(status=Volunteer.Status.PAUSED)

        assert suggested(peer) == []
        assert why_not(peer, volunteer) == ["Morag is paused, not active."]

    def test_expired_training_is_named_with_the_day_it_expired(self):
        peer, volunteer = PeerFactory(), supporter()
        naloxone = volunteer.training_records.get(course=course("NALOXONE"))
        naloxone.completed_on = datetime.date(2025, 10, 1)
        naloxone.expires_on = datetime.date(2026, 10, 1)
        naloxone.save()

        assert suggested(peer) == []
        assert why_not(peer, volunteer) == [
            "Naloxone administration training expired on 1 October 2026."
        ]

    def test_missing_training_is_named(self):
        peer, volunteer = PeerFactory(), supporter()
        volunteer.training_records.filter(course__code="ROSC").delete()

        assert suggested(peer) == []
        assert why_not(peer, volunteer) == [
            "No Recovery Orientated Systems of Care training on record."
        ]

    def test_training_counts_as_it_stands_on_the_day_asked_about(self):
        peer, volunteer = PeerFactory(), supporter()
        naloxone = volunteer.training_records.get(course=course("NALOXONE"))
        naloxone.expires_on = datetime.date(2026, 12, 1)
        naloxone.save()
        later = datetime.date(2026, 12, 5)

        assert suggested(peer) == [volunteer]
        assert suggested(peer, on=later) == []
        assert why_not(peer, volunteer, on=later) == [
            "Naloxone administration training expired on 1 December 2026."
        ]

    def test_a_lapsed_pvg_is_named_as_the_check_it_is(self):
        peer, volunteer = PeerFactory(), supporter()
        pvg = volunteer.training_records.get(course=course("PVG"))
        pvg.completed_on = datetime.date(2021, 9, 1)
        pvg.expires_on = datetime.date(2026, 9, 1)
        pvg.save()

        assert suggested(peer) == []
        assert why_not(peer, volunteer) == [
            "PVG scheme membership (Disclosure Scotland) expired on 1 September 2026."
        ]

    def test_pvg_is_needed_even_when_a_coordinator_unticks_it_as_required(self):
        Course.objects.filter(code="PVG").update(required_for_matching=False)
        peer, volunteer = PeerFactory(), supporter()
        volunteer.training_records.filter(course__code="PVG").delete()

        assert Volunteer.objects.matchable().filter(pk=volunteer.pk).exists()
        assert suggested(peer) == []
        assert why_not(peer, volunteer) == [
            "No PVG scheme membership (Disclosure Scotland) on record."
        ]

    def test_a_volunteer_at_capacity_is_left_out(self):
        peer = PeerFactory()
        volunteer = supporter(max_active_matches=1)
        MatchFactory(volunteer=volunteer, active=True)

        assert suggested(peer) == []
        assert why_not(peer, volunteer) == ["Morag already supports 1 person, their capacity of 1."]

    def test_proposed_matches_do_not_fill_a_volunteers_capacity(self):
        peer = PeerFactory()
        volunteer = supporter(max_active_matches=1)
        MatchFactory(volunteer=volunteer)

        assert suggested(peer) == [volunteer]

    def test_a_volunteer_away_on_the_day_is_left_out(self):
        peer, volunteer = PeerFactory(), supporter()
        AbsenceFactory(
            volunteer=volunteer,
            starts_on=datetime.date(2026, 11, 21),
            ends_on=datetime.date(2026, 11, 28),
            reason="Holiday",
        )

        assert suggested(peer) == []
        assert suggested(peer, on=datetime.date(2026, 11, 29)) == [volunteer]
        assert why_not(peer, volunteer) == [
            "Morag is away from 21 November 2026 to 28 November 2026 (Holiday)."
        ]

    def test_an_excluded_volunteer_is_left_out_for_that_peer_only(self):
        peer, other, volunteer = PeerFactory(), PeerFactory(), supporter()
        ExclusionFactory(peer=peer, volunteer=volunteer, reason="They are neighbours.")

        assert suggested(peer) == []
        assert suggested(other) == [volunteer]
        assert why_not(peer, volunteer) == [
            f"Morag must never be matched with {peer.reference}: They are neighbours."
        ]

    def test_a_peer_beyond_the_travel_radius_is_left_out_when_they_meet_only_in_person(self):
        peer = PeerFactory(area=area("East Kilbride"), meets_by_phone=False)
        volunteer = supporter(area=area("Coatbridge"), travel_radius_km=10)

        assert suggested(peer) == []
        assert why_not(peer, volunteer) == ["East Kilbride is 14 km away; travel radius is 10 km."]

    def test_a_distance_just_past_the_radius_shows_the_decimal_that_matters(self):
        peer = PeerFactory(area=area("East Kilbride"), meets_by_phone=False)
        volunteer = supporter(area=area("Coatbridge"), travel_radius_km=14)

        assert why_not(peer, volunteer) == [
            "East Kilbride is 14.4 km away; travel radius is 14 km."
        ]

    def test_a_peer_within_the_radius_is_suggested(self):
        peer = PeerFactory(area=area("East Kilbride"), meets_by_phone=False)
        volunteer = supporter(area=area("Coatbridge"), travel_radius_km=15)

        assert suggested(peer) == [volunteer]

    def test_distance_does_not_matter_when_both_meet_by_phone_or_by_video(self):
        far = area("Biggar")
        by_phone = PeerFactory(area=far, meets_in_person=False, meets_by_phone=True)
        by_video = PeerFactory(
            area=far, meets_in_person=False, meets_by_phone=False, meets_by_video=True
        )
        volunteer = supporter(travel_radius_km=5, meets_by_phone=True, meets_by_video=True)

        assert suggested(by_phone) == [volunteer]
        assert suggested(by_video) == [volunteer]

    def test_a_pair_with_no_way_of_meeting_in_common_is_left_out(self):
        peer = PeerFactory(meets_in_person=False, meets_by_phone=False, meets_by_video=True)
        volunteer = supporter(meets_in_person=True, meets_by_phone=True, meets_by_video=False)

        assert suggested(peer) == []
        assert why_not(peer, volunteer) == [
            f"No way of meeting suits both: {peer.reference} meets by video; "
            "Morag in person or by phone."
        ]

    def test_the_supporter_gender_a_peer_asked_for_is_required(self):
        peer = PeerFactory(preferred_supporter_gender=Peer.SupporterGender.FEMALE)
        woman = supporter(gender="female", preferred_name="Isla")
        man = supporter(gender="male", preferred_name="Euan")
        unsaid = supporter(gender="undisclosed", preferred_name="Sam")

        assert suggested(peer) == [woman]
        assert why_not(peer, man) == [
            f"{peer.reference} asked for a female supporter; Euan is male."
        ]
        assert why_not(peer, unsaid) == [
            f"{peer.reference} asked for a female supporter; Sam prefers not to say their gender."
        ]

    def test_a_volunteer_must_speak_one_of_the_peers_languages(self):
        peer = PeerFactory()
        peer.languages.set([language("pl")])
        english = supporter(preferred_name="Euan")
        english.languages.set([language("en")])
        polish = supporter(preferred_name="Agnieszka")
        polish.languages.set([language("en"), language("pl")])
        unrecorded = supporter(preferred_name="Sam")

        assert suggested(peer) == [polish]
        assert why_not(peer, english) == [
            f"Euan speaks English, none of {peer.reference}'s languages (Polish)."
        ]
        assert why_not(peer, unrecorded) == [
            f"No languages recorded for Sam; {peer.reference} speaks Polish."
        ]

    def test_a_peer_with_no_languages_recorded_can_be_supported_by_anyone(self):
        peer = PeerFactory()
        volunteer = supporter()
        volunteer.languages.set([language("ur")])

        assert suggested(peer) == [volunteer]

    def test_every_rule_failed_is_listed(self):
        peer = PeerFactory(
            area=area("East Kilbride"),
            meets_by_phone=False,
            preferred_supporter_gender=Peer.SupporterGender.MALE,
        )
        volunteer = supporter(status=Volunteer.Status.PAUSED, gender="female", travel_radius_km=5)
        volunteer.training_records.filter(course__code="NALOXONE").delete()
        ExclusionFactory(peer=peer, volunteer=volunteer, reason="Old friends.")

        assert why_not(peer, volunteer) == [
            "Morag is paused, not active.",
            "No Naloxone administration training on record.",
            f"Morag must never be matched with {peer.reference}: Old friends.",
            "East Kilbride is 14 km away; travel radius is 5 km.",
            f"{peer.reference} asked for a male supporter; Morag is female.",
        ]

    def test_suggest_and_why_not_agree_on_who_is_eligible(self):
        peer = PeerFactory(
            area=area("Hamilton"),
            meets_by_phone=False,
            preferred_supporter_gender=Peer.SupporterGender.FEMALE,
        )
        peer.languages.set([language("en"), language("pl")])
        people = []
        for n, place in enumerate(["Hamilton", "Coatbridge", "Motherwell", "Biggar"] * 4):
            volunteer = supporter(
                area=area(place),
                gender="female" if n % 3 else "male",
                travel_radius_km=(5, 10, 20)[n % 3],
                meets_in_person=n % 5 != 0,
                max_active_matches=1 + n % 2,
            )
            volunteer.languages.set([language(("en", "pl", "ur")[n % 3])])
            people.append(volunteer)
        MatchFactory(volunteer=people[2], active=True)
        AbsenceFactory(volunteer=people[4])
        ExclusionFactory(peer=peer, volunteer=people[5])

        eligible = {volunteer for volunteer in people if not why_not(peer, volunteer)}

        assert set(suggested(peer)) == eligible
        assert 0 < len(eligible) < len(people)


class TestSoftScores:
    def test_a_nearer_volunteer_scores_more_for_distance(self):
        peer = PeerFactory(area=area("Coatbridge"))
        here = supporter(area=area("Coatbridge"))
        there = supporter(area=area("Motherwell"), travel_radius_km=20)

        assert suggested(peer) == [here, there]
        assert reason_about(peer, here, "Both") == "Both in Coatbridge (2.0 of 2 points)"
        assert (
            reason_about(peer, there, "Coatbridge") == "Coatbridge is 8 km away (1.4 of 2 points)"
        )

    def test_a_volunteer_met_by_phone_beyond_the_radius_is_told_so(self):
        peer = PeerFactory(area=area("Biggar"))
        volunteer = supporter(area=area("Coatbridge"), travel_radius_km=10)

        assert reason_about(peer, volunteer, "Biggar") == (
            "Biggar is 41 km away, beyond the 10 km travel radius: by phone or video "
            "(0.0 of 2 points)"
        )

    def test_hours_free_at_the_peers_preferred_times_score_for_availability(self):
        peer = PeerFactory()
        PreferredTimeFactory(
            peer=peer, weekday=2, starts_at=datetime.time(18), ends_at=datetime.time(20)
        )
        PreferredTimeFactory(
            peer=peer, weekday=4, starts_at=datetime.time(10), ends_at=datetime.time(12)
        )
        plenty, some, none = supporter(), supporter(), supporter()
        for volunteer, weekday, starts, ends in [
            (plenty, 2, 17, 21),
            (plenty, 4, 9, 11),
            (some, 2, 19, 22),
            (none, 0, 9, 12),
        ]:
            AvailabilityWindowFactory(
                volunteer=volunteer,
                weekday=weekday,
                starts_at=datetime.time(starts),
                ends_at=datetime.time(ends),
            )

        assert suggested(peer) == [plenty, some, none]
        assert reason_about(peer, plenty, "Available") == (
            f"Available 3 hours a week at {peer.reference}'s preferred times (3.0 of 3 points)"
        )
        assert reason_about(peer, some, "Available") == (
            f"Available 1 hour a week at {peer.reference}'s preferred times (1.0 of 3 points)"
        )
        assert reason_about(peer, none, "Not available") == (
            f"Not available at {peer.reference}'s preferred times (0.0 of 3 points)"
        )

    def test_overlap_counts_minutes_exactly(self):
        peer = PeerFactory()
        PreferredTimeFactory(
            peer=peer, weekday=1, starts_at=datetime.time(9, 30), ends_at=datetime.time(11)
        )
        volunteer = supporter()
        AvailabilityWindowFactory(
            volunteer=volunteer,
            weekday=1,
            starts_at=datetime.time(10, 15),
            ends_at=datetime.time(13),
        )

        assert reason_about(peer, volunteer, "Available") == (
            f"Available 45 minutes a week at {peer.reference}'s preferred times (0.8 of 3 points)"
        )

    def test_any_time_suits_a_peer_with_no_preferred_times(self):
        peer, volunteer = PeerFactory(), supporter()

        assert reason_about(peer, volunteer, "Any time") == (
            f"Any time suits {peer.reference}: they have no preferred times (3.0 of 3 points)"
        )

    def test_lived_experience_of_what_the_peer_wants_scores_for_focus(self):
        peer = PeerFactory()
        peer.focuses.set([focus("alcohol"), focus("drugs")])
        both, one, neither = supporter(), supporter(), supporter()
        both.focuses.set([focus("alcohol"), focus("drugs"), focus("family")])
        one.focuses.set([focus("drugs")])
        neither.focuses.set([focus("bereavement")])

        assert suggested(peer) == [both, one, neither]
        assert reason_about(peer, both, "Lived") == (
            "Lived experience of alcohol and drugs (2.0 of 2 points)"
        )
        assert reason_about(peer, one, "Lived") == "Lived experience of drugs (1.0 of 2 points)"
        assert reason_about(peer, neither, "No lived") == (
            "No lived experience of alcohol and drugs (0.0 of 2 points)"
        )

    def test_speaking_more_of_the_peers_languages_scores_for_language(self):
        peer = PeerFactory()
        peer.languages.set([language("en"), language("pl")])
        both, english = supporter(), supporter()
        both.languages.set([language("en"), language("pl")])
        english.languages.set([language("en")])

        assert suggested(peer) == [both, english]
        assert reason_about(peer, both, "Speaks") == (
            f"Speaks English and Polish, as {peer.reference} does (1.0 of 1 point)"
        )
        assert reason_about(peer, english, "Speaks") == (
            f"Speaks English of {peer.reference}'s English and Polish (0.5 of 1 point)"
        )

    def test_the_gender_asked_for_scores_in_full(self):
        peer = PeerFactory(preferred_supporter_gender=Peer.SupporterGender.MALE)
        volunteer = supporter(gender="male")

        assert reason_about(peer, volunteer, "Male") == (
            f"Male, as {peer.reference} asked (1.0 of 1 point)"
        )

    def test_with_no_gender_asked_for_the_peers_own_gender_scores(self):
        peer = PeerFactory(gender="female")
        woman, man = supporter(gender="female"), supporter(gender="male")

        assert suggested(peer) == [woman, man]
        assert reason_about(peer, woman, "Female") == (
            f"Female, like {peer.reference} (1.0 of 1 point)"
        )
        assert reason_about(peer, man, f"{peer.reference} has not asked") == (
            f"{peer.reference} has not asked for a supporter's gender (0.0 of 1 point)"
        )

    def test_a_volunteer_supporting_fewer_people_scores_more_for_load(self):
        peer = PeerFactory()
        free = supporter(max_active_matches=2)
        half = supporter(max_active_matches=2)
        busy = supporter(max_active_matches=3)
        MatchFactory(volunteer=half, active=True)
        MatchFactory(volunteer=busy, active=True)
        MatchFactory(volunteer=busy)

        assert suggested(peer) == [free, half, busy]
        assert reason_about(peer, free, "Supports") == (
            "Supports nobody yet, of up to 2 (1.0 of 1 point)"
        )
        assert reason_about(peer, half, "Supports") == (
            "Supports 1 person of up to 2 (0.5 of 1 point)"
        )
        assert reason_about(peer, busy, "Supports") == (
            "Supports 1 person, 1 more proposed, of up to 3 (0.3 of 1 point)"
        )

    def test_a_past_supporter_scores_for_continuity(self):
        peer = PeerFactory()
        before, stranger = supporter(), supporter()
        MatchFactory(
            peer=peer,
            volunteer=before,
            status=Match.Status.ENDED,
            started_on=datetime.date(2025, 9, 1),
            ended_on=datetime.date(2026, 3, 1),
        )

        assert suggested(peer) == [before, stranger]
        assert reason_about(peer, before, "Supported") == (
            f"Supported {peer.reference} before, until 1 March 2026 (2.0 of 2 points)"
        )
        assert not [r for r in reasons_of(peer, stranger) if r.startswith("Supported")]

    def test_the_score_is_the_sum_of_the_points_in_the_reasons(self):
        peer = PeerFactory(area=area("Airdrie"))
        peer.focuses.set([focus("alcohol"), focus("drugs")])
        volunteer = supporter(area=area("Coatbridge"))
        volunteer.focuses.set([focus("alcohol")])

        [suggestion] = suggest(peer)

        points = [float(r.rsplit("(", 1)[1].split(" of ")[0]) for r in suggestion.reasons]
        assert suggestion.score == pytest.approx(sum(points), abs=0.05)
        assert len(suggestion.reasons) == 6

    def test_a_weight_of_nothing_leaves_its_part_out(self, settings):
        settings.MATCHING_WEIGHTS = {**WEIGHTS, "gender": 0}
        peer = PeerFactory()
        supporter()

        [suggestion] = suggest(peer)

        assert not [r for r in suggestion.reasons if "gender" in r]
        assert suggestion.score == pytest.approx(6.0)


class TestRanking:
    def test_equal_scores_are_ordered_by_volunteer_id(self):
        peer = PeerFactory()
        first, second, third = supporter(), supporter(), supporter()

        ranked = suggest(peer)

        assert [s.volunteer for s in ranked] == [first, second, third]
        assert len({s.score for s in ranked}) == 1

    def test_the_limit_keeps_the_best(self):
        peer = PeerFactory(area=area("Coatbridge"))
        far = [supporter(area=area("Motherwell"), travel_radius_km=20) for _ in range(3)]
        near = [supporter(area=area("Coatbridge")) for _ in range(2)]

        assert [s.volunteer for s in suggest(peer, limit=3)] == [*near, far[0]]

    def test_the_best_scorers_lacking_training_make_way_for_the_next_who_have_it(self, monkeypatch):
        monkeypatch.setattr(engine, "TRAINING_CHECK_MARGIN", 0)
        peer = PeerFactory(area=area("Coatbridge"))
        for _ in range(4):
            lapsed = supporter(area=area("Coatbridge"))
            lapsed.training_records.filter(course__code="ASP").delete()
        trained = supporter(area=area("Motherwell"), travel_radius_km=20)

        assert [s.volunteer for s in suggest(peer, limit=1)] == [trained]

    def test_the_number_of_queries_does_not_grow_with_the_volunteers(self):
        peer = PeerFactory()
        peer.languages.set([language("en"), language("pl")])
        peer.focuses.set([focus("alcohol"), focus("drugs")])
        PreferredTimeFactory(peer=peer)
        before = supporter()
        before.languages.set([language("pl")])
        MatchFactory(
            peer=peer,
            volunteer=before,
            status=Match.Status.ENDED,
            started_on=datetime.date(2025, 9, 1),
            ended_on=datetime.date(2026, 3, 1),
        )

        def add_volunteers(count):
            for n in range(count):
                volunteer = supporter(area=area(("Coatbridge", "Airdrie")[n % 2]))
                volunteer.languages.set([language("en")])
                volunteer.focuses.set([focus(("alcohol", "drugs", "family")[n % 3])])
                AvailabilityWindowFactory(
                    volunteer=volunteer,
                    weekday=2,
                    starts_at=datetime.time(17 + n % 3),
                    ends_at=datetime.time(21),
                )

        def queries():
            with CaptureQueriesContext(connection) as captured:
                found = suggest(peer)
            return len(captured), len(found)

        add_volunteers(4)
        few, found = queries()
        assert found == 5
        add_volunteers(45)
        many, found = queries()
        assert found == 10
        assert few == many


class TestOverlapOnArrays:
    def test_weekly_overlap_matches_a_minute_by_minute_count(self):
        rng = np.random.default_rng(7)

        def windows(owners):
            owner, start, end = [], [], []
            for index in range(owners):
                for day in rng.choice(7, size=2, replace=False):
                    s = int(rng.integers(0, 1400))
                    owner.append(index)
                    start.append(day * 1440 + s)
                    end.append(day * 1440 + s + int(rng.integers(1, 1440 - s)))
            return np.array(owner), np.array(start), np.array(end)

        peer_windows, volunteer_windows = windows(4), windows(6)

        hours = engine.weekly_overlap_hours(peer_windows, volunteer_windows, peers=4, volunteers=6)

        def minutes(arrays, index):
            week = np.zeros(7 * 1440, dtype=bool)
            for owner, start, end in zip(*arrays, strict=True):
                if owner == index:
                    week[start:end] = True
            return week

        expected = [
            [
                (minutes(peer_windows, p) & minutes(volunteer_windows, v)).sum() / 60
                for v in range(6)
            ]
            for p in range(4)
        ]
        assert np.allclose(hours, expected)
