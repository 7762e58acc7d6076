"""The contract as an app developer reads it: what a generated client makes of the schema.

Each test walks the whole committed schema, so an endpoint added later is held to the same
rules without a line here.
"""

import datetime
import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import jsonschema
import openapi_python_client
import pytest
import yaml
from django.conf import settings
from django.urls import resolve
from openapi_python_client.parser.properties.enum_property import EnumProperty
from rest_framework.test import APIClient

from api import authentication, fields, schema
from api.volunteers import AvailabilitySerializer
from tests.api.conftest import problem_of
from tests.factories import PeerFactory, UserFactory, VolunteerFactory

COMMITTED = Path(__file__).resolve().parents[2] / "api" / "openapi.yaml"
LOGIN = "/_allauth/app/v1/auth/login"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def contract():
    return yaml.safe_load(COMMITTED.read_text())


def operations(contract):
    for path, methods in contract["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


# Servers, tags, contact and licence --------------------------------------------------------


def test_the_schema_names_its_servers_the_office_and_the_licence(contract):
    assert contract["servers"][0]["url"] == "/"
    assert all(server.get("description") for server in contract["servers"])
    assert "PeerPath office" in contract["info"]["contact"]["name"]
    assert contract["info"]["license"] == {"name": "Proprietary"}


def test_every_operation_has_one_tag_and_every_tag_says_what_it_holds(contract):
    declared = {tag["name"]: tag.get("description") for tag in contract["tags"]}

    assert {
        "me",
        "volunteers",
        "peers",
        "matches",
        "sessions",
        "messages",
        "follow-ups",
        "reference data",
    } <= declared.keys()
    assert all(declared.values())
    assert declared["me"] == "The signed-in volunteer's own records, for the partner app."
    untagged = [
        f"{method.upper()} {path}: {operation.get('tags')}"
        for path, method, operation in operations(contract)
        if len(operation.get("tags", [])) != 1 or operation["tags"][0] not in declared
    ]
    assert untagged == []


def test_a_volunteers_own_paths_are_tagged_me():
    view = SimpleNamespace()
    auto = schema.AutoSchema()
    auto.path, auto.path_prefix, auto.view = "/api/v1/me/sessions/{id}/", "/api/v1", view

    assert auto.get_tags() == ["me"]


# Operation ids -----------------------------------------------------------------------------

CRUD_SUFFIXES = ("_list", "_create", "_retrieve", "_update", "_partial_update", "_destroy")


def _action_of(path, method):
    """The viewset action serving this path and method, or None for a plain view."""
    match = resolve(re.sub(r"\{[^}]+\}", "1", path))
    return getattr(match.func, "actions", {}).get(method)


def test_operation_ids_are_unique(contract):
    ids = [operation["operationId"] for _, _, operation in operations(contract)]

    assert len(ids) == len(set(ids))


def test_an_extra_action_is_named_for_what_it_does(contract):
    wrong = []
    for path, method, operation in operations(contract):
        action = _action_of(path, method)
        if action is None or action in schema.STANDARD_ACTIONS:
            continue
        if operation["operationId"].endswith(CRUD_SUFFIXES):
            wrong.append(f"{method.upper()} {path}: {operation['operationId']}")

    assert wrong == []
    by_path = contract["paths"]
    assert by_path["/api/v1/sessions/{id}/confirm/"]["post"]["operationId"] == "sessions_confirm"
    assert (
        by_path["/api/v1/peers/{peer_id}/why-not/{volunteer_id}/"]["get"]["operationId"]
        == "peers_why_not"
    )
    assert by_path["/api/v1/sessions/{id}/"]["get"]["operationId"] == "sessions_retrieve"


def test_an_action_on_two_methods_of_one_path_names_each_method():
    view = SimpleNamespace(action="preferences", action_map={"get": "preferences"})
    view.action_map["patch"] = "preferences"
    auto = schema.AutoSchema()
    auto.path, auto.path_prefix, auto.view = "/api/v1/me/preferences/", "/api/v1", view
    names = set()
    for method in ("GET", "PATCH"):
        auto.method = method
        names.add(auto.get_operation_id())

    assert names == {"me_preferences_get", "me_preferences_patch"}


# Enum names in a generated client ----------------------------------------------------------


def _string_enums(node, where="#"):
    if isinstance(node, dict):
        values = node.get("enum")
        if isinstance(values, list) and any(isinstance(value, str) for value in values):
            yield where, node
        for key, value in node.items():
            yield from _string_enums(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _string_enums(value, f"{where}/{index}")


def test_every_enum_value_gets_a_distinct_readable_name_in_a_generated_client(contract):
    """openapi-python-client's own rule: a value that does not start with a letter becomes
    VALUE_<n> unless x-enum-varnames names it; names that collide stop the generation."""
    unreadable = {}
    enums = list(_string_enums(contract))
    for where, node in enums:
        values = [value for value in node["enum"] if isinstance(value, str)]
        class_info = SimpleNamespace(module_name=where, name=where)
        names = EnumProperty.values_from_list(values, class_info, node.get("x-enum-varnames", []))
        if len(names) != len(values) or any(re.fullmatch(r"VALUE_\d+", n) for n in names):
            unreadable[where] = sorted(names)

    assert enums
    assert unreadable == {}


def test_a_descending_ordering_is_named_for_its_field(contract):
    ordering = next(
        parameter
        for parameter in contract["paths"]["/api/v1/sessions/"]["get"]["parameters"]
        if parameter["name"] == "ordering"
    )
    names = dict(
        zip(ordering["schema"]["enum"], ordering["schema"]["x-enum-varnames"], strict=True)
    )

    assert names["starts_at"] == "STARTS_AT"
    assert names["-starts_at"] == "STARTS_AT_DESC"


# Examples are valid data -------------------------------------------------------------------

FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_a_moment(value):
    if not isinstance(value, str):
        return True
    moment = datetime.datetime.fromisoformat(value)
    return moment.tzinfo is not None and re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d", value)


@FORMATS.checks("uri", raises=ValueError)
def _is_an_address(value):
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


def _as_json_schema(node, strict):
    """OpenAPI 3.0's dialect as JSON Schema: `nullable` as a null type, boolean exclusive
    bounds as numbers; with `strict`, an example's object may hold only the properties its
    schema names."""
    if isinstance(node, list):
        return [_as_json_schema(item, strict) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: _as_json_schema(value, strict) if key not in {"example", "enum"} else value
        for key, value in node.items()
    }
    for bound, exclusive in [("maximum", "exclusiveMaximum"), ("minimum", "exclusiveMinimum")]:
        if converted.get(exclusive) is True:
            converted[exclusive] = converted.pop(bound)
        elif converted.get(exclusive) is False:
            del converted[exclusive]
    if strict and "properties" in converted:
        converted.setdefault("additionalProperties", False)
    if converted.pop("nullable", False):
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def _validator(contract, subschema, strict=True):
    components = _as_json_schema(contract["components"], strict)
    root = {**_as_json_schema(subschema, strict), "components": components}
    return jsonschema.Draft202012Validator(root, format_checker=FORMATS)


def _examples_with_their_schemas(contract):
    """(where, schema, example) for every example in the contract: bodies, answers,
    parameters, and the example of any property or component."""
    for path, method, operation in operations(contract):
        name = f"{method.upper()} {path}"
        bodies = [("request", operation.get("requestBody", {}))]
        bodies += [(status, answer) for status, answer in operation["responses"].items()]
        for label, holder in bodies:
            for media_type, content in holder.get("content", {}).items():
                for title, example in content.get("examples", {}).items():
                    where = f"{name} {label} {media_type} {title}"
                    yield where, content["schema"], example["value"]
        for parameter in operation.get("parameters", []):
            if "example" in parameter:
                yield f"{name} ?{parameter['name']}", parameter["schema"], parameter["example"]

    def walk(node, where):
        if isinstance(node, dict):
            if "example" in node and isinstance(node.get("type"), str):
                yield where, {k: v for k, v in node.items() if k != "example"}, node["example"]
            for key, value in node.items():
                if key not in {"example", "examples"}:
                    yield from walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, f"{where}/{index}")

    yield from walk(contract["components"], "#/components")
    yield from walk(contract["paths"], "#/paths")


def test_every_example_is_valid_against_its_own_schema(contract):
    examples = list(_examples_with_their_schemas(contract))
    invalid = []
    for where, subschema, value in examples:
        for error in _validator(contract, subschema).iter_errors(value):
            invalid.append(f"{where}: {'/'.join(map(str, error.absolute_path))}: {error.message}")

    assert len(examples) > 100
    assert invalid == []


def test_the_example_checker_catches_an_invalid_example(contract):
    window = contract["components"]["schemas"]["AvailabilityRequest"]
    wrong = {"weekday": "tuesday", "starts_at": "18:00", "ends_at": "9pm", "colour": "red"}

    messages = [error.message for error in _validator(contract, window).iter_errors(wrong)]

    assert any("9pm" in message for message in messages)
    assert any("colour" in message for message in messages)


def _pairs(node):
    """Every (start, end) in an example: starts_at with ends_at, starts_on with ends_on."""
    if isinstance(node, dict):
        for start_key, end_key in [("starts_at", "ends_at"), ("starts_on", "ends_on")]:
            if isinstance(node.get(start_key), str) and isinstance(node.get(end_key), str):
                yield node[start_key], node[end_key]
        for value in node.values():
            yield from _pairs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _pairs(value)


def _when(text):
    if re.fullmatch(r"\d\d:\d\d", text):
        return datetime.datetime.combine(
            datetime.date(2026, 1, 5), datetime.time.fromisoformat(text)
        )
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def test_no_example_ends_when_or_before_it_starts(contract):
    values = [value for _, _, value in _examples_with_their_schemas(contract)]
    # The properties' own examples, put together as a client's sample object would be.
    for component in contract["components"]["schemas"].values():
        properties = component.get("properties", {})
        values.append(
            {name: prop["example"] for name, prop in properties.items() if "example" in prop}
        )
    backwards = [
        (start, end)
        for value in values
        for start, end in _pairs(value)
        if _when(end) <= _when(start)
    ]

    assert backwards == []


def _addresses(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _addresses(value)
    elif isinstance(node, list):
        for value in node:
            yield from _addresses(value)
    elif isinstance(node, str) and re.match(r"[a-z][a-z0-9+.-]*://", node):
        yield node


def test_every_address_in_an_example_is_a_peerpath_servers(contract):
    origin = urlsplit(schema.EXAMPLE_ORIGIN)
    servers = [server["url"] for server in contract["servers"]]
    elsewhere = []
    for where, _, value in _examples_with_their_schemas(contract):
        for address in _addresses(value):
            parts = urlsplit(address)
            # The API's own addresses, and the calendar feed's that me/calendar/ hands out.
            if parts.netloc != origin.netloc or not parts.path.startswith(
                ("/api/v1/", "/calendar/")
            ):
                elsewhere.append(f"{where}: {address}")

    assert schema.EXAMPLE_ORIGIN in servers
    assert "api.example.org" not in COMMITTED.read_text()
    assert elsewhere == []


def test_a_lists_example_links_to_its_own_pages(contract):
    example = contract["paths"]["/api/v1/volunteers/{volunteer_id}/absences/"]["get"]
    value = example["responses"]["200"]["content"]["application/json"]["examples"]["Response"]

    assert value["value"]["next"] == "http://127.0.0.1:8000/api/v1/volunteers/1/absences/?page=4"


# The weekly time: HH:MM and nothing else ---------------------------------------------------

TIMES = [
    ("09:30", True),
    ("00:00", True),
    ("23:59", True),
    ("9:30", False),
    ("24:00", False),
    ("09:60", False),
    ("09:30:00", False),
    ("٠٩:٣٠", False),
    ("09:30\n", False),
    ("\n09:30", False),
    (" 09:30", False),
    ("09.30", False),
    ("0930", False),
    ("", False),
]


def _time_schemas(contract):
    return [
        node
        for node in schema._walk(contract["components"])
        if node.get("pattern") == fields.LOCAL_TIME.pattern
    ]


@pytest.mark.parametrize(("text", "accepted"), TIMES)
def test_the_schema_and_the_api_agree_on_weekly_times(contract, text, accepted):
    time_schemas = _time_schemas(contract)
    serializer = AvailabilitySerializer(
        data={"weekday": "monday", "starts_at": text, "ends_at": "23:59"}
    )
    serializer.is_valid()

    assert time_schemas
    for time_schema in time_schemas:
        assert jsonschema.Draft202012Validator(time_schema).is_valid(text) is accepted
    assert ("starts_at" not in serializer.errors) is accepted


# No ?format= -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/volunteers/", "/api/v1/volunteers/{id}/"])
@pytest.mark.parametrize("value", ["json", "api"])
def test_format_is_an_unknown_parameter_like_any_other(api, path, value):
    volunteer = VolunteerFactory()

    response = api.get(path.format(id=volunteer.pk), {"format": value})

    assert response.status_code == 400
    assert "Unknown parameter" in problem_of(response)["errors"]["format"][0]


@pytest.mark.django_db
def test_format_is_unknown_where_a_view_reads_its_own_parameters(api):
    peer = PeerFactory()

    response = api.get(f"/api/v1/peers/{peer.pk}/suggestions/", {"format": "json"})

    assert response.status_code == 400
    assert "format" in problem_of(response)["errors"]


def test_no_operation_documents_a_format_parameter(contract):
    assert [
        f"{method} {path}"
        for path, method, operation in operations(contract)
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "format"
    ] == []


@pytest.mark.django_db
def test_the_browsable_api_and_the_schema_still_choose_their_formats(api, client):
    browsed = api.get("/api/v1/volunteers/", HTTP_ACCEPT="text/html")
    as_json = client.get("/api/v1/schema/", {"format": "json"})

    assert browsed.status_code == 200
    assert browsed["Content-Type"].startswith("text/html")
    assert as_json.status_code == 200
    assert as_json.json()["openapi"].startswith("3.")


# A bad or expired session token ------------------------------------------------------------


def _token_of(user):
    response = APIClient().post(LOGIN, {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["meta"]["session_token"]


def _with_token(token):
    client = APIClient()
    client.credentials(HTTP_X_SESSION_TOKEN=token)
    return client


@pytest.fixture
def volunteer_user(db):
    user = UserFactory(email="aileen@example.org")
    VolunteerFactory(user=user)
    return user


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "path"),
    [("coordinator", "/api/v1/volunteers/"), ("volunteer_user", "/api/v1/areas/")],
)
def test_a_signed_out_token_is_a_401_that_says_it_is_invalid_or_expired(request, who, path):
    client = _with_token(_token_of(request.getfixturevalue(who)))
    assert client.get(path).status_code == 200

    assert client.delete("/_allauth/app/v1/auth/session").status_code == 401
    response = client.get(path)

    assert response.status_code == 401
    problem = problem_of(response)
    assert problem["code"] == "token_invalid"
    assert "invalid or has expired" in problem["detail"]
    assert response["WWW-Authenticate"].startswith("X-Session-Token")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/volunteers/", "/api/v1/areas/"])
def test_a_made_up_token_is_a_401_that_says_it_is_invalid(path):
    response = _with_token("made-up-" + "x" * 24).post(path, {}, format="json")

    assert response.status_code == 401
    assert problem_of(response)["code"] == "token_invalid"


@pytest.mark.django_db
def test_no_token_at_all_is_still_not_provided():
    response = APIClient().get("/api/v1/areas/")

    assert response.status_code == 401
    problem = problem_of(response)
    assert problem["code"] == "not_authenticated"
    assert problem["detail"] == "Authentication credentials were not provided."


def test_the_schema_documents_both_401s(contract):
    codes = set()
    for _, _, operation in operations(contract):
        examples = operation["responses"]["401"]["content"]["application/problem+json"]
        codes |= {example["value"]["code"] for example in examples["examples"].values()}

    assert codes == {"not_authenticated", authentication.TOKEN_INVALID_CODE}


README = Path(settings.BASE_DIR) / "README.md"
CLIENT_TEMPLATE = Path(openapi_python_client.__file__).parent / "templates" / "client.py.jinja"


def test_the_readme_configures_a_generated_client_with_its_real_arguments():
    readme = README.read_text()
    call = re.search(r"AuthenticatedClient\((.*?)\)", readme, re.DOTALL)
    arguments = re.findall(r"(\w+)=", call.group(1))
    template = CLIENT_TEMPLATE.read_text()

    assert set(arguments) == {"base_url", "token", "prefix", "auth_header_name"}
    assert 'auth_header_name="X-Session-Token"' in call.group(1)
    assert 'prefix=""' in call.group(1)
    for argument in arguments:
        assert re.search(rf"\b_?{argument}\b", template), argument
    # With an empty prefix the header holds the token alone, as allauth reads it.
    assert "if self.prefix else self.token" in template


def test_the_readme_states_the_versioning_and_deprecation_policy():
    readme = README.read_text()

    assert "/api/v2/" in readme
    assert "`Deprecation`" in readme and "`Sunset`" in readme
    assert "/api/v1/schema/" in readme and "api/openapi.yaml" in readme


def test_operation_ids_stay_the_same_after_the_views_have_answered_requests(api):
    """DRF binds HEAD to a view's GET action on its first request; the ids must not notice."""
    from drf_spectacular.generators import SchemaGenerator

    peer = PeerFactory()
    api.get(f"/api/v1/peers/{peer.pk}/suggestions/")
    api.get("/api/v1/me/calendar/")
    generated = SchemaGenerator().get_schema(request=None, public=True)
    ids = {
        operation["operationId"]
        for methods in generated["paths"].values()
        for operation in methods.values()
    }

    assert {"peers_suggestions", "peers_why_not", "me_calendar_reset"} <= ids
    assert not {name for name in ids if name.endswith(("_get", "_head"))}
