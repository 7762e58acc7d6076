"""Bulk assignment: proposals for the whole waiting list at once, with the best total score.

Every waiting peer without a proposed or active match, and every volunteer who may be
matched on the day with room left (capacity less active and proposed matches), are loaded in
a fixed number of queries. The engine's `pair_rules` and `score_parts` then judge all pairs
at once, as matrices, and an exact solver picks the set of pairs with the highest total score
that fills no volunteer beyond their room: not a greedy loop, which can take one good pair
and so lose two others.

Each volunteer's room is cut into slots, one per extra peer, and each peer may take one slot
or stay unassigned. A volunteer's second slot scores a little less than the first, by what
one more match takes off the load part of their score, so the work is spread as `suggest`
spreads it. Proposals are only proposals: a coordinator approves each one.

The waiting list keeps its order here too (`Peer.objects.waiting_first()`, by total time
waited): among answers with the same best total, those who have waited longest are placed
first, and the proposals are listed in the list's order.

Solving is most of a run's time, and applying a plan loads the records again in its own
transaction, so a coordinator's dry run and then its apply would solve the same problem
twice. Each solution is kept in the cache for a short while, keyed by a fingerprint of
everything the solver is given (every pair's score and eligibility, each volunteer's room
and slot penalty, the waiting list's order, and the peers' and volunteers' ids): applying
reuses it only when what it has just loaded gives exactly the same solver input, so the
solution is the one solving again would give. Anything else (a change to any record the
solve reads, another day, other weights, no cache) means solving again.
"""

import hashlib
import logging
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from scipy.optimize import linear_sum_assignment

from community.errors import StateConflict
from community.models import Focus, Language
from matching import engine
from matching.models import Exclusion, Match
from matching.services import lock_for_proposals
from peers.models import Peer, PreferredTime
from volunteers.models import AvailabilityWindow, Volunteer

logger = logging.getLogger(__name__)

UNASSIGNED = -1
# Long enough to review a dry run; a key names the solver's whole input, so an entry is never
# wrong, only unused once the records change.
SOLUTION_SECONDS = 15 * 60
# Part of every key: a change to what the solver does must not reuse older answers.
SOLUTION_VERSION = 1


@dataclass(frozen=True)
class Proposal:
    peer: Peer
    volunteer: Volunteer
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Timings:
    """Seconds spent loading the data, scoring every pair, solving, and writing proposals."""

    load: float
    score: float
    solve: float
    write: float

    @property
    def total(self):
        return self.load + self.score + self.solve + self.write


@dataclass(frozen=True)
class WaitingListResult:
    proposals: tuple[Proposal, ...]
    waiting: int  # peers waiting without a proposed or active match
    volunteers: int  # volunteers who may be matched and have room
    slots: int  # their room, in peers
    dry_run: bool
    timings: Timings
    matches: tuple[Match, ...] = ()  # the proposed matches made, in the proposals' order
    reused: bool = False  # the solution came from the cache, for exactly the same input

    @property
    def total_score(self):
        return sum(proposal.score for proposal in self.proposals)

    @property
    def plan(self):
        return plan_of(self.proposals)


def plan_of(proposals):
    """A short fingerprint of the pairs a run proposes: the same pairs, the same plan."""
    pairs = sorted((proposal.peer.pk, proposal.volunteer.pk) for proposal in proposals)
    text = ";".join(f"{peer}:{volunteer}" for peer, volunteer in pairs)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# The solver, on arrays ---------------------------------------------------------------------


def solve_assignment(scores, eligible, capacities, *, slot_penalty=None, queue=None):
    """The volunteer (column) each peer (row) gets, or UNASSIGNED, for the highest total.

    The total is the sum of `scores` over the chosen pairs, less `slot_penalty[v] * k` for
    the k-th extra peer (k = 0, 1, ...) of volunteer v. Only `eligible` pairs are chosen, and
    volunteer v takes at most `capacities[v]` peers. Exact, and the same answer for the same
    input: SciPy's `linear_sum_assignment` on the peers by the volunteers' slots.

    Staying unassigned is worth 0, so an assignment of peers to slots that gives ineligible
    pairs (and pairs worth nothing or less) the value 0 is worth just as much as the same
    assignment without them. So the solver may fill every slot it can, and those pairs are
    dropped afterwards.

    `queue` is each peer's place on the waiting list (0 first; by default the rows' order).
    When a peer left unassigned scores exactly what an assigned peer scores with the same
    volunteer, the one earlier in the queue takes the place: the total is the same.
    """
    scores = np.asarray(scores, dtype=np.float64)
    eligible = np.asarray(eligible, dtype=bool)
    peers, volunteers = scores.shape
    capacities = np.clip(np.asarray(capacities, dtype=np.int64), 0, peers)
    penalty = np.zeros(volunteers) if slot_penalty is None else np.asarray(slot_penalty, float)
    assigned = np.full(peers, UNASSIGNED, dtype=np.int64)
    if peers == 0 or capacities.sum() == 0:
        return assigned
    # Slot s belongs to volunteer owner[s] and is their rank[s]-th extra peer.
    owner = np.repeat(np.arange(volunteers), capacities)
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(capacities) - capacities, capacities)
    value = np.repeat(scores, capacities, axis=1)
    value -= rank * penalty[owner]
    value[~np.repeat(eligible, capacities, axis=1)] = 0
    np.maximum(value, 0, out=value)
    # Peers and slots with nothing worth choosing only make the solver's work longer.
    rows = np.flatnonzero(value.any(axis=1))
    cols = np.flatnonzero(value.any(axis=0))
    if not len(rows) or not len(cols):
        return assigned
    if len(rows) < value.shape[0] or len(cols) < value.shape[1]:
        value = value[np.ix_(rows, cols)]
    row_index, col_index = linear_sum_assignment(value, maximize=True)
    chosen = value[row_index, col_index] > 0
    assigned[rows[row_index[chosen]]] = owner[cols[col_index[chosen]]]
    queue = np.arange(peers) if queue is None else np.asarray(queue, dtype=np.int64)
    return _longest_waiting_first(assigned, scores, eligible, queue)


def _longest_waiting_first(assigned, scores, eligible, queue):
    """The same assignment, with each volunteer's places given to the peers earliest in the
    queue among those who score exactly the same with them and are eligible.

    A volunteer keeps as many peers, each scoring as much, so the total does not change. Each
    exchange puts someone earlier in the queue in place of someone later, so the rounds end.
    """
    exchanged = True
    while exchanged:
        exchanged = False
        for volunteer in np.unique(assigned[assigned != UNASSIGNED]):
            theirs = np.flatnonzero(assigned == volunteer)
            free = np.flatnonzero((assigned == UNASSIGNED) & eligible[:, volunteer])
            for score in np.unique(scores[theirs, volunteer]):
                same = theirs[scores[theirs, volunteer] == score]
                rivals = free[scores[free, volunteer] == score]
                if not len(rivals) or queue[rivals].min() > queue[same].max():
                    continue
                pool = np.concatenate([same, rivals])
                first = pool[np.argsort(queue[pool], kind="stable")[: len(same)]]
                assigned[same] = UNASSIGNED
                assigned[first] = volunteer
                free = np.flatnonzero((assigned == UNASSIGNED) & eligible[:, volunteer])
                exchanged = True
    return assigned


# Loading the waiting list and the volunteers with room -------------------------------------


@dataclass
class _WaitingList:
    areas: engine.AreaGrid
    peers: engine.PeerArrays
    volunteers: engine.VolunteerArrays
    pairs: engine.PairArrays
    peer_languages: np.ndarray  # peer by language (language_ids)
    peer_focuses: np.ndarray
    volunteer_languages: np.ndarray
    volunteer_focuses: np.ndarray
    language_ids: list
    focus_ids: list
    language_names: dict  # by id
    focus_names: dict
    last: dict  # (peer id, volunteer id): the day an earlier match between them ended
    queue: np.ndarray  # each peer's place on the waiting list, 0 first


def waiting_peers():
    """The waiting list as bulk assignment sees it: peers waiting for a supporter without a
    proposed or active match (one awaiting approval takes them off it until it is decided)."""
    open_match = Match.objects.open().filter(peer=OuterRef("pk"))
    return Peer.objects.filter(status=Peer.Status.WAITING).exclude(Exists(open_match))


def _load(*, on):
    """Everything bulk assignment needs, in a fixed number of queries."""
    areas = engine.AreaGrid.load()
    languages = dict(Language.objects.order_by("id").values_list("id", "name"))
    focuses = dict(Focus.objects.order_by("id").values_list("id", "name"))
    language_ids, focus_ids = list(languages), list(focuses)
    waiting = waiting_peers()
    # The engine's arrays are in id order; `queue` holds each peer's place on the list.
    queue_ids = np.array(list(waiting.waiting_first().values_list("id", flat=True)), dtype=np.int64)
    peer_rows = list(
        waiting.order_by("id").values_list(
            "id",
            "area_id",
            "gender",
            "preferred_supporter_gender",
            "meets_in_person",
            "meets_by_phone",
            "meets_by_video",
        )
    )
    peer_ids = np.array([row[0] for row in peer_rows], dtype=np.int64)
    queue = np.zeros(len(peer_ids), dtype=np.int64)
    queue[engine.positions(peer_ids, queue_ids)[0]] = np.arange(len(queue_ids))
    waiting_ids = waiting.values("id")
    peer_languages = engine.incidence(
        list(
            Peer.languages.through.objects.filter(peer__in=waiting_ids).values_list(
                "peer_id", "language_id"
            )
        ),
        peer_ids,
        language_ids,
    )
    peer_focuses = engine.incidence(
        list(
            Peer.focuses.through.objects.filter(peer__in=waiting_ids).values_list(
                "peer_id", "focus_id"
            )
        ),
        peer_ids,
        focus_ids,
    )
    peer_windows = engine.window_arrays(
        list(
            PreferredTime.objects.filter(peer__in=waiting_ids).values_list(
                "peer_id", "weekday", "starts_at", "ends_at"
            )
        ),
        peer_ids,
    )
    has_times = np.zeros(len(peer_ids), dtype=bool)
    has_times[peer_windows[0]] = True
    peers = engine.PeerArrays(
        ids=peer_ids,
        area=areas.index([row[1] for row in peer_rows]),
        gender=engine.gender_codes([row[2] for row in peer_rows]),
        wants_gender=np.array(
            [engine.wanted_gender_code(row[3]) for row in peer_rows], dtype=np.int64
        ),
        in_person=np.array([row[4] for row in peer_rows], dtype=bool),
        phone=np.array([row[5] for row in peer_rows], dtype=bool),
        video=np.array([row[6] for row in peer_rows], dtype=bool),
        language_count=peer_languages.sum(axis=1),
        focus_count=peer_focuses.sum(axis=1),
        has_times=has_times,
    )

    volunteers = engine.volunteers_with_room(areas, on=on, proposals_take_room=True)
    ids = volunteers.ids
    active = {"volunteer__status": Volunteer.Status.ACTIVE}
    volunteer_languages = engine.incidence(
        list(
            Volunteer.languages.through.objects.filter(**active).values_list(
                "volunteer_id", "language_id"
            )
        ),
        ids,
        language_ids,
    )
    volunteer_focuses = engine.incidence(
        list(
            Volunteer.focuses.through.objects.filter(**active).values_list(
                "volunteer_id", "focus_id"
            )
        ),
        ids,
        focus_ids,
    )
    volunteer_windows = engine.window_arrays(
        list(
            AvailabilityWindow.objects.filter(**active).values_list(
                "volunteer_id", "weekday", "starts_at", "ends_at"
            )
        ),
        ids,
    )
    excluded = _pair_matrix(
        Exclusion.objects.filter(peer__in=waiting_ids).values_list("peer_id", "volunteer_id"),
        peer_ids,
        ids,
    )
    last = engine.last_supported(waiting_ids)
    pairs = engine.PairArrays(
        distance_km=areas.km[np.ix_(peers.area, volunteers.area)],
        overlap_hours=engine.weekly_overlap_hours(
            peer_windows, volunteer_windows, peers=len(peer_ids), volunteers=len(ids)
        ),
        shared_languages=peer_languages @ volunteer_languages.T,
        shared_focuses=peer_focuses @ volunteer_focuses.T,
        continuity=_pair_matrix(list(last), peer_ids, ids),
        excluded=excluded,
    )
    return _WaitingList(
        areas=areas,
        peers=peers,
        volunteers=volunteers,
        pairs=pairs,
        peer_languages=peer_languages,
        peer_focuses=peer_focuses,
        volunteer_languages=volunteer_languages,
        volunteer_focuses=volunteer_focuses,
        language_ids=language_ids,
        focus_ids=focus_ids,
        language_names=languages,
        focus_names=focuses,
        last=last,
        queue=queue,
    )


def _pair_matrix(rows, peer_ids, volunteer_ids):
    """True where one of the (peer id, volunteer id) `rows` names the pair."""
    rows = list(rows)
    marked = np.zeros((len(peer_ids), len(volunteer_ids)), dtype=bool)
    if rows and len(peer_ids) and len(volunteer_ids):
        peers, volunteers = zip(*rows, strict=True)
        p, p_known = engine.positions(peer_ids, peers)
        v, v_known = engine.positions(volunteer_ids, volunteers)
        known = p_known & v_known
        marked[p[known], v[known]] = True
    return marked


# Scoring, solving and proposing ------------------------------------------------------------


def propose_for_waiting_list(*, dry_run=False, plan=None, by=None, on=None):
    """Propose a volunteer for every waiting peer the solver can place, best total first;
    the proposals are listed in the waiting list's order, the longest waiting first.

    With `dry_run` nothing is written: the result lists what would be proposed, and its
    `plan` fingerprints the pairs. Otherwise, given the `plan` of the dry run a coordinator
    reviewed, the waiting list is loaded again and solved again (or, when the solver's input
    is exactly what an earlier run solved, its kept solution is reused: `reused`) and,
    unless it gives the same pairs, nothing is written and the refusal is a StateConflict
    (`plan_changed`); without a plan, whatever solving gives now is proposed. The proposals
    are written in one transaction, all or none, after
    `matching.services.lock_for_proposals` has locked their peers and checked the records'
    state; the result's `matches` are the matches made.
    """
    if dry_run:
        return _run(dry_run=True, plan=plan, by=by, on=on)
    with transaction.atomic():
        return _run(dry_run=False, plan=plan, by=by, on=on)


def _run(*, dry_run, plan, by, on):
    on = on or timezone.localdate()
    weights = settings.MATCHING_WEIGHTS
    started = time.perf_counter()
    data = _load(on=on)
    loaded = time.perf_counter()

    rules = engine.pair_rules(data.peers, data.volunteers, data.pairs)
    eligible = np.logical_and.reduce(list(rules.values()))
    parts = engine.score_parts(data.peers, data.volunteers, data.pairs)
    scores = np.broadcast_to(
        engine.total_score(parts, weights), (len(data.peers.ids), len(data.volunteers.ids))
    )
    # What one more match takes off a volunteer's score: the drop in their load part.
    open_now = data.volunteers.active + data.volunteers.proposed
    slot_penalty = weights.get("load", 0) * (
        engine.load_part(open_now, data.volunteers.capacity)
        - engine.load_part(open_now + 1, data.volunteers.capacity)
    )
    scored = time.perf_counter()

    room = data.volunteers.capacity - open_now
    key = _solution_key(
        data.peers.ids, data.volunteers.ids, scores, eligible, room, slot_penalty, data.queue
    )
    # A dry run always solves: it is the answer a coordinator reviews, and it keeps its own.
    assigned = None if dry_run else _remembered_solution(key, eligible=eligible, room=room)
    reused = assigned is not None
    if not reused:
        assigned = solve_assignment(
            scores, eligible, room, slot_penalty=slot_penalty, queue=data.queue
        )
        _remember_solution(key, assigned)
    solved = time.perf_counter()

    proposals = _proposals(data, parts, scores, assigned, weights)
    described = time.perf_counter()
    if plan is not None and plan != plan_of(proposals):
        raise StateConflict(
            "The waiting list or the volunteers changed since that dry run: solving again "
            f"gives other pairs ({len(proposals)} proposals), so nothing was proposed. Run "
            "the dry run again and review it.",
            code="plan_changed",
        )
    matches = () if dry_run else _write(proposals, by=by)
    written = time.perf_counter()
    return WaitingListResult(
        proposals=tuple(proposals),
        waiting=len(data.peers.ids),
        volunteers=len(data.volunteers.ids),
        slots=int(room.sum()),
        dry_run=dry_run,
        timings=Timings(
            # Reading the chosen peers and volunteers, and their words, count as loading.
            load=(loaded - started) + (described - solved),
            score=scored - loaded,
            solve=solved - scored,
            write=written - described,
        ),
        matches=matches,
        reused=reused,
    )


def _solution_key(*arrays):
    """The cache key of a solution: a digest of the solver's input arrays, their types and
    shapes included, so the same key means the same problem."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(array.view(np.uint8).reshape(-1).data)
    return f"matching:assignment:{SOLUTION_VERSION}:{digest.hexdigest()}"


def _remember_solution(key, assigned):
    try:
        cache.set(key, assigned.astype(np.int32).tobytes(), SOLUTION_SECONDS)
    except Exception:
        # The cache only saves time: without it, applying solves again.
        logger.warning("Could not keep the bulk assignment's solution in the cache.", exc_info=True)


def _remembered_solution(key, *, eligible, room):
    """The solution kept under `key`, or None. It is used only if it fits the input just
    loaded: one volunteer or none for every peer, only eligible pairs, nobody beyond their
    room (so even a damaged entry can never propose an ineligible pair)."""
    try:
        kept = cache.get(key)
    except Exception:
        logger.warning(
            "Could not read the bulk assignment's solution from the cache.", exc_info=True
        )
        return None
    peers, volunteers = eligible.shape
    if not isinstance(kept, bytes) or len(kept) != peers * 4:
        return None
    assigned = np.frombuffer(kept, dtype=np.int32).astype(np.int64)
    chosen = np.flatnonzero(assigned != UNASSIGNED)
    if ((assigned < UNASSIGNED) | (assigned >= volunteers)).any():
        return None
    if not eligible[chosen, assigned[chosen]].all():
        return None
    if (np.bincount(assigned[chosen], minlength=volunteers) > room).any():
        return None
    return assigned


def _proposals(data, parts, scores, assigned, weights):
    """The chosen pairs with their scores and reasons, each volunteer's best pair first.

    A volunteer's k-th proposal of this run is scored and described with the k proposals
    before it counted in their load, as `suggest` would see it once those are made.
    """
    chosen_peers = np.nonzero(assigned != UNASSIGNED)[0]
    chosen_volunteers = assigned[chosen_peers]
    if not len(chosen_peers):
        return []
    pair_scores = scores[chosen_peers, chosen_volunteers]
    order = np.lexsort((data.peers.ids[chosen_peers], -pair_scores, chosen_volunteers))
    chosen_peers, chosen_volunteers = chosen_peers[order], chosen_volunteers[order]
    starts = np.r_[True, chosen_volunteers[1:] != chosen_volunteers[:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    earlier = np.arange(len(order)) - group_start

    volunteers = data.volunteers
    open_now = volunteers.active[chosen_volunteers] + volunteers.proposed[chosen_volunteers]
    capacity = volunteers.capacity[chosen_volunteers]
    load_then = engine.load_part(open_now + earlier, capacity)
    full_parts = {
        name: np.broadcast_to(part, scores.shape)[chosen_peers, chosen_volunteers]
        for name, part in parts.items()
    }
    final_scores = scores[chosen_peers, chosen_volunteers] + weights.get("load", 0) * (
        load_then - full_parts["load"]
    )
    full_parts["load"] = load_then

    peer_objects = Peer.objects.in_bulk(data.peers.ids[chosen_peers].tolist())
    volunteer_objects = Volunteer.objects.in_bulk(volunteers.ids[chosen_volunteers].tolist())
    language_names, focus_names = data.language_names, data.focus_names
    proposals = []
    for n, (p, v) in enumerate(zip(chosen_peers, chosen_volunteers, strict=True)):
        peer = peer_objects[int(data.peers.ids[p])]
        volunteer = volunteer_objects[int(volunteers.ids[v])]
        peer_language_ids = [
            pk for pk, flag in zip(data.language_ids, data.peer_languages[p], strict=True) if flag
        ]
        peer_focus_ids = [
            pk for pk, flag in zip(data.focus_ids, data.peer_focuses[p], strict=True) if flag
        ]
        story = engine.PairStory.between(
            peer,
            volunteer,
            areas=data.areas,
            distance_km=float(data.pairs.distance_km[p, v]),
            overlap_hours=float(data.pairs.overlap_hours[p, v]),
            peer_has_times=bool(data.peers.has_times[p]),
            shared_focuses=[
                focus_names[pk]
                for pk in peer_focus_ids
                if data.volunteer_focuses[v, data.focus_ids.index(pk)]
            ],
            peer_focuses=[focus_names[pk] for pk in peer_focus_ids],
            shared_languages=[
                language_names[pk]
                for pk in peer_language_ids
                if data.volunteer_languages[v, data.language_ids.index(pk)]
            ],
            peer_languages=[language_names[pk] for pk in peer_language_ids],
            active=int(volunteers.active[v]),
            proposed=int(volunteers.proposed[v] + earlier[n]),
            supported_until=data.last.get((peer.pk, volunteer.pk)),
        )
        proposals.append(
            Proposal(
                peer=peer,
                volunteer=volunteer,
                score=round(float(final_scores[n]), 3),
                reasons=engine.reasons_for(
                    story, {name: part[n] for name, part in full_parts.items()}, weights
                ),
            )
        )
    place = dict(zip(data.peers.ids.tolist(), data.queue.tolist(), strict=True))
    proposals.sort(key=lambda proposal: place[proposal.peer.pk])
    return proposals


def _write(proposals, *, by):
    """Every proposal as a proposed match, in one INSERT (or a few, for SQLite's limits)."""
    if not proposals:
        return ()
    lock_for_proposals([(proposal.peer, proposal.volunteer) for proposal in proposals])
    now = timezone.now()
    matches = [
        Match(
            peer=proposal.peer,
            volunteer=proposal.volunteer,
            status=Match.Status.PROPOSED,
            proposed_by=by,
            proposed_at=now,
            score=proposal.score,
            reasons=list(proposal.reasons),
        )
        for proposal in proposals
    ]
    for match in matches:
        # The fields' own rules, without a query per match: the peers and volunteers were
        # just read, and the database holds the constraints.
        match.clean_fields(exclude={"peer", "volunteer", "proposed_by"})
    try:
        with transaction.atomic():
            Match.objects.bulk_create(matches)
    except IntegrityError as error:
        raise ValidationError(
            f"Not saved: it conflicts with a record saved at the same moment ({error})."
        ) from error
    return tuple(matches)
