"""/api/v1/peers/ and their preferred times, used as a coordinator's client would."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from peers.models import Peer, PeerStatusChange, PreferredTime
from tests.factories import (
    PeerFactory,
    PreferredTimeFactory,
    UserFactory,
    area,
    back_after_a_match,
    focus,
    language,
    waiting_for,
)

pytestmark = pytest.mark.django_db

PEERS = "/api/v1/peers/"


def detail(peer):
    return f"{PEERS}{peer.pk}/"


def status_url(peer):
    return f"{PEERS}{peer.pk}/status/"


def times_url(peer_or_id):
    peer_id = getattr(peer_or_id, "pk", peer_or_id)
    return f"{PEERS}{peer_id}/preferred-times/"


def listed_ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


class TestAddingAPeer:
    def test_a_new_peer_starts_as_referred_with_phone_in_e164_and_a_reference(self, api):
        response = api.post(
            PEERS,
            {
                "preferred_name": "Jamie",
                "full_name": "Jamie Campbell",
                "phone": "07700 900123",
                "area": "Wishaw",
                "languages": ["en", "PL"],
                "focuses": ["drugs"],
                "sms_consent": True,
                "referral_source": "gp",
            },
            format="json",
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        peer = Peer.objects.get()
        assert body["id"] == peer.pk
        assert body["reference"] == f"P-{peer.pk:06d}"
        assert body["phone"] == "+447700900123"
        assert body["area"] == "wishaw"
        assert sorted(body["languages"]) == ["en", "pl"]
        assert body["focuses"] == ["drugs"]
        assert body["status"] == "referred" and body["waiting_since"] is None
        assert body["sms_consent_at"] is not None
        assert peer.status == "referred" and peer.area == area("Wishaw")

    def test_a_new_peer_may_start_on_the_waiting_list(self, api):
        response = api.post(
            PEERS,
            {"preferred_name": "Morag", "area": "hamilton", "status": "waiting"},
            format="json",
        )

        assert response.status_code == 201, response.json()
        assert response.json()["status"] == "waiting"
        assert response.json()["waiting_since"] is not None
        assert Peer.objects.get().waiting_since is not None

    @pytest.mark.parametrize("status", ["matched", "paused", "closed"])
    def test_a_new_peer_cannot_start_in_any_other_status(self, api, status):
        response = api.post(
            PEERS, {"preferred_name": "Morag", "area": "hamilton", "status": status}, format="json"
        )

        assert response.status_code == 400
        assert "status" in response.json()["errors"]
        assert not Peer.objects.exists()

    def test_an_unknown_field_is_refused_and_nothing_is_saved(self, api):
        response = api.post(
            PEERS,
            {"preferred_name": "Morag", "area": "hamilton", "favourite_colour": "green"},
            format="json",
        )

        assert response.status_code == 400
        assert response.headers["Content-Type"] == "application/problem+json"
        message = response.json()["errors"]["favourite_colour"][0]
        assert message.startswith("Unknown field.") and "preferred_name" in message
        assert not Peer.objects.exists()

    def test_a_phone_number_that_cannot_be_used_is_refused_with_the_reason(self, api):
        response = api.post(
            PEERS,
            {"preferred_name": "Morag", "area": "hamilton", "phone": "0770"},
            format="json",
        )

        assert response.status_code == 400
        assert response.json()["errors"]["phone"] == [
            "“0770” is not a valid phone number: it is too short (is the area code missing?)."
        ]
        assert not Peer.objects.exists()

    def test_a_phone_number_another_peer_has_is_refused(self, api):
        PeerFactory(phone="+447700900123")

        response = api.post(
            PEERS,
            {"preferred_name": "Morag", "area": "hamilton", "phone": "07700900123"},
            format="json",
        )

        assert response.status_code == 400
        assert "phone" in response.json()["errors"]
        assert Peer.objects.count() == 1

    def test_an_unknown_area_is_refused_by_name(self, api):
        response = api.post(PEERS, {"preferred_name": "Morag", "area": "atlantis"}, format="json")

        assert response.status_code == 400
        assert response.json()["errors"]["area"] == ["There is no area with the slug “atlantis”."]


class TestReadingAndChangingAPeer:
    def test_a_coordinator_reads_a_peer_with_every_field(self, api):
        peer = waiting_for(3, preferred_name="Morag", area=area("Shotts"))
        peer.focuses.set([focus("alcohol"), focus("family")])

        response = api.get(detail(peer))

        assert response.status_code == 200
        body = response.json()
        assert body["reference"] == peer.reference
        assert body["preferred_name"] == "Morag" and body["area"] == "shotts"
        assert sorted(body["focuses"]) == ["alcohol", "family"]
        assert body["status"] == "waiting"
        assert body["waiting_since"] is not None
        assert set(body) >= {"status_changed_at", "referred_on", "created_at", "updated_at"}

    def test_a_coordinator_changes_a_peer(self, api):
        peer = PeerFactory(meets_by_video=False)
        peer.languages.set([language("en")])

        response = api.patch(
            detail(peer),
            {"meets_by_video": True, "languages": ["ur"], "phone": "+44 7700 900777"},
            format="json",
        )

        assert response.status_code == 200, response.json()
        assert response.json()["languages"] == ["ur"]
        assert response.json()["phone"] == "+447700900777"
        peer.refresh_from_db()
        assert peer.meets_by_video is True
        assert list(peer.languages.values_list("code", flat=True)) == ["ur"]

    def test_the_status_cannot_be_changed_by_editing_the_peer(self, api):
        peer = PeerFactory(status="waiting")

        response = api.patch(detail(peer), {"status": "closed"}, format="json")

        assert response.status_code == 400
        assert "/status/" in response.json()["errors"]["status"][0]
        peer.refresh_from_db()
        assert peer.status == "waiting"

    def test_a_peer_cannot_be_deleted(self, api):
        peer = PeerFactory()

        response = api.delete(detail(peer))

        assert response.status_code == 405
        assert Peer.objects.filter(pk=peer.pk).exists()

    def test_an_unknown_peer_is_not_found(self, api):
        response = api.get(f"{PEERS}99999/")

        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


class TestStatusAction:
    def test_an_allowed_move_is_made_and_logged_with_who_and_why(self, api, coordinator):
        peer = PeerFactory(status="referred")

        response = api.post(
            status_url(peer), {"status": "waiting", "note": "Assessed"}, format="json"
        )

        assert response.status_code == 200, response.json()
        assert response.json()["status"] == "waiting"
        assert response.json()["waiting_since"] is not None
        change = PeerStatusChange.objects.get(peer=peer)
        assert (change.from_status, change.to_status) == ("referred", "waiting")
        assert change.changed_by == coordinator and change.note == "Assessed"

    def test_a_move_the_status_does_not_allow_is_a_conflict(self, api):
        peer = PeerFactory(status="referred")

        response = api.post(status_url(peer), {"status": "paused"}, format="json")

        assert response.status_code == 409
        body = response.json()
        assert body["type"] == "urn:peerpath:problem:state-conflict"
        assert body["code"] == "invalid_transition"
        assert "from referred they can become" in body["detail"]
        peer.refresh_from_db()
        assert peer.status == "referred"

    def test_matched_is_refused_because_matching_is_by_approving_a_match(self, api):
        peer = PeerFactory(status="waiting")

        response = api.post(status_url(peer), {"status": "matched"}, format="json")

        assert response.status_code == 409
        assert response.json()["detail"] == (
            "A peer becomes matched when a coordinator approves a match."
        )
        peer.refresh_from_db()
        assert peer.status == "waiting"
        assert not PeerStatusChange.objects.exists()

    def test_an_unknown_status_is_a_validation_error(self, api):
        peer = PeerFactory(status="waiting")

        response = api.post(status_url(peer), {"status": "gone"}, format="json")

        assert response.status_code == 400
        assert "status" in response.json()["errors"]
        peer.refresh_from_db()
        assert peer.status == "waiting"

    def test_an_unknown_field_in_a_status_change_is_refused(self, api):
        peer = PeerFactory(status="waiting")

        response = api.post(
            status_url(peer), {"status": "paused", "reason": "holiday"}, format="json"
        )

        assert response.status_code == 400
        assert "reason" in response.json()["errors"]
        peer.refresh_from_db()
        assert peer.status == "waiting"


class TestListingPeers:
    def test_longest_waiting_come_first_then_everyone_not_waiting(self, api):
        referred = PeerFactory(status="referred")
        recent = waiting_for(days=2)
        # Matched now, though they joined the waiting list longest ago.
        matched = PeerFactory(
            status="matched", waiting_since=timezone.now() - datetime.timedelta(days=90)
        )
        longest = waiting_for(days=40)

        assert listed_ids(api.get(PEERS)) == [longest.pk, recent.pk, referred.pk, matched.pk]

    def test_someone_back_from_a_match_is_placed_by_the_total_time_they_have_waited(
        self, api, time_machine
    ):
        now = datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC)
        time_machine.move_to(now, tick=False)
        longest = waiting_for(days=40)
        back = back_after_a_match(time_machine, waited_days=30, matched_days=60)
        recent = waiting_for(days=20)
        in_order = [longest.pk, back.pk, recent.pk]

        response = api.get(PEERS)

        assert listed_ids(response) == in_order
        assert listed_ids(api.get(f"{PEERS}?ordering=queue_since")) == in_order
        assert listed_ids(api.get(f"{PEERS}?ordering=-queue_since")) == in_order[::-1]
        row = response.json()["results"][1]
        assert (row["waiting_since"], row["queue_since"]) == (
            "2026-11-23T12:00:00+00:00",
            "2026-10-24T13:00:00+01:00",
        )

    def test_ordering_can_be_chosen_and_an_unknown_ordering_is_refused(self, api):
        PeerFactory(preferred_name="Bob")
        PeerFactory(preferred_name="Ailsa")
        PeerFactory(preferred_name="Cat")

        names = [
            row["preferred_name"]
            for row in api.get(f"{PEERS}?ordering=-preferred_name").json()["results"]
        ]
        refused = api.get(f"{PEERS}?ordering=phone")

        assert names == ["Cat", "Bob", "Ailsa"]
        assert refused.status_code == 400
        assert "ordering" in refused.json()["errors"]

    def test_search_finds_a_phone_number_typed_in_uk_form(self, api):
        wanted = PeerFactory(phone="+447700900123")
        PeerFactory(phone="+447700900124")

        assert listed_ids(api.get(PEERS, {"search": "07700 900123"})) == [wanted.pk]

    def test_search_finds_a_peer_by_reference(self, api):
        PeerFactory()
        wanted = PeerFactory()
        PeerFactory()

        assert listed_ids(api.get(PEERS, {"search": wanted.reference})) == [wanted.pk]
        assert listed_ids(api.get(PEERS, {"search": f"p{wanted.pk}"})) == [wanted.pk]

    def test_the_first_peer_is_found_as_p_000001(self, api):
        peer = PeerFactory()
        Peer.objects.filter(pk=peer.pk).update(id=1)

        assert listed_ids(api.get(PEERS, {"search": "P-000001"})) == [1]

    def test_search_finds_names(self, api):
        wanted = PeerFactory(preferred_name="Morag", full_name="Morag Stewart")
        PeerFactory(preferred_name="Jamie", full_name="Jamie Campbell")

        assert listed_ids(api.get(PEERS, {"search": "morag stew"})) == [wanted.pk]

    def test_filters_by_status_area_and_referral_source(self, api):
        wanted = PeerFactory(area=area("Larkhall"), referral_source="justice")
        PeerFactory(area=area("Larkhall"), referral_source="self")
        PeerFactory(area=area("Wishaw"), referral_source="justice")
        PeerFactory(area=area("Larkhall"), referral_source="justice", status="referred")

        query = {"status": "waiting", "area": "larkhall", "referral_source": "justice"}
        assert listed_ids(api.get(PEERS, query)) == [wanted.pk]

    @pytest.mark.parametrize(
        "query", [{"status": "asleep"}, {"area": "atlantis"}, {"referral_source": "pigeon"}]
    )
    def test_a_filter_value_that_does_not_exist_is_refused(self, api, query):
        PeerFactory()

        response = api.get(PEERS, query)

        assert response.status_code == 400
        assert set(response.json()["errors"]) == set(query)

    def test_an_unknown_parameter_is_refused_not_ignored(self, api):
        PeerFactory()

        response = api.get(PEERS, {"waiting": "true"})

        assert response.status_code == 400
        assert "waiting" in response.json()["errors"]

    def test_the_number_of_queries_does_not_grow_with_the_number_of_peers(self, api):
        def make_peer():
            peer = PeerFactory()
            peer.languages.set([language("en"), language("pl")])
            peer.focuses.set([focus("alcohol")])

        make_peer()
        with CaptureQueriesContext(connection) as one:
            first = api.get(PEERS, {"page_size": 100})
        for _ in range(49):
            make_peer()
        with CaptureQueriesContext(connection) as fifty:
            second = api.get(PEERS, {"page_size": 100})

        assert first.json()["count"] == 1 and len(second.json()["results"]) == 50
        assert second.json()["results"][0]["languages"] == ["en", "pl"]
        assert len(fifty.captured_queries) == len(one.captured_queries)


class TestWhoMayUsePeers:
    def test_someone_signed_in_who_is_not_a_coordinator_is_forbidden(self):
        peer = PeerFactory()
        client = APIClient()
        client.force_login(UserFactory())

        assert client.get(PEERS).status_code == 403
        assert client.get(detail(peer)).status_code == 403
        assert client.post(status_url(peer), {"status": "closed"}, format="json").status_code == 403
        peer.refresh_from_db()
        assert peer.status == "waiting"

    def test_someone_not_signed_in_is_asked_to_sign_in(self):
        response = APIClient().get(PEERS)

        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


class TestPreferredTimes:
    def test_a_coordinator_adds_lists_changes_and_removes_a_preferred_time(self, api):
        peer = PeerFactory()

        added = api.post(
            times_url(peer),
            {"weekday": "wednesday", "starts_at": "18:00", "ends_at": "20:30"},
            format="json",
        )
        assert added.status_code == 201, added.json()
        window = added.json()
        assert window["weekday"] == "wednesday" and window["hours"] == 2.5
        assert PreferredTime.objects.get().peer == peer

        listed = api.get(times_url(peer)).json()["results"]
        assert [row["id"] for row in listed] == [window["id"]]

        changed = api.patch(
            f"{times_url(peer)}{window['id']}/", {"weekday": "friday"}, format="json"
        )
        assert changed.status_code == 200, changed.json()
        assert PreferredTime.objects.get().weekday == 4

        removed = api.delete(f"{times_url(peer)}{window['id']}/")
        assert removed.status_code == 204
        assert not PreferredTime.objects.exists()

    def test_an_overlapping_window_is_refused(self, api):
        peer = PeerFactory()
        PreferredTimeFactory(peer=peer, weekday=2, starts_at="18:00", ends_at="20:00")

        response = api.post(
            times_url(peer),
            {"weekday": "wednesday", "starts_at": "19:00", "ends_at": "21:00"},
            format="json",
        )

        assert response.status_code == 400
        assert "overlaps" in response.json()["errors"]["non_field_errors"][0]
        assert PreferredTime.objects.count() == 1

    def test_a_window_that_ends_before_it_starts_is_refused(self, api):
        peer = PeerFactory()

        response = api.post(
            times_url(peer),
            {"weekday": "monday", "starts_at": "21:00", "ends_at": "09:00"},
            format="json",
        )

        assert response.status_code == 400
        assert "ends_at" in response.json()["errors"]
        assert not PreferredTime.objects.exists()

    def test_windows_are_listed_in_weekly_order_and_filter_by_weekday(self, api):
        peer = PeerFactory()
        friday = PreferredTimeFactory(peer=peer, weekday=4)
        monday = PreferredTimeFactory(peer=peer, weekday=0)
        PreferredTimeFactory(peer=PeerFactory(), weekday=0)

        assert listed_ids(api.get(times_url(peer))) == [monday.pk, friday.pk]
        assert listed_ids(api.get(times_url(peer), {"weekday": "friday"})) == [friday.pk]
        assert api.get(times_url(peer), {"weekday": "funday"}).status_code == 400

    def test_another_peers_window_is_not_found_under_this_peer(self, api):
        peer = PeerFactory()
        elsewhere = PreferredTimeFactory(peer=PeerFactory())

        response = api.patch(f"{times_url(peer)}{elsewhere.pk}/", {"weekday": "monday"})

        assert response.status_code == 404
        elsewhere.refresh_from_db()
        assert elsewhere.weekday == 2

    def test_under_an_unknown_peer_everything_is_not_found(self, api):
        listing = api.get(times_url(99999))
        adding = api.post(
            times_url(99999),
            {"weekday": "monday", "starts_at": "09:00", "ends_at": "10:00"},
            format="json",
        )

        assert listing.status_code == adding.status_code == 404
        assert not PreferredTime.objects.exists()

    def test_the_number_of_queries_does_not_grow_with_the_number_of_windows(self, api):
        peer = PeerFactory()
        PreferredTimeFactory(peer=peer, weekday=0)
        with CaptureQueriesContext(connection) as one:
            first = api.get(times_url(peer), {"page_size": 100})
        for hour in range(49):
            day, slot = divmod(hour, 7)
            PreferredTimeFactory(
                peer=peer,
                weekday=slot,
                starts_at=datetime.time(10 + day),
                ends_at=datetime.time(10 + day, 30),
            )
        with CaptureQueriesContext(connection) as fifty:
            second = api.get(times_url(peer), {"page_size": 100})

        assert first.json()["count"] == 1 and second.json()["count"] == 50
        assert len(fifty.captured_queries) == len(one.captured_queries)
