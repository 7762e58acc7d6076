"""The conventions every endpoint shares: errors, pagination, throttles, formats."""

import datetime

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.api.conftest import problem_of
from tests.factories import MatchFactory, VolunteerFactory
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

URL = "/api/v1/volunteers/"


def test_malformed_json_is_a_400_that_says_so(api):
    response = api.generic("POST", URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    problem = problem_of(response)
    assert problem["code"] == "parse_error"
    assert "JSON parse error" in problem["detail"]
    assert not Volunteer.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"preferred_name": "Ai\x00leen"},
        {"area": "coat\x00bridge", "preferred_name": "Aileen"},
        {"languages": ["en", "g\x00d"], "preferred_name": "Aileen"},
    ],
)
def test_text_holding_a_nul_character_is_refused_whole(api, body):
    """PostgreSQL can neither store nor compare NUL: it must never reach the database."""
    response = api.post("/api/v1/peers/", body, format="json")

    assert response.status_code == 400
    problem = problem_of(response)
    assert problem["code"] == "unstorable_text"
    assert "NUL character" in problem["detail"]


def test_a_nul_character_in_a_query_value_is_refused(api):
    response = api.get(URL, {"search": "Ai\x00leen"})

    assert response.status_code == 400
    assert problem_of(response)["errors"]["search"] == [
        "A NUL character (%00) is not allowed in a value."
    ]


def test_a_body_that_is_not_an_object_is_refused(api):
    response = api.post(URL, ["Aileen"], format="json")

    assert response.status_code == 400
    assert problem_of(response)["errors"] == {
        "non_field_errors": ["Send a JSON object of field names and values."]
    }


def test_form_encoded_bodies_are_an_unsupported_media_type(api):
    response = api.post(URL, {"preferred_name": "Aileen"}, format="multipart")

    assert response.status_code == 415
    assert problem_of(response)["code"] == "unsupported_media_type"


def test_an_unacceptable_format_is_a_406_in_the_problem_shape(api):
    response = api.get(URL, HTTP_ACCEPT="application/xml")

    assert response.status_code == 406
    assert problem_of(response)["code"] == "not_acceptable"


def test_a_wrong_type_is_a_field_error(api):
    response = api.post(
        URL, {"preferred_name": ["A"], "full_name": "A B", "area": 7}, format="json"
    )

    assert response.status_code == 400
    errors = problem_of(response)["errors"]
    assert errors["preferred_name"] == ["Give text (a JSON string)."]
    assert errors["area"] == ["Give the slug as text."]


def test_a_page_has_count_next_previous_and_results(api):
    VolunteerFactory.create_batch(3)

    body = api.get(URL, {"page_size": 2}).json()

    assert body["count"] == 3
    assert body["next"].endswith("page=2&page_size=2")
    assert body["previous"] is None
    assert len(body["results"]) == 2
    last = api.get(URL, {"page_size": 2, "page": 2}).json()
    assert last["next"] is None
    assert len(last["results"]) == 1


def test_the_default_page_holds_25(api):
    VolunteerFactory.create_batch(26)

    assert len(api.get(URL).json()["results"]) == 25


def test_a_page_past_the_end_is_404_and_says_how_many_pages_there_are(api):
    VolunteerFactory.create_batch(3)

    response = api.get(URL, {"page": 3, "page_size": 2})

    assert response.status_code == 404
    assert problem_of(response)["detail"] == "There is no page 3: the results fill 2 pages of 2."


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 101}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": "lots"}, "page_size"),
        ({"page": "two"}, "page"),
        ({"page": 0}, "page"),
    ],
)
def test_bad_page_parameters_are_field_errors(api, params, field):
    response = api.get(URL, params)

    assert response.status_code == 400
    assert field in problem_of(response)["errors"]


def test_an_unknown_api_url_answers_in_the_problem_shape(api):
    response = api.get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert problem_of(response)["detail"] == "There is nothing at /api/v1/nothing-here/."


def test_an_unknown_api_url_is_a_problem_even_with_debug_on(api, settings):
    settings.DEBUG = True

    response = api.get("/api/v1/volunteer/")

    assert response.status_code == 404
    assert problem_of(response)["detail"] == "There is nothing at /api/v1/volunteer/."


def test_a_write_to_an_unknown_api_url_is_a_problem_too(coordinator):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(coordinator)

    response = client.put("/api/v1/areas/%C2%84/", {"name": "x"}, format="json")

    assert response.status_code == 404
    problem_of(response)


def test_a_missing_trailing_slash_is_pointed_out(api):
    response = api.get("/api/v1/volunteers")

    assert response.status_code == 404
    assert problem_of(response)["detail"] == (
        "There is nothing at /api/v1/volunteers. Did you mean /api/v1/volunteers/ (every API "
        "address ends with a slash)?"
    )


def test_an_unknown_record_is_a_404_problem(api):
    response = api.get(f"{URL}424242/")

    assert response.status_code == 404
    assert problem_of(response)["code"] == "not_found"


def test_an_unexpected_failure_is_a_500_problem_and_nothing_is_half_written(api, monkeypatch):
    def broken(**fields):
        Volunteer.objects.create(preferred_name="Half", full_name="Half", area_id=1)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("api.volunteers.VolunteerSerializer.create_with", broken)

    response = api.post(
        URL, {"preferred_name": "A", "full_name": "A B", "area": "coatbridge"}, format="json"
    )

    assert response.status_code == 500
    problem = problem_of(response)
    assert problem["code"] == "server_error"
    assert "disk on fire" not in problem["detail"]
    assert not Volunteer.objects.exists()


@pytest.fixture
def tight_throttles(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "3/minute"}
    )


def test_a_signed_in_client_over_its_rate_gets_429_with_retry_after(api, tight_throttles):
    statuses = [api.get(URL).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = api.get(URL)
    assert problem_of(response)["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_an_anonymous_client_is_throttled_too(anonymous_api, tight_throttles):
    statuses = [anonymous_api.get(URL).status_code for _ in range(3)]

    assert statuses == [401, 401, 429]
    assert int(anonymous_api.get(URL)["Retry-After"]) >= 1


def test_times_carry_their_offset_and_dates_are_iso(api):
    VolunteerFactory()

    row = api.get(URL).json()["results"][0]

    stamped = datetime.datetime.fromisoformat(row["status_changed_at"])
    assert stamped.tzinfo is not None
    assert datetime.datetime.fromisoformat(row["created_at"]).tzinfo is not None


def test_an_empty_parameter_is_refused(api):
    response = api.get(URL, {"status": ""})

    assert response.status_code == 400
    assert problem_of(response)["errors"] == {
        "status": ["Give a value, or leave the parameter out."]
    }


def test_the_browsable_api_filter_form_may_leave_fields_empty(coordinator_client):
    VolunteerFactory(preferred_name="Aileen")

    response = coordinator_client.get(
        URL, {"status": "", "area": "", "search": "Aileen"}, HTTP_ACCEPT="text/html"
    )

    assert response.status_code == 200
    assert b"Aileen" in response.content


@pytest.mark.parametrize("url", ["/api/v1/messages/", "/api/v1/inbox/", "/api/v1/opt-outs/"])
@pytest.mark.parametrize("phone", ["%s", "50%", "%(x)s", "%d%%"])
def test_a_percent_sign_in_a_phone_filter_is_a_400_quoting_it(api, url, phone):
    response = api.get(url, {"phone": phone})

    assert response.status_code == 400
    [message] = problem_of(response)["errors"]["phone"]
    assert message.startswith(f"“{phone}” is not a valid phone number: ")


@pytest.mark.parametrize(
    "params", ["page=1&page=2", "status=active&status=left", "search=a&search=b"]
)
def test_a_parameter_given_twice_is_refused(api, params):
    response = api.get(f"{URL}?{params}")

    assert response.status_code == 400
    name = params.split("=")[0]
    assert problem_of(response)["errors"][name] == [f"Give {name} once; it was given 2 times."]


@pytest.mark.parametrize("zero", ["\u0660", "\u06f0", "\u0966", "\uff10"])
def test_ids_and_page_numbers_are_ascii_digits_only(api, zero):
    """Python's int() reads other scripts' digits ("١" is 1): the API does not."""
    volunteer = VolunteerFactory()
    MatchFactory(volunteer=volunteer)
    written = "".join(chr(ord(zero) + int(digit)) for digit in str(volunteer.pk))
    assert int(written) == volunteer.pk

    assert api.get(f"{URL}{volunteer.pk}/").status_code == 200
    response = api.get(f"{URL}{written}/")
    assert response.status_code == 404
    assert problem_of(response)["code"] == "not_found"
    assert api.get(f"{URL}{written}/absences/").status_code == 404
    assert api.get(URL, {"page": chr(ord(zero) + 1)}).status_code == 400
    assert api.get(URL, {"page_size": chr(ord(zero) + 5)}).status_code == 400
    assert api.get("/api/v1/matches/", {"volunteer": volunteer.pk}).json()["count"] == 1
    assert api.get("/api/v1/matches/", {"volunteer": written}).status_code == 400


def test_every_time_is_uk_local_with_its_offset_written_out_never_z(api, time_machine):
    time_machine.move_to(datetime.datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=datetime.UTC))
    VolunteerFactory()

    row = api.get(URL).json()["results"][0]

    assert row["created_at"] == "2026-12-01T09:30:15+00:00"
    assert row["status_changed_at"] == "2026-12-01T09:30:15+00:00"


def test_times_in_summer_read_the_same_way_with_their_offset(api, time_machine):
    time_machine.move_to(datetime.datetime(2026, 6, 1, 9, 30, 15, tzinfo=datetime.UTC))
    VolunteerFactory()

    row = api.get(URL).json()["results"][0]

    assert row["created_at"] == "2026-06-01T10:30:15+01:00"


def test_times_in_answers_built_without_serializer_fields_read_the_same_way():
    from api.renderers import JSONRenderer

    moment = datetime.datetime(2026, 12, 1, 9, 30, 15, 999, tzinfo=datetime.UTC)
    assert JSONRenderer().render({"at": moment}) == b'{"at":"2026-12-01T09:30:15+00:00"}'
