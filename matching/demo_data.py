"""Demo and synthetic data: fictional volunteers and peers of North and South Lanarkshire.

The demo set is 40 volunteers, 60 peers and a few active matches: the same people on every
run, written through the services so every rule is checked. Synthetic sets of any size sit on
top of it for benchmarks, written with bulk inserts in batches.

Every name is made up from first names and surnames common in Scotland. Every phone number is
in Ofcom's drama range, 07700 900000 to 900999, which no real person holds: 900000-900039 for
demo volunteers, 900040-900099 for demo peers, 900100-900999 for the first 900 synthetic
volunteers. The range has only 1,000 numbers and phones are unique, so later synthetic
volunteers and all synthetic peers have no phone.
"""

import datetime
import random
from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from community.coordinators import COORDINATORS_GROUP
from community.models import Area, Focus, Gender, Language
from community.phones import FICTIONAL_PREFIX
from community.validated_save import save_validated
from matching.demo_history import seed_demo_history
from matching.models import Match
from peers.models import Peer, PreferredTime
from peers.services import add_preferred_time, change_peer_status, create_peer
from volunteers.models import (
    Absence,
    AvailabilityWindow,
    Course,
    TrainingRecord,
    Volunteer,
    add_months,
)
from volunteers.services import add_absence, add_availability, create_volunteer, record_training

DEMO_COORDINATOR_EMAIL = "coordinator@peerpath.local"
DEMO_COORDINATOR_PASSWORD = "walk-alongside-2468"
DEMO_APP_VOLUNTEER_EMAIL = "volunteer@peerpath.local"
DEMO_SEED = 1843

DEMO_VOLUNTEER_NUMBERS = range(0, 40)
DEMO_PEER_NUMBERS = range(40, 100)
SYNTHETIC_VOLUNTEER_NUMBERS = range(100, 1000)

# Synthetic records are recognised by their notes, so a second run tops up instead of adding.
SYNTHETIC_VOLUNTEER_NOTE = "Synthetic volunteer for benchmarks."
SYNTHETIC_PEER_NOTE = "Synthetic peer for benchmarks."
SYNTHETIC_VOLUNTEER_SEED = 1_000_000_000
SYNTHETIC_PEER_SEED = 2_000_000_000

FEMALE_FIRST_NAMES = (
    "Agnes", "Aileen", "Ailsa", "Alison", "Catriona", "Christine", "Claire", "Eilidh",
    "Elaine", "Fiona", "Gail", "Gillian", "Heather", "Isla", "Isobel", "Ishbel", "Jacqueline",
    "Janet", "Jean", "Joanne", "Karen", "Kayleigh", "Kirsty", "Laura", "Lesley", "Lorna",
    "Lorraine", "Mairi", "Margaret", "Marion", "Moira", "Morag", "Morven", "Nicola", "Rhona",
    "Sheena", "Shona", "Siobhan", "Susan", "Wendy", "Yvonne",
)  # fmt: skip
MALE_FIRST_NAMES = (
    "Alasdair", "Alan", "Andrew", "Angus", "Archie", "Callum", "Colin", "Craig", "Darren",
    "David", "Derek", "Douglas", "Duncan", "Euan", "Ewan", "Finlay", "Fraser", "Gary",
    "Gordon", "Graeme", "Gregor", "Hamish", "Iain", "James", "Jamie", "John", "Keith",
    "Kenneth", "Kieran", "Kyle", "Lachlan", "Lewis", "Malcolm", "Murdo", "Neil", "Robert",
    "Ross", "Ruaridh", "Scott", "Stephen", "Stuart", "William",
)  # fmt: skip
SURNAMES = (
    "Anderson", "Baird", "Black", "Boyle", "Brown", "Buchanan", "Cameron", "Campbell", "Clark",
    "Docherty", "Donaldson", "Duncan", "Ferguson", "Fleming", "Forbes", "Fraser", "Gallacher",
    "Gillespie", "Graham", "Grant", "Gray", "Hamilton", "Henderson", "Hendry", "Hunter",
    "Johnston", "Kelly", "Kennedy", "Kerr", "Lennox", "Lindsay", "MacDonald", "MacKenzie",
    "MacLean", "MacLeod", "Marshall", "McAllister", "McCallum", "McCann", "McGregor",
    "McInnes", "McIntyre", "McKay", "McLaughlin", "McNeil", "McPherson", "Millar", "Mitchell",
    "Morrison", "Muir", "Murray", "Paterson", "Quinn", "Reid", "Rennie", "Robertson", "Ross",
    "Scott", "Shaw", "Sinclair", "Smith", "Stewart", "Sutherland", "Thomson", "Wallace",
    "Watson", "Wilson", "Young",
)  # fmt: skip

# The larger towns are home to more volunteers and peers; every other locality weighs 1.
AREA_WEIGHTS = {
    "East Kilbride": 4, "Hamilton": 4, "Cumbernauld": 4, "Motherwell": 3, "Airdrie": 3,
    "Coatbridge": 3, "Wishaw": 3, "Rutherglen": 2, "Cambuslang": 2, "Bellshill": 2,
    "Larkhall": 2, "Blantyre": 2, "Lanark": 2, "Carluke": 2,
}  # fmt: skip
GENDER_WEIGHTS = {
    Gender.FEMALE: 48,
    Gender.MALE: 46,
    Gender.NON_BINARY: 2,
    Gender.UNDISCLOSED: 4,
}
# Languages other than English spoken in Lanarkshire, weighted by how often.
OTHER_LANGUAGE_WEIGHTS = {
    "pl": 35, "ur": 15, "pa": 15, "ro": 8, "lt": 8, "ar": 7, "zh": 4, "gd": 4, "bsl": 4,
}  # fmt: skip
SUPPORTER_GENDER_WEIGHTS = {
    Peer.SupporterGender.ANY: 70,
    Peer.SupporterGender.FEMALE: 20,
    Peer.SupporterGender.MALE: 10,
}
REFERRAL_SOURCE_WEIGHTS = {
    Peer.ReferralSource.SELF: 25,
    Peer.ReferralSource.ALCOHOL_DRUG_SERVICE: 25,
    Peer.ReferralSource.GP: 12,
    Peer.ReferralSource.FAMILY: 10,
    Peer.ReferralSource.JUSTICE: 8,
    Peer.ReferralSource.HOUSING: 6,
    Peer.ReferralSource.HOSPITAL: 6,
    Peer.ReferralSource.COMMUNITY: 6,
    Peer.ReferralSource.OTHER: 2,
}

# Parts of a day a window may take; the parts never overlap, so distinct (day, part) pairs
# never clash.
_t = datetime.time
DAY_PARTS = (
    ((_t(9), _t(12)), (_t(9, 30), _t(12, 30)), (_t(10), _t(12))),
    ((_t(13), _t(16)), (_t(13, 30), _t(17)), (_t(14), _t(16, 30))),
    ((_t(17, 30), _t(20)), (_t(18), _t(21)), (_t(18, 30), _t(20, 30))),
)

# Training: every required course current; one renewable course within 30 days of lapsing;
# one lapsed or missing; some courses of a volunteer still in training; none; long ago.
CURRENT, EXPIRING, LAPSED, PARTIAL, NONE, LONG_AGO = (
    "current", "expiring", "lapsed", "partial", "none", "long_ago",
)  # fmt: skip

VolunteerStatus = Volunteer.Status
PeerStatus = Peer.Status

# The demo set's mix: (status, training) for each of the 40 volunteers.
DEMO_VOLUNTEER_MIX = (
    [(VolunteerStatus.ACTIVE, CURRENT)] * 18
    + [(VolunteerStatus.ACTIVE, EXPIRING)] * 5
    + [(VolunteerStatus.ACTIVE, LAPSED)] * 3
    + [(VolunteerStatus.IN_TRAINING, PARTIAL)] * 4
    + [(VolunteerStatus.APPLICANT, NONE)] * 4
    + [(VolunteerStatus.PAUSED, CURRENT)] * 2
    + [(VolunteerStatus.PAUSED, LAPSED)]
    + [(VolunteerStatus.LEFT, LONG_AGO)] * 3
)
DEMO_PEER_MIX = (
    [PeerStatus.REFERRED] * 12
    + [PeerStatus.WAITING] * 30
    + [PeerStatus.PAUSED] * 6
    + [PeerStatus.MATCHED] * 8
    + [PeerStatus.CLOSED] * 4
)
SYNTHETIC_VOLUNTEER_MIX = {
    (VolunteerStatus.ACTIVE, CURRENT): 60,
    (VolunteerStatus.ACTIVE, EXPIRING): 9,
    (VolunteerStatus.ACTIVE, LAPSED): 6,
    (VolunteerStatus.IN_TRAINING, PARTIAL): 8,
    (VolunteerStatus.APPLICANT, NONE): 6,
    (VolunteerStatus.PAUSED, CURRENT): 4,
    (VolunteerStatus.PAUSED, LAPSED): 3,
    (VolunteerStatus.LEFT, LONG_AGO): 4,
}
SYNTHETIC_PEER_MIX = {
    PeerStatus.WAITING: 75,
    PeerStatus.REFERRED: 12,
    PeerStatus.PAUSED: 9,
    PeerStatus.CLOSED: 4,
}


def drama_phone(number):
    return f"{FICTIONAL_PREFIX}{number:03d}"


def _weighted(rng, weights):
    return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]


def _days(count):
    return datetime.timedelta(days=count)


@dataclass(frozen=True)
class Reference:
    """The reference data people are drawn from, loaded once per run in a stable order."""

    areas: tuple
    area_weights: tuple
    languages: dict
    focuses: tuple
    required_courses: tuple
    renewable_courses: tuple
    optional_courses: tuple

    @classmethod
    def load(cls):
        areas = tuple(Area.objects.order_by("slug"))
        courses = tuple(Course.objects.order_by("code"))
        required = tuple(course for course in courses if course.required_for_matching)
        return cls(
            areas=areas,
            area_weights=tuple(AREA_WEIGHTS.get(area.name, 1) for area in areas),
            languages={language.code: language for language in Language.objects.all()},
            focuses=tuple(Focus.objects.order_by("slug")),
            required_courses=required,
            renewable_courses=tuple(course for course in required if course.valid_for_months),
            optional_courses=tuple(c for c in courses if not c.required_for_matching),
        )


def ensure_reference_data():
    """Load the areas, languages, focuses and courses the migrations load, if a table is empty.

    Rows that exist are left alone, so a coordinator's changes (a course's validity) survive.
    """
    loaders = {
        "community.migrations.0002_reference_data": (Area, Language, Focus),
        "volunteers.migrations.0002_courses": (Course,),
    }
    for module, models in loaders.items():
        if not all(model.objects.exists() for model in models):
            import_module(module).load(django_apps, None)


@dataclass(frozen=True)
class Window:
    weekday: int
    starts_at: datetime.time
    ends_at: datetime.time


@dataclass(frozen=True)
class PlannedTraining:
    course: Course
    completed_on: datetime.date
    expires_on: datetime.date | None


@dataclass
class VolunteerPlan:
    fields: dict
    training_state: str
    languages: list
    focuses: list
    availability: list
    training: list
    absences: list = field(default_factory=list)

    @property
    def phone(self):
        return self.fields["phone"]

    def absent_on(self, day):
        return any(starts_on <= day <= ends_on for starts_on, ends_on, _ in self.absences)


@dataclass
class PeerPlan:
    fields: dict
    languages: list
    focuses: list
    preferred_times: list

    @property
    def phone(self):
        return self.fields["phone"]


def draw_name(rng, *, gender):
    if gender == Gender.FEMALE:
        first_names = FEMALE_FIRST_NAMES
    elif gender == Gender.MALE:
        first_names = MALE_FIRST_NAMES
    else:
        first_names = rng.choice((FEMALE_FIRST_NAMES, MALE_FIRST_NAMES))
    return rng.choice(first_names), rng.choice(SURNAMES)


def draw_area(rng, *, reference):
    return rng.choices(reference.areas, weights=reference.area_weights)[0]


def draw_languages(rng, *, reference):
    """English for nearly everyone, often with another language; a few speak only another."""
    english = reference.languages["en"]
    other = reference.languages[_weighted(rng, OTHER_LANGUAGE_WEIGHTS)]
    roll = rng.random()
    if roll < 0.02:
        return [other]
    if roll < 0.17:
        return [english, other]
    return [english]


def draw_focuses(rng, *, reference, most):
    return rng.sample(reference.focuses, rng.randint(1, most))


MEETING_MODES = ("meets_in_person", "meets_by_phone", "meets_by_video")


def draw_meeting_modes(rng):
    modes = {
        "meets_in_person": rng.random() < 0.85,
        "meets_by_phone": rng.random() < 0.75,
        "meets_by_video": rng.random() < 0.3,
    }
    if not any(modes.values()):
        modes["meets_by_phone"] = True
    return modes


def draw_weekly_windows(rng, *, count):
    """`count` windows, each on its own day and part of the day, so none overlap."""
    windows = []
    for slot in sorted(rng.sample(range(7 * len(DAY_PARTS)), count)):
        weekday, part = divmod(slot, len(DAY_PARTS))
        starts_at, ends_at = rng.choice(DAY_PARTS[part])
        windows.append(Window(weekday=weekday, starts_at=starts_at, ends_at=ends_at))
    return windows


def _completed_while_current(rng, *, course, today):
    """A completion date that leaves the course current for more than the warning window."""
    if course.valid_for_months is None:
        return today - _days(rng.randint(30, 5 * 365))
    return today - _days(rng.randint(14, course.valid_for_months * 28 - 45))


def draw_training(rng, *, state, reference, today):
    """The training records of a volunteer whose training is in `state`."""
    required = reference.required_courses
    if state == NONE:
        completed = {}
    elif state == PARTIAL:
        done = rng.sample(required, rng.randint(1, len(required) - 1))
        completed = {course: today - _days(rng.randint(7, 120)) for course in done}
    elif state == LONG_AGO:
        completed = {course: today - _days(rng.randint(2000, 2600)) for course in required}
    else:
        completed = {
            course: _completed_while_current(rng, course=course, today=today) for course in required
        }
        renewable = rng.choice(reference.renewable_courses)
        months = renewable.valid_for_months
        if state == EXPIRING:
            completed[renewable] = add_months(today + _days(rng.randint(5, 28)), -months)
        elif state == LAPSED and rng.random() < 0.3:
            del completed[renewable]
        elif state == LAPSED:
            completed[renewable] = add_months(today - _days(rng.randint(1, 150)), -months)
    if completed and rng.random() < 0.3:
        for course in reference.optional_courses:
            completed[course] = _completed_while_current(rng, course=course, today=today)
    return [
        PlannedTraining(course=course, completed_on=day, expires_on=course.expiry_for(day))
        for course, day in completed.items()
    ]


def draw_absences(rng, *, today, share):
    """Now and then a volunteer is away: some now, some soon."""
    if rng.random() >= share:
        return []
    reason = rng.choice(("Holiday", "Family commitments", "Unwell", "Working away"))
    starts_on = today + _days(rng.randint(-5, 20))
    return [(starts_on, starts_on + _days(rng.randint(3, 14)), reason)]


AVAILABILITY_COUNTS = {
    VolunteerStatus.ACTIVE: (1, 4),
    VolunteerStatus.IN_TRAINING: (0, 2),
    VolunteerStatus.APPLICANT: (0, 1),
    VolunteerStatus.PAUSED: (0, 2),
    VolunteerStatus.LEFT: (0, 1),
}


def plan_volunteer(rng, *, reference, status, training_state, phone, today, now, notes=""):
    gender = _weighted(rng, GENDER_WEIGHTS)
    first_name, surname = draw_name(rng, gender=gender)
    status_changed_at = now - _days(rng.randint(1, 700))
    consents = phone is not None and rng.random() < 0.9
    fewest, most = AVAILABILITY_COUNTS[status]
    return VolunteerPlan(
        fields={
            "preferred_name": first_name,
            "full_name": f"{first_name} {surname}",
            "phone": phone,
            "email": f"{first_name}.{surname}@example.org".lower(),
            "area": draw_area(rng, reference=reference),
            "travel_radius_km": rng.choice((5, 8, 10, 10, 15, 20, 25)),
            "gender": gender,
            "max_active_matches": rng.choice((1, 2, 2, 3)),
            "status": status,
            "status_changed_at": status_changed_at,
            "sms_consent": consents,
            "sms_consent_at": status_changed_at if consents else None,
            "notes": notes,
            **draw_meeting_modes(rng),
        },
        training_state=training_state,
        languages=draw_languages(rng, reference=reference),
        focuses=draw_focuses(rng, reference=reference, most=3),
        availability=draw_weekly_windows(rng, count=rng.randint(fewest, most)),
        training=draw_training(rng, state=training_state, reference=reference, today=today),
    )


def plan_peer(rng, *, reference, status, phone, today, now, supporter=None, notes=""):
    """A peer; a matched peer lives near their supporter and shares a language with them."""
    gender = _weighted(rng, GENDER_WEIGHTS)
    first_name, surname = draw_name(rng, gender=gender)
    waiting_since = None
    if status != PeerStatus.REFERRED:
        # A matched peer waited a while and has met their supporter for some weeks since.
        waited = rng.randint(35, 120) if supporter else rng.randint(2, 84)
        waiting_since = now - datetime.timedelta(days=waited, hours=rng.randint(0, 23))
    joined = timezone.localdate(waiting_since) if waiting_since else today
    consents = phone is not None and rng.random() < 0.5
    if supporter:
        area = supporter.fields["area"]
        languages = supporter.languages[:1]
        preferred_supporter_gender = Peer.SupporterGender.ANY
    else:
        area = draw_area(rng, reference=reference)
        languages = draw_languages(rng, reference=reference)
        preferred_supporter_gender = _weighted(rng, SUPPORTER_GENDER_WEIGHTS)
    plan = PeerPlan(
        fields={
            "preferred_name": first_name,
            "full_name": f"{first_name} {surname}",
            "phone": phone,
            "area": area,
            "gender": gender,
            "preferred_supporter_gender": preferred_supporter_gender,
            "status": status,
            "status_changed_at": waiting_since or now,
            "waiting_since": waiting_since,
            "referral_source": _weighted(rng, REFERRAL_SOURCE_WEIGHTS),
            "referred_on": joined - _days(rng.randint(0, 14)),
            "sms_consent": consents,
            "sms_consent_at": now - _days(rng.randint(1, 60)) if consents else None,
            "notes": notes,
            **draw_meeting_modes(rng),
        },
        languages=languages,
        focuses=draw_focuses(rng, reference=reference, most=2),
        preferred_times=draw_weekly_windows(rng, count=rng.choice((0, 0, 1, 2, 3))),
    )
    modes = [mode for mode in MEETING_MODES if supporter and supporter.fields[mode]]
    if modes and not any(plan.fields[mode] for mode in modes):
        # A matched peer meets their supporter some way, so their sessions can be planned.
        plan.fields[modes[0]] = True
    return plan


@dataclass
class DemoPlan:
    volunteers: list
    peers: list
    matches: list  # (volunteer plan, peer plan)


def _ready_to_sign_in(plan, *, reference, today):
    """The volunteer who signs in to the app by text: active, trained, agreed to texts.

    Set after the draw, from a generator of their own, so everyone else stays as drawn.
    """
    rng = random.Random(DEMO_SEED + 1)
    plan.fields["status"] = VolunteerStatus.ACTIVE
    plan.fields["sms_consent"] = True
    plan.fields["sms_consent_at"] = (
        plan.fields["sms_consent_at"] or plan.fields["status_changed_at"]
    )
    if plan.training_state != CURRENT:
        plan.training_state = CURRENT
        plan.training = draw_training(rng, state=CURRENT, reference=reference, today=today)
    if not plan.availability:
        plan.availability = draw_weekly_windows(rng, count=2)


def plan_demo_set(*, reference, today, now):
    """The demo set: the same 40 volunteers, 60 peers and matches on every run."""
    rng = random.Random(DEMO_SEED)
    mix = list(DEMO_VOLUNTEER_MIX)
    rng.shuffle(mix)
    volunteers = [
        plan_volunteer(
            rng,
            reference=reference,
            status=status,
            training_state=training_state,
            phone=drama_phone(number),
            today=today,
            now=now,
        )
        for number, (status, training_state) in zip(DEMO_VOLUNTEER_NUMBERS, mix, strict=True)
    ]
    sign_in = volunteers[0]
    _ready_to_sign_in(sign_in, reference=reference, today=today)
    active = [
        plan
        for plan in volunteers
        if plan.fields["status"] == VolunteerStatus.ACTIVE and plan is not sign_in
    ]
    for plan, (starts, ends, reason) in zip(
        active,
        [(-3, 10, "Holiday"), (14, 21, "Family commitments"), (-60, -50, "Unwell")],
        strict=False,
    ):
        plan.absences.append((today + _days(starts), today + _days(ends), reason))
    # The sign-in volunteer supports someone first, so the app has a match and sessions.
    supporters = [
        plan
        for plan in volunteers
        if plan.fields["status"] == VolunteerStatus.ACTIVE
        and plan.training_state == CURRENT
        and not plan.absent_on(today)
    ]
    statuses = list(DEMO_PEER_MIX)
    rng.shuffle(statuses)
    peers, matches = [], []
    for number, status in zip(DEMO_PEER_NUMBERS, statuses, strict=True):
        supporter = None
        if status == PeerStatus.MATCHED:
            supporter = supporters[len(matches) % len(supporters)]
        peer = plan_peer(
            rng,
            reference=reference,
            status=status,
            phone=drama_phone(number),
            today=today,
            now=now,
            supporter=supporter,
        )
        peers.append(peer)
        if supporter:
            matches.append((supporter, peer))
    return DemoPlan(volunteers=volunteers, peers=peers, matches=matches)


@dataclass(frozen=True)
class DemoSummary:
    volunteers: int
    peers: int
    active_matches: int
    volunteers_added: int
    peers_added: int
    matches_added: int
    history: object = None  # a demo_history.HistorySummary


def _by_phone(model, phones):
    records = model.objects.filter(phone__in=phones)
    return {record.phone.as_e164: record for record in records}


def _write_demo_volunteer(plan):
    volunteer = create_volunteer(languages=plan.languages, focuses=plan.focuses, **plan.fields)
    for training in plan.training:
        record_training(
            volunteer=volunteer,
            course=training.course,
            completed_on=training.completed_on,
            expires_on=training.expires_on,
        )
    for window in plan.availability:
        add_availability(
            volunteer=volunteer,
            weekday=window.weekday,
            starts_at=window.starts_at,
            ends_at=window.ends_at,
        )
    for starts_on, ends_on, reason in plan.absences:
        add_absence(volunteer=volunteer, starts_on=starts_on, ends_on=ends_on, reason=reason)
    return volunteer


def _write_demo_peer(plan):
    """A new peer starts referred or waiting; other statuses are reached by status changes."""
    fields = dict(plan.fields)
    status = fields.pop("status")
    start = PeerStatus.REFERRED if status == PeerStatus.REFERRED else PeerStatus.WAITING
    peer = create_peer(languages=plan.languages, focuses=plan.focuses, status=start, **fields)
    for window in plan.preferred_times:
        add_preferred_time(
            peer=peer, weekday=window.weekday, starts_at=window.starts_at, ends_at=window.ends_at
        )
    if status in (PeerStatus.PAUSED, PeerStatus.CLOSED):
        change_peer_status(peer=peer, to=status)
    return peer


def _write_demo_match(*, volunteer, peer, today, now):
    """An active match, unless the peer already has one or the volunteer is at capacity."""
    if Match.objects.filter(peer=peer).exists():
        return None
    if Match.objects.active().filter(volunteer=volunteer).count() >= volunteer.max_active_matches:
        return None
    proposed_at = min(peer.waiting_since + datetime.timedelta(days=3), now)
    match = save_validated(
        Match(
            peer=peer,
            volunteer=volunteer,
            status=Match.Status.ACTIVE,
            proposed_at=proposed_at,
            started_on=min(timezone.localdate(proposed_at) + _days(4), today),
        )
    )
    change_peer_status(peer=peer, to=PeerStatus.MATCHED, note="Matched in the demo set.")
    return match


@transaction.atomic
def seed_demo_set(*, today=None, now=None, coordinator=None):
    """Create whatever part of the demo set is missing, and its history (sessions, texts,
    wellbeing answers, follow-ups, one handled by `coordinator`); what is there is kept."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    ensure_reference_data()
    plan = plan_demo_set(reference=Reference.load(), today=today, now=now)
    volunteers = _by_phone(Volunteer, [p.phone for p in plan.volunteers])
    peers = _by_phone(Peer, [p.phone for p in plan.peers])
    new_volunteers = [p for p in plan.volunteers if p.phone not in volunteers]
    new_peers = [p for p in plan.peers if p.phone not in peers]
    for volunteer_plan in new_volunteers:
        volunteers[volunteer_plan.phone] = _write_demo_volunteer(volunteer_plan)
    for peer_plan in new_peers:
        peers[peer_plan.phone] = _write_demo_peer(peer_plan)
    new_phones = {p.phone for p in new_peers}
    matches = [
        _write_demo_match(
            volunteer=volunteers[volunteer_plan.phone],
            peer=peers[peer_plan.phone],
            today=today,
            now=now,
        )
        for volunteer_plan, peer_plan in plan.matches
        if peer_plan.phone in new_phones
    ]
    history = seed_demo_history(
        volunteers=list(volunteers.values()),
        peers=list(peers.values()),
        now=now,
        coordinator=coordinator,
    )
    return DemoSummary(
        volunteers=len(volunteers),
        peers=len(peers),
        active_matches=Match.objects.active().filter(peer__in=peers.values()).count(),
        volunteers_added=len(new_volunteers),
        peers_added=len(new_peers),
        matches_added=sum(1 for match in matches if match),
        history=history,
    )


@dataclass(frozen=True)
class CoordinatorLogin:
    email: str
    password: str | None  # None: changed since, and kept
    created: bool


@transaction.atomic
def ensure_coordinator(*, email=DEMO_COORDINATOR_EMAIL, password=None):
    """A staff user in the Coordinators group, never a superuser; an existing one is kept.

    An existing coordinator's password is only set when one is given; otherwise the login
    shows the demo password if it still works, and None if they have changed it. With DEBUG
    off a new coordinator needs a password of its own.
    """
    User = get_user_model()
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User(email=email, name="Demo coordinator")
    if created and not password and not settings.DEBUG:
        raise ValidationError(
            "DEBUG is off, so this may be a live site, and the demo password is public: "
            "choose the coordinator's password with --coordinator-password."
        )
    chosen = password or (DEMO_COORDINATOR_PASSWORD if created else None)
    if chosen:
        password_validation.validate_password(chosen, user)
        user.set_password(chosen)
    user.is_staff = True
    user.is_active = True
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.add(Group.objects.get(name=COORDINATORS_GROUP))
    if chosen is None and user.check_password(DEMO_COORDINATOR_PASSWORD):
        chosen = DEMO_COORDINATOR_PASSWORD
    return CoordinatorLogin(email=user.email, password=chosen, created=created)


@transaction.atomic
def ensure_app_volunteer():
    """The first demo volunteer's sign-in for the partner app: by a code texted to their
    phone, with no password. Returns the phone number, or None before the demo set exists."""
    volunteer = Volunteer.objects.filter(phone=drama_phone(DEMO_VOLUNTEER_NUMBERS[0])).first()
    if volunteer is None:
        return None
    if volunteer.user_id is None:
        User = get_user_model()
        user = User.objects.filter(email=DEMO_APP_VOLUNTEER_EMAIL).first() or User(
            email=DEMO_APP_VOLUNTEER_EMAIL, name=volunteer.preferred_name
        )
        user.phone = volunteer.phone
        user.set_unusable_password()
        user.save()
        volunteer.user = user
        volunteer.save(update_fields=["user"])
    return volunteer.user.phone


def _free_synthetic_phones():
    """Drama-range numbers for synthetic volunteers that no volunteer holds yet, in order."""
    held = {
        phone.as_e164
        for phone in Volunteer.objects.filter(phone__startswith=FICTIONAL_PREFIX).values_list(
            "phone", flat=True
        )
    }
    for number in SYNTHETIC_VOLUNTEER_NUMBERS:
        if drama_phone(number) not in held:
            yield drama_phone(number)


def plan_synthetic_volunteer(index, *, reference, phone, today, now):
    """Synthetic volunteer number `index`: the same person whichever run makes them."""
    rng = random.Random(SYNTHETIC_VOLUNTEER_SEED + index)
    status, training_state = _weighted(rng, SYNTHETIC_VOLUNTEER_MIX)
    plan = plan_volunteer(
        rng,
        reference=reference,
        status=status,
        training_state=training_state,
        phone=phone,
        today=today,
        now=now,
        notes=SYNTHETIC_VOLUNTEER_NOTE,
    )
    if status == VolunteerStatus.ACTIVE:
        plan.absences = draw_absences(rng, today=today, share=0.04)
    return plan


def plan_synthetic_peer(index, *, reference, today, now):
    rng = random.Random(SYNTHETIC_PEER_SEED + index)
    return plan_peer(
        rng,
        reference=reference,
        status=_weighted(rng, SYNTHETIC_PEER_MIX),
        phone=None,
        today=today,
        now=now,
        notes=SYNTHETIC_PEER_NOTE,
    )


@transaction.atomic
def _insert_volunteers(plans):
    """Bulk-insert volunteers with everything they own; returns the number of rows written.

    Bulk inserts skip save(), so the plans carry what save() would fill in: the time of SMS
    consent and every training record's expiry.
    """
    volunteers = Volunteer.objects.bulk_create([Volunteer(**plan.fields) for plan in plans])
    pairs = list(zip(volunteers, plans, strict=True))
    speaks = Volunteer.languages.through
    knows = Volunteer.focuses.through
    rows = [
        [speaks(volunteer_id=v.pk, language_id=lang.pk) for v, p in pairs for lang in p.languages],
        [knows(volunteer_id=v.pk, focus_id=focus.pk) for v, p in pairs for focus in p.focuses],
        [
            TrainingRecord(
                volunteer_id=v.pk,
                course_id=t.course.pk,
                completed_on=t.completed_on,
                expires_on=t.expires_on,
            )
            for v, p in pairs
            for t in p.training
        ],
        [
            AvailabilityWindow(
                volunteer_id=v.pk, weekday=w.weekday, starts_at=w.starts_at, ends_at=w.ends_at
            )
            for v, p in pairs
            for w in p.availability
        ],
        [
            Absence(volunteer_id=v.pk, starts_on=starts_on, ends_on=ends_on, reason=reason)
            for v, p in pairs
            for starts_on, ends_on, reason in p.absences
        ],
    ]
    for objects in rows:
        if objects:
            type(objects[0]).objects.bulk_create(objects)
    return len(volunteers) + sum(len(objects) for objects in rows)


@transaction.atomic
def _insert_peers(plans):
    peers = Peer.objects.bulk_create([Peer(**plan.fields) for plan in plans])
    pairs = list(zip(peers, plans, strict=True))
    speaks = Peer.languages.through
    wants = Peer.focuses.through
    rows = [
        [speaks(peer_id=peer.pk, language_id=lang.pk) for peer, p in pairs for lang in p.languages],
        [wants(peer_id=peer.pk, focus_id=focus.pk) for peer, p in pairs for focus in p.focuses],
        [
            PreferredTime(
                peer_id=peer.pk, weekday=w.weekday, starts_at=w.starts_at, ends_at=w.ends_at
            )
            for peer, p in pairs
            for w in p.preferred_times
        ],
    ]
    for objects in rows:
        if objects:
            type(objects[0]).objects.bulk_create(objects)
    return len(peers) + sum(len(objects) for objects in rows)


@dataclass(frozen=True)
class SyntheticSummary:
    added: int
    total: int
    rows: int


def add_synthetic_volunteers(*, total, batch_size=1000, progress=None, today=None, now=None):
    """Top the synthetic volunteers up to `total`, one transaction per batch.

    An interrupted run leaves whole batches behind, and the next run carries on from there.
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    reference = Reference.load()
    existing = Volunteer.objects.filter(notes=SYNTHETIC_VOLUNTEER_NOTE).count()
    phones = _free_synthetic_phones()
    rows = 0
    for start in range(existing, total, batch_size):
        stop = min(start + batch_size, total)
        plans = [
            plan_synthetic_volunteer(
                index, reference=reference, phone=next(phones, None), today=today, now=now
            )
            for index in range(start, stop)
        ]
        rows += _insert_volunteers(plans)
        if progress:
            progress(done=stop, total=total)
    return SyntheticSummary(added=max(total - existing, 0), total=max(total, existing), rows=rows)


def add_synthetic_peers(*, total, batch_size=1000, progress=None, today=None, now=None):
    """Top the synthetic peers up to `total`, one transaction per batch."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    reference = Reference.load()
    existing = Peer.objects.filter(notes=SYNTHETIC_PEER_NOTE).count()
    rows = 0
    for start in range(existing, total, batch_size):
        stop = min(start + batch_size, total)
        plans = [
            plan_synthetic_peer(index, reference=reference, today=today, now=now)
            for index in range(start, stop)
        ]
        rows += _insert_peers(plans)
        if progress:
            progress(done=stop, total=total)
    return SyntheticSummary(added=max(total - existing, 0), total=max(total, existing), rows=rows)
