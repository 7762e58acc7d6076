import datetime
import html

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from matching.models import Match
from tests.factories import (
    AbsenceFactory,
    PeerFactory,
    TrainingRecordFactory,
    VolunteerFactory,
    area,
    course,
    fully_trained,
)
from volunteers import calendar_feeds
from volunteers.models import Volunteer, VolunteerStatusChange

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:volunteers_volunteer_changelist")


def listed(response):
    return list(response.context["cl"].result_list)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def active_match(volunteer):
    return Match.objects.create(
        volunteer=volunteer, peer=PeerFactory(status="matched"), status=Match.Status.ACTIVE
    )


def expiring_soon(volunteer):
    """Fully trained, but the yearly naloxone course lapses in ten days."""
    fully_trained(volunteer)
    volunteer.training_records.filter(course__code="NALOXONE").delete()
    lapses_in_ten_days = timezone.localdate() - datetime.timedelta(days=355)
    TrainingRecordFactory(
        volunteer=volunteer, course=course("NALOXONE"), completed_on=lapses_in_ten_days
    )
    return volunteer


class TestVolunteerList:
    def test_shows_what_the_coordinator_needs_at_a_glance(self, coordinator_client):
        volunteer = fully_trained(VolunteerFactory(preferred_name="Senga", area=area("Airdrie")))
        active_match(volunteer)
        starts = timezone.localdate() + datetime.timedelta(days=3)
        AbsenceFactory(volunteer=volunteer, starts_on=starts, ends_on=starts)

        page = coordinator_client.get(CHANGELIST).content.decode()

        for shown in [
            "Senga",
            volunteer.full_name,
            volunteer.phone.as_national,
            "Airdrie",
            "Active",
            "Complete",
            "1 of 2",
            f"{starts:%-d %b %Y} to {starts:%-d %b %Y}",
        ]:
            assert shown in page

    def test_training_column_tells_complete_expiring_and_lapsed_apart(self, coordinator_client):
        fully_trained(VolunteerFactory(preferred_name="Complete"))
        expiring_soon(VolunteerFactory(preferred_name="Expiring"))
        VolunteerFactory(preferred_name="Untrained")

        response = coordinator_client.get(CHANGELIST)

        rows = {v.preferred_name: v.training_state for v in listed(response)}
        assert rows == {"Complete": "complete", "Expiring": "expiring", "Untrained": "lapsed"}
        page = response.content.decode()
        assert "Expiring soon" in page and "Missing or expired" in page

    def test_filters_by_training_state(self, coordinator_client):
        fully_trained(VolunteerFactory(preferred_name="Complete"))
        expiring = expiring_soon(VolunteerFactory(preferred_name="Expiring"))
        untrained = VolunteerFactory(preferred_name="Untrained")

        assert listed(coordinator_client.get(CHANGELIST, {"training": "expiring"})) == [expiring]
        assert listed(coordinator_client.get(CHANGELIST, {"training": "lapsed"})) == [untrained]

    def test_filters_by_area_and_status(self, coordinator_client):
        wishaw = VolunteerFactory(area=area("Wishaw"), status="paused")
        VolunteerFactory(area=area("Wishaw"), status="active")
        VolunteerFactory(area=area("Airdrie"), status="paused")

        response = coordinator_client.get(
            CHANGELIST, {"area__id__exact": area("Wishaw").pk, "status__exact": "paused"}
        )

        assert listed(response) == [wishaw]

    def test_a_phone_typed_the_usual_way_finds_the_volunteer(self, coordinator_client):
        volunteer = VolunteerFactory()
        VolunteerFactory()
        typed = volunteer.phone.as_national  # "07700 900123", stored as +447700900123

        assert listed(coordinator_client.get(CHANGELIST, {"q": typed})) == [volunteer]

    def test_search_finds_preferred_and_full_names(self, coordinator_client):
        volunteer = VolunteerFactory(preferred_name="Senga", full_name="Agnes Rennie")
        VolunteerFactory(preferred_name="Tam", full_name="Thomas Reid")

        assert listed(coordinator_client.get(CHANGELIST, {"q": "senga"})) == [volunteer]
        assert listed(coordinator_client.get(CHANGELIST, {"q": "rennie"})) == [volunteer]

    def test_the_list_costs_the_same_queries_for_one_volunteer_or_thirty(self, coordinator_client):
        def add_volunteers(count):
            for _ in range(count):
                volunteer = fully_trained(VolunteerFactory())
                AbsenceFactory(volunteer=volunteer)
                active_match(volunteer)

        def queries_for_list():
            with CaptureQueriesContext(connection) as queries:
                response = coordinator_client.get(CHANGELIST)
            assert response.status_code == 200
            return len(queries), len(listed(response))

        add_volunteers(1)
        one, shown = queries_for_list()
        assert shown == 1
        add_volunteers(29)
        thirty, shown = queries_for_list()
        assert shown == 30
        assert thirty == one


class TestVolunteerPage:
    def test_training_availability_absences_and_matches_are_on_the_volunteer_page(
        self, coordinator_client
    ):
        volunteer = VolunteerFactory()
        TrainingRecordFactory(volunteer=volunteer, course=course("NALOXONE"))
        AbsenceFactory(volunteer=volunteer, reason="Hip operation")
        match = active_match(volunteer)

        page = coordinator_client.get(
            reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
        ).content.decode()

        assert "Naloxone administration" in page
        assert "Availability windows" in page
        assert "Hip operation" in page
        assert match.peer.reference in page

    def test_status_is_read_only_on_the_change_page_and_a_post_cannot_change_it(
        self, coordinator_client
    ):
        volunteer = VolunteerFactory(status="applicant")
        url = reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
        page = coordinator_client.get(url)
        assert "status" not in page.context["adminform"].form.fields

        data = {**change_form_data(page), "status": "active", "notes": "Keen"}
        response = coordinator_client.post(url, data)

        assert response.status_code == 302
        volunteer.refresh_from_db()
        assert (volunteer.status, volunteer.notes) == ("applicant", "Keen")

    def test_a_new_volunteer_can_be_added_with_any_status(self, coordinator_client):
        url = reverse("admin:volunteers_volunteer_add")
        data = {
            "preferred_name": "Senga",
            "full_name": "Agnes Rennie",
            "phone": "07700 900999",
            "area": area("Motherwell").pk,
            "status": "in_training",
            "max_active_matches": 2,
            "travel_radius_km": 10,
            "meets_in_person": "on",
            "gender": "female",
            **empty_inlines(),
        }

        response = coordinator_client.post(url, data)

        assert response.status_code == 302
        volunteer = Volunteer.objects.get(full_name="Agnes Rennie")
        assert volunteer.status == "in_training"
        assert str(volunteer.phone) == "+447700900999"

    def test_an_unreadable_phone_is_refused_with_the_reason(self, coordinator_client):
        volunteer = VolunteerFactory()
        url = reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
        data = {**change_form_data(coordinator_client.get(url)), "phone": "0770"}

        response = coordinator_client.post(url, data)

        assert response.status_code == 200
        assert "it is too short" in response.content.decode()

    def test_two_overlapping_windows_entered_together_are_refused_in_words(
        self, coordinator_client
    ):
        volunteer = VolunteerFactory()
        url = reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
        data = change_form_data(coordinator_client.get(url))
        data.update(
            {
                "availability-TOTAL_FORMS": 2,
                "availability-0-weekday": 0,
                "availability-0-starts_at": "09:00",
                "availability-0-ends_at": "12:00",
                "availability-1-weekday": 0,
                "availability-1-starts_at": "11:00",
                "availability-1-ends_at": "13:00",
            }
        )

        response = coordinator_client.post(url, data)

        assert response.status_code == 200
        assert (
            "Monday 09:00–12:00 overlaps Monday 11:00–13:00: windows of one person cannot "
            "overlap." in response.content.decode()
        )
        assert not volunteer.availability.exists()


def change_form_data(page):
    """What the browser would send back from a change page left as it is."""
    data = {}
    for name, value in page.context["adminform"].form.initial.items():
        if value is None or value is False:
            continue
        if value is True:
            data[name] = "on"
        elif isinstance(value, list):
            data[name] = [getattr(item, "pk", item) for item in value]
        else:
            data[name] = str(value)
    return {**data, **empty_inlines()}


def empty_inlines():
    """The management forms of the volunteer page's inlines, with no rows."""
    prefixes = ["training_records", "availability", "absences", "status_log", "matches"]
    data = {}
    for prefix in prefixes:
        data[f"{prefix}-TOTAL_FORMS"] = 0
        data[f"{prefix}-INITIAL_FORMS"] = 0
    return data


class TestStatusActions:
    def act(self, client, action, *volunteers):
        return client.post(
            CHANGELIST,
            {"action": action, "_selected_action": [v.pk for v in volunteers]},
            follow=True,
        )

    def test_pausing_goes_through_the_rules_and_is_logged(self, coordinator_client, coordinator):
        first, second = VolunteerFactory(status="active"), VolunteerFactory(status="active")

        response = self.act(coordinator_client, "mark_paused", first, second)

        assert "2 volunteers are now paused." in messages_of(response)
        assert set(Volunteer.objects.values_list("status", flat=True)) == {"paused"}
        log = VolunteerStatusChange.objects.get(volunteer=first)
        assert (log.from_status, log.to_status, log.changed_by) == ("active", "paused", coordinator)

    def test_each_refusal_is_reported_in_words_and_the_rest_still_move(self, coordinator_client):
        applicant = VolunteerFactory(preferred_name="Shona", status="applicant")
        paused = VolunteerFactory(status="paused")

        response = self.act(coordinator_client, "mark_active", applicant, paused)

        said = messages_of(response)
        assert "1 volunteer is now active." in said
        assert (
            "Shona is applicant and cannot become active; from applicant they can become: "
            "in training, left." in said
        )
        applicant.refresh_from_db()
        paused.refresh_from_db()
        assert (applicant.status, paused.status) == ("applicant", "active")

    def test_an_action_for_every_status(self, coordinator_client):
        choices = coordinator_client.get(CHANGELIST).context["action_form"].fields["action"]
        wording = dict(choices.choices)
        for action in [
            "mark_in_training",
            "mark_active",
            "mark_paused",
            "mark_left",
            "mark_applicant",
        ]:
            assert action in wording
        assert wording["mark_paused"] == "Pause"


def test_two_overlapping_absences_entered_together_are_refused_in_words(coordinator_client):
    volunteer = VolunteerFactory()
    url = reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
    data = change_form_data(coordinator_client.get(url))
    data.update(
        {
            "absences-TOTAL_FORMS": 2,
            "absences-0-starts_on": "2026-12-20",
            "absences-0-ends_on": "2027-01-03",
            "absences-1-starts_on": "2027-01-02",
            "absences-1-ends_on": "2027-01-05",
        }
    )

    response = coordinator_client.post(url, data)

    assert response.status_code == 200
    assert (
        "20 Dec 2026 to 3 Jan 2027 overlaps 2 Jan 2027 to 5 Jan 2027: one person's absences "
        "cannot overlap." in html.unescape(response.content.decode())
    )
    assert not volunteer.absences.exists()


class TestCalendarLink:
    def change_page(self, client, volunteer):
        url = reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
        return html.unescape(client.get(url).content.decode())

    def test_the_volunteer_page_says_whether_they_have_a_calendar_link(self, coordinator_client):
        volunteer = VolunteerFactory()

        assert "None yet: the app makes one" in self.change_page(coordinator_client, volunteer)
        token, feed = calendar_feeds.link(volunteer=volunteer)
        page = self.change_page(coordinator_client, volunteer)
        assert "Made on " in page
        for secret in (token, feed.nonce, feed.token_hash):
            assert secret not in page

    def test_the_add_page_shows_no_link(self, coordinator_client):
        page = coordinator_client.get(reverse("admin:volunteers_volunteer_add"))

        assert page.status_code == 200
        assert "None yet: the app makes one" in html.unescape(page.content.decode())
