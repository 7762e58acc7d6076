"""A volunteer's own weekly availability and absences in the partner app: /api/v1/me/."""

import datetime

import pytest
from django.utils import timezone

from tests.api.conftest import problem_of
from tests.api.signed_in_volunteers import (
    HOSTILE_TEXT,
    queries_for_list,
    send,
    signed_in_by_texted_code,
    signed_in_volunteer,
    signed_in_without_a_volunteer,
)
from tests.factories import AbsenceFactory, AvailabilityWindowFactory, VolunteerFactory
from volunteers.models import Absence, AvailabilityWindow, Volunteer

pytestmark = pytest.mark.django_db

AVAILABILITY = "/api/v1/me/availability/"
ABSENCES = "/api/v1/me/absences/"
TUESDAY_EVENING = {"weekday": "tuesday", "starts_at": "18:00", "ends_at": "21:00"}


def days(n):
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


def away(first, last, reason="Holiday"):
    return {"starts_on": days(first), "ends_on": days(last), "reason": reason}


@pytest.fixture
def me():
    return signed_in_volunteer()


@pytest.fixture
def volunteer(me):
    return me[0]


@pytest.fixture
def app(me):
    return me[1]


@pytest.fixture
def someone_else():
    return VolunteerFactory()


# Availability ------------------------------------------------------------------------------


def test_a_volunteer_adds_a_window_and_the_office_sees_it(app, volunteer, api):
    response = app.post(AVAILABILITY, TUESDAY_EVENING, format="json")

    assert response.status_code == 201, response.content
    window = response.json()
    assert window == {**TUESDAY_EVENING, "id": window["id"], "hours": 3.0}
    seen_by_office = api.get(f"/api/v1/volunteers/{volunteer.pk}/availability/").json()
    assert seen_by_office["results"] == [window]


def test_the_list_holds_only_the_volunteers_own_windows(app, volunteer, someone_else):
    mine = AvailabilityWindowFactory(volunteer=volunteer, weekday=4)
    AvailabilityWindowFactory(volunteer=someone_else, weekday=4)

    body = app.get(AVAILABILITY).json()

    assert body["count"] == 1
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert body["results"][0]["weekday"] == "friday"


def test_a_volunteer_reads_changes_replaces_and_deletes_their_window(app, volunteer, api):
    window = AvailabilityWindowFactory(volunteer=volunteer)
    url = f"{AVAILABILITY}{window.pk}/"
    office_url = f"/api/v1/volunteers/{volunteer.pk}/availability/{window.pk}/"

    assert app.get(url).json()["starts_at"] == "09:00"
    changed = app.patch(url, {"ends_at": "13:30"}, format="json")
    assert changed.status_code == 200, changed.content
    assert api.get(office_url).json()["ends_at"] == "13:30"
    replaced = app.put(url, TUESDAY_EVENING, format="json")
    assert replaced.status_code == 200, replaced.content
    assert api.get(office_url).json()["weekday"] == "tuesday"
    assert app.delete(url).status_code == 204
    assert api.get(office_url).status_code == 404


@pytest.mark.parametrize(
    ("method", "body"),
    [("get", None), ("patch", {"ends_at": "13:00"}), ("put", TUESDAY_EVENING), ("delete", None)],
)
def test_another_volunteers_window_is_not_found_and_stays_as_it_was(
    app, someone_else, method, body
):
    theirs = AvailabilityWindowFactory(volunteer=someone_else)

    response = getattr(app, method)(f"{AVAILABILITY}{theirs.pk}/", body, format="json")

    assert response.status_code == 404
    assert problem_of(response)["code"] == "not_found"
    theirs.refresh_from_db()
    assert (theirs.weekday, theirs.ends_at) == (0, datetime.time(12, 0))


def test_an_overlapping_window_is_refused_and_nothing_is_saved(app, volunteer):
    app.post(AVAILABILITY, TUESDAY_EVENING, format="json")

    response = app.post(
        AVAILABILITY,
        {"weekday": "tuesday", "starts_at": "20:00", "ends_at": "22:00"},
        format="json",
    )

    assert response.status_code == 400
    [message] = problem_of(response)["errors"]["non_field_errors"]
    assert "overlaps Tuesday 18:00–21:00" in message
    assert volunteer.availability.count() == 1


def test_the_same_window_sent_twice_is_saved_once(app, volunteer):
    first = app.post(AVAILABILITY, TUESDAY_EVENING, format="json")
    second = app.post(AVAILABILITY, TUESDAY_EVENING, format="json")

    assert (first.status_code, second.status_code) == (201, 400)
    assert "overlaps" in problem_of(second)["errors"]["non_field_errors"][0]
    assert volunteer.availability.count() == 1


def test_a_window_that_ends_before_it_starts_is_refused(app, volunteer):
    response = app.post(
        AVAILABILITY, {"weekday": "friday", "starts_at": "20:00", "ends_at": "19:00"}, format="json"
    )

    assert response.status_code == 400
    assert "end after it starts" in problem_of(response)["errors"]["ends_at"][0]
    assert not volunteer.availability.exists()


def test_a_change_that_makes_a_window_overlap_another_is_refused_whole(app, volunteer):
    AvailabilityWindowFactory(
        volunteer=volunteer,
        weekday=1,
        starts_at=datetime.time(18, 0),
        ends_at=datetime.time(21, 0),
    )
    morning = AvailabilityWindowFactory(volunteer=volunteer, weekday=1)

    response = app.patch(f"{AVAILABILITY}{morning.pk}/", {"ends_at": "19:00"}, format="json")

    assert response.status_code == 400
    morning.refresh_from_db()
    assert morning.ends_at == datetime.time(12, 0)


@pytest.mark.parametrize("time", ["9:00", "24:00", "18:60", "18.00", "6pm", "18:00+01:00"])
def test_times_are_refused_unless_written_hh_mm(app, volunteer, time):
    response = app.post(AVAILABILITY, {**TUESDAY_EVENING, "starts_at": time}, format="json")

    assert response.status_code == 400
    assert problem_of(response)["errors"]["starts_at"] == ["Give a time as HH:MM, e.g. 18:00."]
    assert not volunteer.availability.exists()


@pytest.mark.parametrize("url", [AVAILABILITY, ABSENCES])
def test_a_body_naming_a_volunteer_is_refused_as_an_unknown_field(url, app, someone_else):
    body = TUESDAY_EVENING if url == AVAILABILITY else away(3, 5)

    response = app.post(url, {**body, "volunteer": someone_else.pk}, format="json")

    assert response.status_code == 400
    assert problem_of(response)["errors"]["volunteer"][0].startswith("Unknown field.")
    assert not AvailabilityWindow.objects.exists()
    assert not Absence.objects.exists()


@pytest.mark.parametrize("url", [AVAILABILITY, ABSENCES])
def test_a_change_naming_a_volunteer_is_refused_and_moves_nothing(
    url, app, volunteer, someone_else
):
    record = (
        AvailabilityWindowFactory(volunteer=volunteer)
        if url == AVAILABILITY
        else AbsenceFactory(volunteer=volunteer)
    )

    response = app.patch(f"{url}{record.pk}/", {"volunteer": someone_else.pk}, format="json")

    assert response.status_code == 400
    record.refresh_from_db()
    assert record.volunteer_id == volunteer.pk


@pytest.mark.parametrize("field", ["weekday", "starts_at", "ends_at"])
@pytest.mark.parametrize("text", HOSTILE_TEXT, ids=range(len(HOSTILE_TEXT)))
def test_hostile_text_in_a_window_is_refused_and_saves_nothing(app, volunteer, field, text):
    window = AvailabilityWindowFactory(volunteer=volunteer, weekday=5)

    created = send(app, "POST", AVAILABILITY, {**TUESDAY_EVENING, field: text})
    changed = send(app, "PATCH", f"{AVAILABILITY}{window.pk}/", {field: text})

    assert (created.status_code, changed.status_code) == (400, 400)
    # A NUL or a lone surrogate is refused for the whole body, before any field is read.
    assert problem_of(created)["errors"].keys() & {field, "non_field_errors"}
    assert list(volunteer.availability.values_list("pk", "weekday", "ends_at")) == [
        (window.pk, 5, datetime.time(12, 0))
    ]


# Absences ----------------------------------------------------------------------------------


def test_a_volunteer_says_they_are_away_and_the_office_sees_it(app, volunteer, api):
    response = app.post(ABSENCES, away(10, 17), format="json")

    assert response.status_code == 201, response.content
    absence = response.json()
    assert absence == {**away(10, 17), "id": absence["id"]}
    seen_by_office = api.get(f"/api/v1/volunteers/{volunteer.pk}/absences/").json()
    assert seen_by_office["results"] == [absence]


def test_a_volunteer_reads_changes_replaces_and_deletes_their_absence(app, volunteer, api):
    absence = AbsenceFactory(volunteer=volunteer)
    url = f"{ABSENCES}{absence.pk}/"
    office_url = f"/api/v1/volunteers/{volunteer.pk}/absences/{absence.pk}/"

    assert app.get(url).json()["reason"] == "Holiday"
    changed = app.patch(url, {"ends_on": days(9), "reason": "Family wedding"}, format="json")
    assert changed.status_code == 200, changed.content
    assert api.get(office_url).json()["reason"] == "Family wedding"
    replaced = app.put(url, away(20, 21, reason=""), format="json")
    assert replaced.status_code == 200, replaced.content
    assert api.get(office_url).json() == {**away(20, 21, reason=""), "id": absence.pk}
    assert app.delete(url).status_code == 204
    assert api.get(office_url).status_code == 404


@pytest.mark.parametrize(
    ("method", "body"),
    [("get", None), ("patch", {"reason": "Mine now"}), ("put", away(1, 2)), ("delete", None)],
)
def test_another_volunteers_absence_is_not_found_and_stays_as_it_was(
    app, someone_else, method, body
):
    theirs = AbsenceFactory(volunteer=someone_else)

    response = getattr(app, method)(f"{ABSENCES}{theirs.pk}/", body, format="json")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.reason, theirs.starts_on) == ("Holiday", timezone.localdate())


def test_an_absence_that_overlaps_another_is_refused_and_nothing_is_saved(app, volunteer):
    AbsenceFactory(
        volunteer=volunteer,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + datetime.timedelta(7),
    )

    response = app.post(ABSENCES, away(5, 12), format="json")

    assert response.status_code == 400
    [message] = problem_of(response)["errors"]["non_field_errors"]
    # Said so that it reads right to the volunteer as to the office: no "they".
    assert message.startswith("The absence from ")
    assert message.endswith("already covers some of these days; change that absence instead.")
    assert volunteer.absences.count() == 1


def test_the_same_absence_sent_twice_is_saved_once(app, volunteer):
    first = app.post(ABSENCES, away(3, 4), format="json")
    second = app.post(ABSENCES, away(3, 4), format="json")

    assert (first.status_code, second.status_code) == (201, 400)
    assert volunteer.absences.count() == 1


def test_an_absence_that_ends_before_it_starts_is_refused(app, volunteer):
    response = app.post(ABSENCES, away(5, 4), format="json")

    assert response.status_code == 400
    assert problem_of(response)["errors"] == {
        "non_field_errors": ["An absence cannot end before it starts."]
    }
    assert not volunteer.absences.exists()


def test_a_change_that_makes_an_absence_overlap_another_is_refused_whole(app, volunteer):
    AbsenceFactory(
        volunteer=volunteer,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + datetime.timedelta(2),
    )
    later = AbsenceFactory(
        volunteer=volunteer,
        starts_on=timezone.localdate() + datetime.timedelta(10),
        ends_on=timezone.localdate() + datetime.timedelta(12),
    )

    response = app.patch(f"{ABSENCES}{later.pk}/", {"starts_on": days(1)}, format="json")

    assert response.status_code == 400
    later.refresh_from_db()
    assert later.starts_on == timezone.localdate() + datetime.timedelta(10)


def test_absences_filter_by_the_day_they_cover_and_refuse_unknown_parameters(app, volunteer):
    AbsenceFactory(
        volunteer=volunteer,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + datetime.timedelta(2),
    )

    assert app.get(ABSENCES, {"on": days(1)}).json()["count"] == 1
    assert app.get(ABSENCES, {"on": days(5)}).json()["count"] == 0
    unknown = app.get(ABSENCES, {"volunteer": volunteer.pk})
    assert unknown.status_code == 400
    assert "volunteer" in problem_of(unknown)["errors"]
    assert app.get(ABSENCES, {"on": ""}).status_code == 400
    assert app.get(ABSENCES, {"on": "tomorrow"}).status_code == 400


@pytest.mark.parametrize("field", ["starts_on", "ends_on", "reason"])
@pytest.mark.parametrize("text", HOSTILE_TEXT, ids=range(len(HOSTILE_TEXT)))
def test_hostile_text_in_an_absence_is_never_a_5xx_and_a_refusal_saves_nothing(
    app, volunteer, field, text
):
    absence = AbsenceFactory(volunteer=volunteer)
    before = list(Absence.objects.values())

    created = send(app, "POST", ABSENCES, {**away(30, 31), field: text})
    if created.status_code >= 400:
        assert list(Absence.objects.values()) == before
    changed = send(app, "PATCH", f"{ABSENCES}{absence.pk}/", {field: text})

    assert created.status_code < 500 and changed.status_code < 500
    if changed.status_code >= 400:
        absence.refresh_from_db()
        assert absence.reason == "Holiday" and absence.starts_on == timezone.localdate()
    if field != "reason" or any(mark in text for mark in ("\x00", "\u202e", "\u2066", "\ud800")):
        assert (created.status_code, changed.status_code) == (400, 400)


def test_a_reason_with_percent_signs_is_kept_as_written(app, volunteer):
    response = app.post(ABSENCES, away(3, 4, reason="100% %s away"), format="json")

    assert response.status_code == 201
    assert volunteer.absences.get().reason == "100% %s away"


# Who may ----------------------------------------------------------------------------------


URLS = [AVAILABILITY, ABSENCES]


@pytest.mark.parametrize("url", URLS)
def test_anonymous_callers_get_401(url, anonymous_api):
    window = AvailabilityWindowFactory()
    absence = AbsenceFactory(volunteer=window.volunteer)
    record = window if url == AVAILABILITY else absence

    for response in [anonymous_api.get(url), anonymous_api.get(f"{url}{record.pk}/")]:
        assert response.status_code == 401
        assert problem_of(response)["code"] == "not_authenticated"
    assert anonymous_api.post(url, TUESDAY_EVENING, format="json").status_code == 401


@pytest.mark.parametrize("url", URLS)
def test_a_sign_in_without_a_volunteer_gets_403_that_says_so(url, api):
    """The coordinator's own sign-in included: the office uses /volunteers/{id}/... instead."""
    for client in [api, signed_in_without_a_volunteer()]:
        response = client.post(url, TUESDAY_EVENING, format="json")

        assert response.status_code == 403
        assert problem_of(response)["code"] == "not_a_volunteer"
    assert not AvailabilityWindow.objects.exists()


@pytest.mark.parametrize("url", URLS)
def test_a_volunteer_who_has_left_gets_403(url):
    volunteer, app = signed_in_volunteer(status=Volunteer.Status.LEFT)
    AvailabilityWindowFactory(volunteer=volunteer)

    response = app.get(url)

    assert response.status_code == 403
    assert problem_of(response)["code"] == "volunteer_left"


def test_the_app_signed_in_by_texted_code_adds_an_absence(
    volunteer, monkeypatch, django_capture_on_commit_callbacks
):
    app = signed_in_by_texted_code(volunteer, monkeypatch, django_capture_on_commit_callbacks)

    response = app.post(ABSENCES, away(3, 4), format="json")

    assert response.status_code == 201, response.content
    assert volunteer.absences.get().starts_on == timezone.localdate() + datetime.timedelta(3)


# Speed ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", URLS)
def test_the_lists_cost_the_same_queries_for_1_row_and_50(url, app, volunteer):
    make = {
        AVAILABILITY: lambda i: AvailabilityWindowFactory(
            volunteer=volunteer,
            weekday=i % 7,
            starts_at=datetime.time(i // 7, 0),
            ends_at=datetime.time(i // 7, 30),
        ),
        ABSENCES: lambda i: AbsenceFactory(
            volunteer=volunteer,
            starts_on=timezone.localdate() + datetime.timedelta(days=10 * i),
            ends_on=timezone.localdate() + datetime.timedelta(days=10 * i + 2),
        ),
    }[url]
    make(0)
    one, count = queries_for_list(app, url)
    assert count == 1
    for i in range(1, 50):
        make(i)

    fifty, count = queries_for_list(app, url)

    assert count == 50
    assert fifty == one


@pytest.mark.parametrize(
    ("weekday", "shown"),
    [(1, "“1”"), ("Monday", "“Monday”"), ("x" * 5000, f"“{'x' * 40}…”")],
)
def test_a_weekday_that_is_not_one_is_refused_with_the_weekdays_named(
    app, volunteer, weekday, shown
):
    response = app.post(
        AVAILABILITY, {"weekday": weekday, "starts_at": "09:00", "ends_at": "12:00"}, format="json"
    )

    assert response.status_code == 400
    assert problem_of(response)["errors"]["weekday"] == [
        f"{shown} is not one of the choices; give one of: monday, tuesday, wednesday, thursday, "
        "friday, saturday, sunday."
    ]
    assert not volunteer.availability.exists()
