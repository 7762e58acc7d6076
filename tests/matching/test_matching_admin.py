"""The coordinator's matching pages: matches to decide on, sessions to plan and record, and
pairs who must never be matched. Every change goes through the matching services."""

import datetime
import html
from decimal import Decimal

import pytest
from django import forms
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from matching import engine
from matching.admin import SessionForm
from matching.models import Exclusion, Match, Session
from messaging.models import Message
from tests.factories import (
    ExclusionFactory,
    MatchFactory,
    PeerFactory,
    SessionFactory,
    UserFactory,
    VolunteerFactory,
    fully_trained,
)

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # London is on GMT
MATCHES = reverse("admin:matching_match_changelist")
SESSIONS = reverse("admin:matching_session_changelist")
EXCLUSIONS = reverse("admin:matching_exclusion_changelist")


@pytest.fixture(autouse=True)
def _now_and_no_mfa_prompt(time_machine, settings):
    time_machine.move_to(NOW, tick=False)
    settings.REQUIRE_COORDINATOR_MFA = False


def listed(response):
    return list(response.context["cl"].result_list)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def act(client, url, action, records, **typed):
    return client.post(
        url,
        {"action": action, "_selected_action": [record.pk for record in records], **typed},
        follow=True,
    )


def queries_for_list(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(listed(response))


def at(day, hour, minute=0):
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def reminded(session, *, answer=None):
    """Give `session` a reminder delivered an hour ago, with the volunteer's answer if any."""
    phone = session.match.volunteer.phone
    reply = None
    if answer is not None:
        reply = Message.objects.create(
            direction=Message.Direction.INBOUND,
            to_number="+447700900001",
            from_number=phone,
            body=answer,
            status=Message.Status.RECEIVED,
        )
    reminder = Message.objects.create(
        direction=Message.Direction.OUTBOUND,
        to_number=phone,
        body="Your session is tomorrow. Reply YES to confirm or NO if you can't make it.",
        status=Message.Status.DELIVERED,
        sent_at=NOW - datetime.timedelta(hours=1),
        answered_by=reply,
    )
    Session.objects.filter(pk=session.pk).update(reminder=reminder)
    session.refresh_from_db()
    return session


class TestMatchList:
    def test_shows_who_with_whom_the_status_score_and_dates(self, coordinator_client):
        match = MatchFactory(active=True, volunteer__preferred_name="Senga", score=0.82)

        page = coordinator_client.get(MATCHES).content.decode()

        for shown in ["Senga", match.peer.reference, "Active", "0.82"]:
            assert shown in page

    def test_filters_by_status(self, coordinator_client):
        proposed = MatchFactory()
        MatchFactory(active=True)

        assert listed(coordinator_client.get(MATCHES, {"status__exact": "proposed"})) == [proposed]

    def test_the_list_costs_the_same_queries_for_one_match_or_thirty(self, coordinator_client):
        MatchFactory(active=True)
        one, shown = queries_for_list(coordinator_client, MATCHES)
        assert shown == 1
        MatchFactory.create_batch(14, active=True)
        MatchFactory.create_batch(15)
        thirty, shown = queries_for_list(coordinator_client, MATCHES)
        assert (thirty, shown) == (one, 30)

    def test_the_match_page_shows_the_reasons_and_the_sessions(self, coordinator_client):
        match = MatchFactory(active=True, reasons=["Both live in Coatbridge.", "Shared focus."])
        SessionFactory(match=match, place="Coatbridge library")

        page = coordinator_client.get(
            reverse("admin:matching_match_change", args=[match.pk])
        ).content.decode()

        for shown in ["Both live in Coatbridge.", "Shared focus.", "Coatbridge library"]:
            assert shown in page
        assert 'name="_save"' not in page


class TestMatchActions:
    def test_approving_matches_each_peer_and_reports_a_full_volunteer(
        self, coordinator_client, coordinator
    ):
        volunteer = VolunteerFactory(preferred_name="Senga", max_active_matches=1)
        first, second = MatchFactory.create_batch(2, volunteer=volunteer)

        response = act(coordinator_client, MATCHES, "approve", [first, second])

        said = messages_of(response)
        assert "1 match approved." in said
        assert (
            "Senga already supports 1 person and their capacity is 1; end one of their matches "
            "or raise their capacity first." in said
        )
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.status, first.decided_by, second.status) == (
            "active",
            coordinator,
            "proposed",
        )

    def test_declining_keeps_the_reason_typed_beside_the_action(self, coordinator_client):
        match = MatchFactory()

        response = act(coordinator_client, MATCHES, "decline", [match], reason="Too far.")

        assert "1 match declined." in messages_of(response)
        match.refresh_from_db()
        assert (match.status, match.end_reason) == ("declined", "Too far.")

    def test_ending_without_a_reason_is_refused_in_words(self, coordinator_client):
        match = MatchFactory(active=True)

        response = act(coordinator_client, MATCHES, "end_back_to_waiting", [match])

        assert messages_of(response) == ["Say why the match ended; it stays on the record."]
        match.refresh_from_db()
        assert match.status == "active"

    def test_ending_puts_the_peer_back_on_the_waiting_list(self, coordinator_client):
        match = MatchFactory(active=True)

        act(coordinator_client, MATCHES, "end_back_to_waiting", [match], reason="Moved away.")

        match.refresh_from_db()
        match.peer.refresh_from_db()
        assert (match.status, match.end_reason, match.peer.status) == (
            "ended",
            "Moved away.",
            "waiting",
        )

    def test_ending_when_support_is_over_closes_the_peers_record(self, coordinator_client):
        match = MatchFactory(active=True)

        response = act(coordinator_client, MATCHES, "end_and_close", [match], reason="Done.")

        assert "1 match ended." in messages_of(response)
        match.peer.refresh_from_db()
        assert match.peer.status == "closed"

    def test_someone_who_may_only_look_cannot_decide(self, client):
        viewer = UserFactory(is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_match"))
        client.force_login(viewer)
        match = MatchFactory()

        response = client.get(MATCHES)
        act(client, MATCHES, "approve", [match])

        assert response.status_code == 200
        assert response.context["action_form"] is None
        match.refresh_from_db()
        assert match.status == "proposed"


class TestSessionList:
    def test_shows_when_who_how_and_what_happened(self, coordinator_client):
        session = SessionFactory(match__volunteer__preferred_name="Senga", place="The Hub")

        page = coordinator_client.get(SESSIONS).content.decode()

        for shown in ["Senga", session.match.peer.reference, "In person", "The Hub", "Scheduled"]:
            assert shown in page

    def test_the_list_costs_the_same_queries_for_one_session_or_thirty(self, coordinator_client):
        reminded(SessionFactory(match__volunteer__sms_consent=True), answer="yes")
        one, shown = queries_for_list(coordinator_client, SESSIONS)
        assert shown == 1
        for number, session in enumerate(SessionFactory.create_batch(29)):
            reminded(session, answer="yes" if number % 2 else None)
        thirty, shown = queries_for_list(coordinator_client, SESSIONS)
        assert (thirty, shown) == (one, 30)

    def test_shows_where_each_confirmation_stands_the_reminder_and_the_answer(
        self, coordinator_client
    ):
        answered = reminded(
            SessionFactory(
                match__volunteer__sms_consent=True,
                status=Session.Status.DECLINED,
            ),
            answer="Sorry no, my bus is off",
        )
        at_risk = SessionFactory(match__volunteer__sms_consent=True, at_risk_since=NOW)
        landline = SessionFactory(
            match__volunteer__sms_consent=True, match__volunteer__phone="+441236123456"
        )

        response = coordinator_client.get(SESSIONS)
        page = html.unescape(response.content.decode())

        rows = {s.pk: s.confirmation_state for s in listed(response)}
        assert rows == {answered.pk: "declined", at_risk.pk: "at_risk", landline.pk: "cannot_text"}
        assert "Sorry no, my bus is off" in page
        assert "Mon 23 Nov 11:00 (delivered)" in page
        assert page.count("\u26a0") == 2
        for shown in ["Declined", "Not confirmed in time", "Volunteer cannot be texted"]:
            assert shown in page

    def test_filtered_by_confirmation(self, coordinator_client):
        at_risk = SessionFactory(match__volunteer__sms_consent=True, at_risk_since=NOW)
        SessionFactory(match__volunteer__sms_consent=True)
        cannot = SessionFactory()  # the volunteer never agreed to texts

        assert listed(coordinator_client.get(SESSIONS, {"confirmation": "at_risk"})) == [at_risk]
        assert listed(coordinator_client.get(SESSIONS, {"confirmation": "cannot_text"})) == [cannot]

    def test_the_session_page_shows_its_texts_read_only(self, coordinator_client):
        session = reminded(SessionFactory(match__volunteer__sms_consent=True), answer="Yep")
        check_in = Message.objects.create(
            direction=Message.Direction.OUTBOUND,
            to_number=session.match.volunteer.phone,
            body="Did your session with Sam on Tuesday happen? Reply YES or NO",
            status=Message.Status.QUEUED,
        )
        Session.objects.filter(pk=session.pk).update(check_in=check_in)

        response = coordinator_client.get(
            reverse("admin:matching_session_change", args=[session.pk])
        )
        page = html.unescape(response.content.decode())

        assert response.status_code == 200
        for shown in [
            "Reminded, awaiting reply",
            "Your session is tomorrow",
            "Mon 23 Nov 11:00 (delivered)",
            "Yep",
            "Did your session with Sam on Tuesday happen?",
            "not sent yet (queued)",
        ]:
            assert shown in page
        form = response.context["adminform"].form
        assert not {"reminder", "check_in", "at_risk_since"} & set(form.fields)

    def test_a_reference_finds_the_peers_sessions(self, coordinator_client):
        session, _other = SessionFactory(), SessionFactory()

        response = coordinator_client.get(SESSIONS, {"q": session.match.peer.reference})

        assert listed(response) == [session]

    def test_sessions_are_cancelled_never_deleted(self, coordinator_client):
        session = SessionFactory()
        actions = coordinator_client.get(SESSIONS).context["action_form"].fields["action"]

        assert "delete_selected" not in dict(actions.choices)
        delete = reverse("admin:matching_session_delete", args=[session.pk])
        assert coordinator_client.get(delete).status_code == 403


class TestSessionActions:
    @pytest.fixture
    def started(self, time_machine):
        session = SessionFactory(starts_at=at(25, 14), ends_at=at(25, 15))
        time_machine.move_to(at(25, 15, 30), tick=False)
        return session

    def test_completed_with_the_hours_typed(self, coordinator_client, started):
        response = act(
            coordinator_client,
            SESSIONS,
            "mark_completed",
            [started],
            hours="1.5",
            notes="Coffee and a walk.",
        )

        assert "1 session completed." in messages_of(response)
        started.refresh_from_db()
        assert (started.status, started.hours, started.outcome_notes) == (
            "completed",
            Decimal("1.50"),
            "Coffee and a walk.",
        )

    def test_completed_without_hours_says_what_is_missing(self, coordinator_client, started):
        response = act(coordinator_client, SESSIONS, "mark_completed", [started])

        assert messages_of(response) == ["Say how many hours the session took, e.g. 1.5."]
        started.refresh_from_db()
        assert started.status == "scheduled"

    def test_a_no_show(self, coordinator_client, started):
        response = act(coordinator_client, SESSIONS, "mark_no_show", [started])

        assert "1 session marked as no shows." in messages_of(response)
        started.refresh_from_db()
        assert started.status == "no_show"

    def test_a_session_to_come_has_no_outcome_yet(self, coordinator_client):
        session = SessionFactory(starts_at=at(25, 14), ends_at=at(25, 15))

        response = act(coordinator_client, SESSIONS, "mark_no_show", [session])

        assert messages_of(response)[0].endswith(
            "has not started yet; record what happened once it has."
        )

    def test_cancelling_keeps_the_notes_as_the_reason(self, coordinator_client):
        session = SessionFactory()

        act(coordinator_client, SESSIONS, "cancel", [session], notes="Peer unwell.")

        session.refresh_from_db()
        assert (session.status, session.outcome_notes) == ("cancelled", "Peer unwell.")


def session_form(match, *, day, start, end, mode="phone", place=""):
    return {
        "match": match.pk,
        "starts_at_0": f"2026-11-{day}",
        "starts_at_1": start,
        "ends_at_0": f"2026-11-{day}",
        "ends_at_1": end,
        "mode": mode,
        "place": place,
    }


class TestSessionForm:
    def test_a_session_added_here_is_scheduled_through_the_rules(self, coordinator_client):
        match = MatchFactory(active=True)

        response = coordinator_client.post(
            reverse("admin:matching_session_add"),
            session_form(match, day=25, start="14:00", end="15:00"),
        )

        assert response.status_code == 302
        session = Session.objects.get()
        assert (session.match, session.starts_at, session.status) == (
            match,
            at(25, 14),
            "scheduled",
        )

    def test_an_overlapping_session_is_refused_beside_the_form(self, coordinator_client):
        match = MatchFactory(active=True, volunteer__preferred_name="Senga")
        SessionFactory(match=match, starts_at=at(25, 14), ends_at=at(25, 15))

        response = coordinator_client.post(
            reverse("admin:matching_session_add"),
            session_form(match, day=25, start="14:30", end="15:30"),
        )

        assert response.status_code == 200
        page = html.unescape(response.content.decode())
        assert "Senga already has a session from 25 November 2026 at 14:00 to 15:00" in page
        assert Session.objects.count() == 1

    def test_a_way_of_meeting_that_does_not_suit_is_refused_beside_the_field(
        self, coordinator_client
    ):
        match = MatchFactory(active=True, volunteer__preferred_name="Senga")

        response = coordinator_client.post(
            reverse("admin:matching_session_add"),
            session_form(match, day=25, start="14:00", end="15:00", mode="video"),
        )

        assert response.context["adminform"].form.errors["mode"] == [
            f"Senga and {match.peer.reference} do not meet by video. Both meet: in person, "
            "by phone."
        ]
        assert not Session.objects.exists()

    def test_only_active_matches_are_offered(self, coordinator_client):
        active, proposed = MatchFactory(active=True), MatchFactory()

        form = coordinator_client.get(reverse("admin:matching_session_add")).context["adminform"]

        offered = list(form.form.fields["match"].queryset)
        assert active in offered and proposed not in offered

    def test_changing_the_time_reschedules_and_asks_for_confirmation_again(
        self, coordinator_client
    ):
        session = SessionFactory(
            starts_at=at(25, 14), ends_at=at(25, 15), status="confirmed", confirmed_at=NOW
        )

        response = coordinator_client.post(
            reverse("admin:matching_session_change", args=[session.pk]),
            {
                **session_form(session.match, day=26, start="10:00", end="11:00"),
                "mode": "in_person",
                "place": "The Hub",
            },
        )

        assert response.status_code == 302
        session.refresh_from_db()
        assert (session.starts_at, session.status, session.confirmed_at, session.place) == (
            at(26, 10),
            "scheduled",
            None,
            "The Hub",
        )

    def test_a_settled_session_is_only_read(self, coordinator_client):
        session = SessionFactory(status="cancelled")

        page = coordinator_client.get(
            reverse("admin:matching_session_change", args=[session.pk])
        ).content.decode()

        assert 'name="_save"' not in page


class TestExclusionAdmin:
    def exclusion_form(self, peer, volunteer, reason="Neighbours."):
        return {"peer": peer.pk, "volunteer": volunteer.pk, "reason": reason}

    def test_an_exclusion_added_here_records_who_added_it(self, coordinator_client, coordinator):
        peer, volunteer = PeerFactory(), VolunteerFactory()

        response = coordinator_client.post(
            reverse("admin:matching_exclusion_add"), self.exclusion_form(peer, volunteer)
        )

        assert response.status_code == 302
        exclusion = Exclusion.objects.get()
        assert (exclusion.peer, exclusion.volunteer, exclusion.created_by) == (
            peer,
            volunteer,
            coordinator,
        )

    def test_the_same_pair_twice_is_refused_in_words(self, coordinator_client):
        existing = ExclusionFactory()

        response = coordinator_client.post(
            reverse("admin:matching_exclusion_add"),
            self.exclusion_form(existing.peer, existing.volunteer),
        )

        assert "This volunteer is already excluded from this peer." in response.content.decode()
        assert Exclusion.objects.count() == 1

    def test_a_pair_with_a_match_in_play_is_refused_in_words(self, coordinator_client):
        match = MatchFactory(active=True, volunteer__preferred_name="Senga")

        response = coordinator_client.post(
            reverse("admin:matching_exclusion_add"),
            self.exclusion_form(match.peer, match.volunteer),
        )

        assert (
            f"Senga has an active match with {match.peer.reference}; end it before excluding "
            "them." in html.unescape(response.content.decode())
        )
        assert not Exclusion.objects.exists()

    def test_deleting_allows_the_pair_again(self, coordinator_client):
        exclusion = ExclusionFactory()

        response = coordinator_client.post(
            reverse("admin:matching_exclusion_delete", args=[exclusion.pk]), {"post": "yes"}
        )

        assert response.status_code == 302
        assert not Exclusion.objects.exists()

    def test_the_list_costs_the_same_queries_for_one_exclusion_or_thirty(
        self, coordinator_client, coordinator
    ):
        ExclusionFactory(created_by=coordinator)
        one, shown = queries_for_list(coordinator_client, EXCLUSIONS)
        assert shown == 1
        ExclusionFactory.create_batch(29, created_by=coordinator)
        thirty, shown = queries_for_list(coordinator_client, EXCLUSIONS)
        assert (thirty, shown) == (one, 30)


def test_the_matches_of_a_volunteer_link_to_their_pages(coordinator_client):
    match = MatchFactory(active=True)

    page = coordinator_client.get(
        reverse("admin:volunteers_volunteer_change", args=[match.volunteer.pk])
    ).content.decode()

    assert reverse("admin:matching_match_change", args=[match.pk]) in page


def test_a_clash_saved_a_moment_before_is_reported_and_nothing_saved(
    coordinator_client, monkeypatch
):
    """The form checks the rules first; should another coordinator's session land between
    that check and the save, the service's own check under the lock refuses it."""
    match = MatchFactory(active=True, volunteer__preferred_name="Senga")
    SessionFactory(match=match, starts_at=at(25, 14), ends_at=at(25, 15))
    monkeypatch.setattr(SessionForm, "clean", forms.ModelForm.clean)

    response = coordinator_client.post(
        reverse("admin:matching_session_add"),
        session_form(match, day=25, start="14:30", end="15:30"),
        follow=True,
    )

    assert messages_of(response)[0].startswith("Senga already has a session from 25 November")
    assert Session.objects.count() == 1


class TestSuggestionsOnThePeerPage:
    def page(self, client, peer):
        return client.get(reverse("admin:peers_peer_change", args=[peer.pk]))

    def propose(self, client, peer, volunteer):
        return client.post(
            reverse("admin:peers_peer_propose", args=[peer.pk]),
            {"volunteer": volunteer.pk},
            follow=True,
        )

    def test_a_waiting_peer_shows_the_top_five_with_their_reasons(self, coordinator_client):
        peer = PeerFactory()
        for _ in range(6):
            fully_trained(VolunteerFactory())
        expected = engine.suggest(peer, limit=5)

        page = html.unescape(self.page(coordinator_client, peer).content.decode())

        assert len(expected) == 5
        assert page.count(">Propose</button>") == 5
        for suggestion in expected:
            assert str(suggestion.volunteer) in page
            assert f'name="volunteer" value="{suggestion.volunteer.pk}"' in page
            for reason in suggestion.reasons:
                assert reason in page

    def test_proposing_a_suggestion_keeps_its_score_and_reasons(
        self, coordinator_client, coordinator
    ):
        peer = PeerFactory()
        volunteer = fully_trained(VolunteerFactory(preferred_name="Senga"))
        (suggestion,) = engine.suggest(peer, limit=5)

        response = self.propose(coordinator_client, peer, volunteer)

        match = Match.objects.get()
        assert (match.peer, match.volunteer, match.status, match.proposed_by) == (
            peer,
            volunteer,
            "proposed",
            coordinator,
        )
        assert (match.score, match.reasons) == (suggestion.score, list(suggestion.reasons))
        match_page = reverse("admin:matching_match_change", args=[match.pk])
        assert messages_of(response) == [
            f'<a href="{match_page}">Senga is proposed for {peer.reference}</a>; approve or '
            "decline the proposal on the match list."
        ]
        assert response.redirect_chain[-1][0] == reverse("admin:peers_peer_change", args=[peer.pk])

    def test_once_proposed_the_page_points_to_the_proposal(self, coordinator_client):
        match = MatchFactory(volunteer__preferred_name="Senga")

        page = self.page(coordinator_client, match.peer).content.decode()

        assert (
            f"The match of {match.peer.reference} with Senga is already proposed; decide on it "
            "on the match list first." in page
        )
        assert ">Propose</button>" not in page

    def test_a_volunteer_who_fails_a_rule_is_not_proposed_and_the_page_says_why(
        self, coordinator_client
    ):
        peer = PeerFactory()
        untrained = VolunteerFactory(preferred_name="Senga")
        reasons = engine.why_not(peer, untrained)

        response = self.propose(coordinator_client, peer, untrained)

        assert not Match.objects.exists()
        assert reasons
        assert messages_of(response) == [
            f"Senga cannot be proposed for {peer.reference}: {' '.join(reasons)}"
        ]
        assert response.redirect_chain[-1][0] == reverse("admin:peers_peer_change", args=[peer.pk])

    @pytest.mark.parametrize("volunteer", ["", "abc", "²", str(2**64)])
    def test_a_volunteer_not_on_record_is_not_proposed(self, coordinator_client, volunteer):
        peer = PeerFactory()
        fully_trained(VolunteerFactory())

        response = coordinator_client.post(
            reverse("admin:peers_peer_propose", args=[peer.pk]),
            {"volunteer": volunteer},
            follow=True,
        )

        assert not Match.objects.exists()
        assert messages_of(response) == [
            "That volunteer is no longer on record; the suggestions below are today's."
        ]

    def test_a_peer_not_waiting_has_no_suggestions(self, coordinator_client):
        peer = PeerFactory(status="referred")
        fully_trained(VolunteerFactory())

        page = self.page(coordinator_client, peer).content.decode()

        assert "Suggestions are shown while" in page
        assert ">Propose</button>" not in page

    def test_without_suitable_volunteers_the_page_says_so(self, coordinator_client):
        peer = PeerFactory()

        page = self.page(coordinator_client, peer).content.decode()

        assert f"No volunteer meets every matching rule for {peer.reference} today." in page

    def test_someone_who_may_not_propose_reads_the_suggestions_without_buttons(self, client):
        viewer = UserFactory(is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_peer"))
        client.force_login(viewer)
        peer = PeerFactory()
        volunteer = fully_trained(VolunteerFactory())

        page = self.page(client, peer).content.decode()
        refused = client.post(
            reverse("admin:peers_peer_propose", args=[peer.pk]), {"volunteer": volunteer.pk}
        )

        assert str(volunteer) in page and ">Propose</button>" not in page
        assert refused.status_code == 403
        assert not Match.objects.exists()

    def test_enter_in_a_field_saves_the_peer_rather_than_proposing(self, coordinator_client):
        peer = PeerFactory()
        fully_trained(VolunteerFactory())

        page = self.page(coordinator_client, peer).content.decode()

        assert page.index('name="_save"') < page.index(">Propose</button>")

    def test_proposing_is_a_post(self, coordinator_client):
        peer = PeerFactory()

        response = coordinator_client.get(reverse("admin:peers_peer_propose", args=[peer.pk]))

        assert response.status_code == 405
