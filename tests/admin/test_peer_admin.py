import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from matching.models import Match
from peers.models import Peer, PeerStatusChange
from tests.factories import (
    PeerFactory,
    PreferredTimeFactory,
    VolunteerFactory,
    area,
    back_after_a_match,
    waiting_for,
)

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:peers_peer_changelist")


def listed(response):
    return list(response.context["cl"].result_list)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


class TestPeerList:
    def test_shows_reference_name_area_status_waiting_time_source_and_supporter(
        self, coordinator_client
    ):
        peer = PeerFactory(
            preferred_name="Morag", area=area("Shotts"), status="matched", referral_source="gp"
        )
        Match.objects.create(
            peer=peer,
            volunteer=VolunteerFactory(preferred_name="Senga"),
            status=Match.Status.ACTIVE,
        )

        page = coordinator_client.get(CHANGELIST).content.decode()

        for shown in [peer.reference, "Morag", "Shotts", "Matched", "GP or primary care", "Senga"]:
            assert shown in page

    def test_longest_waiting_come_first_and_those_not_waiting_last(self, coordinator_client):
        referred = PeerFactory(status="referred")
        recent, longest = waiting_for(days=2), waiting_for(days=40)

        assert listed(coordinator_client.get(CHANGELIST)) == [longest, recent, referred]

    def test_someone_back_from_a_match_is_placed_by_the_total_time_they_have_waited(
        self, coordinator_client, time_machine
    ):
        time_machine.move_to(datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC), tick=False)
        longest = waiting_for(days=40)
        back = back_after_a_match(time_machine, waited_days=30, matched_days=60)
        recent = waiting_for(days=20)

        response = coordinator_client.get(CHANGELIST)

        assert listed(response) == [longest, back, recent]
        page = response.content.decode()
        assert page.index("40 days") < page.index("30 days") < page.index("20 days")

    def test_filters_by_status_area_and_referral_source(self, coordinator_client):
        wanted = PeerFactory(area=area("Larkhall"), referral_source="justice")
        PeerFactory(area=area("Larkhall"), referral_source="self")
        PeerFactory(area=area("Wishaw"), referral_source="justice")
        PeerFactory(area=area("Larkhall"), referral_source="justice", status="referred")

        response = coordinator_client.get(
            CHANGELIST,
            {
                "status__exact": "waiting",
                "area__id__exact": area("Larkhall").pk,
                "referral_source__exact": "justice",
            },
        )

        assert listed(response) == [wanted]

    @pytest.mark.parametrize("typed", ["{ref}", "{short}", "{short_lower}"])
    def test_a_reference_typed_in_any_usual_form_finds_the_peer(self, coordinator_client, typed):
        peer, _other = PeerFactory(), PeerFactory()
        term = typed.format(ref=peer.reference, short=f"P{peer.pk}", short_lower=f"p-{peer.pk}")

        assert listed(coordinator_client.get(CHANGELIST, {"q": term})) == [peer]

    def test_a_phone_typed_the_usual_way_or_a_name_finds_the_peer(self, coordinator_client):
        peer = PeerFactory(preferred_name="Morag", full_name="Morag Devlin")
        PeerFactory(preferred_name="Jamie")

        for term in [peer.phone.as_national, "morag", "devlin"]:
            assert listed(coordinator_client.get(CHANGELIST, {"q": term})) == [peer]


class TestPeerPage:
    def test_preferred_times_and_status_history_are_on_the_peer_page(
        self, coordinator_client, coordinator
    ):
        peer = PeerFactory(status="waiting")
        PreferredTimeFactory(peer=peer, weekday=2)
        PeerStatusChange.objects.create(
            peer=peer, from_status="referred", to_status="waiting", changed_by=coordinator
        )

        page = coordinator_client.get(reverse("admin:peers_peer_change", args=[peer.pk]))

        html = page.content.decode()
        assert "Preferred times" in html and "Wednesday" in html
        assert "Status history" in html and escape(coordinator.name) in html
        assert "status" not in page.context["adminform"].form.fields

    def test_a_new_peer_can_only_start_referred_or_waiting(self, coordinator_client):
        page = coordinator_client.get(reverse("admin:peers_peer_add"))

        choices = [
            value for value, _label in page.context["adminform"].form.fields["status"].choices
        ]

        assert [choice for choice in choices if choice] == ["referred", "waiting"]

    def test_a_peer_added_as_waiting_joins_the_waiting_list_now(self, coordinator_client):
        data = {
            "preferred_name": "Jamie",
            "area": area("Wishaw").pk,
            "status": "waiting",
            "gender": "undisclosed",
            "preferred_supporter_gender": "any",
            "referral_source": "self",
            "referred_on": timezone.localdate().isoformat(),
            "meets_by_phone": "on",
            "preferred_times-TOTAL_FORMS": 1,
            "preferred_times-INITIAL_FORMS": 0,
            "preferred_times-0-weekday": 4,
            "preferred_times-0-starts_at": "18:00",
            "preferred_times-0-ends_at": "20:00",
            "status_log-TOTAL_FORMS": 0,
            "status_log-INITIAL_FORMS": 0,
            "matches-TOTAL_FORMS": 0,
            "matches-INITIAL_FORMS": 0,
        }

        response = coordinator_client.post(reverse("admin:peers_peer_add"), data)

        assert response.status_code == 302
        peer = Peer.objects.get(preferred_name="Jamie")
        assert peer.waiting_since is not None
        assert [str(time) for time in peer.preferred_times.all()] == ["Friday 18:00–20:00"]


class TestPeerStatusActions:
    def test_pausing_is_logged_and_an_impossible_move_is_explained(
        self, coordinator_client, coordinator
    ):
        waiting = PeerFactory(status="waiting")
        closed = PeerFactory(status="closed")

        response = coordinator_client.post(
            CHANGELIST,
            {"action": "mark_paused", "_selected_action": [waiting.pk, closed.pk]},
            follow=True,
        )

        said = messages_of(response)
        assert "1 peer is now paused." in said
        assert (
            f"{closed.reference} is closed and cannot become paused; from closed they can "
            "become: waiting for a supporter." in said
        )
        change = PeerStatusChange.objects.get(peer=waiting)
        assert (change.to_status, change.changed_by) == ("paused", coordinator)
        closed.refresh_from_db()
        assert closed.status == "closed"

    def test_matching_is_not_an_action_here(self, coordinator_client):
        choices = coordinator_client.get(CHANGELIST).context["action_form"].fields["action"]

        actions = dict(choices.choices)

        assert {"mark_waiting", "mark_paused", "mark_closed"} <= set(actions)
        assert "mark_matched" not in actions
