"""The volunteer resource: records, training state, status changes and nested records."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.api.conftest import problem_of
from tests.factories import (
    AbsenceFactory,
    AvailabilityWindowFactory,
    TrainingRecordFactory,
    VolunteerFactory,
    area,
    course,
    fully_trained,
    language,
)
from volunteers.models import Absence, AvailabilityWindow, TrainingRecord, Volunteer

pytestmark = pytest.mark.django_db

URL = "/api/v1/volunteers/"


def new_volunteer(**overrides):
    body = {
        "preferred_name": "Aileen",
        "full_name": "Aileen Docherty",
        "phone": "07700 900123",
        "area": "coatbridge",
        "languages": ["en"],
        "focuses": ["alcohol"],
    }
    body.update(overrides)
    return body


def test_a_coordinator_adds_a_volunteer_with_a_phone_in_uk_form(api):
    response = api.post(URL, new_volunteer(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phone"] == "+447700900123"
    assert body["status"] == "applicant"
    assert body["area"] == "coatbridge"
    assert body["languages"] == ["en"]
    assert body["training_state"] == "lapsed"
    assert {gap["state"] for gap in body["training_gaps"]} == {"missing"}
    saved = Volunteer.objects.get(pk=body["id"])
    assert str(saved.phone) == "+447700900123"


def test_an_unparseable_phone_is_a_field_error_and_nothing_is_saved(api):
    response = api.post(URL, new_volunteer(phone="07700 90"), format="json")

    assert response.status_code == 400
    problem = problem_of(response)
    assert "not a valid phone number" in problem["errors"]["phone"][0]
    assert not Volunteer.objects.exists()


def test_unknown_fields_and_status_on_create_are_refused(api):
    response = api.post(URL, new_volunteer(colour="red", status="active"), format="json")

    assert response.status_code == 400
    errors = problem_of(response)["errors"]
    assert "Unknown field" in errors["colour"][0]
    assert "/status/" in errors["status"][0]
    assert not Volunteer.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("area", "atlantis", "There is no area with the slug “atlantis”."),
        ("languages", ["xx"], "There is no language with the code “xx”."),
        ("travel_radius_km", "far", "Give a whole number (a JSON number)."),
        ("preferred_name", "", "This field may not be blank."),
        ("meets_in_person", "perhaps", "Give true or false."),
    ],
)
def test_wrong_values_say_what_is_wrong(api, field, value, message):
    response = api.post(URL, new_volunteer(**{field: value}), format="json")

    assert response.status_code == 400
    assert message in problem_of(response)["errors"][field]
    assert not Volunteer.objects.exists()


def test_a_rule_the_model_holds_comes_back_as_a_field_error(api):
    body = new_volunteer(meets_in_person=False, meets_by_phone=False, meets_by_video=False)

    response = api.post(URL, body, format="json")

    assert response.status_code == 400
    assert problem_of(response)["errors"] == {
        "non_field_errors": ["Choose at least one way of meeting."]
    }


def test_a_duplicate_phone_is_refused(api):
    VolunteerFactory(phone="+447700900123")

    response = api.post(URL, new_volunteer(), format="json")

    assert response.status_code == 400
    assert "phone" in problem_of(response)["errors"]
    assert Volunteer.objects.count() == 1


def test_a_change_keeps_what_is_not_sent(api):
    volunteer = VolunteerFactory(preferred_name="Aileen", travel_radius_km=10)
    volunteer.languages.set([language("en")])

    response = api.patch(f"{URL}{volunteer.pk}/", {"travel_radius_km": 25}, format="json")

    assert response.status_code == 200, response.content
    volunteer.refresh_from_db()
    assert volunteer.travel_radius_km == 25
    assert volunteer.preferred_name == "Aileen"
    assert list(volunteer.languages.values_list("code", flat=True)) == ["en"]


def test_status_is_not_changed_by_an_edit(api):
    volunteer = VolunteerFactory(status=Volunteer.Status.ACTIVE)

    response = api.patch(f"{URL}{volunteer.pk}/", {"status": "left"}, format="json")

    assert response.status_code == 400
    assert "/status/" in problem_of(response)["errors"]["status"][0]
    volunteer.refresh_from_db()
    assert volunteer.status == Volunteer.Status.ACTIVE


def test_volunteers_cannot_be_deleted(api):
    volunteer = VolunteerFactory()

    response = api.delete(f"{URL}{volunteer.pk}/")

    assert response.status_code == 405
    assert problem_of(response)["code"] == "method_not_allowed"
    assert Volunteer.objects.filter(pk=volunteer.pk).exists()


def test_a_status_change_is_logged_with_who_and_why(api, coordinator):
    volunteer = VolunteerFactory(status=Volunteer.Status.APPLICANT)

    response = api.post(
        f"{URL}{volunteer.pk}/status/", {"status": "in_training", "note": "PVG sent"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_training"
    change = volunteer.status_log.get()
    assert (change.from_status, change.to_status) == ("applicant", "in_training")
    assert change.changed_by == coordinator
    assert change.note == "PVG sent"


def test_an_illegal_status_change_is_a_conflict_that_says_why(api):
    volunteer = VolunteerFactory(preferred_name="Aileen", status=Volunteer.Status.APPLICANT)

    response = api.post(f"{URL}{volunteer.pk}/status/", {"status": "active"}, format="json")

    assert response.status_code == 409
    problem = problem_of(response)
    assert problem["code"] == "invalid_transition"
    assert problem["detail"] == (
        "Aileen is applicant and cannot become active; from applicant they can become: "
        "in training, left."
    )
    volunteer.refresh_from_db()
    assert volunteer.status == Volunteer.Status.APPLICANT
    assert not volunteer.status_log.exists()


def test_an_unknown_status_is_a_field_error(api):
    volunteer = VolunteerFactory()

    response = api.post(f"{URL}{volunteer.pk}/status/", {"status": "retired"}, format="json")

    assert response.status_code == 400
    assert "status" in problem_of(response)["errors"]


def test_the_list_says_which_required_course_is_missing_or_lapsing(api):
    volunteer = fully_trained(VolunteerFactory(preferred_name="Aileen"))
    naloxone = volunteer.training_records.get(course=course("NALOXONE"))
    naloxone.expires_on = timezone.localdate() + datetime.timedelta(days=10)
    naloxone.save()
    fully_trained(VolunteerFactory(preferred_name="Bob"))
    VolunteerFactory(preferred_name="Cat")

    rows = {row["preferred_name"]: row for row in api.get(URL).json()["results"]}

    assert rows["Aileen"]["training_state"] == "expiring"
    assert rows["Aileen"]["training_gaps"] == [
        {
            "course": "NALOXONE",
            "course_name": naloxone.course.name,
            "state": "expiring",
            "expires_on": naloxone.expires_on.isoformat(),
        }
    ]
    assert rows["Bob"]["training_state"] == "complete"
    assert rows["Bob"]["training_gaps"] == []
    assert rows["Cat"]["training_state"] == "lapsed"
    assert all(gap["state"] == "missing" for gap in rows["Cat"]["training_gaps"])


def test_an_expired_course_is_named_with_the_day_it_lapsed(api):
    volunteer = fully_trained(VolunteerFactory())
    pvg = volunteer.training_records.get(course=course("PVG"))
    pvg.completed_on = timezone.localdate() - datetime.timedelta(days=400)
    pvg.expires_on = timezone.localdate() - datetime.timedelta(days=3)
    pvg.save()

    row = api.get(f"{URL}{volunteer.pk}/").json()

    assert row["training_state"] == "lapsed"
    assert row["training_gaps"] == [
        {
            "course": "PVG",
            "course_name": pvg.course.name,
            "state": "expired",
            "expires_on": pvg.expires_on.isoformat(),
        }
    ]


def names(response):
    assert response.status_code == 200, response.content
    return sorted(row["preferred_name"] for row in response.json()["results"])


def test_filters_by_status_area_and_training_state(api):
    fully_trained(VolunteerFactory(preferred_name="Aileen", area=area("Airdrie")))
    VolunteerFactory(preferred_name="Bob", status=Volunteer.Status.PAUSED)
    VolunteerFactory(preferred_name="Cat")

    assert names(api.get(URL, {"status": "paused"})) == ["Bob"]
    assert names(api.get(URL, {"area": "airdrie"})) == ["Aileen"]
    assert names(api.get(URL, {"training_state": "complete"})) == ["Aileen"]
    assert names(api.get(URL, {"training_state": "lapsed"})) == ["Bob", "Cat"]


def test_matchable_on_a_date_leaves_out_the_absent_and_the_untrained(api):
    away = fully_trained(VolunteerFactory(preferred_name="Away"))
    AbsenceFactory(
        volunteer=away,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + datetime.timedelta(days=3),
    )
    fully_trained(VolunteerFactory(preferred_name="Ready"))
    VolunteerFactory(preferred_name="Untrained")

    assert names(api.get(URL, {"matchable_on": timezone.localdate().isoformat()})) == ["Ready"]
    later = timezone.localdate() + datetime.timedelta(days=5)
    assert names(api.get(URL, {"matchable_on": later.isoformat()})) == ["Away", "Ready"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "retired"}, "status"),
        ({"area": "atlantis"}, "area"),
        ({"training_state": "great"}, "training_state"),
        ({"matchable_on": "31/02/2026"}, "matchable_on"),
        ({"colour": "red"}, "colour"),
        ({"ordering": "shoe_size"}, "ordering"),
    ],
)
def test_an_unknown_filter_value_is_a_field_error(api, params, field):
    VolunteerFactory()

    response = api.get(URL, params)

    assert response.status_code == 400
    assert field in problem_of(response)["errors"]


def test_search_finds_names_and_phones_in_any_uk_form(api):
    VolunteerFactory(preferred_name="Aileen", full_name="Aileen Docherty", phone="+447700900123")
    VolunteerFactory(preferred_name="Bob", full_name="Bob Stewart", phone="+447700900456")

    assert names(api.get(URL, {"search": "docherty"})) == ["Aileen"]
    assert names(api.get(URL, {"search": "07700 900456"})) == ["Bob"]
    assert names(api.get(URL, {"search": "+44 7700 900123"})) == ["Aileen"]
    assert names(api.get(URL, {"search": "900456"})) == ["Bob"]


def test_ordering_by_a_listed_field(api):
    VolunteerFactory(preferred_name="Aileen")
    VolunteerFactory(preferred_name="Bob")

    response = api.get(URL, {"ordering": "-preferred_name"})

    assert [row["preferred_name"] for row in response.json()["results"]] == ["Bob", "Aileen"]


def queries_for_list(api, url):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url, {"page_size": 100})
    assert response.status_code == 200, response.content
    return len(captured), response.json()["count"]


def test_the_volunteer_list_costs_the_same_queries_for_1_row_and_50(api):
    fully_trained(VolunteerFactory())
    one, count = queries_for_list(api, URL)
    assert count == 1
    for volunteer in VolunteerFactory.create_batch(49):
        fully_trained(volunteer)
        volunteer.languages.set([language("en"), language("pl")])
        AbsenceFactory(volunteer=volunteer)

    fifty, count = queries_for_list(api, URL)

    assert count == 50
    assert fifty == one


@pytest.mark.parametrize(
    ("path", "factory"),
    [
        ("training-records", lambda v: TrainingRecordFactory(volunteer=v)),
        ("availability", None),
        ("absences", None),
    ],
)
def test_nested_lists_cost_the_same_queries_for_1_row_and_50(api, path, factory):
    volunteer = VolunteerFactory()
    make = {
        "training-records": lambda i: TrainingRecordFactory(
            volunteer=volunteer, completed_on=timezone.localdate() - datetime.timedelta(days=i + 1)
        ),
        "availability": lambda i: AvailabilityWindowFactory(
            volunteer=volunteer,
            weekday=i % 7,
            starts_at=datetime.time(i // 7, 0),
            ends_at=datetime.time(i // 7, 30),
        ),
        "absences": lambda i: AbsenceFactory(
            volunteer=volunteer,
            starts_on=timezone.localdate() + datetime.timedelta(days=10 * i),
            ends_on=timezone.localdate() + datetime.timedelta(days=10 * i + 2),
        ),
    }[path]
    url = f"{URL}{volunteer.pk}/{path}/"
    make(0)
    one, count = queries_for_list(api, url)
    assert count == 1
    for i in range(1, 50):
        make(i)

    fifty, count = queries_for_list(api, url)

    assert count == 50
    assert fifty == one


def test_training_is_recorded_with_its_expiry_from_the_course(api):
    volunteer = VolunteerFactory()
    completed = timezone.localdate() - datetime.timedelta(days=10)

    response = api.post(
        f"{URL}{volunteer.pk}/training-records/",
        {"course": "naloxone", "completed_on": completed.isoformat()},
        format="json",
    )

    assert response.status_code == 201, response.content
    record = TrainingRecord.objects.get(pk=response.json()["id"])
    assert record.course.code == "NALOXONE"
    assert record.expires_on == record.course.expiry_for(completed)
    assert response.json()["expires_on"] == record.expires_on.isoformat()
    assert response.json()["is_current"] is True


def test_changing_the_completion_date_moves_the_expiry(api):
    record = TrainingRecordFactory(course=course("NALOXONE"))
    later = record.completed_on + datetime.timedelta(days=5)

    response = api.patch(
        f"{URL}{record.volunteer_id}/training-records/{record.pk}/",
        {"completed_on": later.isoformat()},
        format="json",
    )

    assert response.status_code == 200, response.content
    record.refresh_from_db()
    assert record.expires_on == record.course.expiry_for(later)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"course": "juggling", "completed_on": "2026-01-05"}, "course", "no course"),
        ({"course": "ROSC", "completed_on": "2099-01-01"}, "completed_on", "future"),
        (
            {"course": "ROSC", "completed_on": "2026-01-05", "expires_on": "2025-01-01"},
            "non_field_errors",
            "expire after",
        ),
        ({"course": "ROSC", "completed_on": "yesterday"}, "completed_on", "Date has wrong format"),
    ],
)
def test_a_training_record_that_cannot_be_is_refused(api, body, field, message):
    volunteer = VolunteerFactory()

    response = api.post(f"{URL}{volunteer.pk}/training-records/", body, format="json")

    assert response.status_code == 400
    assert message in " ".join(problem_of(response)["errors"][field])
    assert not TrainingRecord.objects.exists()


def test_a_training_record_can_be_deleted(api):
    record = TrainingRecordFactory()

    response = api.delete(f"{URL}{record.volunteer_id}/training-records/{record.pk}/")

    assert response.status_code == 204
    assert not TrainingRecord.objects.exists()


def test_records_of_another_volunteer_are_not_found_under_this_one(api):
    record = TrainingRecordFactory()
    other = VolunteerFactory()

    response = api.get(f"{URL}{other.pk}/training-records/{record.pk}/")

    assert response.status_code == 404
    problem_of(response)


def test_nested_records_of_an_unknown_volunteer_are_not_found(api):
    response = api.post(
        f"{URL}999999/absences/", {"starts_on": "2026-12-01", "ends_on": "2026-12-02"}
    )

    assert response.status_code == 404
    assert "Volunteer" in problem_of(response)["detail"]
    assert not Absence.objects.exists()


def test_availability_uses_weekday_names_and_refuses_overlaps(api):
    volunteer = VolunteerFactory()
    url = f"{URL}{volunteer.pk}/availability/"

    first = api.post(
        url, {"weekday": "tuesday", "starts_at": "18:00", "ends_at": "21:00"}, format="json"
    )
    overlapping = api.post(
        url, {"weekday": "tuesday", "starts_at": "20:00", "ends_at": "22:00"}, format="json"
    )
    backwards = api.post(
        url, {"weekday": "friday", "starts_at": "20:00", "ends_at": "19:00"}, format="json"
    )

    assert first.status_code == 201, first.content
    assert first.json() == {
        "id": first.json()["id"],
        "weekday": "tuesday",
        "starts_at": "18:00",
        "ends_at": "21:00",
        "hours": 3.0,
    }
    assert overlapping.status_code == 400
    assert "overlaps" in problem_of(overlapping)["errors"]["non_field_errors"][0]
    assert backwards.status_code == 400
    assert "end after it starts" in problem_of(backwards)["errors"]["ends_at"][0]
    assert AvailabilityWindow.objects.count() == 1


def test_availability_can_be_moved_and_removed(api):
    window = AvailabilityWindowFactory()
    url = f"{URL}{window.volunteer_id}/availability/{window.pk}/"

    moved = api.patch(url, {"weekday": "sunday"}, format="json")
    removed = api.delete(url)

    assert moved.status_code == 200
    assert moved.json()["weekday"] == "sunday"
    assert removed.status_code == 204
    assert not AvailabilityWindow.objects.exists()


def test_an_absence_that_ends_before_it_starts_is_refused(api):
    volunteer = VolunteerFactory()

    response = api.post(
        f"{URL}{volunteer.pk}/absences/",
        {"starts_on": "2026-12-10", "ends_on": "2026-12-01"},
        format="json",
    )

    assert response.status_code == 400
    assert problem_of(response)["errors"] == {
        "non_field_errors": ["An absence cannot end before it starts."]
    }
    assert not Absence.objects.exists()


def test_absences_filter_by_the_day_they_cover(api):
    volunteer = VolunteerFactory()
    AbsenceFactory(
        volunteer=volunteer, starts_on=timezone.localdate(), ends_on=timezone.localdate()
    )
    later = AbsenceFactory(
        volunteer=volunteer,
        starts_on=timezone.localdate() + datetime.timedelta(days=20),
        ends_on=timezone.localdate() + datetime.timedelta(days=25),
    )
    day = (timezone.localdate() + datetime.timedelta(days=21)).isoformat()

    response = api.get(f"{URL}{volunteer.pk}/absences/", {"on": day})

    assert [row["id"] for row in response.json()["results"]] == [later.pk]


def test_the_same_status_change_twice_changes_and_logs_once(api):
    volunteer = VolunteerFactory(preferred_name="Aileen", status=Volunteer.Status.APPLICANT)
    url = f"{URL}{volunteer.pk}/status/"

    first = api.post(url, {"status": "in_training"}, format="json")
    again = api.post(url, {"status": "in_training"}, format="json")

    assert first.status_code == 200
    assert again.status_code == 409
    problem = problem_of(again)
    assert problem["code"] == "already_in_status"
    assert problem["detail"] == "Aileen is already in training; nothing was changed."
    assert volunteer.status_log.count() == 1


def test_the_same_training_record_twice_is_refused(api):
    volunteer = VolunteerFactory()
    url = f"{URL}{volunteer.pk}/training-records/"
    body = {
        "course": "ROSC",
        "completed_on": (timezone.localdate() - datetime.timedelta(days=3)).isoformat(),
    }

    first = api.post(url, body, format="json")
    again = api.post(url, body, format="json")

    assert first.status_code == 201
    assert again.status_code == 400
    assert "already exists" in problem_of(again)["detail"]
    assert TrainingRecord.objects.count() == 1


def test_an_absence_that_overlaps_another_is_refused(api):
    volunteer = VolunteerFactory()
    url = f"{URL}{volunteer.pk}/absences/"

    first = api.post(url, {"starts_on": "2026-12-20", "ends_on": "2027-01-03"}, format="json")
    again = api.post(url, {"starts_on": "2026-12-20", "ends_on": "2027-01-03"}, format="json")
    inside = api.post(url, {"starts_on": "2026-12-24", "ends_on": "2026-12-26"}, format="json")
    after = api.post(url, {"starts_on": "2027-01-04", "ends_on": "2027-01-05"}, format="json")

    assert first.status_code == 201
    assert again.status_code == 400
    assert problem_of(again)["errors"]["non_field_errors"] == [
        "The absence from 20 Dec 2026 to 3 Jan 2027 already covers some of these days; "
        "change that absence instead."
    ]
    assert inside.status_code == 400
    assert after.status_code == 201
    assert Absence.objects.count() == 2


def test_an_absence_can_be_moved_without_clashing_with_itself(api):
    absence = AbsenceFactory()
    url = f"{URL}{absence.volunteer_id}/absences/{absence.pk}/"

    response = api.patch(
        url, {"ends_on": (absence.ends_on + datetime.timedelta(days=2)).isoformat()}, format="json"
    )

    assert response.status_code == 200, response.content
