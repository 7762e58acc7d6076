"""The wellbeing check-in in the admin: the opt-in on the volunteer's page and in their
spreadsheet, and every answer for the coordinator to read, filtered by volunteer and score."""

import datetime

import pytest
import tablib
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from matching.models import WellbeingCheckIn
from tests.admin.test_volunteer_admin import change_form_data
from tests.factories import UserFactory, VolunteerFactory
from volunteers.models import Volunteer
from volunteers.resources import VolunteerResource

pytestmark = pytest.mark.django_db
CHECK_INS = reverse("admin:matching_wellbeingcheckin_changelist")
WEEK = datetime.timedelta(weeks=1)
MONDAY = datetime.date(2026, 11, 23)


def answered(volunteer, score, week=MONDAY):
    moment = datetime.datetime.combine(week, datetime.time(10), tzinfo=datetime.UTC)
    return WellbeingCheckIn.objects.create(
        volunteer=volunteer,
        week=week,
        asked_at=moment,
        score=score,
        answered_at=None if score is None else moment,
    )


def listed(response):
    return list(response.context["cl"].result_list)


def test_the_opt_in_is_changed_on_the_volunteers_page(coordinator_client):
    volunteer = VolunteerFactory()
    url = reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
    page = coordinator_client.get(url)
    assert "wellbeing_opt_in" in page.context["adminform"].form.fields

    response = coordinator_client.post(url, {**change_form_data(page), "wellbeing_opt_in": "on"})

    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.wellbeing_opt_in


def test_the_volunteers_page_shows_the_last_answer_and_the_trend(coordinator_client, time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 25, 12, tzinfo=datetime.UTC), tick=False)
    volunteer = VolunteerFactory(wellbeing_opt_in=True)
    for weeks_ago, score in enumerate([2, 2, 3, 2, 4, 5, 4, 4]):
        answered(volunteer, score, MONDAY - weeks_ago * WEEK)

    page = coordinator_client.get(
        reverse("admin:volunteers_volunteer_change", args=[volunteer.pk])
    ).content.decode()

    assert "Last answer: 2 of 5, week of 23 Nov 2026." in page
    assert "Lower than the 4 weeks before: 2.2 on average, was 4.2." in page
    assert f"?volunteer__id__exact={volunteer.pk}" in page


def test_the_opt_in_is_exported_and_imported_as_yes_or_no():
    VolunteerFactory(preferred_name="Senga", wellbeing_opt_in=True)
    VolunteerFactory(preferred_name="Tam", wellbeing_opt_in=False)
    exported = VolunteerResource().export()
    assert exported["wellbeing_check_in"] == ["yes", "no"]

    again = VolunteerResource().import_data(exported, dry_run=False)
    assert not again.has_errors() and not again.has_validation_errors()
    assert [row.import_type for row in again.rows] == ["skip", "skip"]

    flipped = tablib.Dataset(headers=exported.headers)
    for row in exported.dict:
        row["wellbeing_check_in"] = {"yes": "no", "no": "yes"}[row["wellbeing_check_in"]]
        flipped.append(list(row.values()))
    result = VolunteerResource().import_data(flipped, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert dict(Volunteer.objects.values_list("preferred_name", "wellbeing_opt_in")) == {
        "Senga": False,
        "Tam": True,
    }


def test_answers_are_listed_newest_first_and_filtered_by_volunteer_and_score(coordinator_client):
    senga, tam = VolunteerFactory(preferred_name="Senga"), VolunteerFactory(preferred_name="Tam")
    low = answered(senga, 1)
    older = answered(senga, 4, MONDAY - WEEK)
    silent = answered(tam, None)

    assert listed(coordinator_client.get(CHECK_INS)) == [low, silent, older]
    assert listed(coordinator_client.get(CHECK_INS, {"volunteer__id__exact": senga.pk})) == [
        low,
        older,
    ]
    assert listed(coordinator_client.get(CHECK_INS, {"score": "low"})) == [low]
    assert listed(coordinator_client.get(CHECK_INS, {"score": "4"})) == [older]
    assert listed(coordinator_client.get(CHECK_INS, {"score": "none"})) == [silent]
    page = coordinator_client.get(CHECK_INS).content.decode()
    assert "1 of 5" in page and "no answer" in page


def test_answers_are_read_only_for_the_coordinator(coordinator_client):
    check_in = answered(VolunteerFactory(), 3)
    url = reverse("admin:matching_wellbeingcheckin_change", args=[check_in.pk])

    assert coordinator_client.get(url).status_code == 200
    assert coordinator_client.post(url, {"score": 5}).status_code == 403
    assert coordinator_client.get(reverse("admin:matching_wellbeingcheckin_add")).status_code == 403
    delete = reverse("admin:matching_wellbeingcheckin_delete", args=[check_in.pk])
    assert coordinator_client.post(delete, {"post": "yes"}).status_code == 403
    check_in.refresh_from_db()
    assert check_in.score == 3


def test_staff_who_are_not_coordinators_do_not_see_the_answers(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(CHECK_INS).status_code == 403


def test_the_list_costs_the_same_queries_for_one_answer_or_thirty(coordinator_client):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = coordinator_client.get(CHECK_INS)
        assert response.status_code == 200
        return len(captured), len(listed(response))

    answered(VolunteerFactory(), 3)
    one = queries()
    for weeks_ago in range(1, 30):
        answered(VolunteerFactory(), weeks_ago % 5 + 1, MONDAY - weeks_ago * WEEK)
    thirty = queries()

    assert (one[1], thirty[1]) == (1, 30)
    assert thirty[0] == one[0]
