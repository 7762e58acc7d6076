"""The API documents itself: the committed contract, and a complete, local Swagger UI."""

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

COMMITTED = Path(__file__).resolve().parents[2] / "api" / "openapi.yaml"


@pytest.fixture(scope="module")
def schema():
    return yaml.safe_load(COMMITTED.read_text())


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", method, operation


def test_the_committed_schema_is_the_one_the_code_generates(tmp_path):
    generated = tmp_path / "openapi.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(generated))

    assert generated.read_text() == COMMITTED.read_text(), (
        "The API's contract changed: run `make schema`, review the diff of api/openapi.yaml "
        "and commit it."
    )


def test_the_schema_is_served_to_anyone(client):
    response = client.get("/api/v1/schema/", {"format": "json"})

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "PeerPath API"
    assert "/api/v1/volunteers/" in response.json()["paths"]


def test_swagger_ui_is_served_from_our_own_static_files(client):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_every_operation_has_a_summary_and_a_description(schema):
    missing = [
        name
        for name, _, operation in operations(schema)
        if not operation.get("summary") or not operation.get("description")
    ]

    assert missing == []


def test_every_request_body_and_success_answer_has_an_example(schema):
    missing = []
    for name, _method, operation in operations(schema):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None and not body.get("examples"):
            missing.append(f"{name} request")
        for status, answer in operation["responses"].items():
            content = answer.get("content", {}).get("application/json")
            if status.startswith("2") and content is not None and not content.get("examples"):
                missing.append(f"{name} {status}")

    assert missing == []


def test_every_operation_documents_its_errors_as_problem_details(schema):
    missing = []
    for name, method, operation in operations(schema):
        expected = {"401", "403", "429"}
        if method in {"post", "put", "patch"} or operation["operationId"].endswith("_list"):
            expected.add("400")
        if "{" in name:
            expected.add("404")
        for status in expected:
            answer = operation["responses"].get(status)
            if answer is None or "application/problem+json" not in answer.get("content", {}):
                missing.append(f"{name} {status}")

    assert missing == []


def test_status_actions_document_their_409(schema):
    for path in ["/api/v1/volunteers/{id}/status/", "/api/v1/peers/{id}/status/"]:
        assert "409" in schema["paths"][path]["post"]["responses"]


def test_the_session_token_is_the_documented_way_in(schema):
    schemes = schema["components"]["securitySchemes"]

    assert schemes["sessionToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Session-Token",
        "description": "The session token from POST /_allauth/app/v1/auth/login.",
    }
