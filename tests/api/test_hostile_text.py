"""Arbitrary text in every query parameter and every writable field of every operation.

The operations, their parameters and their fields come from the committed schema, so a new
endpoint is covered the day it is added. Each case puts hostile text (NUL, %-formatting,
bidirectional controls, halves of surrogate pairs, other scripts' digits, very long strings,
and whatever hypothesis makes up) into one place of an otherwise sensible request. No answer
may be a 5xx, and an answer that refuses the request leaves every table as it was.
"""

import json
from pathlib import Path
from urllib.parse import quote

import hypothesis
import pytest
import yaml
from django.apps import apps
from hypothesis import HealthCheck
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

SCHEMA = yaml.safe_load((Path(__file__).resolve().parents[2] / "api" / "openapi.yaml").read_text())
METHODS = ("get", "post", "put", "patch", "delete")
EXAMPLES_PER_PLACE = 5

PIECES = [
    "\x00",
    "%",
    "%s",
    "%(name)s",
    "%d%%",
    "\u202e",
    "\u2066",
    "\ud800",
    "\udfff",
    "\u0661",
    "\uff11",
    "'",
    '"',
    "\\",
    "<script>",
    "{",
    "[",
    "\n",
    "07700 900123",
    "-1",
    "1e999",
    "",
]
HOSTILE = st.one_of(
    st.sampled_from(PIECES),
    st.lists(st.sampled_from(PIECES), min_size=2, max_size=8).map("".join),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec=None, categories=["Cs", "Cc", "Cf"]), max_size=10),
    st.builds(
        lambda piece, times: piece * times,
        st.sampled_from(["a", "%", "\u202e", "9", "\x00"]),
        st.integers(min_value=300, max_value=20_000),
    ),
)


def _request_schema(operation):
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if not body:
        return None, {}
    schema = body["schema"]
    if "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    examples = list(body.get("examples", {}).values())
    example = examples[0]["value"] if examples else {}
    return schema, example if isinstance(example, dict) else {}


def _places(operation):
    """Every query parameter and every writable body field of one operation."""
    places = [
        ("query", parameter["name"])
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    ]
    schema, _ = _request_schema(operation)
    for name, field in (schema or {}).get("properties", {}).items():
        if not field.get("readOnly"):
            places.append(("body", name))
    return places


OPERATIONS = [
    pytest.param(method, path, places, id=f"{method} {path}")
    for path, operations in SCHEMA["paths"].items()
    for method, operation in operations.items()
    if method in METHODS and (places := _places(operation))
]


def test_the_cases_reach_every_operation_with_parameters_or_fields():
    reached = {(case.values[0], case.values[1]) for case in OPERATIONS}
    places = sum(len(case.values[2]) for case in OPERATIONS)
    assert places > 250
    assert ("get", "/api/v1/messages/") in reached
    assert ("post", "/api/v1/volunteers/") in reached


def _filled_path(path, records):
    segments = path.strip("/").split("/")
    for position, segment in enumerate(segments):
        if segment.startswith("{"):
            name = segment.strip("{}")
            choices = records.get(name) or records.get(segments[position - 1]) or [1]
            segments[position] = str(choices[0])
    return "/" + "/".join(segments) + "/"


def _row_counts():
    return {
        model._meta.label: model._default_manager.count()
        for config in apps.get_app_configs()
        if config.name in {"accounts", "volunteers", "peers", "matching", "messaging", "community"}
        for model in config.get_models()
    }


@pytest.fixture
def unthrottled(monkeypatch):
    monkeypatch.setattr(
        "rest_framework.throttling.SimpleRateThrottle.THROTTLE_RATES",
        {"anon": "100000/minute", "user": "100000/minute"},
    )


@pytest.mark.parametrize(("method", "path", "places"), OPERATIONS)
def test_hostile_text_is_never_a_5xx_and_a_refusal_saves_nothing(
    api, records, unthrottled, method, path, places
):
    operation = SCHEMA["paths"][path][method]
    url = _filled_path(path, records)
    _, example = _request_schema(operation)

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_PLACE * len(places),
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(place=st.sampled_from(places), text=HOSTILE)
    def answers_without_a_5xx(place, text):
        where, name = place
        target, body = url, dict(example)
        if where == "query":
            target += "?" + quote(name) + "=" + quote(text, safe="", errors="surrogatepass")
        else:
            body[name] = text
        before = _row_counts()

        if method in ("get", "delete"):
            response = getattr(api, method)(target)
        else:
            # json.dumps writes a lone surrogate as the escape \ud800, as a client's JSON would.
            response = api.generic(method.upper(), target, json.dumps(body), "application/json")

        assert response.status_code < 500, response.content[:500]
        if response.status_code >= 400:
            assert _row_counts() == before

    answers_without_a_5xx()


# allauth's headless API for apps, from the specification allauth itself serves.
def _allauth_spec():
    from allauth.headless.spec.internal.schema import get_schema

    return get_schema()


def _resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _field_names(spec, schema, seen=()):
    schema = _resolve(spec, schema)
    names = set(schema.get("properties", {}))
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            names |= _field_names(spec, part)
    return names


def _allauth_operations():
    spec = _allauth_spec()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS or "requestBody" not in operation:
                continue
            body = _resolve(spec, operation["requestBody"])
            schema = body.get("content", {}).get("application/json", {}).get("schema", {})
            names = sorted(_field_names(spec, schema))
            if names:
                url = path.replace("{client}", "app")
                yield pytest.param(method, url, names, id=f"{method} {url}")


ALLAUTH_OPERATIONS = list(_allauth_operations())


def test_allauths_operations_with_bodies_are_reached():
    urls = {case.values[1] for case in ALLAUTH_OPERATIONS}
    assert {"/_allauth/app/v1/auth/login", "/_allauth/app/v1/auth/code/request"} <= urls
    assert len(ALLAUTH_OPERATIONS) >= 10


@pytest.fixture
def app_token(coordinator):
    from rest_framework.test import APIClient

    response = APIClient().post(
        "/_allauth/app/v1/auth/login",
        {"email": coordinator.email, "password": "correct horse battery staple"},
        format="json",
    )
    return response.json()["meta"]["session_token"]


@pytest.mark.parametrize(("method", "url", "names"), ALLAUTH_OPERATIONS)
def test_hostile_text_to_the_sign_in_api_is_never_a_5xx(client, app_token, method, url, names):
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_PLACE * len(names),
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(name=st.sampled_from(names), text=HOSTILE, signed_in=st.booleans())
    def answers_without_a_5xx(name, text, signed_in):
        headers = {"HTTP_X_SESSION_TOKEN": app_token} if signed_in else {}
        body = json.dumps({name: text})

        response = client.generic(method.upper(), url, body, "application/json", **headers)

        assert response.status_code < 500, response.content[:500]

    answers_without_a_5xx()
