import datetime

import pytest
from rest_framework.test import APIClient

from community.models import Area, Focus, Language
from matching.follow_ups import raise_follow_up
from matching.models import FollowUp
from tests.factories import (
    AbsenceFactory,
    AvailabilityWindowFactory,
    ExclusionFactory,
    MatchFactory,
    PeerFactory,
    PreferredTimeFactory,
    SessionFactory,
    UserFactory,
    VolunteerFactory,
    fully_trained,
)
from volunteers.models import Course


@pytest.fixture
def api(coordinator):
    """An API client signed in as a coordinator (browser session)."""
    client = APIClient()
    client.force_login(coordinator)
    return client


@pytest.fixture
def anonymous_api(db):
    return APIClient()


@pytest.fixture
def non_coordinator_api(db):
    """Signed in, but not a coordinator: a volunteer using the partner app, say."""
    client = APIClient()
    client.force_login(UserFactory(email="volunteer@example.org"))
    return client


def problem_of(response):
    """The problem-details body of an error response, checked for its shape on the way."""
    assert response["Content-Type"] == "application/problem+json", response.content
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == response.status_code
    return body


@pytest.fixture
def records(db):
    """A few real records, so that generated ids often name something that exists."""
    volunteers = [fully_trained(VolunteerFactory()) for _ in range(2)]
    for volunteer in volunteers:
        AvailabilityWindowFactory(volunteer=volunteer)
        AbsenceFactory(volunteer=volunteer)
    peers = [PeerFactory() for _ in range(2)]
    for peer in peers:
        PreferredTimeFactory(peer=peer)
    first_volunteer, first_peer = volunteers[0], peers[0]
    # A proposal, an active match with a session to come and one that took place (for the
    # actions on each), and an exclusion.
    proposal = MatchFactory(peer=peers[1], volunteer=volunteers[1])
    active = MatchFactory(active=True, volunteer=fully_trained(VolunteerFactory()))
    to_come = SessionFactory(match=active)
    started = to_come.starts_at - datetime.timedelta(days=3)
    taken_place = SessionFactory(
        match=active, starts_at=started, ends_at=started + datetime.timedelta(hours=1)
    )
    exclusion = ExclusionFactory(peer=first_peer, volunteer=volunteers[1])
    follow_up, _ = raise_follow_up(
        kind=FollowUp.Kind.SESSION_DECLINED,
        cause=f"test.declined:{to_come.pk}",
        summary="The volunteer cannot make it: find another time.",
        session=to_come,
    )
    return {
        "volunteers": [v.pk for v in volunteers],
        "peers": [p.pk for p in peers],
        "volunteer_id": [first_volunteer.pk],
        "peer_id": [first_peer.pk],
        "training-records": list(first_volunteer.training_records.values_list("pk", flat=True)),
        "availability": list(first_volunteer.availability.values_list("pk", flat=True)),
        "absences": list(first_volunteer.absences.values_list("pk", flat=True)),
        "preferred-times": list(first_peer.preferred_times.values_list("pk", flat=True)),
        "courses": list(Course.objects.values_list("code", flat=True)),
        "areas": list(Area.objects.values_list("slug", flat=True)[:5]),
        "languages": list(Language.objects.values_list("code", flat=True)),
        "focuses": list(Focus.objects.values_list("slug", flat=True)),
        "matches": [proposal.pk, active.pk],
        "sessions": [to_come.pk, taken_place.pk],
        "exclusions": [exclusion.pk],
        "follow-ups": [follow_up.pk],
    }
