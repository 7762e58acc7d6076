"""Every operation of the committed schema, called by everyone who might call it.

Each operation (path and method in api/openapi.yaml) is called as anonymous, volunteer A,
volunteer B and a coordinator, with every id in the path naming one of volunteer A's
records, and each answer is checked against the operation's row in access_table.py. An
operation without a row fails, and so does a row for an operation that is gone.
"""

import json
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.db import transaction
from rest_framework.test import APIClient

from tests.api.access_table import ACCESS, CALLER_NAMES, CALLERS
from tests.api.partner_app import (
    app_volunteer,
    deliver_texts_at_once,
    records_about,
    sign_in_by_code,
    sign_in_by_password,
)

SCHEMA = Path(settings.BASE_DIR) / "api" / "openapi.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}
# Path parameters named for what they name; any other names a record of the kind in the path
# segment before it.
PARAMETER_KINDS = {"volunteer_id": "volunteers", "peer_id": "peers"}
TABLE = "tests/api/access_table.py"
OWN_PAGES = "/api/v1/me/"


def schema_operations():
    """{(METHOD, path template): the operation} for every operation in the committed schema."""
    document = yaml.load(SCHEMA.read_text(), Loader=yaml.CSafeLoader)
    return {
        (method.upper(), path): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in METHODS
    }


OPERATIONS = schema_operations()


def test_every_operation_in_the_schema_has_a_row():
    missing = sorted(set(OPERATIONS) - set(ACCESS))

    assert not missing, f"Add a row to {TABLE} for: " + ", ".join(
        f"{method} {path}" for method, path in missing
    )


def test_every_row_names_an_operation_in_the_schema():
    gone = sorted(set(ACCESS) - set(OPERATIONS))

    assert not gone, f"Remove (or correct) the rows in {TABLE} for: " + ", ".join(
        f"{method} {path}" for method, path in gone
    )


def record_kind(path, parameter, row):
    if parameter in row.ids:
        return row.ids[parameter]
    if parameter in PARAMETER_KINDS:
        return PARAMETER_KINDS[parameter]
    segments = path.strip("/").split("/")
    return segments[segments.index(f"{{{parameter}}}") - 1]


def filled_in(path, row, records):
    """The path with each parameter replaced by the id of volunteer A's record of its kind."""

    def record_id(found):
        kind = record_kind(path, found.group(1), row)
        assert kind in records, (
            f"{path}: {found.group(1)} names a {kind!r}; add one of volunteer A's to "
            "records_about in tests/api/partner_app.py"
        )
        return str(records[kind])

    return re.sub(r"\{(\w+)\}", record_id, path)


def test_parameters_name_records_of_the_kind_in_the_path():
    row = ACCESS[("GET", "/api/v1/peers/{peer_id}/why-not/{volunteer_id}/")]
    records = {"peers": 7, "volunteers": 9, "sessions": 3}

    assert filled_in("/api/v1/peers/{peer_id}/why-not/{volunteer_id}/", row, records) == (
        "/api/v1/peers/7/why-not/9/"
    )
    assert filled_in("/api/v1/sessions/{id}/", row, records) == "/api/v1/sessions/3/"


@pytest.fixture
def callers(db, coordinator, monkeypatch, django_capture_on_commit_callbacks):
    """A client for each caller, and the ids of volunteer A's records."""
    deliver_texts_at_once(monkeypatch)
    # A hundred calls each within the minute: the rate limits are not under test here.
    monkeypatch.setattr(
        "rest_framework.throttling.SimpleRateThrottle.THROTTLE_RATES",
        {"anon": "100000/minute", "user": "100000/minute"},
    )
    volunteer_a, volunteer_b = app_volunteer(), app_volunteer()
    records = records_about(volunteer_a)
    records_about(volunteer_b)  # B has records of every kind too, just not these
    tokens = {
        "volunteer": sign_in_by_code(volunteer_a.phone, django_capture_on_commit_callbacks),
        "other_volunteer": sign_in_by_code(volunteer_b.phone, django_capture_on_commit_callbacks),
        "coordinator": sign_in_by_password(coordinator.email),
    }
    clients = {}
    for caller in CALLERS:
        clients[caller] = APIClient()
        if caller in tokens:
            clients[caller].credentials(HTTP_X_SESSION_TOKEN=tokens[caller])
    return clients, records


def answer_to(client, method, path, row):
    """The status of one call, with whatever it changed undone, so that every call finds
    volunteer A's records as they were."""
    savepoint = transaction.savepoint()
    try:
        response = client.generic(
            method,
            path,
            data="" if method in {"GET", "DELETE"} else json.dumps(row.body or {}),
            content_type="application/json",
            **{
                f"HTTP_{name.upper().replace('-', '_')}": value
                for name, value in row.headers.items()
            },
        )
    finally:
        transaction.savepoint_rollback(savepoint)
    return response


def test_each_caller_is_answered_as_the_table_says(callers):
    clients, records = callers
    wrong = []

    for (method, template), operation in sorted(OPERATIONS.items()):
        row = ACCESS.get((method, template))
        if row is None:
            continue  # test_every_operation_in_the_schema_has_a_row says which
        path = filled_in(template, row, records)
        documented = {int(status) for status in operation["responses"]}
        for caller in CALLERS:
            response = answer_to(clients[caller], method, path, row)
            status = response.status_code
            who = CALLER_NAMES.get(caller, caller)
            if status not in row.expected(caller):
                wrong.append(
                    f"{method} {template} as {who}: {status}, the table says "
                    f"{sorted(row.expected(caller))} ({response.content[:200]!r})"
                )
            elif status not in documented:
                wrong.append(f"{method} {template} as {who}: {status} is not in the schema")
            elif status >= 400 and response["Content-Type"] != "application/problem+json":
                wrong.append(f"{method} {template} as {who}: {status} is not a problem")
            elif (
                status == 403
                and template.startswith(OWN_PAGES)
                and response.json()["code"] != "not_a_volunteer"
            ):
                wrong.append(
                    f"{method} {template} as {who}: 403 {response.json()['code']!r}, "
                    "not 'not_a_volunteer'"
                )

    assert not wrong, f"{len(wrong)} answers differ from {TABLE}:\n" + "\n".join(wrong)


def test_the_calendar_feed_answers_its_link_to_anyone_and_a_wrong_token_to_no_one(callers):
    """The feed is outside the schema (a phone's calendar polls it without signing in), so
    the walk above does not reach it: its address is the only key, whoever calls."""
    clients, _records = callers
    link = clients["volunteer"].get("/api/v1/me/calendar/").json()["url"]
    feed = re.sub(r"^https?://[^/]+", "", link)
    token = feed.removeprefix("/calendar/").removesuffix(".ics")
    wrong_token = ("B" if token[0] != "B" else "C") + token[1:]
    wrong = []

    for caller in CALLERS:
        who = CALLER_NAMES.get(caller, caller)
        answer = clients[caller].get(feed)
        if answer.status_code != 200 or not answer["Content-Type"].startswith("text/calendar"):
            wrong.append(f"{feed} as {who}: {answer.status_code} {answer['Content-Type']}")
        for path in (f"/calendar/{wrong_token}.ics", "/calendar/nothing.ics"):
            answer = clients[caller].get(path)
            if answer.status_code != 404:
                wrong.append(f"{path} as {who}: {answer.status_code}, not 404")

    assert not wrong, "\n".join(wrong)
