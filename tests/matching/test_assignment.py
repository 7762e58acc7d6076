"""Bulk assignment: the best total score for the whole waiting list, exactly, and only proposed."""

import datetime
import itertools

import numpy as np
import pytest
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from community.errors import StateConflict
from matching import assignment
from matching.assignment import (
    UNASSIGNED,
    propose_for_waiting_list,
    solve_assignment,
)
from matching.engine import suggest
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
    back_after_a_match,
    focus,
    fully_trained,
    waiting_for,
)
from volunteers.models import Volunteer

NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)


def total(scores, assigned, slot_penalty=None):
    """What the solver maximises, counted here by hand: the scores of the chosen pairs, less
    the penalty of every volunteer's second, third, ... peer."""
    value = 0.0
    taken = {}
    for peer, volunteer in enumerate(assigned):
        if volunteer == UNASSIGNED:
            continue
        rank = taken.get(volunteer, 0)
        taken[volunteer] = rank + 1
        value += scores[peer][volunteer]
        if slot_penalty is not None:
            value -= rank * slot_penalty[volunteer]
    return value


def brute_force(scores, eligible, capacities, slot_penalty=None):
    """The best total over every possible assignment."""
    peers, volunteers = np.shape(scores)
    best = 0.0
    for choice in itertools.product([UNASSIGNED, *range(volunteers)], repeat=peers):
        if any(v != UNASSIGNED and not eligible[p][v] for p, v in enumerate(choice)):
            continue
        if any(choice.count(v) > capacities[v] for v in range(volunteers)):
            continue
        best = max(best, total(scores, choice, slot_penalty))
    return best


def is_valid(assigned, eligible, capacities):
    counts = np.bincount(assigned[assigned != UNASSIGNED], minlength=len(capacities))
    chosen = [(p, v) for p, v in enumerate(assigned) if v != UNASSIGNED]
    return all(eligible[p][v] for p, v in chosen) and all(counts <= capacities)


@st.composite
def instances(draw, *, penalties=False):
    peers = draw(st.integers(0, 5))
    volunteers = draw(st.integers(0, 3))
    score = st.floats(-2, 10, allow_nan=False, allow_infinity=False)
    scores = np.array(
        draw(st.lists(st.lists(score, min_size=volunteers, max_size=volunteers),
                      min_size=peers, max_size=peers)),
        dtype=float,
    ).reshape(peers, volunteers)  # fmt: skip
    eligible = np.array(
        draw(st.lists(st.booleans(), min_size=peers * volunteers, max_size=peers * volunteers)),
        dtype=bool,
    ).reshape(peers, volunteers)
    capacities = np.array(draw(st.lists(st.integers(0, 3), min_size=volunteers,
                                        max_size=volunteers)), dtype=int)  # fmt: skip
    slot_penalty = None
    if penalties:
        slot_penalty = np.array(
            draw(st.lists(st.floats(0, 3), min_size=volunteers, max_size=volunteers)), dtype=float
        )
    return scores, eligible, capacities, slot_penalty


class TestSolver:
    @settings(max_examples=300, deadline=None)
    @given(instances())
    def test_it_finds_the_best_total_that_brute_force_finds(self, instance):
        scores, eligible, capacities, _ = instance

        assigned = solve_assignment(scores, eligible, capacities)

        assert is_valid(assigned, eligible, capacities)
        assert total(scores, assigned) == pytest.approx(
            brute_force(scores, eligible, capacities), abs=1e-9
        )

    @settings(max_examples=300, deadline=None)
    @given(instances(penalties=True))
    def test_it_counts_each_volunteers_later_slots_as_worth_less(self, instance):
        scores, eligible, capacities, slot_penalty = instance

        assigned = solve_assignment(scores, eligible, capacities, slot_penalty=slot_penalty)

        assert is_valid(assigned, eligible, capacities)
        assert total(scores, assigned, slot_penalty) == pytest.approx(
            brute_force(scores, eligible, capacities, slot_penalty), abs=1e-9
        )

    @settings(max_examples=50, deadline=None)
    @given(instances(penalties=True))
    def test_the_same_input_gives_the_same_answer(self, instance):
        scores, eligible, capacities, slot_penalty = instance

        first = solve_assignment(scores, eligible, capacities, slot_penalty=slot_penalty)
        again = solve_assignment(scores, eligible, capacities, slot_penalty=slot_penalty)

        assert first.tolist() == again.tolist()

    @settings(max_examples=300, deadline=None)
    @given(instances(penalties=True), st.randoms(use_true_random=False))
    def test_among_equal_scores_the_earlier_in_the_queue_is_placed(self, instance, random):
        scores, eligible, capacities, slot_penalty = instance
        queue = list(range(len(scores)))
        random.shuffle(queue)
        queue = np.array(queue, dtype=int)

        assigned = solve_assignment(
            scores, eligible, capacities, slot_penalty=slot_penalty, queue=queue
        )

        assert total(scores, assigned, slot_penalty) == pytest.approx(
            brute_force(scores, eligible, capacities, slot_penalty), abs=1e-9
        )
        for left, v in itertools.product(np.flatnonzero(assigned == UNASSIGNED), assigned):
            if v == UNASSIGNED or not eligible[left][v]:
                continue
            placed = np.flatnonzero((assigned == v) & (scores[:, v] == scores[left][v]))
            assert all(queue[left] > queue[p] for p in placed)

    def test_when_two_fit_equally_and_there_is_one_place_the_first_in_the_queue_has_it(self):
        scores = np.array([[4.0], [4.0], [4.0]])
        eligible = np.ones((3, 1), dtype=bool)

        assigned = solve_assignment(scores, eligible, np.array([2]), queue=np.array([2, 0, 1]))

        assert assigned.tolist() == [UNASSIGNED, 0, 0]

    def test_a_large_instance_comes_out_the_same_every_time(self):
        rng = np.random.default_rng(2026)
        scores = rng.integers(0, 5, size=(300, 120)).astype(float)  # many ties
        eligible = rng.random((300, 120)) < 0.3
        capacities = rng.integers(1, 4, size=120)

        answers = {tuple(solve_assignment(scores, eligible, capacities)) for _ in range(3)}

        assert len(answers) == 1

    def test_it_beats_taking_the_best_pair_first(self):
        # Greedy gives Ailsa the best pair (Euan, 10) and leaves Bill nobody he may meet;
        # the solver gives Ailsa her second best so that Bill is supported too.
        scores = np.array([[10.0, 9.0], [8.0, 0.0]])
        eligible = np.array([[True, True], [True, False]])
        capacities = np.array([1, 1])

        assigned = solve_assignment(scores, eligible, capacities)

        assert assigned.tolist() == [1, 0]
        assert total(scores, assigned) == 17
        assert total(scores, greedy(scores, eligible, capacities)) == 10

    def test_a_peer_nobody_may_support_stays_unassigned(self):
        assigned = solve_assignment(
            np.array([[5.0], [7.0]]), np.array([[True], [False]]), np.array([3])
        )

        assert assigned.tolist() == [0, UNASSIGNED]

    def test_a_pair_worth_less_than_nothing_is_not_chosen(self):
        assigned = solve_assignment(np.array([[-1.0]]), np.array([[True]]), np.array([1]))

        assert assigned.tolist() == [UNASSIGNED]


def greedy(scores, eligible, capacities):
    """Best pair first, then the best of what is left: what the solver must beat."""
    assigned = np.full(len(scores), UNASSIGNED)
    room = list(capacities)
    pairs = sorted(
        ((scores[p][v], p, v) for p, v in zip(*np.nonzero(eligible), strict=True)), reverse=True
    )
    for _, p, v in pairs:
        if assigned[p] == UNASSIGNED and room[v] > 0:
            assigned[p], room[v] = v, room[v] - 1
    return assigned


@pytest.mark.django_db
class TestProposeForWaitingList:
    @pytest.fixture(autouse=True)
    def _now(self, time_machine, settings):
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

    def volunteer(self, **fields):
        return fully_trained(VolunteerFactory(**fields))

    def test_a_dry_run_proposes_nothing_and_says_what_it_would(self):
        peer, volunteer = PeerFactory(), self.volunteer()

        result = propose_for_waiting_list(dry_run=True)

        assert [(p.peer, p.volunteer) for p in result.proposals] == [(peer, volunteer)]
        assert result.dry_run
        assert not Match.objects.exists()

    def test_proposals_are_made_as_proposals_for_a_coordinator_to_approve(self, coordinator):
        peer, volunteer = PeerFactory(), self.volunteer()

        result = propose_for_waiting_list(by=coordinator)

        [proposal] = result.proposals
        match = Match.objects.get()
        assert (match.peer, match.volunteer, match.status) == (
            peer,
            volunteer,
            Match.Status.PROPOSED,
        )
        assert match.proposed_by == coordinator
        assert match.score == proposal.score
        assert match.reasons == list(proposal.reasons)
        peer.refresh_from_db()
        assert peer.status == Peer.Status.WAITING

    def test_a_proposal_has_the_score_and_reasons_that_suggest_gives(self):
        peer = PeerFactory(area=area("Airdrie"))
        peer.focuses.set([focus("alcohol")])
        volunteer = self.volunteer(area=area("Coatbridge"))
        volunteer.focuses.set([focus("alcohol")])
        [suggestion] = suggest(peer)

        [proposal] = propose_for_waiting_list(dry_run=True).proposals

        assert (proposal.score, proposal.reasons) == (suggestion.score, suggestion.reasons)

    def test_the_total_is_best_under_every_capacity(self):
        # Ailsa suits both volunteers, Bill only Euan: Euan goes to Bill.
        ailsa = PeerFactory(area=area("Coatbridge"), meets_by_phone=False)
        bill = PeerFactory(area=area("Lanark"), meets_by_phone=False)
        euan = self.volunteer(area=area("Carluke"), travel_radius_km=30, max_active_matches=1)
        morag = self.volunteer(area=area("Coatbridge"), travel_radius_km=5, max_active_matches=1)

        result = propose_for_waiting_list(dry_run=True)

        assert {(p.peer, p.volunteer) for p in result.proposals} == {(ailsa, morag), (bill, euan)}

    def test_room_counts_proposed_matches_and_peers_with_one_are_left_alone(self):
        volunteer = self.volunteer(max_active_matches=2)
        MatchFactory(volunteer=volunteer)  # a waiting peer with a proposal already
        first, second = PeerFactory(), PeerFactory()

        result = propose_for_waiting_list(dry_run=True)

        assert (result.waiting, result.volunteers, result.slots) == (2, 1, 1)
        [proposal] = result.proposals
        assert proposal.peer in (first, second)

    def test_work_is_spread_between_volunteers_who_fit_equally(self):
        first, second = self.volunteer(max_active_matches=2), self.volunteer(max_active_matches=2)
        PeerFactory(), PeerFactory()

        result = propose_for_waiting_list(dry_run=True)

        assert sorted(p.volunteer.pk for p in result.proposals) == [first.pk, second.pk]

    def test_a_volunteers_second_proposal_counts_the_first_in_their_load(self):
        volunteer = self.volunteer(max_active_matches=2)
        PeerFactory(), PeerFactory()

        first, second = propose_for_waiting_list(dry_run=True).proposals

        assert "Supports nobody yet, of up to 2 (1.0 of 1 point)" in first.reasons
        assert "Supports nobody yet, 1 proposed, of up to 2 (0.5 of 1 point)" in second.reasons
        assert first.score - second.score == pytest.approx(0.5)
        assert {first.volunteer, second.volunteer} == {volunteer}

    def test_someone_back_from_a_match_is_placed_by_the_total_time_they_have_waited(
        self, time_machine
    ):
        # Their records were made in the opposite order to their places on the list.
        recent = waiting_for(days=20)
        back = back_after_a_match(time_machine, waited_days=30, matched_days=60)
        longest = waiting_for(days=40)
        # Room for two of the three, who all fit this volunteer equally well.
        volunteer = self.volunteer(max_active_matches=2)

        result = propose_for_waiting_list(dry_run=True)

        assert [(p.peer, p.volunteer) for p in result.proposals] == [
            (longest, volunteer),
            (back, volunteer),
        ]
        assert recent not in [p.peer for p in result.proposals]

    def test_hard_rules_hold_in_bulk_too(self):
        peer = PeerFactory()
        excluded = self.volunteer()
        ExclusionFactory(peer=peer, volunteer=excluded)
        self.volunteer(status=Volunteer.Status.PAUSED)
        lapsed = self.volunteer()
        lapsed.training_records.filter(course__code="PVG").delete()

        assert propose_for_waiting_list(dry_run=True).proposals == ()

    def test_the_same_data_gives_the_same_proposals(self):
        for n in range(6):
            self.volunteer(area=area(("Coatbridge", "Airdrie", "Hamilton")[n % 3]))
        for _ in range(9):
            PeerFactory()

        runs = [
            [(p.peer.pk, p.volunteer.pk, p.score) for p in result.proposals]
            for result in (propose_for_waiting_list(dry_run=True) for _ in range(2))
        ]

        assert runs[0] == runs[1]
        assert len(runs[0]) == 9

    def test_loading_takes_the_same_number_of_queries_however_many_there_are(self):
        def queries():
            with CaptureQueriesContext(connection) as captured:
                result = propose_for_waiting_list(dry_run=True)
            return len(captured), len(result.proposals)

        self.volunteer()
        PeerFactory()
        few, made = queries()
        assert made == 1
        for _ in range(8):
            self.volunteer()
            PeerFactory()
        many, made = queries()
        assert made == 9
        assert few == many

    def test_the_timings_are_split_into_loading_scoring_solving_and_writing(self):
        PeerFactory(), self.volunteer()

        timings = propose_for_waiting_list(dry_run=True).timings

        assert min(timings.load, timings.score, timings.solve, timings.write) >= 0
        assert timings.total == pytest.approx(
            timings.load + timings.score + timings.solve + timings.write
        )

    def test_applying_returns_the_matches_it_made_in_the_proposals_order(self, coordinator):
        for n in range(3):
            self.volunteer(area=area(("Coatbridge", "Airdrie", "Hamilton")[n]))
        for days in (3, 30, 10):
            waiting_for(days)

        result = propose_for_waiting_list(by=coordinator)

        assert len(result.matches) == 3
        assert [(m.peer, m.volunteer) for m in result.matches] == [
            (p.peer, p.volunteer) for p in result.proposals
        ]
        assert list(Match.objects.order_by("pk")) == sorted(result.matches, key=lambda m: m.pk)
        for match, proposal in zip(result.matches, result.proposals, strict=True):
            match.refresh_from_db()
            assert (match.status, match.proposed_by, match.proposed_at) == (
                Match.Status.PROPOSED,
                coordinator,
                NOW,
            )
            assert (match.score, match.reasons) == (proposal.score, list(proposal.reasons))

    def test_the_plan_of_the_dry_run_is_applied_when_nothing_changed(self, coordinator):
        self.volunteer(), PeerFactory(), PeerFactory()
        dry = propose_for_waiting_list(dry_run=True)

        result = propose_for_waiting_list(plan=dry.plan, by=coordinator)

        assert result.plan == dry.plan
        assert [(m.peer, m.volunteer) for m in result.matches] == [
            (p.peer, p.volunteer) for p in dry.proposals
        ]
        assert Match.objects.count() == 2

    def test_a_stale_plan_is_refused_and_nothing_is_written(self, coordinator):
        volunteer = self.volunteer()
        peer, other = PeerFactory(), PeerFactory()
        dry = propose_for_waiting_list(dry_run=True)
        assert len(dry.proposals) == 2
        ExclusionFactory(peer=peer, volunteer=volunteer)

        with pytest.raises(StateConflict) as refusal:
            propose_for_waiting_list(plan=dry.plan, by=coordinator)

        assert refusal.value.code == "plan_changed"
        assert "nothing was proposed" in refusal.value.message
        assert not Match.objects.exists()
        # Without a plan, what solving gives now is proposed.
        [made] = propose_for_waiting_list(by=coordinator).matches
        assert (made.peer, made.volunteer) == (other, volunteer)

    def test_a_peer_proposed_meanwhile_stops_the_whole_run(self, coordinator, monkeypatch):
        """Between choosing the pairs and writing them, someone proposes one of the peers
        elsewhere: the run refuses as propose_match would, and writes nothing of its own."""
        volunteer = self.volunteer()
        peer, _ = PeerFactory(), PeerFactory()
        real_lock = assignment.lock_for_proposals

        def proposed_meanwhile(pairs):
            MatchFactory(peer=peer, volunteer=fully_trained(VolunteerFactory()))
            return real_lock(pairs)

        monkeypatch.setattr(assignment, "lock_for_proposals", proposed_meanwhile)

        with pytest.raises(StateConflict) as refusal:
            propose_for_waiting_list(by=coordinator)

        assert refusal.value.code == "peer_has_match"
        assert not Match.objects.filter(volunteer=volunteer).exists()


class UnreachableCache(BaseCache):
    """A cache whose server does not answer."""

    def __init__(self, location, params):
        super().__init__(params)

    def get(self, key, default=None, version=None):
        raise ConnectionError("the cache does not answer")

    def set(self, key, value, timeout=None, version=None):
        raise ConnectionError("the cache does not answer")


WEIGHTS = {
    "distance": 2.0,
    "availability": 3.0,
    "focus": 2.0,
    "language": 1.0,
    "gender": 1.0,
    "load": 1.0,
    "continuity": 2.0,
}


def _a_peers_preferred_time(peer, volunteer, settings):
    PreferredTimeFactory(peer=peer, weekday=0, starts_at=datetime.time(10, 0))


def _a_volunteers_window(peer, volunteer, settings):
    AvailabilityWindowFactory(
        volunteer=volunteer, weekday=2, starts_at=datetime.time(18, 0), ends_at=datetime.time(20, 0)
    )


def _a_shared_focus(peer, volunteer, settings):
    peer.focuses.set([focus("alcohol")])
    volunteer.focuses.set([focus("alcohol")])


def _the_volunteers_area(peer, volunteer, settings):
    Volunteer.objects.filter(pk=volunteer.pk).update(area=area("Airdrie"))


def _the_volunteers_capacity(peer, volunteer, settings):
    Volunteer.objects.filter(pk=volunteer.pk).update(max_active_matches=5)


def _the_weights(peer, volunteer, settings):
    settings.MATCHING_WEIGHTS = {**WEIGHTS, "distance": 5.0}


def _another_peer_waiting(peer, volunteer, settings):
    """Later on the list, and scoring the same: the volunteer's one place stays the first's."""
    PreferredTimeFactory(weekday=2)


def _another_volunteer(peer, volunteer, settings):
    fully_trained(VolunteerFactory())


def _the_volunteer_away(peer, volunteer, settings):
    AbsenceFactory(volunteer=volunteer)


def _an_exclusion(peer, volunteer, settings):
    ExclusionFactory(peer=peer, volunteer=volunteer)


def _the_peer_paused(peer, volunteer, settings):
    Peer.objects.filter(pk=peer.pk).update(status=Peer.Status.PAUSED)


@pytest.mark.django_db
class TestApplyingReusesTheDryRunsSolution:
    """Applying a plan solves again only when something the solver reads has changed."""

    @pytest.fixture(autouse=True)
    def _now(self, time_machine, settings):
        time_machine.move_to(NOW, tick=False)
        settings.MATCHING_WEIGHTS = dict(WEIGHTS)

    @pytest.fixture
    def solves(self, monkeypatch):
        """The solver's calls, counted."""
        calls = []
        real = assignment.solve_assignment

        def counted(*arguments, **keywords):
            calls.append(arguments)
            return real(*arguments, **keywords)

        monkeypatch.setattr(assignment, "solve_assignment", counted)
        return calls

    def pair(self):
        """A peer and a volunteer of capacity 1 whose times do not overlap."""
        peer = PreferredTimeFactory(weekday=2).peer
        volunteer = fully_trained(VolunteerFactory(max_active_matches=1))
        AvailabilityWindowFactory(volunteer=volunteer, weekday=0)
        return peer, volunteer

    def test_applying_an_unchanged_plan_does_not_solve_again(self, solves, coordinator):
        for _ in range(3):
            self.pair()
        dry = propose_for_waiting_list(dry_run=True)

        result = propose_for_waiting_list(plan=dry.plan, by=coordinator)

        assert len(solves) == 1
        assert result.reused and not dry.reused
        assert [(m.peer, m.volunteer) for m in result.matches] == [
            (p.peer, p.volunteer) for p in dry.proposals
        ]
        assert [(p.score, p.reasons) for p in result.proposals] == [
            (p.score, p.reasons) for p in dry.proposals
        ]
        assert Match.objects.filter(status=Match.Status.PROPOSED).count() == 3

    def test_a_dry_run_always_solves(self, solves):
        self.pair()

        propose_for_waiting_list(dry_run=True)
        propose_for_waiting_list(dry_run=True)

        assert len(solves) == 2

    @pytest.mark.parametrize(
        "change",
        [
            _a_peers_preferred_time,
            _a_volunteers_window,
            _a_shared_focus,
            _the_volunteers_area,
            _the_volunteers_capacity,
            _the_weights,
            _another_peer_waiting,
            _another_volunteer,
        ],
    )
    def test_a_change_to_what_the_solver_reads_is_solved_again(
        self, change, solves, coordinator, settings
    ):
        peer, volunteer = self.pair()
        dry = propose_for_waiting_list(dry_run=True)

        change(peer, volunteer, settings)
        peer.refresh_from_db()
        volunteer.refresh_from_db()
        expected = assignment.engine.suggestion_for(peer, volunteer)
        result = propose_for_waiting_list(plan=dry.plan, by=coordinator)

        assert len(solves) == 2
        assert not result.reused
        [made] = result.matches
        assert (made.peer, made.volunteer) == (peer, volunteer)
        assert (made.score, made.reasons) == (round(expected.score, 3), list(expected.reasons))

    @pytest.mark.parametrize("change", [_the_volunteer_away, _an_exclusion, _the_peer_paused])
    def test_a_change_that_takes_the_pair_away_is_refused(
        self, change, solves, coordinator, settings
    ):
        peer, volunteer = self.pair()
        dry = propose_for_waiting_list(dry_run=True)

        change(peer, volunteer, settings)
        with pytest.raises(StateConflict) as refusal:
            propose_for_waiting_list(plan=dry.plan, by=coordinator)

        assert refusal.value.code == "plan_changed"
        assert len(solves) == 2
        assert not Match.objects.exists()

    def test_without_a_cache_applying_solves_again(self, solves, coordinator, settings, caplog):
        settings.CACHES = {"default": {"BACKEND": f"{__name__}.UnreachableCache"}}
        peer, volunteer = self.pair()
        dry = propose_for_waiting_list(dry_run=True)

        result = propose_for_waiting_list(plan=dry.plan, by=coordinator)

        assert len(solves) == 2
        assert not result.reused
        assert [(m.peer, m.volunteer) for m in result.matches] == [(peer, volunteer)]
        assert "Could not read the bulk assignment's solution" in caplog.text

    def test_a_kept_solution_that_does_not_fit_the_records_is_not_used(
        self, solves, coordinator, monkeypatch
    ):
        """Whatever the cache holds under the key, applying never proposes a pair the records
        just loaded make ineligible, nor fills a volunteer beyond their room."""
        keys = []
        remember = assignment._remember_solution
        monkeypatch.setattr(
            assignment,
            "_remember_solution",
            lambda key, assigned: (keys.append(key), remember(key, assigned)),
        )
        first, volunteer = self.pair()
        second = PeerFactory()
        ExclusionFactory(peer=second, volunteer=volunteer)
        dry = propose_for_waiting_list(dry_run=True)
        assert [(p.peer, p.volunteer) for p in dry.proposals] == [(first, volunteer)]
        # In id order: the excluded peer given the volunteer as well.
        cache.set(keys[0], np.array([0, 0], dtype=np.int32).tobytes())

        result = propose_for_waiting_list(plan=dry.plan, by=coordinator)

        assert len(solves) == 2
        assert not result.reused
        assert [(m.peer, m.volunteer) for m in result.matches] == [(first, volunteer)]

    def test_the_key_names_every_value_of_the_solvers_input(self):
        scores = np.arange(6, dtype=np.float64).reshape(2, 3)
        key = assignment._solution_key(scores, np.ones(3, dtype=bool))

        assert assignment._solution_key(scores.copy(), np.ones(3, dtype=bool)) == key
        changed = scores.copy()
        changed[1, 2] += 1e-9
        assert assignment._solution_key(changed, np.ones(3, dtype=bool)) != key
        assert assignment._solution_key(scores.reshape(3, 2), np.ones(3, dtype=bool)) != key
        assert assignment._solution_key(scores, np.ones(3, dtype=np.int8)) != key
        assert assignment._solution_key(scores.T, np.ones(3, dtype=bool)) != key
