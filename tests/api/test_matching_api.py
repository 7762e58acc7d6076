"""Matching for coordinators through the API: suggestions and why-not, matches, exclusions,
sessions, bulk assignment, and the matches and sessions on volunteer and peer answers."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matching import engine
from matching.models import Exclusion, Match, Session
from messaging.models import Message
from peers.models import Peer
from tests.api.conftest import problem_of
from tests.factories import (
    AbsenceFactory,
    ExclusionFactory,
    MatchFactory,
    PeerFactory,
    SessionFactory,
    UserFactory,
    VolunteerFactory,
    area,
    focus,
    fully_trained,
)
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday; London is on GMT
TODAY = NOW.date()

MATCHES = "/api/v1/matches/"
EXCLUSIONS = "/api/v1/exclusions/"
SESSIONS = "/api/v1/sessions/"
ASSIGNMENT = "/api/v1/waiting-list/assignment/"


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def at(day, hour, minute=0):
    """A moment in November 2026, UTC (London's time then), as the API writes it."""
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=UTC).isoformat()


def supporter(**fields):
    """An active volunteer with every required course current: eligible unless told."""
    fields.setdefault("preferred_name", "Morag")
    return fully_trained(VolunteerFactory(**fields))


def active_match(**fields):
    fields.setdefault("volunteer", supporter())
    return MatchFactory(active=True, **fields)


def suggestions_url(peer):
    return f"/api/v1/peers/{peer.pk}/suggestions/"


def why_not_url(peer, volunteer):
    return f"/api/v1/peers/{peer.pk}/why-not/{volunteer.pk}/"


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def snapshot():
    """Everything matching writes, to show that a refused request changed nothing."""
    return (
        sorted(
            Match.objects.values_list(
                "pk", "status", "volunteer_id", "peer_id", "started_on", "ended_on", "end_reason"
            )
        ),
        sorted(Exclusion.objects.values_list("pk", "peer_id", "volunteer_id", "reason")),
        sorted(
            Session.objects.values_list(
                "pk", "status", "starts_at", "ends_at", "mode", "place", "hours", "outcome_notes"
            )
        ),
        sorted(Peer.objects.values_list("pk", "status")),
    )


def refused(response, status, code=None):
    """The problem of a refused request, checked for its status (and code)."""
    assert response.status_code == status, response.content
    problem = problem_of(response)
    if code is not None:
        assert problem["code"] == code, problem
    return problem


def queries_for(api, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url, {"page_size": 100, **(params or {})})
    assert response.status_code == 200, response.content
    return len(captured), response.json()["count"]


# Who may use them -------------------------------------------------------------------------


ENDPOINTS = [
    ("get", "/api/v1/peers/{peer}/suggestions/"),
    ("get", "/api/v1/peers/{peer}/why-not/{volunteer}/"),
    ("get", MATCHES),
    ("post", MATCHES),
    ("get", MATCHES + "{match}/"),
    ("post", MATCHES + "{match}/approve/"),
    ("post", MATCHES + "{match}/decline/"),
    ("post", MATCHES + "{match}/end/"),
    ("get", EXCLUSIONS),
    ("post", EXCLUSIONS),
    ("get", EXCLUSIONS + "{exclusion}/"),
    ("delete", EXCLUSIONS + "{exclusion}/"),
    ("get", SESSIONS),
    ("post", SESSIONS),
    ("get", SESSIONS + "{session}/"),
    ("post", SESSIONS + "{session}/reschedule/"),
    ("post", SESSIONS + "{session}/cancel/"),
    ("post", SESSIONS + "{session}/outcome/"),
    ("post", SESSIONS + "{session}/confirm/"),
    ("post", SESSIONS + "{session}/decline/"),
    ("post", ASSIGNMENT),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anyone_not_signed_in_gets_401(anonymous_api, method, url):
    url = url.format(peer=1, volunteer=1, match=1, session=1, exclusion=1)

    response = getattr(anonymous_api, method)(url, {}, format="json")

    refused(response, 401, "not_authenticated")


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_signed_in_non_coordinators_get_403_and_change_nothing(non_coordinator_api, method, url):
    proposal = MatchFactory(volunteer=supporter())
    PeerFactory()  # someone waiting, for bulk assignment
    session = SessionFactory(match=active_match())
    exclusion = ExclusionFactory(volunteer=supporter())
    url = url.format(
        peer=proposal.peer.pk,
        volunteer=proposal.volunteer.pk,
        match=proposal.pk,
        session=session.pk,
        exclusion=exclusion.pk,
    )
    before = snapshot()
    body = {"dry_run": False, "peer": proposal.peer.pk, "volunteer": proposal.volunteer.pk}

    response = getattr(non_coordinator_api, method)(url, body, format="json")

    refused(response, 403, "permission_denied")
    assert snapshot() == before


# Suggestions and why-not ------------------------------------------------------------------


class TestSuggestions:
    def test_volunteers_are_ranked_with_their_score_and_reasons(self, api):
        peer = PeerFactory(area=area("Coatbridge"))
        peer.focuses.set([focus("drugs")])
        near = supporter(preferred_name="Aileen", area=area("Coatbridge"))
        near.focuses.set([focus("drugs")])
        further = supporter(preferred_name="Senga", area=area("Airdrie"))

        response = api.get(suggestions_url(peer))

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["peer"] == peer.pk
        assert body["peer_reference"] == peer.reference
        found = body["suggestions"]
        assert [row["volunteer"] for row in found] == [near.pk, further.pk]
        assert found[0]["volunteer_name"] == "Aileen"
        assert found[0]["score"] > found[1]["score"]
        expected = engine.suggest(peer)[0]
        assert found[0]["score"] == expected.score
        assert found[0]["reasons"] == list(expected.reasons)
        assert any(reason.startswith("Lived experience of drugs") for reason in found[0]["reasons"])

    def test_limit_says_how_many_and_ten_is_the_default(self, api):
        peer = PeerFactory()
        for _ in range(12):
            supporter()

        assert len(api.get(suggestions_url(peer)).json()["suggestions"]) == 10
        assert len(api.get(suggestions_url(peer), {"limit": 3}).json()["suggestions"]) == 3
        assert len(api.get(suggestions_url(peer), {"limit": 50}).json()["suggestions"]) == 12

    def test_an_ineligible_volunteer_is_not_suggested(self, api):
        peer = PeerFactory()
        supporter(status=Volunteer.Status.PAUSED)

        assert api.get(suggestions_url(peer)).json()["suggestions"] == []

    @pytest.mark.parametrize(
        ("params", "field", "message"),
        [
            ({"limit": 0}, "limit", "from 1 to 50"),
            ({"limit": 51}, "limit", "from 1 to 50"),
            ({"limit": "ten"}, "limit", "“ten” is not a limit"),
            ({"limit": ""}, "limit", "Give a value"),
            ({"top": 3}, "top", "Unknown parameter"),
        ],
    )
    def test_a_bad_limit_or_parameter_is_refused(self, api, params, field, message):
        response = api.get(suggestions_url(PeerFactory()), params)

        problem = refused(response, 400, "invalid")
        assert message in " ".join(problem["errors"][field])

    def test_an_unknown_peer_is_a_404(self, api):
        refused(api.get("/api/v1/peers/999999/suggestions/"), 404, "not_found")

    def test_the_number_of_queries_does_not_grow_with_the_number_of_volunteers(self, api):
        peer = PeerFactory()
        supporter()
        one, found = queries_for_detail(api, suggestions_url(peer), {"limit": 50})
        assert len(found["suggestions"]) == 1
        for _ in range(30):
            supporter()

        many, found = queries_for_detail(api, suggestions_url(peer), {"limit": 50})

        assert len(found["suggestions"]) == 31
        assert many == one


class TestWhyNot:
    def test_an_eligible_volunteer_fails_no_rule(self, api):
        peer, volunteer = PeerFactory(), supporter(preferred_name="Aileen")

        response = api.get(why_not_url(peer, volunteer))

        assert response.status_code == 200, response.content
        assert response.json() == {
            "peer": peer.pk,
            "peer_reference": peer.reference,
            "volunteer": volunteer.pk,
            "volunteer_name": "Aileen",
            "eligible": True,
            "reasons": [],
        }

    def test_every_failed_rule_is_listed_in_words(self, api):
        peer = PeerFactory()
        volunteer = supporter(status=Volunteer.Status.PAUSED)
        AbsenceFactory(volunteer=volunteer, starts_on=TODAY, ends_on=TODAY, reason="Holiday")

        body = api.get(why_not_url(peer, volunteer)).json()

        assert body["eligible"] is False
        assert body["reasons"] == engine.why_not(peer, volunteer)
        assert "Morag is paused, not active." in body["reasons"]
        assert any("is away from 23 November 2026" in reason for reason in body["reasons"])

    def test_an_unknown_peer_or_volunteer_is_a_404(self, api):
        peer, volunteer = PeerFactory(), supporter()

        refused(api.get(f"/api/v1/peers/999999/why-not/{volunteer.pk}/"), 404, "not_found")
        refused(api.get(f"/api/v1/peers/{peer.pk}/why-not/999999/"), 404, "not_found")


# Matches ----------------------------------------------------------------------------------


class TestProposing:
    def test_a_proposal_keeps_the_engines_score_and_reasons_and_who_made_it(self, api):
        peer, volunteer = PeerFactory(), supporter(preferred_name="Aileen")
        expected = engine.suggest(peer)[0]

        response = api.post(MATCHES, {"peer": peer.pk, "volunteer": volunteer.pk}, format="json")

        assert response.status_code == 201, response.content
        body = response.json()
        match = Match.objects.get()
        assert body == {
            "id": match.pk,
            "peer": peer.pk,
            "peer_reference": peer.reference,
            "volunteer": volunteer.pk,
            "volunteer_name": "Aileen",
            "status": "proposed",
            "score": expected.score,
            "reasons": list(expected.reasons),
            "proposed_by": "coordinator@example.org",
            "proposed_at": body["proposed_at"],
            "decided_by": None,
            "decided_at": None,
            "started_on": None,
            "ended_on": None,
            "end_reason": "",
        }
        assert datetime.datetime.fromisoformat(body["proposed_at"]).tzinfo is not None
        assert (match.score, match.reasons) == (expected.score, list(expected.reasons))
        peer.refresh_from_db()
        assert peer.status == "waiting"  # proposed, not matched: a coordinator approves

    def test_a_volunteer_far_down_the_ranking_is_proposed_with_their_score_too(self, api):
        peer = PeerFactory(area=area("Coatbridge"))
        far = supporter(area=area("Hamilton"))
        for _ in range(50):
            supporter(area=area("Coatbridge"))
        everyone = engine.suggest(peer, limit=None)
        assert [s.volunteer for s in everyone].index(far) == 50
        [expected] = [s for s in everyone if s.volunteer == far]

        response = api.post(MATCHES, {"peer": peer.pk, "volunteer": far.pk}, format="json")

        assert response.status_code == 201, response.content
        assert response.json()["score"] == expected.score
        assert response.json()["reasons"] == list(expected.reasons)

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({"volunteer": "V"}, "peer", "This field is required."),
            ({"peer": "P"}, "volunteer", "This field is required."),
            ({"peer": "P", "volunteer": "17"}, "volunteer", "as a whole number"),
            ({"peer": True, "volunteer": "V"}, "peer", "as a whole number"),
            ({"peer": 999999, "volunteer": "V"}, "peer", "There is no peer with the id 999999."),
            ({"peer": "P", "volunteer": 2**70}, "volunteer", "There is no volunteer with the id"),
            ({"peer": "P", "volunteer": -1}, "volunteer", "There is no volunteer with the id -1"),
            ({"peer": "P", "volunteer": "V", "score": 99}, "score", "Unknown field"),
        ],
    )
    def test_missing_malformed_and_unknown_input_is_refused(self, api, body, field, message):
        peer, volunteer = PeerFactory(), supporter()
        body = {
            key: {"P": peer.pk, "V": volunteer.pk}.get(value, value)
            if isinstance(value, str)
            else value
            for key, value in body.items()
        }

        problem = refused(api.post(MATCHES, body, format="json"), 400, "invalid")

        assert message in " ".join(problem["errors"][field])
        assert not Match.objects.exists()

    def test_a_volunteer_who_fails_a_rule_is_refused_with_every_reason(self, api):
        peer = PeerFactory()
        volunteer = supporter(status=Volunteer.Status.PAUSED)
        AbsenceFactory(volunteer=volunteer, starts_on=TODAY, ends_on=TODAY)

        problem = refused(
            api.post(MATCHES, {"peer": peer.pk, "volunteer": volunteer.pk}, format="json"),
            409,
            "not_eligible",
        )

        assert problem["detail"].startswith(f"Morag cannot be proposed for {peer.reference}:")
        for reason in engine.why_not(peer, volunteer):
            assert reason in problem["detail"]
        assert not Match.objects.exists()

    def test_an_excluded_volunteer_is_refused(self, api):
        peer, volunteer = PeerFactory(), supporter()
        ExclusionFactory(peer=peer, volunteer=volunteer, reason="They are neighbours.")

        problem = refused(
            api.post(MATCHES, {"peer": peer.pk, "volunteer": volunteer.pk}, format="json"), 409
        )

        assert "must never be matched" in problem["detail"]
        assert "They are neighbours." in problem["detail"]
        assert not Match.objects.exists()

    def test_a_second_match_for_a_matched_peer_is_refused_and_changes_nothing(self, api):
        match = active_match(volunteer=supporter(preferred_name="Aileen"))
        other = supporter()
        before = snapshot()

        problem = refused(
            api.post(MATCHES, {"peer": match.peer.pk, "volunteer": other.pk}, format="json"),
            409,
            "peer_has_match",
        )

        assert problem["detail"] == (
            f"{match.peer.reference} already has an active match with Aileen; end or decline "
            "it before proposing another."
        )
        assert snapshot() == before

    def test_the_same_proposal_twice_is_refused(self, api):
        peer, volunteer = PeerFactory(), supporter()
        body = {"peer": peer.pk, "volunteer": volunteer.pk}
        assert api.post(MATCHES, body, format="json").status_code == 201

        refused(api.post(MATCHES, body, format="json"), 409, "peer_has_match")
        assert Match.objects.count() == 1

    def test_a_peer_who_is_not_waiting_is_refused(self, api):
        peer, volunteer = PeerFactory(status=Peer.Status.REFERRED), supporter()

        problem = refused(
            api.post(MATCHES, {"peer": peer.pk, "volunteer": volunteer.pk}, format="json"),
            409,
            "peer_not_waiting",
        )

        assert "not waiting for a supporter" in problem["detail"]
        assert not Match.objects.exists()


class TestApproving:
    def test_approving_starts_the_match_and_the_peer_becomes_matched(self, api):
        match = MatchFactory(volunteer=supporter())

        response = api.post(f"{MATCHES}{match.pk}/approve/", format="json")

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "active"
        assert body["started_on"] == "2026-11-23"
        assert body["decided_by"] == "coordinator@example.org"
        match.peer.refresh_from_db()
        assert match.peer.status == "matched"

    def test_approving_twice_is_a_409(self, api):
        match = MatchFactory(volunteer=supporter())
        api.post(f"{MATCHES}{match.pk}/approve/", {}, format="json")
        before = snapshot()

        problem = refused(
            api.post(f"{MATCHES}{match.pk}/approve/", {}, format="json"), 409, "already_in_status"
        )

        assert "already active; nothing was changed" in problem["detail"]
        assert snapshot() == before

    def test_approving_for_a_volunteer_at_capacity_is_refused_and_changes_nothing(self, api):
        volunteer = supporter(preferred_name="Aileen", max_active_matches=1)
        active_match(volunteer=volunteer)
        proposal = MatchFactory(volunteer=volunteer)
        before = snapshot()

        problem = refused(
            api.post(f"{MATCHES}{proposal.pk}/approve/", format="json"), 409, "at_capacity"
        )

        assert problem["detail"] == (
            "Aileen already supports 1 person and their capacity is 1; end one of their "
            "matches or raise their capacity first."
        )
        assert snapshot() == before

    def test_a_declined_match_cannot_be_approved(self, api):
        match = MatchFactory(volunteer=supporter(), status=Match.Status.DECLINED)

        problem = refused(
            api.post(f"{MATCHES}{match.pk}/approve/", format="json"), 409, "final_status"
        )

        assert "declined, and that is final; propose a new match." in problem["detail"]

    def test_approve_takes_no_fields(self, api):
        match = MatchFactory(volunteer=supporter())

        problem = refused(
            api.post(f"{MATCHES}{match.pk}/approve/", {"status": "active"}, format="json"), 400
        )

        assert "Unknown field" in problem["errors"]["status"][0]
        match.refresh_from_db()
        assert match.status == "proposed"

    def test_an_unknown_match_is_a_404(self, api):
        refused(api.post(f"{MATCHES}999999/approve/", format="json"), 404, "not_found")
        refused(api.get(f"{MATCHES}999999/"), 404, "not_found")


class TestDecliningAndEnding:
    def test_declining_keeps_the_reason_and_the_peer_waits_on(self, api):
        match = MatchFactory(volunteer=supporter())

        response = api.post(
            f"{MATCHES}{match.pk}/decline/", {"reason": "Knows the family."}, format="json"
        )

        assert response.status_code == 200, response.content
        assert response.json()["status"] == "declined"
        assert response.json()["end_reason"] == "Knows the family."
        match.peer.refresh_from_db()
        assert match.peer.status == "waiting"

    def test_declining_needs_no_reason_but_only_once(self, api):
        match = MatchFactory(volunteer=supporter())

        assert api.post(f"{MATCHES}{match.pk}/decline/", format="json").status_code == 200
        refused(api.post(f"{MATCHES}{match.pk}/decline/", format="json"), 409)

    def test_an_active_match_cannot_be_declined(self, api):
        match = active_match()

        problem = refused(
            api.post(f"{MATCHES}{match.pk}/decline/", format="json"), 409, "invalid_transition"
        )

        assert "is active and cannot become declined" in problem["detail"]

    def test_ending_puts_the_peer_back_on_the_waiting_list_and_cancels_sessions_to_come(self, api):
        match = active_match()
        coming = SessionFactory(match=match)

        response = api.post(
            f"{MATCHES}{match.pk}/end/", {"reason": "Moved to Glasgow."}, format="json"
        )

        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["status"], body["ended_on"], body["end_reason"]) == (
            "ended",
            "2026-11-23",
            "Moved to Glasgow.",
        )
        match.peer.refresh_from_db()
        assert match.peer.status == "waiting"
        coming.refresh_from_db()
        assert coming.status == "cancelled"

    def test_ending_can_close_the_peers_record(self, api):
        match = active_match()

        api.post(
            f"{MATCHES}{match.pk}/end/",
            {"reason": "Support finished well.", "peer_back_to_waiting": False},
            format="json",
        )

        match.peer.refresh_from_db()
        assert match.peer.status == "closed"

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({}, "reason", "This field is required."),
            ({"reason": "   "}, "reason", "may not be blank"),
            ({"reason": 7}, "reason", "Give text"),
            ({"reason": "Moved", "peer_back_to_waiting": "no"}, "peer_back_to_waiting", "true"),
        ],
    )
    def test_ending_needs_a_reason(self, api, body, field, message):
        match = active_match()
        before = snapshot()

        problem = refused(api.post(f"{MATCHES}{match.pk}/end/", body, format="json"), 400)

        assert message in " ".join(problem["errors"][field])
        assert snapshot() == before

    def test_ending_twice_is_a_409(self, api):
        match = active_match()
        api.post(f"{MATCHES}{match.pk}/end/", {"reason": "Moved."}, format="json")
        before = snapshot()

        problem = refused(
            api.post(f"{MATCHES}{match.pk}/end/", {"reason": "Again."}, format="json"),
            409,
            "already_in_status",
        )

        assert "is already ended; nothing was changed" in problem["detail"]
        assert snapshot() == before

    def test_a_proposal_cannot_be_ended(self, api):
        match = MatchFactory(volunteer=supporter())

        refused(
            api.post(f"{MATCHES}{match.pk}/end/", {"reason": "x"}, format="json"),
            409,
            "invalid_transition",
        )


class TestMatchList:
    def test_filters_by_status_peer_and_volunteer(self, api):
        aileen, senga = supporter(), supporter()
        proposed = MatchFactory(volunteer=aileen)
        active = active_match(volunteer=senga)
        ended = MatchFactory(
            volunteer=aileen,
            peer=active.peer,
            status=Match.Status.ENDED,
            started_on=TODAY - datetime.timedelta(days=60),
            ended_on=TODAY - datetime.timedelta(days=30),
            decided_at=NOW - datetime.timedelta(days=60),
            proposed_at=NOW - datetime.timedelta(days=61),
        )

        assert ids(api.get(MATCHES)) == [active.pk, proposed.pk, ended.pk]
        assert ids(api.get(MATCHES, {"status": "proposed"})) == [proposed.pk]
        assert set(ids(api.get(MATCHES, {"peer": active.peer.pk}))) == {active.pk, ended.pk}
        assert set(ids(api.get(MATCHES, {"volunteer": aileen.pk}))) == {proposed.pk, ended.pk}
        assert ids(api.get(MATCHES, {"ordering": "proposed_at"}))[0] == ended.pk

    def test_newest_proposal_first(self, api):
        older = MatchFactory(volunteer=supporter(), proposed_at=NOW - datetime.timedelta(days=2))
        newer = MatchFactory(volunteer=supporter(), proposed_at=NOW - datetime.timedelta(days=1))

        assert ids(api.get(MATCHES)) == [newer.pk, older.pk]

    def test_search_finds_names_and_peer_references(self, api):
        aileen = MatchFactory(
            volunteer=supporter(preferred_name="Aileen"), peer__preferred_name="Jamie"
        )
        MatchFactory(volunteer=supporter(preferred_name="Senga"), peer__preferred_name="Kim")

        assert ids(api.get(MATCHES, {"search": "aileen"})) == [aileen.pk]
        assert ids(api.get(MATCHES, {"search": aileen.peer.reference})) == [aileen.pk]

    @pytest.mark.parametrize(
        ("params", "field", "message"),
        [
            ({"status": "maybe"}, "status", "Select a valid choice."),
            ({"peer": 999999}, "peer", "Select a valid choice."),
            ({"volunteer": "aileen"}, "volunteer", "Give the id as a whole number in digits"),
            ({"volunteer": "١"}, "volunteer", "Give the id as a whole number in digits"),
            ({"ordering": "peer"}, "ordering", "Cannot order by"),
            ({"colour": "red"}, "colour", "Unknown parameter"),
        ],
    )
    def test_bad_filters_are_refused(self, api, params, field, message):
        problem = refused(api.get(MATCHES, params), 400)

        assert message in " ".join(problem["errors"][field])

    @pytest.mark.parametrize("method", ["put", "patch", "delete"])
    def test_a_match_is_not_changed_or_deleted_directly(self, api, method):
        match = MatchFactory(volunteer=supporter())
        before = snapshot()

        response = getattr(api, method)(
            f"{MATCHES}{match.pk}/", {"status": "active"}, format="json"
        )

        refused(response, 405, "method_not_allowed")
        assert snapshot() == before

    def test_the_list_costs_the_same_queries_for_1_match_or_50(self, api):
        coordinator = UserFactory()
        MatchFactory(volunteer=supporter(), proposed_by=coordinator)
        one, count = queries_for(api, MATCHES)
        assert count == 1
        for _ in range(49):
            MatchFactory(
                volunteer=VolunteerFactory(), proposed_by=UserFactory(), decided_by=coordinator
            )

        fifty, count = queries_for(api, MATCHES)

        assert count == 50
        assert fifty == one


# Exclusions -------------------------------------------------------------------------------


class TestExclusions:
    def test_a_coordinator_excludes_a_pair_and_the_engine_honours_it(self, api):
        peer, volunteer = PeerFactory(), supporter(preferred_name="Aileen")
        assert [s.volunteer for s in engine.suggest(peer)] == [volunteer]

        response = api.post(
            EXCLUSIONS,
            {"peer": peer.pk, "volunteer": volunteer.pk, "reason": "They are neighbours."},
            format="json",
        )

        assert response.status_code == 201, response.content
        body = response.json()
        exclusion = Exclusion.objects.get()
        assert body == {
            "id": exclusion.pk,
            "peer": peer.pk,
            "peer_reference": peer.reference,
            "volunteer": volunteer.pk,
            "volunteer_name": "Aileen",
            "reason": "They are neighbours.",
            "created_by": "coordinator@example.org",
            "created_at": body["created_at"],
        }
        assert engine.suggest(peer) == []
        assert api.get(suggestions_url(peer)).json()["suggestions"] == []

    def test_the_same_exclusion_twice_is_a_409_and_adds_nothing(self, api):
        existing = ExclusionFactory(volunteer=supporter(preferred_name="Aileen"))
        before = snapshot()

        problem = refused(
            api.post(
                EXCLUSIONS,
                {"peer": existing.peer.pk, "volunteer": existing.volunteer.pk, "reason": "Again"},
                format="json",
            ),
            409,
            "already_excluded",
        )

        assert problem["detail"] == (
            f"Aileen is already excluded from {existing.peer.reference} (exclusion "
            f"{existing.pk}: They are neighbours.); nothing was changed."
        )
        assert snapshot() == before

    def test_a_pair_with_an_open_match_cannot_be_excluded(self, api):
        match = MatchFactory(volunteer=supporter(preferred_name="Aileen"))

        problem = refused(
            api.post(
                EXCLUSIONS,
                {"peer": match.peer.pk, "volunteer": match.volunteer.pk, "reason": "Fell out"},
                format="json",
            ),
            409,
            "match_open",
        )

        assert problem["detail"] == (
            f"Aileen has a proposed match with {match.peer.reference}; decline it before "
            "excluding them."
        )
        assert not Exclusion.objects.exists()

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({"peer": "P", "volunteer": "V"}, "reason", "This field is required."),
            ({"peer": "P", "volunteer": "V", "reason": " "}, "reason", "may not be blank"),
            ({"volunteer": "V", "reason": "x"}, "peer", "This field is required."),
            ({"peer": 999999, "volunteer": "V", "reason": "x"}, "peer", "There is no peer"),
            ({"peer": "P", "volunteer": "1", "reason": "x"}, "volunteer", "whole number"),
            ({"peer": "P", "volunteer": "V", "reason": "x", "by": 1}, "by", "Unknown field"),
        ],
    )
    def test_missing_malformed_and_unknown_input_is_refused(self, api, body, field, message):
        peer, volunteer = PeerFactory(), supporter()
        body = {
            key: {"P": peer.pk, "V": volunteer.pk}.get(value, value)
            if isinstance(value, str)
            else value
            for key, value in body.items()
        }

        problem = refused(api.post(EXCLUSIONS, body, format="json"), 400, "invalid")

        assert message in " ".join(problem["errors"][field])
        assert not Exclusion.objects.exists()

    def test_deleting_an_exclusion_allows_the_pair_again(self, api):
        peer, volunteer = PeerFactory(), supporter()
        exclusion = ExclusionFactory(peer=peer, volunteer=volunteer)

        response = api.delete(f"{EXCLUSIONS}{exclusion.pk}/")

        assert response.status_code == 204
        assert not Exclusion.objects.exists()
        assert [s.volunteer for s in engine.suggest(peer)] == [volunteer]
        refused(api.delete(f"{EXCLUSIONS}{exclusion.pk}/"), 404, "not_found")

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_an_exclusion_is_not_changed(self, api, method):
        exclusion = ExclusionFactory(volunteer=supporter())

        response = getattr(api, method)(
            f"{EXCLUSIONS}{exclusion.pk}/", {"reason": "Changed"}, format="json"
        )

        refused(response, 405)
        exclusion.refresh_from_db()
        assert exclusion.reason == "They are neighbours."

    def test_filters_by_peer_and_volunteer(self, api):
        aileen = supporter()
        first = ExclusionFactory(volunteer=aileen)
        second = ExclusionFactory(peer=first.peer, volunteer=supporter())
        third = ExclusionFactory(volunteer=aileen)

        assert set(ids(api.get(EXCLUSIONS, {"peer": first.peer.pk}))) == {first.pk, second.pk}
        assert set(ids(api.get(EXCLUSIONS, {"volunteer": aileen.pk}))) == {first.pk, third.pk}
        assert ids(api.get(EXCLUSIONS, {"search": third.peer.reference})) == [third.pk]
        refused(api.get(EXCLUSIONS, {"peer": 999999}), 400)

    def test_the_list_costs_the_same_queries_for_1_exclusion_or_50(self, api):
        ExclusionFactory(volunteer=supporter(), created_by=UserFactory())
        one, count = queries_for(api, EXCLUSIONS)
        assert count == 1
        for _ in range(49):
            ExclusionFactory(volunteer=VolunteerFactory(), created_by=UserFactory())

        fifty, count = queries_for(api, EXCLUSIONS)

        assert count == 50
        assert fifty == one


# Sessions ---------------------------------------------------------------------------------


@pytest.fixture
def match():
    return active_match(
        volunteer=supporter(preferred_name="Senga", sms_consent=True),
        peer__preferred_name="Jamie",
    )


def new_session(of, **overrides):
    body = {
        "match": of.pk,
        "starts_at": at(25, 14),
        "ends_at": at(25, 15),
        "mode": "in_person",
        "place": "Coatbridge library",
    }
    body.update(overrides)
    return body


def past_session(match, **fields):
    """A session that has taken place (or should have): yesterday at 14:00."""
    starts_at = NOW - datetime.timedelta(hours=22)
    return SessionFactory(
        match=match, starts_at=starts_at, ends_at=starts_at + datetime.timedelta(hours=1), **fields
    )


class TestScheduling:
    def test_a_session_of_an_active_match_is_scheduled_with_times_and_offsets(self, api, match):
        response = api.post(
            SESSIONS,
            new_session(match, starts_at="2026-11-25T14:00:00+00:00", ends_at="2026-11-25T15:30Z"),
            format="json",
        )

        assert response.status_code == 201, response.content
        body = response.json()
        session = Session.objects.get()
        assert body == {
            "id": session.pk,
            "match": match.pk,
            "peer": match.peer.pk,
            "peer_reference": match.peer.reference,
            "volunteer": match.volunteer.pk,
            "volunteer_name": "Senga",
            "starts_at": "2026-11-25T14:00:00+00:00",
            "ends_at": "2026-11-25T15:30:00+00:00",
            "mode": "in_person",
            "place": "Coatbridge library",
            "status": "scheduled",
            "confirmed_at": None,
            "outcome_notes": "",
            "hours": None,
            "confirmation_state": "not_reminded_yet",
            "reminded_at": None,
            "reminder_status": None,
            "answer": None,
            "answered_at": None,
            "at_risk_since": None,
            "created_at": body["created_at"],
            "updated_at": body["updated_at"],
        }

    def test_times_in_summer_carry_the_british_summer_time_offset(self, api, match, time_machine):
        time_machine.move_to(datetime.datetime(2026, 6, 1, 9, 0, tzinfo=UTC), tick=False)

        response = api.post(
            SESSIONS,
            new_session(
                match, starts_at="2026-06-03T14:00:00+01:00", ends_at="2026-06-03T13:30:00Z"
            ),
            format="json",
        )

        assert response.status_code == 201, response.content
        assert response.json()["starts_at"] == "2026-06-03T14:00:00+01:00"
        assert response.json()["ends_at"] == "2026-06-03T14:30:00+01:00"

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"starts_at": "2026-11-25T14:00:00"}, "starts_at", "with its offset from UTC"),
            ({"starts_at": "25/11/2026 14:00"}, "starts_at", "ISO 8601 with its offset"),
            ({"starts_at": 1764079200}, "starts_at", "ISO 8601 with its offset"),
            ({"ends_at": at(25, 13)}, "ends_at", "A session must end after it starts."),
            ({"starts_at": at(20, 14), "ends_at": at(20, 15)}, "starts_at", "has passed"),
            ({"place": ""}, "place", "Say where they will meet in person."),
            (
                {"mode": "carrier pigeon"},
                "mode",
                "“carrier pigeon” is not one of the choices; give one of: in_person, phone, video.",
            ),
            ({"match": 999999}, "match", "There is no match with the id 999999."),
            ({"match": "1"}, "match", "whole number"),
            ({"status": "confirmed"}, "status", "Unknown field"),
        ],
    )
    def test_malformed_input_is_refused_and_nothing_is_scheduled(
        self, api, match, overrides, field, message
    ):
        problem = refused(api.post(SESSIONS, new_session(match, **overrides), format="json"), 400)

        assert message in " ".join(problem["errors"][field])
        assert not Session.objects.exists()

    @pytest.mark.parametrize("field", ["match", "starts_at", "ends_at", "mode"])
    def test_missing_fields_are_refused(self, api, match, field):
        body = new_session(match)
        del body[field]

        problem = refused(api.post(SESSIONS, body, format="json"), 400)

        assert problem["errors"][field] == ["This field is required."]

    def test_a_way_of_meeting_one_of_them_does_not_use_is_refused(self, api, match):
        problem = refused(api.post(SESSIONS, new_session(match, mode="video"), format="json"), 400)

        assert "not meet by video" in problem["errors"]["mode"][0]

    def test_an_overlapping_session_is_refused_with_the_clash(self, api, match):
        SessionFactory(
            match=active_match(volunteer=match.volunteer),
            starts_at=datetime.datetime(2026, 11, 25, 14, 30, tzinfo=UTC),
            ends_at=datetime.datetime(2026, 11, 25, 15, 30, tzinfo=UTC),
        )
        before = snapshot()

        problem = refused(api.post(SESSIONS, new_session(match), format="json"), 400, "invalid")

        assert problem["errors"]["non_field_errors"][0].startswith(
            "Senga already has a session from 25 November 2026 at 14:30 to 15:30 with P-"
        )
        assert "one volunteer's sessions cannot overlap" in problem["detail"]
        assert snapshot() == before

    def test_a_session_in_the_volunteers_absence_is_refused(self, api, match):
        AbsenceFactory(
            volunteer=match.volunteer,
            starts_on=datetime.date(2026, 11, 24),
            ends_on=datetime.date(2026, 11, 26),
        )
        before = snapshot()

        problem = refused(api.post(SESSIONS, new_session(match), format="json"), 400, "invalid")

        assert problem["errors"]["non_field_errors"][0].startswith("Senga is away from ")
        assert "choose a day outside their absence" in problem["detail"]
        assert snapshot() == before

    @pytest.mark.parametrize("status", [Match.Status.ENDED, Match.Status.PROPOSED])
    def test_a_session_for_a_match_that_is_not_active_is_refused(self, api, status):
        if status == Match.Status.ENDED:
            match = active_match()
            match.status, match.ended_on = status, TODAY
            match.save()
        else:
            match = MatchFactory(volunteer=supporter())
        before = snapshot()

        problem = refused(
            api.post(SESSIONS, new_session(match), format="json"), 409, "match_not_active"
        )

        assert (
            f"is {status.label.lower()}; sessions are only for an active match"
            in (problem["detail"])
        )
        assert snapshot() == before

    def test_the_same_session_twice_overlaps_itself(self, api, match):
        assert api.post(SESSIONS, new_session(match), format="json").status_code == 201

        problem = refused(api.post(SESSIONS, new_session(match), format="json"), 400)

        assert "already has a session" in problem["detail"]
        assert Session.objects.count() == 1


class TestSessionActions:
    def test_rescheduling_moves_it_and_asks_for_confirmation_again(self, api, match):
        session = SessionFactory(match=match, status=Session.Status.CONFIRMED, confirmed_at=NOW)

        response = api.post(
            f"{SESSIONS}{session.pk}/reschedule/",
            {"starts_at": at(26, 10), "ends_at": at(26, 11), "mode": "phone"},
            format="json",
        )

        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["starts_at"], body["mode"], body["status"], body["confirmed_at"]) == (
            "2026-11-26T10:00:00+00:00",
            "phone",
            "scheduled",
            None,
        )

    def test_rescheduling_onto_another_session_is_refused(self, api, match):
        session = SessionFactory(match=match)
        other = SessionFactory(
            match=match,
            starts_at=datetime.datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
            ends_at=datetime.datetime(2026, 11, 26, 11, 0, tzinfo=UTC),
        )
        before = snapshot()

        problem = refused(
            api.post(
                f"{SESSIONS}{session.pk}/reschedule/",
                {"starts_at": at(26, 10, 30), "ends_at": at(26, 11, 30)},
                format="json",
            ),
            400,
        )

        assert "already has a session from 26 November 2026 at 10:00" in problem["detail"]
        assert snapshot() == before
        assert other.pk != session.pk

    def test_a_settled_session_cannot_be_rescheduled(self, api, match):
        session = past_session(match, status=Session.Status.COMPLETED, hours=Decimal("1"))

        refused(
            api.post(
                f"{SESSIONS}{session.pk}/reschedule/",
                {"starts_at": at(26, 10), "ends_at": at(26, 11)},
                format="json",
            ),
            409,
            "not_reschedulable",
        )

    def test_rescheduling_needs_both_times(self, api, match):
        session = SessionFactory(match=match)

        problem = refused(
            api.post(f"{SESSIONS}{session.pk}/reschedule/", {"mode": "phone"}, format="json"), 400
        )

        assert set(problem["errors"]) == {"starts_at", "ends_at"}

    def test_cancelling_keeps_the_reason_once(self, api, match):
        session = SessionFactory(match=match)

        response = api.post(
            f"{SESSIONS}{session.pk}/cancel/", {"reason": "Peer unwell."}, format="json"
        )

        assert response.status_code == 200, response.content
        assert (response.json()["status"], response.json()["outcome_notes"]) == (
            "cancelled",
            "Peer unwell.",
        )
        problem = refused(api.post(f"{SESSIONS}{session.pk}/cancel/", format="json"), 409)
        assert problem["code"] in {"already_in_status", "final_status"}

    def test_confirming_and_declining_for_the_volunteer(self, api, match):
        session = SessionFactory(match=match)

        confirmed = api.post(f"{SESSIONS}{session.pk}/confirm/", format="json").json()
        assert confirmed["status"] == "confirmed"
        assert datetime.datetime.fromisoformat(confirmed["confirmed_at"]) == NOW
        refused(api.post(f"{SESSIONS}{session.pk}/confirm/", format="json"), 409)

        declined = api.post(f"{SESSIONS}{session.pk}/decline/", format="json").json()
        assert (declined["status"], declined["confirmed_at"]) == ("declined", None)
        refused(api.post(f"{SESSIONS}{session.pk}/decline/", format="json"), 409)

    def test_a_session_under_way_cannot_be_confirmed(self, api, match):
        session = past_session(match)

        problem = refused(
            api.post(f"{SESSIONS}{session.pk}/confirm/", format="json"), 409, "session_started"
        )

        assert "too late to confirm it" in problem["detail"]

    def test_the_outcome_of_a_session_that_took_place(self, api, match):
        session = past_session(match)

        response = api.post(
            f"{SESSIONS}{session.pk}/outcome/",
            {"attended": True, "hours": 1.5, "notes": "Walked to the cafe."},
            format="json",
        )

        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["status"], body["hours"], body["outcome_notes"]) == (
            "completed",
            1.5,
            "Walked to the cafe.",
        )
        session.refresh_from_db()
        assert session.hours == Decimal("1.50")
        refused(
            api.post(f"{SESSIONS}{session.pk}/outcome/", {"attended": False}, format="json"), 409
        )

    def test_a_no_show_has_no_hours(self, api, match):
        session = past_session(match)

        response = api.post(f"{SESSIONS}{session.pk}/outcome/", {"attended": False}, format="json")

        assert response.json()["status"] == "no_show"
        assert response.json()["hours"] is None

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({}, "attended", "This field is required."),
            ({"attended": "yes", "hours": 1}, "attended", "Give true or false."),
            ({"attended": True}, "hours", "Say how many hours"),
            ({"attended": True, "hours": "1.5"}, "hours", "Give a number"),
            ({"attended": True, "hours": 25}, "hours", "more than 0 and at most 24"),
            ({"attended": True, "hours": 0}, "hours", "more than 0 and at most 24"),
            ({"attended": True, "hours": 1.234}, "hours", "2 decimal places"),
            ({"attended": False, "hours": 1}, "hours", "only for a session that took place"),
        ],
    )
    def test_a_malformed_outcome_is_refused(self, api, match, body, field, message):
        session = past_session(match)
        before = snapshot()

        problem = refused(api.post(f"{SESSIONS}{session.pk}/outcome/", body, format="json"), 400)

        assert message in " ".join(problem["errors"][field])
        assert snapshot() == before

    def test_the_outcome_of_a_session_to_come_is_refused(self, api, match):
        session = SessionFactory(match=match)

        problem = refused(
            api.post(
                f"{SESSIONS}{session.pk}/outcome/", {"attended": True, "hours": 1}, format="json"
            ),
            409,
            "session_not_started",
        )

        assert "has not started yet" in problem["detail"]

    def test_an_unknown_session_is_a_404(self, api):
        refused(api.post(f"{SESSIONS}999999/cancel/", format="json"), 404, "not_found")
        refused(api.get(f"{SESSIONS}999999/"), 404, "not_found")

    @pytest.mark.parametrize("method", ["put", "patch", "delete"])
    def test_a_session_is_not_changed_or_deleted_directly(self, api, match, method):
        session = SessionFactory(match=match)
        before = snapshot()

        response = getattr(api, method)(f"{SESSIONS}{session.pk}/", {"place": "Pub"}, format="json")

        refused(response, 405)
        assert snapshot() == before


class TestSessionList:
    def test_soonest_first_filtered_by_match_party_status_and_dates(self, api, match):
        other = active_match()
        later = SessionFactory(
            match=match,
            starts_at=datetime.datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
            ends_at=datetime.datetime(2026, 11, 27, 11, 0, tzinfo=UTC),
        )
        sooner = SessionFactory(
            match=other,
            starts_at=datetime.datetime(2026, 11, 24, 23, 30, tzinfo=UTC),
            ends_at=datetime.datetime(2026, 11, 25, 0, 30, tzinfo=UTC),
        )
        done = past_session(match, status=Session.Status.NO_SHOW)

        assert ids(api.get(SESSIONS)) == [done.pk, sooner.pk, later.pk]
        assert ids(api.get(SESSIONS, {"match": match.pk})) == [done.pk, later.pk]
        assert ids(api.get(SESSIONS, {"volunteer": other.volunteer.pk})) == [sooner.pk]
        assert ids(api.get(SESSIONS, {"peer": match.peer.pk})) == [done.pk, later.pk]
        assert ids(api.get(SESSIONS, {"status": "no_show"})) == [done.pk]
        assert ids(api.get(SESSIONS, {"starts_after": "2026-11-24"})) == [sooner.pk, later.pk]
        assert ids(
            api.get(SESSIONS, {"starts_after": "2026-11-24", "starts_before": "2026-11-24"})
        ) == [sooner.pk]
        assert ids(api.get(SESSIONS, {"ordering": "-starts_at"})) == [later.pk, sooner.pk, done.pk]
        assert ids(api.get(SESSIONS, {"search": "senga"})) == [done.pk, later.pk]

    @pytest.mark.parametrize(
        ("params", "field", "message"),
        [
            (
                {"starts_after": "2026-11-25", "starts_before": "2026-11-24"},
                "starts_before",
                "ends (2026-11-24) before it starts (2026-11-25)",
            ),
            ({"starts_after": "tomorrow"}, "starts_after", "Enter a valid date."),
            ({"status": "late"}, "status", "Select a valid choice."),
            ({"volunteer": 999999}, "volunteer", "Select a valid choice."),
            ({"place": "library"}, "place", "Unknown parameter"),
        ],
    )
    def test_bad_filters_are_refused(self, api, params, field, message):
        problem = refused(api.get(SESSIONS, params), 400)

        assert message in " ".join(problem["errors"][field])

    def test_the_list_costs_the_same_queries_for_1_session_or_50(self, api, match):
        SessionFactory(match=match)
        one, count = queries_for(api, SESSIONS)
        assert count == 1
        for day in range(49):
            SessionFactory(
                match=active_match(volunteer=VolunteerFactory()),
                starts_at=NOW + datetime.timedelta(days=day + 3),
                ends_at=NOW + datetime.timedelta(days=day + 3, hours=1),
            )

        fifty, count = queries_for(api, SESSIONS)

        assert count == 50
        assert fifty == one


def reminded(session, *, status=Message.Status.DELIVERED, answer=None):
    """Give `session` a reminder sent an hour ago, with the volunteer's answer if any."""
    phone = session.match.volunteer.phone
    sent_at = NOW - datetime.timedelta(hours=1)
    reply = None
    if answer is not None:
        reply = Message.objects.create(
            direction=Message.Direction.INBOUND,
            to_number="+447700900001",
            from_number=phone,
            body=answer,
            status=Message.Status.RECEIVED,
            created_at=NOW - datetime.timedelta(minutes=20),
        )
    reminder = Message.objects.create(
        direction=Message.Direction.OUTBOUND,
        to_number=phone,
        body="PeerPath: your session with Jamie is ...",
        status=status,
        topic="session.reminder",
        sent_at=sent_at if status != Message.Status.QUEUED else None,
        answered_by=reply,
    )
    Session.objects.filter(pk=session.pk).update(reminder=reminder)
    session.refresh_from_db()
    return session


class TestConfirmationState:
    def test_a_session_shows_when_it_was_reminded_and_what_the_volunteer_answered(self, api, match):
        session = reminded(
            SessionFactory(match=match, status=Session.Status.CONFIRMED, confirmed_at=NOW),
            answer="Yes see you then",
        )

        body = api.get(f"{SESSIONS}{session.pk}/").json()

        assert {name: body[name] for name in ANSWER_FIELDS} == {
            "status": "confirmed",
            "confirmation_state": "confirmed",
            "reminded_at": "2026-11-23T11:00:00+00:00",
            "reminder_status": "delivered",
            "answer": "Yes see you then",
            "answered_at": "2026-11-23T11:40:00+00:00",
            "at_risk_since": None,
        }

    def test_each_state_is_shown_and_filtered(self, api, match):
        to_come = SessionFactory(match=match)
        awaiting = reminded(SessionFactory(match=match, starts_at=NOW + datetime.timedelta(1)))
        at_risk = reminded(SessionFactory(match=match, starts_at=NOW + datetime.timedelta(hours=3)))
        Session.objects.filter(pk=at_risk.pk).update(at_risk_since=NOW)
        declined = reminded(
            SessionFactory(
                match=match,
                starts_at=NOW + datetime.timedelta(3),
                status=Session.Status.DECLINED,
            ),
            answer="sorry no",
        )
        failed = reminded(
            SessionFactory(match=match, starts_at=NOW + datetime.timedelta(4)),
            status=Message.Status.FAILED,
        )
        landline = SessionFactory(
            match=active_match(volunteer=supporter(sms_consent=True, phone="+441236123456"))
        )
        done = past_session(match, status=Session.Status.NO_SHOW)

        states = {
            row["id"]: row["confirmation_state"] for row in api.get(SESSIONS).json()["results"]
        }

        assert states == {
            to_come.pk: "not_reminded_yet",
            awaiting.pk: "awaiting_reply",
            at_risk.pk: "at_risk",
            declined.pk: "declined",
            failed.pk: "cannot_text",
            landline.pk: "cannot_text",
            done.pk: "settled",
        }
        assert ids(api.get(SESSIONS, {"confirmation_state": "cannot_text"})) == sorted(
            [failed.pk, landline.pk],
            key=lambda pk: Session.objects.get(pk=pk).starts_at,
        )
        assert ids(api.get(SESSIONS, {"confirmation_state": "at_risk"})) == [at_risk.pk]
        assert ids(api.get(SESSIONS, {"confirmation_state": "awaiting_reply"})) == [awaiting.pk]

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ("confirmation_state=late", "Select a valid choice."),
            ("confirmation_state=at_risk&confirmation_state=declined", "given 2 times"),
            ("confirmation_state=", "Give a value"),
        ],
    )
    def test_a_bad_state_filter_is_refused(self, api, query, message):
        problem = refused(api.get(f"{SESSIONS}?{query}"), 400)

        assert message in " ".join(problem["errors"]["confirmation_state"])

    @pytest.mark.parametrize(
        ("action", "body", "state"),
        [
            ("confirm", None, "confirmed"),
            ("decline", None, "declined"),
            ("cancel", {"reason": "Jamie is unwell."}, "settled"),
            ("reschedule", {"starts_at": at(26, 10), "ends_at": at(26, 11)}, "not_reminded_yet"),
        ],
    )
    def test_an_action_answers_the_session_as_the_list_shows_it(
        self, api, match, action, body, state
    ):
        session = reminded(SessionFactory(match=match))

        response = api.post(f"{SESSIONS}{session.pk}/{action}/", body, format="json")

        assert response.status_code == 200, response.content
        assert response.json()["confirmation_state"] == state
        assert response.json() == api.get(f"{SESSIONS}{session.pk}/").json()

    def test_recording_the_outcome_answers_it_settled(self, api, match):
        session = reminded(past_session(match), answer="yes")

        response = api.post(f"{SESSIONS}{session.pk}/outcome/", {"attended": False}, format="json")

        assert response.status_code == 200, response.content
        assert (response.json()["confirmation_state"], response.json()["answer"]) == (
            "settled",
            "yes",
        )
        assert response.json() == api.get(f"{SESSIONS}{session.pk}/").json()

    def test_reminders_and_answers_cost_no_query_per_session(self, api, match):
        reminded(SessionFactory(match=match), answer="yes")
        one, count = queries_for(api, SESSIONS)
        assert count == 1
        for day in range(20):
            volunteer = VolunteerFactory(sms_consent=True)
            session = SessionFactory(
                match=active_match(volunteer=volunteer),
                starts_at=NOW + datetime.timedelta(days=day + 3),
                ends_at=NOW + datetime.timedelta(days=day + 3, hours=1),
            )
            reminded(session, answer="yes" if day % 2 else None)

        twenty_one, count = queries_for(api, SESSIONS)

        assert count == 21
        assert twenty_one == one


ANSWER_FIELDS = [
    "status",
    "confirmation_state",
    "reminded_at",
    "reminder_status",
    "answer",
    "answered_at",
    "at_risk_since",
]


# Bulk assignment --------------------------------------------------------------------------


class TestWaitingListAssignment:
    @pytest.fixture
    def waiting_list(self):
        """Three waiting peers; two volunteers with room for one each."""
        peers = [PeerFactory() for _ in range(3)]
        volunteers = [supporter(max_active_matches=1) for _ in range(2)]
        return peers, volunteers

    def test_a_dry_run_answers_the_proposals_and_writes_nothing(self, api, waiting_list):
        _, volunteers = waiting_list

        response = api.post(ASSIGNMENT, {"dry_run": True}, format="json")

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["dry_run"] is True
        assert (body["waiting"], body["volunteers"], body["slots"]) == (3, 2, 2)
        assert len(body["proposals"]) == 2
        assert {row["volunteer"] for row in body["proposals"]} == {v.pk for v in volunteers}
        for row in body["proposals"]:
            assert row["match"] is None
            assert row["peer_reference"] == f"P-{row['peer']:06d}"
            assert row["reasons"] and row["score"] > 0
        assert body["total_score"] == pytest.approx(sum(r["score"] for r in body["proposals"]))
        assert set(body["timings"]) == {"load", "score", "solve", "write", "total"}
        assert len(body["plan"]) == 16
        assert not Match.objects.exists()

    def test_applying_the_plan_proposes_the_same_pairs_and_approves_none(self, api, waiting_list):
        dry = api.post(ASSIGNMENT, {"dry_run": True}, format="json").json()

        response = api.post(ASSIGNMENT, {"dry_run": False, "plan": dry["plan"]}, format="json")

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["dry_run"] is False
        assert body["plan"] == dry["plan"]
        pairs = [(row["peer"], row["volunteer"]) for row in body["proposals"]]
        assert pairs == [(row["peer"], row["volunteer"]) for row in dry["proposals"]]
        made = {match.pk: match for match in Match.objects.all()}
        assert len(made) == 2
        for row in body["proposals"]:
            match = made[row["match"]]
            assert (match.peer_id, match.volunteer_id, match.status) == (
                row["peer"],
                row["volunteer"],
                "proposed",
            )
            assert match.score == row["score"]
            assert match.reasons == row["reasons"]
            assert match.proposed_by.email == "coordinator@example.org"
        assert set(Peer.objects.values_list("status", flat=True)) == {"waiting"}

    def test_applying_the_same_plan_twice_proposes_nothing_more(self, api, waiting_list):
        dry = api.post(ASSIGNMENT, {"dry_run": True}, format="json").json()
        api.post(ASSIGNMENT, {"dry_run": False, "plan": dry["plan"]}, format="json")
        before = snapshot()

        problem = refused(
            api.post(ASSIGNMENT, {"dry_run": False, "plan": dry["plan"]}, format="json"),
            409,
            "plan_changed",
        )

        assert "nothing was proposed" in problem["detail"]
        assert snapshot() == before
        again = api.post(ASSIGNMENT, {"dry_run": False}, format="json").json()
        assert again["proposals"] == []
        assert snapshot() == before

    def test_a_plan_that_no_longer_holds_proposes_nothing(self, api, waiting_list):
        dry = api.post(ASSIGNMENT, {"dry_run": True}, format="json").json()
        first = dry["proposals"][0]
        ExclusionFactory(
            peer=Peer.objects.get(pk=first["peer"]),
            volunteer=Volunteer.objects.get(pk=first["volunteer"]),
        )
        before = snapshot()

        problem = refused(
            api.post(ASSIGNMENT, {"dry_run": False, "plan": dry["plan"]}, format="json"),
            409,
            "plan_changed",
        )

        assert "Run the dry run again" in problem["detail"]
        assert snapshot() == before

    def test_an_empty_waiting_list_proposes_nothing(self, api):
        supporter()

        body = api.post(ASSIGNMENT, {"dry_run": False}, format="json").json()

        assert (body["proposals"], body["total_score"], body["waiting"]) == ([], 0, 0)

    @pytest.mark.parametrize(
        ("body", "field", "message"),
        [
            ({}, "dry_run", "This field is required."),
            ({"dry_run": "false"}, "dry_run", "Give true or false."),
            ({"dry_run": True, "plan": "abc"}, "plan", "only with dry_run false"),
            ({"dry_run": False, "plan": 7}, "plan", "Give text"),
            ({"dry_run": True, "approve": True}, "approve", "Unknown field"),
        ],
    )
    def test_malformed_input_is_refused(self, api, waiting_list, body, field, message):
        problem = refused(api.post(ASSIGNMENT, body, format="json"), 400)

        assert message in " ".join(problem["errors"][field])
        assert not Match.objects.exists()


# A volunteer's and a peer's matches and sessions, on their detail answers -----------------


def history(volunteer):
    """An active match with two sessions to come and one past, a proposal, a recently ended
    match and one that ended long ago, for `volunteer`."""
    active = active_match(volunteer=volunteer)
    coming = SessionFactory(match=active)
    later = SessionFactory(
        match=active,
        starts_at=NOW + datetime.timedelta(days=9),
        ends_at=NOW + datetime.timedelta(days=9, hours=1),
    )
    past_session(active, status=Session.Status.NO_SHOW)
    SessionFactory(
        match=active,
        status=Session.Status.CANCELLED,
        starts_at=NOW + datetime.timedelta(days=5),
        ends_at=NOW + datetime.timedelta(days=5, hours=1),
    )
    proposed = MatchFactory(volunteer=volunteer, proposed_at=NOW - datetime.timedelta(hours=1))

    def ended(days_ago):
        return MatchFactory(
            volunteer=volunteer,
            status=Match.Status.ENDED,
            proposed_at=NOW - datetime.timedelta(days=days_ago + 100),
            decided_at=NOW - datetime.timedelta(days=days_ago + 100),
            started_on=TODAY - datetime.timedelta(days=days_ago + 100),
            ended_on=TODAY - datetime.timedelta(days=days_ago),
        )

    recent, old = ended(30), ended(200)
    return {
        "active": active,
        "proposed": proposed,
        "recent": recent,
        "old": old,
        "sessions": [coming, later],
    }


class TestDetailAnswers:
    def test_a_volunteers_answer_shows_open_and_recent_matches_and_sessions_to_come(self, api):
        volunteer = supporter()
        made = history(volunteer)

        body = api.get(f"/api/v1/volunteers/{volunteer.pk}/").json()

        assert [row["id"] for row in body["matches"]] == [
            made["active"].pk,
            made["proposed"].pk,
            made["recent"].pk,
        ]
        active = made["active"]
        assert body["matches"][0] == {
            "id": active.pk,
            "peer": active.peer.pk,
            "peer_reference": active.peer.reference,
            "status": "active",
            "proposed_at": "2026-11-23T12:00:00+00:00",
            "started_on": "2026-11-09",
            "ended_on": None,
        }
        coming = made["sessions"][0]
        assert [row["id"] for row in body["upcoming_sessions"]] == [s.pk for s in made["sessions"]]
        assert body["upcoming_sessions"][0] == {
            "id": coming.pk,
            "match": active.pk,
            "starts_at": "2026-11-25T14:00:00+00:00",
            "ends_at": "2026-11-25T15:00:00+00:00",
            "mode": "in_person",
            "status": "scheduled",
        }

    def test_a_peers_answer_names_their_supporters(self, api):
        volunteer = supporter(preferred_name="Aileen")
        match = active_match(volunteer=volunteer)
        session = SessionFactory(match=match)

        body = api.get(f"/api/v1/peers/{match.peer.pk}/").json()

        assert body["matches"] == [
            {
                "id": match.pk,
                "volunteer": volunteer.pk,
                "volunteer_name": "Aileen",
                "status": "active",
                "proposed_at": body["matches"][0]["proposed_at"],
                "started_on": "2026-11-09",
                "ended_on": None,
            }
        ]
        assert [row["id"] for row in body["upcoming_sessions"]] == [session.pk]

    def test_someone_without_matches_has_empty_lists(self, api):
        volunteer, peer = supporter(), PeerFactory()

        for url in [f"/api/v1/volunteers/{volunteer.pk}/", f"/api/v1/peers/{peer.pk}/"]:
            body = api.get(url).json()
            assert (body["matches"], body["upcoming_sessions"]) == ([], [])

    def test_list_answers_are_unchanged(self, api):
        volunteer = supporter()
        history(volunteer)

        for url in ["/api/v1/volunteers/", "/api/v1/peers/"]:
            for row in api.get(url).json()["results"]:
                assert "matches" not in row
                assert "upcoming_sessions" not in row

    def test_a_change_answers_the_record_as_the_list_shows_it(self, api):
        volunteer = supporter()

        body = api.patch(
            f"/api/v1/volunteers/{volunteer.pk}/", {"notes": "Drives"}, format="json"
        ).json()

        assert body["notes"] == "Drives"
        assert "matches" not in body

    def test_a_volunteers_answer_costs_the_same_queries_however_many_matches(self, api):
        few = supporter()
        active = active_match(volunteer=few)
        SessionFactory(match=active)
        many = supporter(max_active_matches=5)
        for _ in range(3):
            history(many)

        one, _ = queries_for_detail(api, f"/api/v1/volunteers/{few.pk}/")
        lots, body = queries_for_detail(api, f"/api/v1/volunteers/{many.pk}/")

        assert len(body["matches"]) == 9 and len(body["upcoming_sessions"]) == 6
        assert lots == one

    def test_a_peers_answer_costs_the_same_queries_however_many_matches(self, api):
        few = active_match()
        SessionFactory(match=few)
        match = active_match()
        for day in range(5):
            SessionFactory(
                match=match,
                starts_at=NOW + datetime.timedelta(days=day + 3),
                ends_at=NOW + datetime.timedelta(days=day + 3, hours=1),
            )
        for days_ago in range(10, 50, 10):
            MatchFactory(
                peer=match.peer,
                volunteer=VolunteerFactory(),
                status=Match.Status.DECLINED,
                decided_at=NOW - datetime.timedelta(days=days_ago),
                proposed_at=NOW - datetime.timedelta(days=days_ago + 1),
            )

        one, _ = queries_for_detail(api, f"/api/v1/peers/{few.peer.pk}/")
        lots, body = queries_for_detail(api, f"/api/v1/peers/{match.peer.pk}/")

        assert len(body["matches"]) == 5 and len(body["upcoming_sessions"]) == 5
        assert lots == one


def queries_for_detail(api, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(captured), response.json()
