"""The matching engine: which volunteers may support a peer, how well each fits, and why.

Hard rules decide who may be suggested at all (DESIGN.md, "Matching"); `why_not` names every
rule a volunteer fails, in words. Soft scores rank the rest: each part scores from 0 to 1 and
counts with its weight from `settings.MATCHING_WEIGHTS`, and each comes with a reason.

One peer (`suggest`) and the whole waiting list (`matching.assignment`) are scored by the same
functions on arrays, `pair_rules` and `score_parts`: one row per peer, one column per
volunteer. `suggest` pushes the hard rules into SQL, fetches a few columns of the volunteers
who pass, scores them all at once with NumPy, and loads whole volunteers only for the best.

Decisions the design leaves open, made here:

- PVG is a course of kind "check" (code PVG). It must be current even if a coordinator
  unticks "required for matching" on it: the design names it as a rule of its own.
- The peer's supporter gender (`preferred_supporter_gender`) is required when it is female or
  male. The soft gender part then gives full marks (the request is met); for a peer with no
  request it gives full marks to a volunteer of the peer's own recorded gender.
- A peer's languages say what they can talk in, so a volunteer must speak at least one of
  them (a peer with no languages recorded can be supported by anyone). The soft language part
  is the share of the peer's languages the volunteer speaks.
- Meeting: in person needs both to meet in person and the peer's area within the volunteer's
  travel radius; otherwise both must meet by phone, or both by video.
- A peer with no preferred times is taken to suit any time: the availability part is then in
  full for every volunteer.
- Load counts proposed matches as well as active ones: both take a volunteer's time. The hard
  rule on capacity counts active matches only, as approving does.
"""

import datetime
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from django.conf import settings
from django.db.models import Case, Count, Exists, F, FloatField, OuterRef, Q, Value, When
from django.utils import timezone

from community.geography import distance_km
from community.models import Area, Gender
from matching.models import Exclusion, Match
from peers.models import Peer
from volunteers.models import (
    Absence,
    AvailabilityWindow,
    Course,
    RequiredRecord,
    TrainingRecord,
    Volunteer,
    training_gaps,
)

PVG_COURSE_CODE = "PVG"
SCORE_PARTS = ("distance", "availability", "focus", "language", "gender", "load", "continuity")

# Genders as small integers, so NumPy compares whole rows at once. ANY: no supporter gender
# asked for; UNKNOWN: a person who prefers not to say is never "the same gender" as anyone.
GENDER_CODES = {gender: code for code, gender in enumerate(Gender.values)}
ANY = -1
UNKNOWN = -2

# suggest() scores every volunteer who passes the cheap rules, then checks training (the
# costly rule) for the best ones only: this many beyond `limit`, or twice `limit` if more.
# When too few of them pass, it checks all the rest in one more query.
TRAINING_CHECK_MARGIN = 40


@dataclass(frozen=True)
class Suggestion:
    volunteer: Volunteer
    score: float
    reasons: tuple[str, ...]


# Words -------------------------------------------------------------------------------------


def long_date(day):
    """1 October 2026."""
    return f"{day.day} {day:%B %Y}"


def _km(value, *, radius=None):
    """Whole kilometres, or one decimal where whole ones would hide the radius being passed."""
    whole = round(value)
    if radius is not None and whole == radius and value != radius:
        return f"{value:.1f} km"
    return f"{whole} km"


def _hours(value):
    if value < 1:
        return f"{round(value * 60)} minutes"
    if abs(value - round(value)) < 0.01:
        whole = round(value)
        return f"{whole} hour{'' if whole == 1 else 's'}"
    return f"{value:.1f} hours"


def _names(names):
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _people(count):
    return f"{count} {'person' if count == 1 else 'people'}"


def _points(value, weight):
    return f"({value:.1f} of {weight:g} point{'' if weight == 1 else 's'})"


# Areas and weekly windows ------------------------------------------------------------------


class AreaGrid:
    """Every area with the distances between them (`community.geography`), by area index."""

    def __init__(self, rows):
        self.ids = np.array([row[0] for row in rows], dtype=np.int64)
        self.names = [row[1] for row in rows]
        self.points = [(row[2], row[3]) for row in rows]

    def km_from(self, index):
        """The distances from one area to every area."""
        here = self.points[index]
        return np.array([distance_km(*here, *there) for there in self.points])

    @cached_property
    def km(self):
        """The distances between every two areas, as a matrix."""
        return np.array([self.km_from(index) for index in range(len(self.points))]).reshape(
            len(self.points), len(self.points)
        )

    @classmethod
    def load(cls):
        rows = Area.objects.order_by("id").values_list("id", "name", "latitude", "longitude")
        return cls(list(rows))

    def index(self, area_ids):
        return np.searchsorted(self.ids, np.asarray(area_ids, dtype=np.int64))

    def name(self, index):
        return self.names[index]


def positions(sorted_ids, values):
    """Where each of `values` sits in `sorted_ids`, and whether it is there at all."""
    sorted_ids = np.asarray(sorted_ids, dtype=np.int64)
    values = np.asarray(values, dtype=np.int64)
    if not len(sorted_ids):
        return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    index = np.minimum(np.searchsorted(sorted_ids, values), len(sorted_ids) - 1)
    return index, sorted_ids[index] == values


def minute_of_week(weekday, time):
    return weekday * 1440 + time.hour * 60 + time.minute


def window_arrays(rows, owner_ids):
    """(owner index, start, end) arrays from (owner id, weekday, starts_at, ends_at) rows.

    Starts and ends are minutes from Monday 00:00; rows of owners not in `owner_ids` (sorted)
    are dropped.
    """
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    owners, weekdays, starts, ends = zip(*rows, strict=True)
    index, known = positions(owner_ids, owners)
    start = np.array([minute_of_week(d, t) for d, t in zip(weekdays, starts, strict=True)])
    end = np.array([minute_of_week(d, t) for d, t in zip(weekdays, ends, strict=True)])
    return index[known], start[known], end[known]


def _scatter_add(rows, cols, values, shape):
    flat = np.bincount(
        np.asarray(rows) * shape[1] + np.asarray(cols),
        weights=values,
        minlength=shape[0] * shape[1],
    )
    return flat.reshape(shape)


def weekly_overlap_hours(peer_windows, volunteer_windows, *, peers, volunteers):
    """Hours a week each volunteer is available during each peer's preferred times.

    Exact, without a loop over pairs: the peers' window edges cut the week into pieces that
    each peer's times cover wholly or not at all. Each volunteer's minutes in each piece,
    times the peer's cover of the pieces, is the overlap; one matrix product gives them all.
    Windows are (owner index, start, end) arrays in minutes of the week.
    """
    p_owner, p_start, p_end = peer_windows
    v_owner, v_start, v_end = volunteer_windows
    if len(p_start) == 0 or len(v_start) == 0 or peers == 0 or volunteers == 0:
        return np.zeros((peers, volunteers))
    edges = np.unique(np.concatenate([p_start, p_end]))
    pieces = len(edges) - 1
    if pieces == 0:
        return np.zeros((peers, volunteers))
    # Which pieces each peer's times cover: +1 where a window starts, -1 where it ends.
    opens = np.searchsorted(edges, p_start)
    closes = np.searchsorted(edges, p_end)
    ones = np.ones(len(p_owner))
    steps = _scatter_add(p_owner, opens, ones, (peers, pieces + 1))
    steps -= _scatter_add(p_owner, closes, ones, (peers, pieces + 1))
    cover = (np.cumsum(steps, axis=1)[:, :pieces] > 0).astype(np.float64)
    # Each volunteer's minutes in each piece: whole pieces from the first touched to the
    # last, less what the window misses of those two.
    start = np.clip(v_start, edges[0], edges[-1])
    end = np.clip(v_end, edges[0], edges[-1])
    inside = end > start
    owner, start, end = v_owner[inside], start[inside], end[inside]
    first = np.searchsorted(edges, start, side="right") - 1
    last = np.searchsorted(edges, end, side="left") - 1
    ones = np.ones(len(owner))
    steps = _scatter_add(owner, first, ones, (volunteers, pieces + 1))
    steps -= _scatter_add(owner, last + 1, ones, (volunteers, pieces + 1))
    minutes = np.cumsum(steps, axis=1)[:, :pieces] * np.diff(edges)
    minutes -= _scatter_add(owner, first, start - edges[first], (volunteers, pieces))
    minutes -= _scatter_add(owner, last, edges[last + 1] - end, (volunteers, pieces))
    return cover @ minutes.T / 60


def incidence(rows, owner_ids, item_ids):
    """A 0/1 matrix: owner (sorted ids) by item, from (owner id, item id) rows."""
    matrix = np.zeros((len(owner_ids), len(item_ids)))
    if not rows or not len(owner_ids) or not len(item_ids):
        return matrix
    owners, items = zip(*rows, strict=True)
    o, known_owner = positions(owner_ids, owners)
    i, known_item = positions(item_ids, items)
    known = known_owner & known_item
    matrix[o[known], i[known]] = 1
    return matrix


# The rules and scores, on arrays -----------------------------------------------------------


@dataclass
class PeerArrays:
    """One entry per peer."""

    ids: np.ndarray
    area: np.ndarray  # index into the AreaGrid
    gender: np.ndarray  # GENDER_CODES, UNKNOWN when not said
    wants_gender: np.ndarray  # GENDER_CODES, or ANY
    in_person: np.ndarray
    phone: np.ndarray
    video: np.ndarray
    language_count: np.ndarray
    focus_count: np.ndarray
    has_times: np.ndarray  # has preferred times; without them any time suits


@dataclass
class VolunteerArrays:
    """One entry per volunteer."""

    ids: np.ndarray
    area: np.ndarray
    gender: np.ndarray
    radius_km: np.ndarray
    in_person: np.ndarray
    phone: np.ndarray
    video: np.ndarray
    capacity: np.ndarray
    active: np.ndarray  # active matches
    proposed: np.ndarray  # proposed matches awaiting a decision


@dataclass
class PairArrays:
    """One entry per peer (rows) and volunteer (columns)."""

    distance_km: np.ndarray
    overlap_hours: np.ndarray
    shared_languages: np.ndarray
    shared_focuses: np.ndarray
    continuity: np.ndarray  # an earlier match between them ended
    excluded: np.ndarray


def gender_code(value):
    return UNKNOWN if value == Gender.UNDISCLOSED else GENDER_CODES.get(value, UNKNOWN)


def wanted_gender_code(value):
    return ANY if value == Peer.SupporterGender.ANY else GENDER_CODES[value]


def pair_rules(peers, volunteers, pairs):
    """The hard rules between a peer and a volunteer: True where the pair passes each."""
    p, v = _column(peers), _row(volunteers)
    within_radius = pairs.distance_km <= v.radius_km
    return {
        "exclusion": ~pairs.excluded,
        "meeting": (p.in_person & v.in_person & within_radius)
        | (p.phone & v.phone)
        | (p.video & v.video),
        "gender": (p.wants_gender == ANY) | (p.wants_gender == v.gender),
        "language": (p.language_count == 0) | (pairs.shared_languages > 0),
    }


def load_part(open_matches, capacity):
    """1 for a volunteer supporting nobody yet, falling to 0 at their capacity."""
    capacity = np.asarray(capacity, dtype=np.float64)
    share = np.divide(open_matches, capacity, out=np.ones_like(capacity), where=capacity > 0)
    return 1 - np.clip(share, 0, 1)


def score_parts(peers, volunteers, pairs):
    """Each soft score from 0 to 1, for every peer (rows) and volunteer (columns)."""
    p, v = _column(peers), _row(volunteers)
    same_gender = (p.gender == v.gender) & (p.gender != UNKNOWN)
    overlap = np.clip(pairs.overlap_hours / settings.MATCHING_FULL_OVERLAP_HOURS, 0, 1)
    return {
        "distance": np.clip(1 - pairs.distance_km / settings.MATCHING_DISTANCE_ZERO_KM, 0, 1),
        "availability": np.where(p.has_times, overlap, 1),
        "focus": _share(pairs.shared_focuses, p.focus_count),
        "language": _share(pairs.shared_languages, p.language_count),
        "gender": np.where(p.wants_gender == ANY, same_gender, p.wants_gender == v.gender),
        "load": load_part(v.active + v.proposed, v.capacity),
        "continuity": pairs.continuity,
    }


def total_score(parts, weights=None):
    """The weighted sum of the parts, broadcast to peers by volunteers."""
    weights = settings.MATCHING_WEIGHTS if weights is None else weights
    total = 0.0
    for name in SCORE_PARTS:
        total = total + weights.get(name, 0) * np.asarray(parts[name], dtype=np.float64)
    return total


def _share(shared, count):
    count = np.broadcast_to(count, np.broadcast_shapes(np.shape(shared), np.shape(count)))
    return np.divide(shared, count, out=np.zeros(count.shape), where=count > 0)


class _Shaped:
    """The arrays of peers as a column, or of volunteers as a row, so that they broadcast."""

    def __init__(self, arrays, shape):
        self._arrays, self._shape = arrays, shape

    def __getattr__(self, name):
        return np.asarray(getattr(self._arrays, name)).reshape(self._shape)


def _column(peers):
    return _Shaped(peers, (-1, 1))


def _row(volunteers):
    return _Shaped(volunteers, (1, -1))


# Reasons in words --------------------------------------------------------------------------


@dataclass
class PairStory:
    """What the words about one peer and one volunteer need beyond the scores."""

    peer_reference: str
    peer_area: str
    volunteer_area: str
    distance_km: float
    radius_km: int
    meets_in_person: bool  # both meet in person and the area is within the radius
    overlap_hours: float
    peer_has_times: bool
    shared_focuses: list
    peer_focuses: list
    shared_languages: list
    peer_languages: list
    volunteer_gender: str
    peer_gender: str
    wants_gender: str
    active: int
    proposed: int
    capacity: int
    supported_until: datetime.date | None

    @classmethod
    def between(cls, peer, volunteer, *, areas, distance_km, **numbers):
        """The story of `peer` and `volunteer`, their areas named from `areas` (an AreaGrid),
        and the numbers."""
        peer_area, volunteer_area = areas.index([peer.area_id, volunteer.area_id])
        return cls(
            peer_reference=peer.reference,
            peer_area=areas.name(peer_area),
            volunteer_area=areas.name(volunteer_area),
            distance_km=distance_km,
            radius_km=volunteer.travel_radius_km,
            meets_in_person=bool(
                peer.meets_in_person
                and volunteer.meets_in_person
                and distance_km <= volunteer.travel_radius_km
            ),
            volunteer_gender=volunteer.gender,
            peer_gender=peer.gender,
            wants_gender=peer.preferred_supporter_gender,
            capacity=volunteer.max_active_matches,
            **numbers,
        )


def reasons_for(story, parts, weights=None):
    """One sentence per soft score, each with its points: the score broken down.

    `parts` are this pair's parts (floats from 0 to 1). A part with no weight is left out,
    and continuity is said only when they have met before.
    """
    weights = settings.MATCHING_WEIGHTS if weights is None else weights
    words = {
        "distance": _distance_words(story),
        "availability": _availability_words(story),
        "focus": _focus_words(story),
        "language": _language_words(story),
        "gender": _gender_words(story),
        "load": _load_words(story),
        "continuity": _continuity_words(story),
    }
    reasons = []
    for name in SCORE_PARTS:
        weight = weights.get(name, 0)
        if not weight or words[name] is None:
            continue
        reasons.append(f"{words[name]} {_points(float(parts[name]) * weight, weight)}")
    return tuple(reasons)


def _distance_words(story):
    if story.peer_area == story.volunteer_area:
        where = f"Both in {story.peer_area}"
    else:
        where = f"{story.peer_area} is {_km(story.distance_km)} away"
    if story.meets_in_person:
        return where
    if story.distance_km > story.radius_km:
        return f"{where}, beyond the {story.radius_km} km travel radius: by phone or video"
    return f"{where}: by phone or video"


def _availability_words(story):
    if not story.peer_has_times:
        return f"Any time suits {story.peer_reference}: they have no preferred times"
    if story.overlap_hours <= 0:
        return f"Not available at {story.peer_reference}'s preferred times"
    hours = _hours(story.overlap_hours)
    return f"Available {hours} a week at {story.peer_reference}'s preferred times"


def _focus_words(story):
    if not story.peer_focuses:
        return f"{story.peer_reference} has not said what they want support with"
    if not story.shared_focuses:
        return f"No lived experience of {_names(story.peer_focuses).lower()}"
    return f"Lived experience of {_names(story.shared_focuses).lower()}"


def _language_words(story):
    if not story.peer_languages:
        return f"No languages recorded for {story.peer_reference}"
    if len(story.shared_languages) == len(story.peer_languages):
        return f"Speaks {_names(story.peer_languages)}, as {story.peer_reference} does"
    return (
        f"Speaks {_names(story.shared_languages)} of {story.peer_reference}'s "
        f"{_names(story.peer_languages)}"
    )


def _gender_words(story):
    if story.wants_gender != Peer.SupporterGender.ANY:
        return f"{_gender_label(story.volunteer_gender)}, as {story.peer_reference} asked"
    if story.peer_gender == story.volunteer_gender and story.peer_gender != Gender.UNDISCLOSED:
        return f"{_gender_label(story.volunteer_gender)}, like {story.peer_reference}"
    return f"{story.peer_reference} has not asked for a supporter's gender"


def _gender_label(value):
    return Gender(value).label


def _load_words(story):
    supports = f"Supports {_people(story.active)}" if story.active else "Supports nobody yet"
    if story.proposed:
        more = " more" if story.active else ""
        supports += f", {story.proposed}{more} proposed,"
    elif not story.active:
        supports += ","
    return f"{supports} of up to {story.capacity}"


def _continuity_words(story):
    if story.supported_until is None:
        return None
    return f"Supported {story.peer_reference} before, until {long_date(story.supported_until)}"


# Hard rules in SQL, for suggest() ----------------------------------------------------------


def pvg_current(on):
    """A condition: the volunteer (the outer row) holds a PVG record current on `on`, or
    there is no PVG course to hold."""
    record = TrainingRecord.objects.current(on=on).filter(
        volunteer=OuterRef("pk"), course__code=PVG_COURSE_CODE
    )
    return Exists(record) | ~Exists(Course.objects.filter(code=PVG_COURSE_CODE))


def trained_and_present(volunteers, *, on):
    """Those of `volunteers` who are matchable on the day and hold a current PVG."""
    return volunteers.matchable(on=on).filter(pvg_current(on))


def full_volunteer_ids():
    """Volunteers whose active matches have reached their capacity, as a subquery."""
    return (
        Match.objects.active()
        .values("volunteer_id")
        .annotate(active=Count("id"))
        .filter(active__gte=F("volunteer__max_active_matches"))
        .values("volunteer_id")
    )


@dataclass
class PeerContext:
    """One peer with what their rules and scores need, read once."""

    peer: Peer
    languages: list  # (id, name), by id
    focuses: list  # (id, name), by id
    windows: list  # (weekday, starts_at, ends_at)
    areas: AreaGrid

    @classmethod
    def load(cls, peer):
        return cls(
            peer=peer,
            languages=list(peer.languages.order_by("id").values_list("id", "name")),
            focuses=list(peer.focuses.order_by("id").values_list("id", "name")),
            windows=list(peer.preferred_times.values_list("weekday", "starts_at", "ends_at")),
            areas=AreaGrid.load(),
        )

    @property
    def language_ids(self):
        return [pk for pk, _ in self.languages]

    @property
    def focus_ids(self):
        return [pk for pk, _ in self.focuses]

    def arrays(self):
        peer = self.peer
        return PeerArrays(
            ids=np.array([peer.pk]),
            area=self.areas.index([peer.area_id]),
            gender=np.array([gender_code(peer.gender)]),
            wants_gender=np.array([wanted_gender_code(peer.preferred_supporter_gender)]),
            in_person=np.array([peer.meets_in_person]),
            phone=np.array([peer.meets_by_phone]),
            video=np.array([peer.meets_by_video]),
            language_count=np.array([len(self.languages)]),
            focus_count=np.array([len(self.focuses)]),
            has_times=np.array([bool(self.windows)]),
        )

    def window_arrays(self):
        starts = [minute_of_week(day, start) for day, start, _ in self.windows]
        ends = [minute_of_week(day, end) for day, _, end in self.windows]
        return np.zeros(len(starts), dtype=np.int64), np.array(starts), np.array(ends)

    @cached_property
    def peer_km(self):
        """km from the peer's area to every area, by area index."""
        return self.areas.km_from(self.areas.index([self.peer.area_id])[0])

    def distances(self):
        """km from the peer's area to every area, by area id."""
        row = self.peer_km
        return dict(zip(self.areas.ids.tolist(), row.tolist(), strict=True))


def candidates(context, *, on):
    """Volunteers passing every hard rule but training, absence and PVG, in SQL.

    Those three (the volunteers app's `matchable`, and PVG) cost the most to check, so
    suggest() checks them on the best-scoring candidates only.
    """
    peer = context.peer
    ways = Q(pk__in=[])
    if peer.meets_by_phone:
        ways |= Q(meets_by_phone=True)
    if peer.meets_by_video:
        ways |= Q(meets_by_video=True)
    if peer.meets_in_person:
        ways |= Q(meets_in_person=True, peer_distance_km__lte=F("travel_radius_km"))
    distance = Case(
        *[When(area_id=area, then=Value(km)) for area, km in context.distances().items()],
        default=Value(None),
        output_field=FloatField(),
    )
    volunteers = (
        Volunteer.objects.filter(status=Volunteer.Status.ACTIVE)
        .alias(peer_distance_km=distance)
        .filter(ways)
        .exclude(pk__in=full_volunteer_ids())
        .exclude(Exists(Exclusion.objects.filter(peer=peer, volunteer=OuterRef("pk"))))
    )
    if peer.preferred_supporter_gender != Peer.SupporterGender.ANY:
        volunteers = volunteers.filter(gender=peer.preferred_supporter_gender)
    if context.language_ids:
        speaks = Volunteer.languages.through.objects.filter(
            volunteer=OuterRef("pk"), language_id__in=context.language_ids
        )
        volunteers = volunteers.filter(Exists(speaks))
    return volunteers.order_by()


def _windows_during(context):
    """Only windows that can overlap the peer's preferred times."""
    overlapping = Q(pk__in=[])
    for weekday, starts_at, ends_at in context.windows:
        overlapping |= Q(weekday=weekday, starts_at__lt=ends_at, ends_at__gt=starts_at)
    return overlapping


def open_matches(volunteer_ids):
    """Active and proposed matches of each volunteer (sorted ids), in one grouped query."""
    rows = list(
        Match.objects.open()
        .order_by()
        .values_list("volunteer_id", "status")
        .annotate(count=Count("id"))
    )
    counts = {status: np.zeros(len(volunteer_ids), dtype=np.int64) for status in Match.Status}
    if rows and len(volunteer_ids):
        owners, statuses, numbers = zip(*rows, strict=True)
        index, known = positions(volunteer_ids, owners)
        for status, target in counts.items():
            mine = known & (np.asarray(statuses) == status)
            target[index[mine]] = np.asarray(numbers)[mine]
    return counts[Match.Status.ACTIVE], counts[Match.Status.PROPOSED]


def volunteers_with_room(areas, *, on, proposals_take_room):
    """The arrays of volunteers who may be matched on the day (`trained_and_present`) and
    have room for one more peer, in id order, read in two queries.

    Room means fewer active matches than their capacity. With `proposals_take_room`, each
    proposal awaiting approval takes a place too, as when bulk assignment fills the places
    left; suggestions leave it False, so a volunteer with a proposal pending is still shown.
    """
    rows = list(
        trained_and_present(Volunteer.objects.all(), on=on)
        .order_by("id")
        .values_list(
            "id",
            "area_id",
            "gender",
            "travel_radius_km",
            "meets_in_person",
            "meets_by_phone",
            "meets_by_video",
            "max_active_matches",
        )
    )
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    active, proposed = open_matches(ids)
    capacity = np.array([row[7] for row in rows], dtype=np.int64)
    room = active < capacity
    if proposals_take_room:
        room &= capacity - active - proposed > 0
    rows = [row for row, keep in zip(rows, room, strict=True) if keep]
    return VolunteerArrays(
        ids=ids[room],
        area=areas.index([row[1] for row in rows]),
        gender=gender_codes([row[2] for row in rows]),
        radius_km=np.array([row[3] for row in rows], dtype=np.float64),
        in_person=np.array([row[4] for row in rows], dtype=bool),
        phone=np.array([row[5] for row in rows], dtype=bool),
        video=np.array([row[6] for row in rows], dtype=bool),
        capacity=capacity[room],
        active=active[room],
        proposed=proposed[room],
    )


def last_supported(peers):
    """{(peer id, volunteer id): last day} of earlier matches that ended, for `peers` (ids or
    a subquery of them)."""
    rows = Match.objects.filter(status=Match.Status.ENDED, peer_id__in=peers).values_list(
        "peer_id", "volunteer_id", "ended_on"
    )
    last = {}
    for peer_id, volunteer_id, ended_on in rows:
        key = (peer_id, volunteer_id)
        last[key] = max(filter(None, (last.get(key), ended_on)), default=None)
    return last


# suggest() ---------------------------------------------------------------------------------


def suggest(peer, limit=10, *, on=None):
    """The volunteers who may support `peer` on the day, best first, with their reasons.

    Ties are broken by the volunteer's id, so the same data always gives the same order.
    `limit=None` gives everyone eligible. The number of queries does not depend on how many
    volunteers there are.
    """
    on = on or timezone.localdate()
    context = PeerContext.load(peer)
    eligible = candidates(context, on=on)
    rows = list(eligible.values_list("id", "area_id", "gender", "max_active_matches"))
    if not rows:
        return []
    scored = _Scored.of(context, rows)
    order = np.lexsort((scored.volunteers.ids, -scored.scores))
    chosen = _trained_first(order, scored.volunteers.ids, eligible, limit=limit, on=on)
    return [scored.suggestion(index, volunteer) for index, volunteer in chosen]


def suggestion_for(peer, volunteer):
    """The score and reasons `suggest` gives `volunteer` for `peer`, for this one pair.

    Only scores: the hard rules are `why_not`'s, checked first by whoever proposes the pair
    (`matching.services.propose_match`). The same functions on the same numbers give the
    same score and words as the volunteer's row among all of `suggest`'s.
    """
    context = PeerContext.load(peer)
    row = (volunteer.pk, volunteer.area_id, volunteer.gender, volunteer.max_active_matches)
    return _Scored.of(context, [row]).suggestion(0, volunteer)


@dataclass
class _Scored:
    """Every candidate of one peer scored at once: (id, area id, gender, capacity) rows."""

    context: PeerContext
    volunteers: VolunteerArrays
    pairs: PairArrays
    details: dict
    parts: dict
    scores: np.ndarray

    @classmethod
    def of(cls, context, rows):
        ids, area_ids, genders, capacities = zip(*rows, strict=True)
        ids = np.array(ids, dtype=np.int64)
        by_id = np.argsort(ids, kind="stable")
        ids = ids[by_id]
        active, proposed = open_matches(ids)
        none = np.zeros(len(ids), dtype=bool)
        volunteers = VolunteerArrays(
            ids=ids,
            area=context.areas.index(area_ids)[by_id],
            gender=gender_codes(genders)[by_id],
            # The hard rules are checked elsewhere; the scores do not need the radius or ways
            # of meeting.
            radius_km=np.zeros(len(ids)),
            in_person=none,
            phone=none,
            video=none,
            capacity=np.array(capacities)[by_id],
            active=active,
            proposed=proposed,
        )
        pairs, details = _suggestion_pairs(context, volunteers)
        parts = {
            name: np.broadcast_to(part, (1, len(ids)))[0]
            for name, part in score_parts(context.arrays(), volunteers, pairs).items()
        }
        scores = np.broadcast_to(total_score(parts), (len(ids),))
        return cls(context, volunteers, pairs, details, parts, scores)

    def suggestion(self, index, volunteer):
        """The Suggestion of the candidate at `index` (in id order), who is `volunteer`."""
        return Suggestion(
            volunteer=volunteer,
            score=round(float(self.scores[index]), 3),
            reasons=reasons_for(
                _story(self.context, volunteer, index, self.pairs, self.volunteers, self.details),
                {name: part[index] for name, part in self.parts.items()},
            ),
        )


def gender_codes(genders):
    """GENDER_CODES for a sequence of stored genders."""
    codes = {gender: gender_code(gender) for gender in Gender.values}
    return np.array([codes.get(gender, UNKNOWN) for gender in genders], dtype=np.int64)


def _suggestion_pairs(context, volunteers):
    """The arrays of the peer (one row) with each candidate, in four queries or fewer.

    Each query reads a few more rows than the candidates' (those of active volunteers, or of
    everyone with the peer's focuses) rather than repeat the candidates' rules in SQL; the
    rows of others are dropped.
    """
    ids = volunteers.ids
    active = Q(volunteer__status=Volunteer.Status.ACTIVE)
    overlap = np.zeros((1, len(ids)))
    if context.windows:
        windows = AvailabilityWindow.objects.filter(active, _windows_during(context))
        rows = list(windows.values_list("volunteer_id", "weekday", "starts_at", "ends_at"))
        overlap = weekly_overlap_hours(
            context.window_arrays(), window_arrays(rows, ids), peers=1, volunteers=len(ids)
        )
    focus_rows = []
    if context.focus_ids:
        focus_rows = list(
            Volunteer.focuses.through.objects.filter(focus_id__in=context.focus_ids)
            .order_by()
            .values_list("volunteer_id", "focus_id")
        )
    focuses = incidence(focus_rows, ids, context.focus_ids)
    if len(context.language_ids) > 1:
        language_rows = list(
            Volunteer.languages.through.objects.filter(active, language_id__in=context.language_ids)
            .order_by()
            .values_list("volunteer_id", "language_id")
        )
        languages = incidence(language_rows, ids, context.language_ids)
    else:
        # Everyone left speaks the peer's only language: the SQL rule saw to it.
        languages = np.ones((len(ids), len(context.language_ids)))
    last = last_supported([context.peer.pk])
    pairs = PairArrays(
        distance_km=context.peer_km[volunteers.area][None, :],
        overlap_hours=overlap,
        shared_languages=languages.sum(axis=1)[None, :],
        shared_focuses=focuses.sum(axis=1)[None, :],
        continuity=incidence([(v, 0) for _, v in last], ids, [0]).T.astype(bool),
        excluded=np.zeros((1, len(ids)), dtype=bool),
    )
    details = {"focuses": focuses, "languages": languages, "last": last}
    return pairs, details


def _trained_first(order, ids, eligible, *, limit, on):
    """The best `limit` candidates who also pass training, absence and PVG, as (index,
    Volunteer) in score order.

    Checks the best few first, in one query; only when too few of them pass, the rest, in
    two more. With `limit=None`, everyone, in one query.
    """
    if limit is None:
        passing = _load_trained(Volunteer.objects.filter(pk__in=eligible.values("id")), on=on)
        return [(index, passing[ids[index]]) for index in order if ids[index] in passing]
    head = order[: max(limit + TRAINING_CHECK_MARGIN, 2 * limit)]
    passing = _load_trained(Volunteer.objects.filter(pk__in=ids[head].tolist()), on=on)
    chosen = [(index, passing[ids[index]]) for index in head if ids[index] in passing]
    if len(chosen) < limit and len(head) < len(order):
        rest = Volunteer.objects.filter(pk__in=eligible.values("id")).exclude(
            pk__in=ids[head].tolist()
        )
        passing_ids = set(trained_and_present(rest, on=on).values_list("id", flat=True))
        more = [index for index in order[len(head) :] if ids[index] in passing_ids]
        more = more[: limit - len(chosen)]
        passing = _load_trained(Volunteer.objects.filter(pk__in=ids[more].tolist()), on=on)
        chosen += [(index, passing[ids[index]]) for index in more]
    return chosen[:limit]


def _load_trained(volunteers, *, on):
    passing = trained_and_present(volunteers, on=on).select_related("area").order_by()
    return {volunteer.pk: volunteer for volunteer in passing}


def _story(context, volunteer, index, pairs, volunteers, details):
    focus_names = [name for _, name in context.focuses]
    language_names = [name for _, name in context.languages]
    return PairStory.between(
        context.peer,
        volunteer,
        areas=context.areas,
        distance_km=float(pairs.distance_km[0, index]),
        overlap_hours=float(pairs.overlap_hours[0, index]),
        peer_has_times=bool(context.windows),
        shared_focuses=_picked(focus_names, details["focuses"][index]),
        peer_focuses=focus_names,
        shared_languages=_picked(language_names, details["languages"][index]),
        peer_languages=language_names,
        active=int(volunteers.active[index]),
        proposed=int(volunteers.proposed[index]),
        supported_until=details["last"].get((context.peer.pk, volunteer.pk)),
    )


def _picked(names, flags):
    return [name for name, flag in zip(names, flags, strict=True) if flag]


# why_not() ---------------------------------------------------------------------------------


def why_not(peer, volunteer, *, on=None):
    """Every hard rule `volunteer` fails for `peer` on the day, in words; empty when eligible."""
    on = on or timezone.localdate()
    reasons = []
    name = volunteer.preferred_name
    if volunteer.status != Volunteer.Status.ACTIVE:
        reasons.append(f"{name} is {volunteer.get_status_display().lower()}, not active.")
    reasons += _training_reasons(volunteer, on=on)
    active = Match.objects.active().filter(volunteer=volunteer).count()
    if active >= volunteer.max_active_matches:
        reasons.append(
            f"{name} already supports {_people(active)}, their capacity of "
            f"{volunteer.max_active_matches}."
        )
    absence = (
        Absence.objects.filter(volunteer=volunteer, starts_on__lte=on, ends_on__gte=on)
        .order_by("starts_on")
        .first()
    )
    if absence:
        why = f" ({absence.reason})" if absence.reason else ""
        reasons.append(
            f"{name} is away from {long_date(absence.starts_on)} to "
            f"{long_date(absence.ends_on)}{why}."
        )
    reasons += _pair_reasons(peer, volunteer)
    return reasons


def _training_reasons(volunteer, *, on):
    courses = list(
        Course.objects.filter(Q(required_for_matching=True) | Q(code=PVG_COURSE_CODE)).order_by(
            "name"
        )
    )
    records = [
        RequiredRecord(*row)
        for row in TrainingRecord.objects.filter(
            volunteer=volunteer, course__in=courses
        ).values_list("course_id", "completed_on", "expires_on")
    ]
    reasons = []
    for gap in training_gaps(records, courses, on=on, within_days=0):
        course, expired_on = gap["course"], gap["expires_on"]
        label = course.name if course.kind == Course.Kind.CHECK else f"{course.name} training"
        if gap["state"] == "missing":
            reasons.append(f"No {label} on record.")
        elif gap["state"] == "expired" and expired_on is not None and expired_on <= on:
            reasons.append(f"{label[0].upper()}{label[1:]} expired on {long_date(expired_on)}.")
        elif gap["state"] == "expired":
            reasons.append(f"{label[0].upper()}{label[1:]} is not complete on {long_date(on)}.")
    return reasons


def _pair_reasons(peer, volunteer):
    """The rules between the two, checked by the same `pair_rules` as bulk assignment."""
    context = PeerContext.load(peer)
    spoken = list(volunteer.languages.order_by("id").values_list("id", "name"))
    spoken_ids = {pk for pk, _ in spoken}
    shared = [pk for pk in context.language_ids if pk in spoken_ids]
    excluded = Exclusion.objects.filter(peer=peer, volunteer=volunteer).first()
    volunteers = VolunteerArrays(
        ids=np.array([volunteer.pk]),
        area=context.areas.index([volunteer.area_id]),
        gender=np.array([gender_code(volunteer.gender)]),
        radius_km=np.array([volunteer.travel_radius_km]),
        in_person=np.array([volunteer.meets_in_person]),
        phone=np.array([volunteer.meets_by_phone]),
        video=np.array([volunteer.meets_by_video]),
        capacity=np.array([volunteer.max_active_matches]),
        active=np.zeros(1),
        proposed=np.zeros(1),
    )
    peer_area, volunteer_area = context.areas.index([peer.area_id, volunteer.area_id])
    km = float(context.peer_km[volunteer_area])
    pairs = PairArrays(
        distance_km=np.array([[km]]),
        overlap_hours=np.zeros((1, 1)),
        shared_languages=np.array([[len(shared)]]),
        shared_focuses=np.zeros((1, 1)),
        continuity=np.zeros((1, 1), dtype=bool),
        excluded=np.array([[excluded is not None]]),
    )
    passed = {
        rule: bool(ok[0, 0]) for rule, ok in pair_rules(context.arrays(), volunteers, pairs).items()
    }
    name, reference = volunteer.preferred_name, peer.reference
    reasons = []
    if not passed["exclusion"]:
        reasons.append(f"{name} must never be matched with {reference}: {excluded.reason}")
    if not passed["meeting"]:
        reasons.append(_meeting_reason(peer, volunteer, km=km, area=context.areas.name(peer_area)))
    if not passed["gender"]:
        wanted = Peer.SupporterGender(peer.preferred_supporter_gender).label.lower()
        if volunteer.gender == Gender.UNDISCLOSED:
            said = f"{name} prefers not to say their gender"
        else:
            said = f"{name} is {Gender(volunteer.gender).label.lower()}"
        reasons.append(f"{reference} asked for a {wanted} supporter; {said}.")
    if not passed["language"]:
        theirs = _names(language for _, language in context.languages)
        if spoken:
            reasons.append(
                f"{name} speaks {_names(language for _, language in spoken)}, none of "
                f"{reference}'s languages ({theirs})."
            )
        else:
            reasons.append(f"No languages recorded for {name}; {reference} speaks {theirs}.")
    return reasons


def _meeting_reason(peer, volunteer, *, km, area):
    if peer.meets_in_person and volunteer.meets_in_person:
        radius = volunteer.travel_radius_km
        return f"{area} is {_km(km, radius=radius)} away; travel radius is {radius} km."
    return (
        f"No way of meeting suits both: {peer.reference} meets {_modes(peer)}; "
        f"{volunteer.preferred_name} {_modes(volunteer)}."
    )


def _modes(person):
    words = {"in_person": "in person", "phone": "by phone", "video": "by video"}
    return " or ".join(words[mode] for mode in person.meeting_modes)
