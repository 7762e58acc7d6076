"""The coordinator's follow-up list: open ones, most urgent first, handled with a note."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from matching.follow_ups import Kind, Urgency, handle_follow_up, raise_follow_up, raise_for_texts
from matching.models import FollowUp
from messaging import services
from tests.factories import SessionFactory, UserFactory, VolunteerFactory

pytestmark = pytest.mark.django_db

FOLLOW_UPS = reverse("admin:matching_followup_changelist")


def listed(response):
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def follow_up(cause, *, urgency=Urgency.SOON, kind=Kind.NO_SHOW, summary=None, **subject):
    if not subject:
        subject = {"volunteer": VolunteerFactory()}
    raised, _ = raise_follow_up(
        kind=kind, cause=cause, summary=summary or f"About {cause}", urgency=urgency, **subject
    )
    return raised


def change_url(record):
    return reverse("admin:matching_followup_change", args=[record.pk])


def handle(client, chosen, *, listing=FOLLOW_UPS, **extra):
    return client.post(
        listing,
        {"action": "mark_handled", "_selected_action": [f.pk for f in chosen], **extra},
    )


class TestTheList:
    def test_shows_open_ones_most_urgent_first_unless_asked_for_others(self, coordinator_client):
        soon = follow_up("a")
        urgent = follow_up("b", urgency=Urgency.URGENT)
        routine = follow_up("c", urgency=Urgency.ROUTINE)
        done = handle_follow_up(follow_up("d"), note="Done")

        assert listed(coordinator_client.get(FOLLOW_UPS)) == [urgent, soon, routine]
        assert listed(coordinator_client.get(FOLLOW_UPS, {"state": "handled"})) == [done]
        assert len(listed(coordinator_client.get(FOLLOW_UPS, {"state": "all"}))) == 4

    def test_filters_by_kind_and_urgency(self, coordinator_client):
        declined = follow_up("a", kind=Kind.SESSION_DECLINED, urgency=Urgency.URGENT)
        follow_up("b", kind=Kind.NO_SHOW)

        assert listed(coordinator_client.get(FOLLOW_UPS, {"kind__exact": "session_declined"})) == [
            declined
        ]
        assert listed(coordinator_client.get(FOLLOW_UPS, {"urgency__exact": "urgent"})) == [
            declined
        ]

    def test_search_finds_words_of_the_summary_and_the_volunteers_name(self, coordinator_client):
        senga = follow_up("a", volunteer=VolunteerFactory(full_name="Senga Dunbar"))
        book = follow_up("b", summary="Book the PVG renewal")

        assert listed(coordinator_client.get(FOLLOW_UPS, {"q": "dunbar"})) == [senga]
        assert listed(coordinator_client.get(FOLLOW_UPS, {"q": "renewal"})) == [book]

    def test_each_row_links_to_what_it_is_about(self, coordinator_client):
        session = SessionFactory()
        follow_up("a", session=session)

        page = coordinator_client.get(FOLLOW_UPS).content.decode()

        assert reverse("admin:matching_session_change", args=[session.pk]) in page
        assert "Urgent: today" in page or "Soon" in page

    def test_the_list_costs_the_same_queries_for_one_or_thirty(self, coordinator_client):
        def queries_for_list():
            with CaptureQueriesContext(connection) as queries:
                response = coordinator_client.get(FOLLOW_UPS)
            return len(queries), len(listed(response))

        follow_up("first", session=SessionFactory())
        one, shown = queries_for_list()
        assert shown == 1
        for number in range(29):
            subject = {"session": SessionFactory()} if number % 2 else {}
            follow_up(f"more {number}", **subject)
        thirty, shown = queries_for_list()
        assert shown == 30
        assert thirty == one


class TestMarkHandled:
    def test_asks_for_a_note_first_and_changes_nothing_yet(self, coordinator_client):
        chosen = follow_up("a")

        page = handle(coordinator_client, [chosen])

        assert page.status_code == 200
        assert 'name="note"' in page.content.decode()
        assert chosen.summary in page.content.decode()
        chosen.refresh_from_db()
        assert chosen.is_open

    def test_with_the_note_each_chosen_one_is_handled_by_the_coordinator(
        self, coordinator_client, coordinator
    ):
        first, second = follow_up("a"), follow_up("b")

        response = handle(
            coordinator_client, [first, second], apply="yes", note="Phoned them both."
        )

        assert response.status_code == 302
        for chosen in (first, second):
            chosen.refresh_from_db()
            assert (chosen.handled_by, chosen.handled_note) == (coordinator, "Phoned them both.")
        said = [str(m) for m in get_messages(response.wsgi_request)]
        assert said == ["2 follow-ups marked handled."]

    def test_a_note_too_long_is_asked_for_again_and_nothing_is_handled(self, coordinator_client):
        chosen = follow_up("a")

        page = handle(coordinator_client, [chosen], apply="yes", note="x" * 2001)

        assert page.status_code == 200
        assert "2000 characters" in page.content.decode()
        chosen.refresh_from_db()
        assert chosen.is_open

    def test_one_already_handled_is_reported_and_the_others_are_handled(self, coordinator_client):
        done = handle_follow_up(follow_up("a"), note="Earlier")
        still_open = follow_up("b")

        response = handle(
            coordinator_client,
            [done, still_open],
            listing=f"{FOLLOW_UPS}?state=all",
            apply="yes",
            note="Now",
        )

        said = [str(m) for m in get_messages(response.wsgi_request)]
        assert any("already handled" in message for message in said)
        still_open.refresh_from_db()
        done.refresh_from_db()
        assert (still_open.handled_note, done.handled_note) == ("Now", "Earlier")

    def test_handling_a_follow_up_about_a_reply_takes_it_out_of_the_inbox(self, coordinator_client):
        reply, _ = services.receive(
            sid="SM" + "1" * 32, from_number="+447700900999", to_number="+447700900001", body="?"
        )
        raise_for_texts()

        handle(coordinator_client, [FollowUp.objects.get()], apply="yes", note="Wrong number")

        reply.refresh_from_db()
        assert not reply.needs_attention


class TestReadOnly:
    def test_a_follow_up_is_read_never_edited_added_or_deleted(self, coordinator_client):
        chosen = follow_up("a")

        page = coordinator_client.get(change_url(chosen))
        posted = coordinator_client.post(change_url(chosen), {"summary": "Changed"})

        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert chosen.summary in page.content.decode()
        assert posted.status_code == 403
        assert coordinator_client.get(reverse("admin:matching_followup_add")).status_code == 403
        delete = reverse("admin:matching_followup_delete", args=[chosen.pk])
        assert coordinator_client.get(delete).status_code == 403
        chosen.refresh_from_db()
        assert chosen.summary == "About a"

    def test_staff_outside_the_coordinators_group_cannot_see_them(self, client):
        follow_up("a")
        client.force_login(UserFactory(is_staff=True))

        assert client.get(FOLLOW_UPS).status_code == 403
