"""Every JSON body is bounded before it is parsed: allauth's endpoints and the API alike."""

import json

import pytest
from rest_framework.test import APIClient

from config.json_bodies import nesting_depth
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

LOGIN = "/_allauth/app/v1/auth/login"
CODE_REQUEST = "/_allauth/app/v1/auth/code/request"
BROWSER_LOGIN = "/_allauth/browser/v1/auth/login"
VOLUNTEERS = "/api/v1/volunteers/"


def nested(levels):
    return "[" * levels + "]" * levels


def post(client, url, body, content_type="application/json"):
    return client.generic("POST", url, body, content_type=content_type)


@pytest.mark.parametrize("url", [LOGIN, CODE_REQUEST, BROWSER_LOGIN])
@pytest.mark.parametrize("levels", [17, 400, 1000, 50_000])
def test_deep_json_to_the_sign_in_api_is_a_400_that_says_why(client, url, levels):
    response = post(client, url, nested(levels))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "body_too_deep"
    assert "more than 16 levels" in body["detail"]
    # allauth's own clients read a list of messages.
    assert body["errors"] == [{"message": body["detail"], "code": "body_too_deep"}]


def test_allauth_reads_any_content_type_as_json_so_the_limit_holds_for_all(client):
    response = post(client, LOGIN, nested(1000), content_type="text/plain")

    assert response.status_code == 400
    assert response.json()["code"] == "body_too_deep"


@pytest.mark.parametrize("levels", [17, 400, 1000])
def test_deep_json_to_the_api_is_a_400_problem_and_nothing_is_saved(api, levels):
    body = '{"preferred_name": "Aileen", "notes": ' + nested(levels) + "}"

    response = post(api, VOLUNTEERS, body)

    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "body_too_deep"
    assert problem["errors"] == {"non_field_errors": [problem["detail"]]}
    assert not Volunteer.objects.exists()


def test_nesting_within_the_limit_reaches_the_view(api):
    response = post(api, VOLUNTEERS, json.dumps({"notes": [[[["deep enough"]]]]}))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"  # the serializer's answer, not the limit's


def test_brackets_inside_strings_do_not_count(client):
    response = post(client, LOGIN, json.dumps({"email": "[" * 5000 + '\\"{', "password": "x" * 10}))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] != "body_too_deep"


def test_a_body_over_the_size_limit_is_a_413_before_it_is_read(client, settings):
    settings.JSON_BODY_MAX_BYTES = 1000

    response = post(client, LOGIN, json.dumps({"email": "a" * 2000 + "@example.org"}))

    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert "at most 1,000" in response.json()["detail"]


@pytest.mark.parametrize("url", [LOGIN, VOLUNTEERS])
@pytest.mark.parametrize(
    ("text", "says"),
    [('"Ai\\u0000leen"', "NUL character"), ('"Ai\\ud800leen"', "surrogate pair")],
)
def test_text_no_field_can_store_is_refused_on_every_json_endpoint(api, url, text, says):
    response = post(api, url, '{"email": ' + text + ', "preferred_name": ' + text + "}")

    assert response.status_code == 400
    assert response.json()["code"] == "unstorable_text"
    assert says in response.json()["detail"]
    assert not Volunteer.objects.exists()


@pytest.mark.parametrize("url", [LOGIN, CODE_REQUEST, VOLUNTEERS])
def test_a_number_python_will_not_read_is_a_400_not_a_500(api, url):
    response = post(api, url, '{"phone": ' + "9" * 5000 + "}")

    assert response.status_code == 400
    assert response.json()["code"] == "number_too_long"


def test_malformed_json_is_still_answered_by_the_view_in_its_own_words(api):
    response = post(api, VOLUNTEERS, '{"preferred_name": ')

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_form_posts_and_reads_are_not_touched(client):
    assert client.get(LOGIN + "?" + "[" * 100).status_code != 500
    webhook = client.post("/messaging/twilio/inbound/", {"Body": "[" * 1000})
    assert webhook.status_code == 403  # unsigned: the webhook's own answer


def test_the_depth_count_is_linear_and_stops_early():
    assert nesting_depth(b"[[[]]]", stop_above=16) == 3
    assert nesting_depth(b'["[[[[", {"a": "]]]"}]', stop_above=16) == 2
    assert nesting_depth(b'["\\"[[["]', stop_above=16) == 1
    assert nesting_depth(b"[" * 10_000_000, stop_above=16) == 17


def test_an_app_client_posting_deep_json_with_a_session_token_gets_the_same_answer(coordinator):
    client = APIClient()
    response = client.post(
        LOGIN,
        {"email": coordinator.email, "password": "correct horse battery staple"},
        format="json",
    )
    token = response.json()["meta"]["session_token"]

    response = client.generic(
        "POST",
        VOLUNTEERS,
        nested(1000),
        content_type="application/json",
        HTTP_X_SESSION_TOKEN=token,
    )

    assert response.status_code == 400
    assert response.json()["code"] == "body_too_deep"
