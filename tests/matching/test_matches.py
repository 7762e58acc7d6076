"""Matches and exclusions: proposing, approving, declining and ending, and who never meets whom."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from community.errors import StateConflict
from matching import engine, services
from matching.models import Exclusion, Match, Session
from peers.models import Peer, PeerStatusChange
from tests.factories import (
    AbsenceFactory,
    ExclusionFactory,
    MatchFactory,
    PeerFactory,
    SessionFactory,
    TrainingRecordFactory,
    VolunteerFactory,
    area,
    course,
    fully_trained,
)

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def snapshot():
    """Everything a matching service may change, to prove a refusal changed nothing."""
    return {
        "matches": sorted(Match.objects.values_list("pk", "status", "decided_at", "ended_on")),
        "peers": sorted(PeerStatusChange.objects.values_list("peer", "to_status")),
        "exclusions": sorted(Exclusion.objects.values_list("peer", "volunteer")),
        "sessions": sorted(Session.objects.values_list("pk", "status")),
    }


def supporter(**fields):
    """An active volunteer with every required course current: eligible unless told."""
    return fully_trained(VolunteerFactory(**fields))


def refused(error_class, call, **kwargs):
    before = snapshot()
    with pytest.raises(error_class) as refusal:
        call(**kwargs)
    assert snapshot() == before, "a refused call changed something"
    return refusal.value


class TestPropose:
    def test_a_waiting_peer_is_proposed_a_volunteer_with_the_engines_score_and_reasons(
        self, coordinator
    ):
        peer, volunteer = PeerFactory(), supporter(preferred_name="Senga")
        supporter()  # another who fits: the score is the pair's own, not a rank
        [expected] = [s for s in engine.suggest(peer, limit=None) if s.volunteer == volunteer]

        match = services.propose_match(peer, volunteer, by=coordinator)

        match.refresh_from_db()
        assert (match.status, match.proposed_by, match.proposed_at) == (
            "proposed",
            coordinator,
            NOW,
        )
        assert (match.score, match.reasons) == (expected.score, list(expected.reasons))
        assert match.started_on is None and match.decided_at is None
        peer.refresh_from_db()
        assert peer.status == "waiting"

    def test_a_second_match_for_a_matched_peer_is_refused(self, coordinator):
        current = MatchFactory(active=True, volunteer__preferred_name="Senga")

        refusal = refused(
            StateConflict,
            services.propose_match,
            peer=current.peer,
            volunteer=VolunteerFactory(),
            by=coordinator,
        )

        assert refusal.message == (
            f"{current.peer.reference} already has an active match with Senga; end or decline "
            "it before proposing another."
        )
        assert Match.objects.count() == 1

    def test_a_second_proposal_for_the_same_peer_is_refused(self, coordinator):
        first = MatchFactory(volunteer__preferred_name="Senga")

        refusal = refused(
            StateConflict,
            services.propose_match,
            peer=first.peer,
            volunteer=VolunteerFactory(),
            by=coordinator,
        )

        assert refusal.code == "peer_has_match"
        assert "already has a proposed match with Senga" in refusal.message

    @pytest.mark.parametrize("status", ["referred", "paused", "closed"])
    def test_only_a_peer_on_the_waiting_list_is_proposed_a_match(self, coordinator, status):
        peer = PeerFactory(status=status)

        refusal = refused(
            StateConflict,
            services.propose_match,
            peer=peer,
            volunteer=VolunteerFactory(),
            by=coordinator,
        )

        assert f"{peer.reference} is {peer.get_status_display().lower()}, not waiting" in (
            refusal.message
        )
        assert "put them on the waiting list first" in refusal.message

    def test_an_excluded_pair_is_never_proposed(self, coordinator):
        exclusion = ExclusionFactory(volunteer=supporter(preferred_name="Senga"), reason="Cousins.")
        reference = exclusion.peer.reference

        refusal = refused(
            StateConflict,
            services.propose_match,
            peer=exclusion.peer,
            volunteer=exclusion.volunteer,
            by=coordinator,
        )

        assert refusal.code == "not_eligible"
        assert refusal.message == (
            f"Senga cannot be proposed for {reference}: Senga must never be matched with "
            f"{reference}: Cousins."
        )

    @pytest.mark.parametrize("status", ["applicant", "in_training", "paused", "left"])
    def test_only_an_active_volunteer_is_proposed(self, coordinator, status):
        volunteer = VolunteerFactory(status=status, preferred_name="Senga")

        refusal = refused(
            StateConflict,
            services.propose_match,
            peer=PeerFactory(),
            volunteer=volunteer,
            by=coordinator,
        )

        assert "Senga is" in refusal.message and "not active" in refusal.message

    def test_a_volunteer_at_capacity_is_not_proposed(self, coordinator):
        volunteer = supporter(preferred_name="Senga", max_active_matches=1)
        MatchFactory(active=True, volunteer=volunteer)
        peer = PeerFactory()

        refusal = refused(
            StateConflict,
            services.propose_match,
            peer=peer,
            volunteer=volunteer,
            by=coordinator,
        )

        assert refusal.message == (
            f"Senga cannot be proposed for {peer.reference}: Senga already supports 1 person, "
            "their capacity of 1."
        )

    def test_a_volunteer_missing_required_training_is_refused_with_the_reason(self, coordinator):
        volunteer = VolunteerFactory(preferred_name="Senga")
        for required in ("ROSC", "PVG"):
            TrainingRecordFactory(volunteer=volunteer, course=course(required))
        peer = PeerFactory()

        refusal = refused(
            StateConflict,
            services.propose_match,
            peer=peer,
            volunteer=volunteer,
            by=coordinator,
        )

        assert refusal.code == "not_eligible"
        reasons = engine.why_not(peer, volunteer)
        assert reasons and all(reason.startswith("No ") for reason in reasons)
        assert refusal.message == (
            f"Senga cannot be proposed for {peer.reference}: {' '.join(reasons)}"
        )
        assert not Match.objects.exists()

    def test_a_volunteer_who_is_away_is_refused(self, coordinator):
        volunteer = supporter(preferred_name="Senga")
        AbsenceFactory(
            volunteer=volunteer,
            starts_on=TODAY,
            ends_on=TODAY + datetime.timedelta(days=6),
            reason="On holiday",
        )

        refusal = refused(
            StateConflict,
            services.propose_match,
            peer=PeerFactory(),
            volunteer=volunteer,
            by=coordinator,
        )

        assert refusal.code == "not_eligible"
        assert refusal.message.endswith(
            "Senga is away from 23 November 2026 to 29 November 2026 (On holiday)."
        )
        assert not Match.objects.exists()

    def test_a_volunteer_with_no_way_of_meeting_the_peer_is_refused(self, coordinator):
        peer = PeerFactory(
            area=area("Coatbridge"),
            meets_in_person=False,
            meets_by_phone=True,
            meets_by_video=False,
        )
        volunteer = supporter(
            preferred_name="Senga",
            area=area("Coatbridge"),
            meets_in_person=True,
            meets_by_phone=False,
            meets_by_video=True,
        )

        refusal = refused(
            StateConflict,
            services.propose_match,
            peer=peer,
            volunteer=volunteer,
            by=coordinator,
        )

        assert refusal.code == "not_eligible"
        assert refusal.message == (
            f"Senga cannot be proposed for {peer.reference}: No way of meeting suits both: "
            f"{peer.reference} meets by phone; Senga in person or by video."
        )
        assert not Match.objects.exists()


class TestApprove:
    def test_approving_starts_the_match_today_and_matches_the_peer(self, coordinator):
        match = MatchFactory(volunteer__preferred_name="Senga")

        approved = services.approve_match(match, by=coordinator)

        match.refresh_from_db()
        assert approved == match
        assert (match.status, match.started_on) == ("active", TODAY)
        assert (match.decided_by, match.decided_at) == (coordinator, NOW)
        match.peer.refresh_from_db()
        assert match.peer.status == "matched"
        change = PeerStatusChange.objects.get(peer=match.peer)
        assert (change.from_status, change.to_status, change.changed_by, change.note) == (
            "waiting",
            "matched",
            coordinator,
            "Matched with Senga.",
        )

    def test_approving_for_a_volunteer_at_capacity_is_refused(self, coordinator):
        volunteer = VolunteerFactory(preferred_name="Senga", max_active_matches=2)
        MatchFactory.create_batch(2, active=True, volunteer=volunteer)
        proposal = Match.objects.create(peer=PeerFactory(), volunteer=volunteer)

        refusal = refused(StateConflict, services.approve_match, match=proposal, by=coordinator)

        assert refusal.code == "at_capacity"
        assert refusal.message == (
            "Senga already supports 2 people and their capacity is 2; end one of their matches "
            "or raise their capacity first."
        )
        proposal.refresh_from_db()
        assert proposal.status == "proposed"
        proposal.peer.refresh_from_db()
        assert proposal.peer.status == "waiting"

    def test_the_last_place_goes_to_the_first_approval(self, coordinator):
        volunteer = VolunteerFactory(max_active_matches=1)
        first, second = MatchFactory.create_batch(2, volunteer=volunteer)

        services.approve_match(first, by=coordinator)

        with pytest.raises(StateConflict, match="capacity is 1"):
            services.approve_match(second, by=coordinator)

    def test_approving_twice_says_it_is_already_active(self, coordinator):
        match = MatchFactory(active=True, volunteer__preferred_name="Senga")

        refusal = refused(StateConflict, services.approve_match, match=match, by=coordinator)

        assert refusal.message == (
            f"The match of Senga with {match.peer.reference} is already active; nothing was "
            "changed."
        )

    def test_a_declined_proposal_cannot_be_approved(self, coordinator):
        match = MatchFactory(status="declined", volunteer__preferred_name="Senga")

        refusal = refused(StateConflict, services.approve_match, match=match, by=coordinator)

        assert refusal.message == (
            f"The match of Senga with {match.peer.reference} is declined, and that is final; "
            "propose a new match."
        )

    def test_a_peer_paused_since_the_proposal_is_not_matched(self, coordinator):
        match = MatchFactory()
        match.peer.status = "paused"
        match.peer.save()

        refusal = refused(StateConflict, services.approve_match, match=match, by=coordinator)

        assert f"{match.peer.reference} is paused, not waiting for a supporter" in refusal.message

    def test_a_volunteer_paused_since_the_proposal_is_not_matched(self, coordinator):
        match = MatchFactory(volunteer__preferred_name="Senga")
        match.volunteer.status = "paused"
        match.volunteer.save()

        refusal = refused(StateConflict, services.approve_match, match=match, by=coordinator)

        assert refusal.message.startswith("Senga is paused, not active")


class TestDecline:
    def test_a_declined_proposal_keeps_the_peer_waiting_for_another(self, coordinator):
        match = MatchFactory()

        services.decline_match(match, by=coordinator, reason="  Lives on the same street. ")

        match.refresh_from_db()
        assert (match.status, match.decided_by, match.decided_at) == ("declined", coordinator, NOW)
        assert match.end_reason == "Lives on the same street."
        match.peer.refresh_from_db()
        assert match.peer.status == "waiting"
        again = services.propose_match(match.peer, supporter(), by=coordinator)
        assert again.status == "proposed"

    def test_an_active_match_is_ended_not_declined(self, coordinator):
        match = MatchFactory(active=True)

        refusal = refused(StateConflict, services.decline_match, match=match, by=coordinator)

        assert refusal.message.endswith(
            "is active and cannot become declined; from active they can become: ended."
        )


class TestEnd:
    def test_a_peer_back_on_the_waiting_list_keeps_the_time_they_had_waited(
        self, coordinator, time_machine
    ):
        time_machine.move_to(NOW - datetime.timedelta(days=90), tick=False)
        peer = PeerFactory()
        time_machine.move_to(NOW - datetime.timedelta(days=60), tick=False)
        match = services.propose_match(peer, supporter(), by=coordinator)
        services.approve_match(match, by=coordinator)
        time_machine.move_to(NOW, tick=False)

        services.end_match(match, by=coordinator, reason="Moved to Glasgow.")

        listed = Peer.objects.waiting_first().get(pk=peer.pk)
        assert (listed.status, listed.waiting_since) == ("waiting", NOW)
        assert listed.waited_before == datetime.timedelta(days=30)
        assert listed.queue_since == NOW - datetime.timedelta(days=30)

    def test_ending_puts_the_peer_back_on_the_waiting_list_and_cancels_sessions_to_come(
        self, coordinator
    ):
        match = MatchFactory(active=True, volunteer__preferred_name="Senga")
        to_come = SessionFactory(match=match)
        past = SessionFactory(
            match=match,
            starts_at=NOW - datetime.timedelta(days=3),
            ends_at=NOW - datetime.timedelta(days=3, hours=-1),
            status="completed",
            hours=1,
        )

        services.end_match(match, by=coordinator, reason="Moved to Glasgow.")

        match.refresh_from_db()
        assert (match.status, match.ended_on, match.end_reason) == (
            "ended",
            TODAY,
            "Moved to Glasgow.",
        )
        match.peer.refresh_from_db()
        assert (match.peer.status, match.peer.waiting_since) == ("waiting", NOW)
        assert match.peer.status_log.get().note == "Match with Senga ended: Moved to Glasgow."
        to_come.refresh_from_db()
        past.refresh_from_db()
        assert (to_come.status, to_come.outcome_notes) == (
            "cancelled",
            "Cancelled: the match ended.",
        )
        assert past.status == "completed"

    def test_ending_when_support_is_over_closes_the_peers_record(self, coordinator):
        match = MatchFactory(active=True)

        services.end_match(
            match, by=coordinator, reason="Goals reached.", peer_back_to_waiting=False
        )

        match.peer.refresh_from_db()
        assert match.peer.status == "closed"

    def test_a_peer_paused_during_the_match_stays_paused(self, coordinator):
        match = MatchFactory(active=True, peer__status="paused")

        services.end_match(match, by=coordinator, reason="Volunteer left.")

        match.peer.refresh_from_db()
        assert match.peer.status == "paused"

    def test_the_reason_is_required(self, coordinator):
        match = MatchFactory(active=True)

        refusal = refused(
            ValidationError, services.end_match, match=match, by=coordinator, reason="  "
        )

        assert refusal.message_dict == {
            "reason": ["Say why the match ended; it stays on the record."]
        }

    def test_a_proposal_is_declined_not_ended(self, coordinator):
        match = MatchFactory()

        refusal = refused(
            StateConflict, services.end_match, match=match, by=coordinator, reason="No."
        )

        assert "is proposed and cannot become ended" in refusal.message

    def test_an_ended_match_stays_ended(self, coordinator):
        match = MatchFactory(active=True)
        services.end_match(match, by=coordinator, reason="Moved away.")

        refusal = refused(
            StateConflict, services.end_match, match=match, by=coordinator, reason="Again."
        )

        assert refusal.message.endswith("is already ended; nothing was changed.")


class TestTheDatabaseHoldsTheRules:
    def test_one_open_match_per_peer(self):
        match = MatchFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            Match.objects.create(peer=match.peer, volunteer=VolunteerFactory())

    def test_a_match_cannot_end_before_it_started(self):
        match = MatchFactory(active=True)
        with pytest.raises(IntegrityError), transaction.atomic():
            Match.objects.filter(pk=match.pk).update(
                status="ended", ended_on=match.started_on - datetime.timedelta(days=1)
            )

    def test_an_ended_match_has_its_end_date(self):
        match = MatchFactory(active=True)
        with pytest.raises(IntegrityError), transaction.atomic():
            Match.objects.filter(pk=match.pk).update(status="ended")

    def test_a_proposal_has_no_start_date(self):
        match = MatchFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            Match.objects.filter(pk=match.pk).update(started_on=TODAY)

    def test_one_exclusion_per_pair_with_a_reason(self):
        exclusion = ExclusionFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            Exclusion.objects.create(
                peer=exclusion.peer, volunteer=exclusion.volunteer, reason="Again."
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            Exclusion.objects.create(peer=PeerFactory(), volunteer=VolunteerFactory(), reason="")


class TestExclusions:
    def test_an_exclusion_is_recorded_with_who_and_why(self, coordinator):
        peer, volunteer = PeerFactory(), VolunteerFactory()

        exclusion = services.add_exclusion(peer, volunteer, reason=" Neighbours. ", by=coordinator)

        exclusion.refresh_from_db()
        assert (exclusion.reason, exclusion.created_by, exclusion.created_at) == (
            "Neighbours.",
            coordinator,
            NOW,
        )

    def test_the_same_exclusion_twice_is_refused(self, coordinator):
        exclusion = ExclusionFactory()

        refusal = refused(
            ValidationError,
            services.add_exclusion,
            peer=exclusion.peer,
            volunteer=exclusion.volunteer,
            reason="Again.",
        )

        assert refusal.messages == ["This volunteer is already excluded from this peer."]

    def test_a_reason_is_required(self):
        refusal = refused(
            ValidationError,
            services.add_exclusion,
            peer=PeerFactory(),
            volunteer=VolunteerFactory(),
            reason="",
        )

        assert refusal.message_dict == {"reason": ["Say why they must never be matched."]}

    @pytest.mark.parametrize(("active", "verb"), [(False, "decline"), (True, "end")])
    def test_a_pair_with_a_match_in_play_cannot_be_excluded(self, active, verb):
        match = MatchFactory(active=active, volunteer__preferred_name="Senga")

        refusal = refused(
            StateConflict,
            services.add_exclusion,
            peer=match.peer,
            volunteer=match.volunteer,
            reason="Fell out.",
        )

        article = "an active" if active else "a proposed"
        assert refusal.message.startswith(f"Senga has {article} match with {match.peer.reference}")
        assert refusal.message.endswith(f"{verb} it before excluding them.")

    def test_after_an_exclusion_is_removed_the_pair_can_be_proposed(self, coordinator):
        exclusion = ExclusionFactory(volunteer=supporter())

        services.remove_exclusion(exclusion)

        assert not Exclusion.objects.exists()
        match = services.propose_match(exclusion.peer, exclusion.volunteer, by=coordinator)
        assert match.status == "proposed"

    def test_a_past_match_does_not_stop_an_exclusion(self, coordinator):
        match = MatchFactory(active=True)
        services.end_match(match, by=coordinator, reason="It went badly.")

        exclusion = services.add_exclusion(
            match.peer, match.volunteer, reason="It went badly.", by=coordinator
        )

        assert exclusion.pk


def test_matches_in_play_are_proposed_and_active():
    proposed, active = MatchFactory(), MatchFactory(active=True)
    MatchFactory(status="declined")

    assert set(Match.objects.open()) == {proposed, active}
