"""The partner app's view of the API: a typed client generated from the committed schema.

The client is generated from api/openapi.yaml by openapi-python-client, as an app developer
would generate theirs, and then used against the live server, after signing a volunteer in
by the code texted to their phone through allauth's headless API. Every call goes through
the generated code with `raise_on_unexpected_status`, so an undocumented status fails, and
every answer must parse into the model the schema names, with no field the schema leaves out.
"""

import datetime
import importlib
import json
import sys
from decimal import Decimal
from pathlib import Path

import attrs
import httpx
import pytest
import yaml
from django.conf import settings
from django.utils import timezone
from icalendar import Calendar
from openapi_python_client import generate
from openapi_python_client.config import Config, ConfigFile, MetaType

from matching.services import record_outcome
from tests.api.partner_app import (
    CODE_CONFIRM,
    CODE_REQUEST,
    app_volunteer,
    code_texted_to,
    deliver_texts_at_once,
)

SCHEMA = settings.BASE_DIR / "api" / "openapi.yaml"
PACKAGE = "peerpath_client"


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """The generated client package, imported. No post hooks: formatting the generated code
    is for the people who keep it, and takes time here. The generator is handed the
    committed schema as JSON, read with libyaml (the YAML reader it uses itself is pure
    Python and takes most of its time)."""
    folder = tmp_path_factory.mktemp("generated_client")
    document = folder / "openapi.json"
    document.write_text(json.dumps(yaml.load(SCHEMA.read_text(), Loader=yaml.CSafeLoader)))
    config = Config.from_sources(
        ConfigFile(post_hooks=[]),
        MetaType.NONE,
        document,
        "utf-8",
        overwrite=True,
        output_path=folder / PACKAGE,
    )
    problems = generate(config=config)
    assert not problems, "\n".join(f"{p.header}: {p.detail}" for p in problems)
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def sign_in_by_text(base_url, phone):
    """What the app does: ask for a code for the phone, read it from the text, confirm it.
    Returns the session token."""
    with httpx.Client(base_url=base_url, timeout=10) as http:
        asked = http.post(CODE_REQUEST, json={"phone": str(phone)})
        assert asked.status_code == 401, asked.text  # 401: signed in once the code is confirmed
        token = asked.json()["meta"]["session_token"]
        confirmed = http.post(
            CODE_CONFIRM,
            json={"code": code_texted_to(phone)},
            headers={"X-Session-Token": token},
        )
        assert confirmed.status_code == 200, confirmed.text
        return confirmed.json()["meta"].get("session_token", token)


def undocumented_fields(value, where="answer"):
    """Fields the schema does not name, anywhere in a parsed answer: generated models keep
    them aside in `additional_properties` rather than fail, so this looks for them."""
    found = []
    if attrs.has(type(value)):
        found += [f"{where}.{key}" for key in getattr(value, "additional_properties", {})]
        for attribute in attrs.fields(type(value)):
            if attribute.name != "additional_properties":
                found += undocumented_fields(
                    getattr(value, attribute.name), f"{where}.{attribute.name}"
                )
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += undocumented_fields(item, f"{where}[{index}]")
    return found


class App:
    """The generated client, signed in, and one way of calling it: each operation's
    `sync_detailed`, whose answer must have the status and model expected."""

    def __init__(self, generated, base_url, token):
        # One module per operation, named for its operation id, in a folder per tag.
        api = Path(generated.__file__).parent / "api"
        self.operations = {
            module.stem: f"{PACKAGE}.api.{module.parent.name}.{module.stem}"
            for module in api.glob("*/*.py")
            if module.stem != "__init__"
        }
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.client = generated.AuthenticatedClient(
            base_url=base_url,
            token=token,
            prefix="",
            auth_header_name="X-Session-Token",
            raise_on_unexpected_status=True,
        )
        self.headers = None  # of the latest answer

    def __enter__(self):
        self.client.__enter__()
        return self

    def __exit__(self, *exception):
        # Closing the connection frees the live server's thread for it, and its database
        # connection, which PostgreSQL's test database cannot be dropped with.
        self.client.__exit__(*exception)

    def call(self, operation_id, *, status, model, **arguments):
        """Calls the operation named `operation_id` in the schema with `arguments` (its
        parameters, and `body=` a generated request model); the answer must have `status`
        and parse as `model`. Returns the parsed answer."""
        assert operation_id in self.operations, f"The schema has no operation {operation_id}"
        module = importlib.import_module(self.operations[operation_id])
        response = module.sync_detailed(client=self.client, **arguments)
        self.headers = response.headers
        assert response.status_code == status, response.content
        assert isinstance(response.parsed, model), (type(response.parsed), response.content)
        assert not undocumented_fields(response.parsed), undocumented_fields(response.parsed)
        return response.parsed


# The app's flow, one step at a time; each takes the signed-in App and the volunteer (an
# AppVolunteer: their records) and checks what the app would show.


def reads_reference_data(app, me):
    models = app.models
    areas = app.call("areas_list", status=200, model=models.PaginatedAreaList, page_size=100)
    assert me.volunteer.area.slug in [area.slug for area in areas.results]
    area = app.call("areas_retrieve", status=200, model=models.Area, slug=me.volunteer.area.slug)
    assert area.name == me.volunteer.area.name
    courses = app.call("courses_list", status=200, model=models.PaginatedCourseList)
    assert me.training_record.course.code in [course.code for course in courses.results]
    languages = app.call("languages_list", status=200, model=models.PaginatedLanguageList)
    assert "en" in [language.code for language in languages.results]
    focuses = app.call("focuses_list", status=200, model=models.PaginatedFocusList)
    assert "alcohol" in [focus.slug for focus in focuses.results]


def reads_and_changes_their_profile(app, me):
    models = app.models
    profile = app.call("me_retrieve", status=200, model=models.MyProfile)
    assert (profile.id, profile.preferred_name) == (me.volunteer.pk, me.volunteer.preferred_name)
    assert profile.phone == str(me.phone)
    assert profile.training_state == models.TrainingStateEnum.COMPLETE
    wanted = not profile.wellbeing_opt_in

    changed = app.call(
        "me_partial_update",
        status=200,
        model=models.MyProfile,
        body=models.PatchedMyProfileRequest(wellbeing_opt_in=wanted),
    )

    assert changed.wellbeing_opt_in is wanted
    assert app.call("me_retrieve", status=200, model=models.MyProfile).wellbeing_opt_in is wanted


def lists_their_sessions_and_confirms_the_next(app, me):
    models = app.models
    upcoming = app.call(
        "me_sessions_list",
        status=200,
        model=models.PaginatedMySessionList,
        when=models.MeSessionsListWhen.UPCOMING,
    )
    assert [session.id for session in upcoming.results] == [me.upcoming.pk]
    assert upcoming.results[0].peer_name == me.peer.preferred_name
    past = app.call(
        "me_sessions_list",
        status=200,
        model=models.PaginatedMySessionList,
        when=models.MeSessionsListWhen.PAST,
    )
    assert [session.id for session in past.results] == [me.past.pk]
    session = app.call(
        "me_sessions_retrieve", status=200, model=models.MySession, id=me.upcoming.pk
    )
    assert session.can_confirm
    read_as = app.headers["ETag"]

    confirmed = app.call(
        "me_sessions_confirm", status=200, model=models.MySession, id=session.id, if_match=read_as
    )

    assert confirmed.status == models.SessionStatusEnum.CONFIRMED
    assert confirmed.confirmation_state == models.ConfirmationStateEnum.CONFIRMED
    assert not confirmed.can_confirm
    assert app.headers["ETag"] != read_as
    # The ETag read before the confirmation is stale now.
    stale = app.call(
        "me_sessions_confirm", status=412, model=models.Problem, id=session.id, if_match=read_as
    )
    assert stale.status == 412
    again = app.call("me_sessions_retrieve", status=200, model=models.MySession, id=session.id)
    assert again.status == models.SessionStatusEnum.CONFIRMED


def adds_an_absence(app, me):
    models = app.models
    away = datetime.date.today() + datetime.timedelta(days=60)
    body = models.AbsenceRequest(
        starts_on=away, ends_on=away + datetime.timedelta(days=4), reason="Holiday"
    )

    absence = app.call("me_absences_create", status=201, model=models.Absence, body=body)

    assert (absence.starts_on, absence.ends_on) == (body.starts_on, body.ends_on)
    listed = app.call("me_absences_list", status=200, model=models.PaginatedAbsenceList)
    assert absence.id in [each.id for each in listed.results]
    # The office sees it.
    assert me.volunteer.absences.filter(pk=absence.id, starts_on=away).exists()


def lists_their_matches_by_first_name_only(app, me):
    models = app.models
    matches = app.call("me_matches_list", status=200, model=models.PaginatedMyMatchList)

    assert [match.id for match in matches.results] == [me.match.pk]
    match = matches.results[0]
    assert match.peer_name == me.peer.preferred_name
    assert match.next_session is not None and match.next_session.id == me.upcoming.pk
    surname = me.peer.full_name.split()[-1]
    assert surname != me.peer.preferred_name
    assert surname not in json.dumps(match.to_dict())
    assert str(me.peer.phone) not in json.dumps(match.to_dict())


def reads_their_training(app, me):
    models = app.models
    training = app.call("me_training_list", status=200, model=models.PaginatedMyTrainingRecordList)

    assert training.training_state == models.TrainingStateEnum.COMPLETE
    assert training.training_gaps == []
    assert me.training_record.pk in [record.id for record in training.results]
    assert all(record.is_current for record in training.results)


def reads_their_hours(app, me):
    models = app.models
    hours = app.call("me_hours_list", status=200, model=models.PaginatedMonthlyHoursList)

    month = timezone.localtime(me.past.starts_at).strftime("%Y-%m")
    assert [(row.month, row.hours, row.sessions) for row in hours.results] == [(month, 1.5, 1)]


def reads_their_calendar_link_and_the_feed_behind_it(app, me):
    models = app.models
    link = app.call("me_calendar_retrieve", status=200, model=models.CalendarLink)

    assert link.webcal_url.startswith("webcal://")
    assert link.url.startswith(("https://", "http://"))
    assert link.webcal_url.split("://", 1)[1] == link.url.split("://", 1)[1]
    # A phone's calendar fetches it without signing in.
    feed = httpx.get(link.url, timeout=10)
    assert feed.status_code == 200, feed.text
    assert feed.headers["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(feed.content).events
    assert len(events) == 2  # the session to come and last week's
    assert me.peer.full_name.split()[-1] not in feed.text


def is_refused_the_coordinators_part(app, me):
    refused = app.call("volunteers_list", status=403, model=app.models.Problem)
    assert refused.status == 403
    assert refused.detail == "Only coordinators may use this part of the API."
    refused = app.call("sessions_retrieve", status=403, model=app.models.Problem, id=me.upcoming.pk)
    assert refused.code == "permission_denied"


FLOW = [
    reads_reference_data,
    reads_and_changes_their_profile,
    lists_their_sessions_and_confirms_the_next,
    adds_an_absence,
    lists_their_matches_by_first_name_only,
    reads_their_training,
    reads_their_hours,
    reads_their_calendar_link_and_the_feed_behind_it,
    is_refused_the_coordinators_part,
]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_volunteer_signs_in_by_text_and_walks_the_app_with_the_generated_client(
    generated, live_server, monkeypatch
):
    deliver_texts_at_once(monkeypatch)
    me = app_volunteer()
    # The office recorded last week's session: the volunteer has hours to read.
    record_outcome(me.past, attended=True, hours=Decimal("1.5"))
    token = sign_in_by_text(live_server.url, me.phone)

    with App(generated, live_server.url, token) as app:
        for step in FLOW:
            step(app, me)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_generated_client_reads_the_problem_of_a_token_that_is_not_valid(
    generated, live_server
):
    with App(generated, live_server.url, "not-a-session-token") as app:
        refused = app.call("areas_list", status=401, model=app.models.Problem)

    assert refused.code == "token_invalid"


def test_a_field_the_schema_does_not_name_is_found_however_deep(generated):
    models = importlib.import_module(f"{PACKAGE}.models")
    problem = {"type": "about:blank", "title": "Not found", "status": 404, "detail": "-"}
    problem |= {"code": "not_found"}
    area = {"slug": "airdrie", "name": "Airdrie", "council": "North Lanarkshire"}
    area |= {"latitude": 55.86, "longitude": -3.98}
    answer = models.PaginatedAreaList.from_dict(
        {"count": 1, "next": None, "previous": None, "results": [{**area, "centroid": "x"}]}
    )

    assert undocumented_fields(models.Problem.from_dict(problem)) == []
    assert undocumented_fields(answer) == ["answer.results[0].centroid"]
