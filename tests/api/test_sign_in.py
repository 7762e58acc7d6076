"""Signing in for apps with allauth's headless API, and what the API makes of the token."""

import datetime

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tests.api.conftest import problem_of
from tests.api.signed_in_volunteers import signed_in_by_texted_code, signed_in_volunteer
from tests.factories import UserFactory, VolunteerFactory

pytestmark = pytest.mark.django_db

LOGIN = "/_allauth/app/v1/auth/login"
PASSWORD = "correct horse battery staple"
VOLUNTEERS = "/api/v1/volunteers/"


def sign_in(email, password=PASSWORD):
    return APIClient().post(LOGIN, {"email": email, "password": password}, format="json")


def token_client(token):
    client = APIClient()
    client.credentials(HTTP_X_SESSION_TOKEN=token)
    return client


def current_code(secret):
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def test_a_coordinator_signs_in_and_uses_the_session_token(coordinator):
    VolunteerFactory(preferred_name="Aileen")

    response = sign_in(coordinator.email)

    assert response.status_code == 200, response.content
    token = response.json()["meta"]["session_token"]
    listed = token_client(token).get(VOLUNTEERS)
    assert listed.status_code == 200
    assert [row["preferred_name"] for row in listed.json()["results"]] == ["Aileen"]


def test_a_wrong_password_gives_no_token(coordinator):
    response = sign_in(coordinator.email, "not the password")

    assert response.status_code == 400
    assert "session_token" not in response.json().get("meta", {})


@pytest.mark.parametrize(
    ("token", "code"),
    [("forged-token", "token_invalid"), ("", "not_authenticated"), ("x" * 500, "token_invalid")],
)
def test_a_forged_or_empty_token_is_401_before_any_view_logic(db, token, code, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("the view's queryset was built for an unauthenticated request")

    monkeypatch.setattr("api.volunteers.VolunteerViewSet.get_queryset", must_not_run)

    response = token_client(token).get(VOLUNTEERS)

    assert response.status_code == 401
    assert problem_of(response)["code"] == code
    assert response["WWW-Authenticate"].startswith("X-Session-Token")


@pytest.mark.parametrize(
    ("token", "session_reads"),
    [
        ("x" * 500, 0),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", 0),
        ("abc", 0),
        ("0123456789abcdefghijklmnopqrstuv", 1),
    ],
)
def test_a_token_not_shaped_as_a_session_key_is_refused_without_a_lookup(
    db, settings, token, session_reads
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    with CaptureQueriesContext(connection) as captured:
        response = token_client(token).get(VOLUNTEERS)

    assert response.status_code == 401
    assert problem_of(response)["code"] == "token_invalid"
    reads = [query["sql"] for query in captured if "django_session" in query["sql"]]
    assert len(reads) == session_reads, reads


def test_no_credentials_at_all_is_401(anonymous_api):
    response = anonymous_api.post(VOLUNTEERS, {"preferred_name": "X"}, format="json")

    assert response.status_code == 401
    problem_of(response)


def test_a_signed_in_non_coordinator_is_refused_with_403(db):
    user = UserFactory(email="volunteer@example.org")
    token = sign_in(user.email).json()["meta"]["session_token"]

    response = token_client(token).get(VOLUNTEERS)

    assert response.status_code == 403
    assert problem_of(response)["detail"] == "Only coordinators may use this part of the API."


def test_a_signed_out_token_stops_working(coordinator):
    token = sign_in(coordinator.email).json()["meta"]["session_token"]
    client = token_client(token)

    signed_out = client.delete("/_allauth/app/v1/auth/session")

    assert signed_out.status_code == 401  # allauth: no longer authenticated
    assert client.get(VOLUNTEERS).status_code == 401


@pytest.mark.parametrize(
    ("engine", "session_reads"),
    [
        ("django.contrib.sessions.backends.db", 1),
        # With Redis (REDIS_URL) sessions live in the shared cache as well: no read at all.
        ("django.contrib.sessions.backends.cached_db", 0),
    ],
)
def test_a_token_is_looked_up_with_at_most_one_read_of_its_session(
    coordinator, settings, engine, session_reads
):
    settings.SESSION_ENGINE = engine
    client = token_client(sign_in(coordinator.email).json()["meta"]["session_token"])

    with CaptureQueriesContext(connection) as captured:
        assert client.get(VOLUNTEERS).status_code == 200

    reads = [query["sql"] for query in captured if "django_session" in query["sql"]]
    assert len(reads) == session_reads, reads


@pytest.mark.parametrize(
    "engine", ["django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db"]
)
def test_a_signed_out_token_stops_working_whichever_store_holds_sessions(
    coordinator, settings, engine
):
    settings.SESSION_ENGINE = engine
    client = token_client(sign_in(coordinator.email).json()["meta"]["session_token"])
    assert client.get(VOLUNTEERS).status_code == 200

    assert client.delete("/_allauth/app/v1/auth/session").status_code == 401

    assert client.get(VOLUNTEERS).status_code == 401


def test_the_token_of_an_expired_session_is_401_saying_so(coordinator, settings):
    # Expired in the database; in the cache (with Redis) a session expires on its own.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    token = sign_in(coordinator.email).json()["meta"]["session_token"]
    Session.objects.filter(session_key=token).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )

    response = token_client(token).get(VOLUNTEERS)

    assert response.status_code == 401
    assert problem_of(response)["code"] == "token_invalid"


def test_a_coordinator_with_totp_needs_the_code_before_the_api_opens(coordinator):
    secret = generate_totp_secret()
    TOTP.activate(coordinator, secret)

    first = sign_in(coordinator.email)

    assert first.status_code == 401
    flows = {flow["id"]: flow for flow in first.json()["data"]["flows"]}
    assert flows["mfa_authenticate"].get("is_pending") is True
    token = first.json()["meta"]["session_token"]
    client = token_client(token)
    assert client.get(VOLUNTEERS).status_code == 401

    second = client.post(
        "/_allauth/app/v1/auth/2fa/authenticate", {"code": current_code(secret)}, format="json"
    )

    assert second.status_code == 200, second.content
    client = token_client(second.json()["meta"].get("session_token", token))
    assert client.get(VOLUNTEERS).status_code == 200


def test_a_wrong_totp_code_keeps_the_api_shut(coordinator):
    TOTP.activate(coordinator, generate_totp_secret())
    token = sign_in(coordinator.email).json()["meta"]["session_token"]
    client = token_client(token)

    response = client.post("/_allauth/app/v1/auth/2fa/authenticate", {"code": "000000"})

    assert response.status_code == 400
    assert client.get(VOLUNTEERS).status_code == 401


def test_when_mfa_is_required_a_coordinator_without_totp_is_told_to_set_it_up(
    coordinator, settings
):
    settings.REQUIRE_COORDINATOR_MFA = True
    token = sign_in(coordinator.email).json()["meta"]["session_token"]
    client = token_client(token)

    refused = client.get(VOLUNTEERS)

    assert refused.status_code == 403
    assert "two-factor" in problem_of(refused)["detail"]
    # Setting up an authenticator asks for the password again, as allauth does everywhere.
    reauthenticated = client.post(
        "/_allauth/app/v1/auth/reauthenticate", {"password": PASSWORD}, format="json"
    )
    assert reauthenticated.status_code == 200, reauthenticated.content
    secret = client.get("/_allauth/app/v1/account/authenticators/totp").json()["meta"]["secret"]
    enrolled = client.post(
        "/_allauth/app/v1/account/authenticators/totp",
        {"code": current_code(secret)},
        format="json",
    )
    assert enrolled.status_code == 200, enrolled.content
    assert client.get(VOLUNTEERS).status_code == 200


def test_the_browsable_api_works_with_the_browser_session(coordinator_client):
    response = coordinator_client.get(VOLUNTEERS, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"Volunteer" in response.content


def test_there_is_no_public_sign_up(db):
    response = APIClient().post(
        "/_allauth/app/v1/auth/signup",
        {"email": "new@example.org", "password": "a long new password 123"},
        format="json",
    )

    assert response.status_code == 403
    assert not UserFactory._meta.model.objects.filter(email="new@example.org").exists()


def test_after_five_wrong_passwords_even_the_right_one_is_refused_for_a_while(coordinator):
    for _ in range(5):
        assert sign_in(coordinator.email, "wrong").status_code == 400

    response = sign_in(coordinator.email)

    assert response.status_code == 400
    assert "too many failed login attempts" in response.content.decode().lower()
    assert "session_token" not in response.json().get("meta", {})


def test_the_sign_in_api_documents_itself_from_local_assets(client):
    spec = client.get("/_allauth/openapi.json")
    page = client.get("/_allauth/openapi.html")

    assert spec.status_code == 200
    assert "/_allauth/app/v1/auth/login" in spec.json()["paths"] or any(
        path.endswith("/auth/login") for path in spec.json()["paths"]
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_when_mfa_is_required_the_browser_session_gets_the_api_403_not_a_redirect(
    coordinator_client, settings
):
    settings.REQUIRE_COORDINATOR_MFA = True

    response = coordinator_client.get(VOLUNTEERS)

    assert response.status_code == 403
    assert "two-factor" in problem_of(response)["detail"]


def test_a_browser_session_write_without_its_csrf_token_is_refused(coordinator):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(coordinator)

    response = client.post(
        VOLUNTEERS, {"preferred_name": "A", "full_name": "A B", "area": "coatbridge"}, format="json"
    )

    assert response.status_code == 403
    assert "CSRF" in problem_of(response)["detail"]
    assert not VolunteerFactory._meta.model.objects.exists()


def test_a_session_token_write_needs_no_csrf_token(coordinator):
    token = sign_in(coordinator.email).json()["meta"]["session_token"]
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_X_SESSION_TOKEN=token)

    response = client.post(
        VOLUNTEERS, {"preferred_name": "A", "full_name": "A B", "area": "coatbridge"}, format="json"
    )

    assert response.status_code == 201, response.content


def test_a_browser_signs_in_through_the_browser_api_and_then_uses_the_rest_api(coordinator):
    client = APIClient(enforce_csrf_checks=True)
    client.get("/_allauth/browser/v1/auth/session")
    csrf = client.cookies["csrftoken"].value

    signed_in = client.post(
        "/_allauth/browser/v1/auth/login",
        {"email": coordinator.email, "password": PASSWORD},
        format="json",
        HTTP_X_CSRFTOKEN=csrf,
    )

    assert signed_in.status_code == 200, signed_in.content
    assert "session_token" not in signed_in.json().get("meta", {})  # browsers use the cookie
    assert client.get(VOLUNTEERS).status_code == 200


def test_an_app_volunteer_and_their_sign_in_are_read_in_one_query(
    monkeypatch, django_capture_on_commit_callbacks
):
    volunteer, _ = signed_in_volunteer()
    app = signed_in_by_texted_code(volunteer, monkeypatch, django_capture_on_commit_callbacks)

    with CaptureQueriesContext(connection) as captured:
        assert app.get("/api/v1/me/sessions/").status_code == 200

    users = [query["sql"] for query in captured if '"accounts_user"' in query["sql"]]
    assert len(users) == 1, users
    assert '"volunteers_volunteer"' in users[0] and '"community_area"' in users[0]
    by_user = [
        query["sql"] for query in captured if '"volunteers_volunteer"."user_id" =' in query["sql"]
    ]
    assert by_user == [], by_user
