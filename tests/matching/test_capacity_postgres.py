"""A volunteer's capacity holds when two coordinators approve at the same moment (PostgreSQL:
SQLite has one writer at a time, so only PostgreSQL shows what the row lock prevents)."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone

from community.errors import StateConflict
from matching import assignment, services
from matching.models import Match
from peers.models import Peer
from tests.factories import (
    MatchFactory,
    PeerFactory,
    UserFactory,
    VolunteerFactory,
    fully_trained,
)

# Each test starts from the data the migrations loaded (areas, courses, the Coordinators group).
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_approvals_for_the_last_place_at_once_make_one_match():
    volunteer = VolunteerFactory(preferred_name="Senga", max_active_matches=1)
    proposals = MatchFactory.create_batch(2, volunteer=volunteer)
    coordinators = UserFactory.create_batch(2, is_staff=True)
    start = threading.Barrier(2)
    outcomes = []

    def approve(match, coordinator):
        try:
            start.wait()
            services.approve_match(match, by=coordinator)
            outcomes.append("approved")
        except StateConflict as refusal:
            outcomes.append(refusal.message)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=approve, args=pair)
        for pair in zip(proposals, coordinators, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == [
        "Senga already supports 1 person and their capacity is 1; end one of their matches or "
        "raise their capacity first.",
        "approved",
    ]
    assert Match.objects.active().filter(volunteer=volunteer).count() == 1
    assert Match.objects.filter(status="proposed").count() == 1
    assert Peer.objects.filter(status="matched").count() == 1


def test_two_sessions_at_the_same_hour_at_once_make_one_session():
    """The overlap check holds the volunteer's row too, so two coordinators scheduling the
    same hour for two of a volunteer's peers cannot both pass it."""
    volunteer = VolunteerFactory(preferred_name="Senga")
    matches = MatchFactory.create_batch(2, active=True, volunteer=volunteer)
    start = threading.Barrier(2)
    outcomes = []
    starts_at = timezone.now().replace(microsecond=0) + datetime.timedelta(days=2)

    def schedule(match):
        try:
            start.wait()
            services.schedule_session(
                match,
                starts_at=starts_at,
                ends_at=starts_at + datetime.timedelta(hours=1),
                mode="phone",
            )
            outcomes.append("scheduled")
        except ValidationError as refusal:
            outcomes.append(refusal.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=schedule, args=(match,)) for match in matches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["overlap", "scheduled"]


def test_two_bulk_assignments_at_once_propose_each_peer_once(monkeypatch):
    """Both runs choose their pairs before either writes; the peers' row locks make the
    second wait for the first, then find its peers taken, and write nothing."""
    volunteers = [fully_trained(VolunteerFactory()) for _ in range(2)]
    peers = PeerFactory.create_batch(3)
    coordinators = UserFactory.create_batch(2, is_staff=True)
    both_chose = threading.Barrier(2)
    real_lock = assignment.lock_for_proposals
    outcomes = []

    def lock_when_both_chose(pairs):
        both_chose.wait(timeout=30)
        return real_lock(pairs)

    monkeypatch.setattr(assignment, "lock_for_proposals", lock_when_both_chose)

    def propose(coordinator):
        try:
            made = assignment.propose_for_waiting_list(by=coordinator).matches
            outcomes.append(len(made))
        except StateConflict as refusal:
            outcomes.append(refusal.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=propose, args=[c]) for c in coordinators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes, key=str) == [3, "peer_has_match"]
    proposed = Match.objects.filter(status="proposed")
    assert sorted(proposed.values_list("peer", flat=True)) == sorted(p.pk for p in peers)
    assert {match.volunteer_id for match in proposed} <= {v.pk for v in volunteers}
