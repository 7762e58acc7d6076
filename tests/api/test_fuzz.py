"""schemathesis against the live OpenAPI schema, signed in as a coordinator and as a volunteer.

Every operation is called with generated data (valid and invalid): no answer may be a 5xx,
and every answer must match the schema in its status code, content type, headers and body.
The coordinator goes everywhere; the volunteer (signed in by a texted code, with a match and
sessions of their own) is fuzzed as hard on the operations the access table
(access_table.py) lets a volunteer through, and tried briefly on the rest, which refuse them.
"""

import os
import zlib

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck

from tests.api.access_table import ACCESS
from tests.api.partner_app import (
    app_volunteer,
    deliver_texts_at_once,
    records_about,
    sign_in_by_code,
)

# The same examples every run (derandomized), enough to reach each operation's refusals and
# its successes; FUZZ_EXAMPLES=200 make test goes deeper.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "12"))
# A volunteer is refused every operation of the coordinators' part whatever is sent: a few
# examples show the refusal is as documented (the access walk checks each status).
EXAMPLES_PER_REFUSED_OPERATION = 2
# Chains need this many scenarios to reach, every run, a change that succeeds.
STATEFUL_SCENARIOS = 60

FUZZING = hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def connection_kept_open():
    """Requests go through the real WSGI handler, which closes the database connection after
    each one; inside a test's transaction that would lose it. Django's test client keeps it
    open the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def session_token(coordinator, client):
    response = client.post(
        "/_allauth/app/v1/auth/login",
        {"email": coordinator.email, "password": "correct horse battery staple"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["meta"]["session_token"]


# The schema as the running application serves it, read once when the tests are collected.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())


def point_at_real_records(case, records):
    """Swap generated ids and codes for real ones, half the time, keeping invalid values."""
    segments = case.operation.path.strip("/").split("/")
    for name, value in list((case.path_parameters or {}).items()):
        if name in records:
            choices = records[name]
        else:
            position = segments.index(f"{{{name}}}")
            choices = records.get(segments[position - 1], [])
        if not choices or isinstance(value, bool):
            continue
        plausible = (isinstance(value, int) and value >= 0) or (
            isinstance(value, str) and value.isalnum()
        )
        digest = zlib.crc32(str(value).encode())
        if plausible and digest % 2 == 0:
            case.path_parameters[name] = choices[digest % len(choices)]


def call_and_validate(case, session_token, monkeypatch):
    monkeypatch.setattr(
        "rest_framework.throttling.SimpleRateThrottle.THROTTLE_RATES",
        {"anon": "100000/minute", "user": "100000/minute"},
    )
    return case.call_and_validate(
        headers={"X-Session-Token": session_token},
        # A body the schema allows can still break a rule the schema cannot state (a
        # duplicate phone, a window that overlaps another, no way of meeting at all): those
        # are refused with a documented 400 and are not failures.
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )


def lets_a_coordinator_through(ctx):
    """Whether the access table lets a coordinator through to this operation: the
    volunteer's own part (/api/v1/me/) refuses them whatever is sent, which the access walk
    checks operation by operation."""
    row = ACCESS.get((ctx.operation.method.upper(), ctx.operation.path))
    return row is None or row.expected("coordinator") != {403}


@pytest.mark.django_db
@schema.include(lets_a_coordinator_through).parametrize()
@FUZZING
def test_every_operation_answers_as_its_schema_says(
    case, session_token, records, connection_kept_open, monkeypatch
):
    point_at_real_records(case, records)
    call_and_validate(case, session_token, monkeypatch)


def lets_a_volunteer_through(ctx):
    """Whether the access table lets volunteer A through to this operation (an operation
    with no row yet counts as let through: fuzzing it costs time, missing it costs more)."""
    row = ACCESS.get((ctx.operation.method.upper(), ctx.operation.path))
    return row is None or row.expected("volunteer") != {403}


@pytest.fixture
def volunteer(db, monkeypatch, django_capture_on_commit_callbacks):
    """A volunteer signed in to the app by a texted code, with a match and sessions, and a
    record of every kind about them. Returns their session token and those records."""
    deliver_texts_at_once(monkeypatch)
    me = app_volunteer()
    own = records_about(me)
    token = sign_in_by_code(me.phone, django_capture_on_commit_callbacks)
    return token, own


@pytest.fixture
def volunteers_records(records, volunteer):
    """Real ids for the volunteer's run: their own first, then others'."""
    _, own = volunteer
    kinds = own.keys() | records.keys()
    return {kind: ([own[kind]] if kind in own else []) + records.get(kind, []) for kind in kinds}


@pytest.mark.django_db
@schema.include(lets_a_volunteer_through).parametrize()
@FUZZING
def test_every_operation_a_volunteer_may_use_answers_them_as_its_schema_says(
    case, volunteer, volunteers_records, connection_kept_open, monkeypatch
):
    point_at_real_records(case, volunteers_records)
    call_and_validate(case, volunteer[0], monkeypatch)


# The operations that refuse a volunteer, read into a schema of their own so that only its
# fuzzing phase runs: the coverage phase's hundreds of cases would each meet the same 403.
refusing_a_volunteer = schemathesis.openapi.from_wsgi(
    "/api/v1/schema/?format=json", get_wsgi_application()
).exclude(lets_a_volunteer_through)
refusing_a_volunteer.config.phases.update(phases=["fuzzing"])


@pytest.mark.django_db
@refusing_a_volunteer.parametrize()
@hypothesis.settings(FUZZING, max_examples=EXAMPLES_PER_REFUSED_OPERATION)
def test_every_operation_refusing_a_volunteer_answers_them_as_its_schema_says(
    case, volunteer, connection_kept_open, monkeypatch
):
    # Refused (403); or a path that routes nowhere (404: an id that is not a number), or a
    # body no JSON reader takes (400: a NUL in it), both answered before anyone is asked who
    # they are. Never let through.
    assert call_and_validate(case, volunteer[0], monkeypatch).status_code in {400, 403, 404}


# The stateful phase: schemathesis infers which operations make records that others take
# (POST /volunteers/ then GET, PATCH, POST .../status/ on the id it answered with) and runs
# chains of calls, each step's answer checked against the schema as above.
Workflow = schema.include(lets_a_coordinator_through).as_state_machine()


def chains_of_operations(workflow, session_token, monkeypatch):
    """Runs the scenarios of `workflow` signed in with `session_token`, each step's answer
    checked against the schema; returns (operation, status) for every step taken."""
    monkeypatch.setattr(
        "rest_framework.throttling.SimpleRateThrottle.THROTTLE_RATES",
        {"anon": "100000/minute", "user": "100000/minute"},
    )

    steps = []

    class SignedIn(workflow):
        # Every scenario starts from the same records: hypothesis replays the start of a
        # scenario and expects the same answers (which operations can follow depends on them).
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case):
            return {"headers": {"X-Session-Token": session_token}}

        def after_call(self, response, case):
            steps.append((case.operation.label, response.status_code))

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                additional_checks=additional_checks,
                excluded_checks=[schemathesis.checks.positive_data_acceptance],
                headers=kwargs.get("headers"),
                transport_kwargs=kwargs,
            )

    SignedIn.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=8,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    return steps


@pytest.mark.django_db
def test_chains_of_operations_answer_as_the_schema_says(
    session_token, records, connection_kept_open, monkeypatch
):
    steps = chains_of_operations(Workflow, session_token, monkeypatch)

    # Scenarios went past their first call, and records made on the way were used.
    assert len(steps) > 2 * STATEFUL_SCENARIOS
    assert any(
        label.startswith(("PATCH", "PUT", "DELETE")) and status < 400 for label, status in steps
    )


# The same for a volunteer, over the operations they are let through to: each record one
# answer names (an area in the list of areas; the volunteer's own records, once there are
# operations that make them) is then asked for, changed, removed...
volunteers_schema = schema.include(lets_a_volunteer_through)
VolunteersWorkflow = volunteers_schema.as_state_machine()


@pytest.mark.django_db
def test_chains_of_operations_a_volunteer_may_use_answer_them_as_the_schema_says(
    volunteer, records, connection_kept_open, monkeypatch
):
    steps = chains_of_operations(VolunteersWorkflow, volunteer[0], monkeypatch)

    # Scenarios went past their first call, and followed a link to a record by its id.
    assert len(steps) > 2 * STATEFUL_SCENARIOS
    assert any("}" in label and status == 200 for label, status in steps)


def test_the_stateful_phase_has_links_to_follow():
    """Without links the state machine would have nothing to chain."""
    assert schema.statistic.transitions.total > 10
    assert volunteers_schema.statistic.transitions.selected > 0
