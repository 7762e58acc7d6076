"""Who gets through to each operation of the API: the table test_access.py walks.

One row per operation of the committed schema (api/openapi.yaml), keyed by (method, path
template). Each row says what four callers are answered:

- `anonymous`: no credentials;
- `volunteer`: volunteer A, a volunteer signed in to the app by a texted code. Every id in the
  path names one of volunteer A's own records (their volunteer record, their match, its peer,
  their session...: see `records_about` in partner_app.py);
- `other_volunteer`: volunteer B, another such volunteer with records of their own, calling
  with volunteer A's ids. Answered as `volunteer` unless the row says otherwise;
- `coordinator`: a coordinator signed in with their password.

Writes are sent `body` ({} unless the row gives one): who gets through is the question, so a
coordinator's 400 (the body lacks what a real request has) or 409 (A's record is not in a
state for it) shows they were let in as surely as a 200 does.

A path parameter names a record of the kind given by the path segment before it
(`/sessions/{id}/` a session of A's), or by its own name (`volunteer_id`, `peer_id`); a row's
`ids` names another kind where that guess is wrong, and a kind not yet in `records_about`
is added there.
"""

import datetime
from dataclasses import dataclass, field

CALLERS = ("anonymous", "volunteer", "other_volunteer", "coordinator")
CALLER_NAMES = {"volunteer": "volunteer A", "other_volunteer": "volunteer B"}


@dataclass(frozen=True)
class Access:
    anonymous: int | tuple[int, ...]
    volunteer: int | tuple[int, ...]
    coordinator: int | tuple[int, ...]
    other_volunteer: int | tuple[int, ...] | None = None
    body: dict | None = None
    headers: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)

    def expected(self, caller):
        """The statuses this caller may be answered."""
        answer = getattr(self, caller)
        if answer is None:  # other_volunteer, unless the row says
            answer = self.volunteer
        return {answer} if isinstance(answer, int) else set(answer)


def coordinators_only(answer, **request):
    """The coordinators' part of the API: volunteers are refused whatever the id."""
    return Access(anonymous=401, volunteer=403, coordinator=answer, **request)


def read_by_anyone_signed_in(answer=200, **request):
    """Reference data: anyone signed in reads it."""
    return Access(anonymous=401, volunteer=answer, coordinator=answer, **request)


def volunteers_own_list(answer=200, **request):
    """A volunteer's own list under /api/v1/me/ (their sessions, their absences...): each
    volunteer gets their own; a coordinator, who is no volunteer, is refused."""
    return Access(
        anonymous=401, volunteer=answer, other_volunteer=answer, coordinator=403, **request
    )


def volunteers_own_record(answer=200, **request):
    """One of volunteer A's records under /api/v1/me/: A gets it; B is told it does not exist
    (404, never 403, which would tell B that it does); a coordinator is refused."""
    return Access(anonymous=401, volunteer=answer, other_volunteer=404, coordinator=403, **request)


def crud(collection, item, *, rule=coordinators_only, read_rule=None, **answers):
    """The rows of a collection and its records, by DRF's action names: `list`, `create`,
    `retrieve`, `update`, `partial_update`, `destroy`. Each answer is the coordinator's (or
    anyone's, for `read_rule`), None where the API has no such operation."""
    answers = {
        "list": 200,
        "create": 400,  # {} lacks what a record needs
        "retrieve": 200,
        "update": 400,  # likewise
        "partial_update": 200,  # {} changes nothing
        "destroy": 204,
        **answers,
    }
    read_rule = read_rule or rule
    operations = {
        "list": ("GET", collection, read_rule),
        "create": ("POST", collection, rule),
        "retrieve": ("GET", item, read_rule),
        "update": ("PUT", item, rule),
        "partial_update": ("PATCH", item, rule),
        "destroy": ("DELETE", item, rule),
    }
    return {
        (method, path): row_rule(answers[action])
        for action, (method, path, row_rule) in operations.items()
        if answers[action] is not None
    }


V1 = "/api/v1"

# A's own writes, each of which succeeds: a weekly window that overlaps none of A's, and an
# absence far from A's (next month's).
NEW_WINDOW = {"weekday": "saturday", "starts_at": "18:00", "ends_at": "20:00"}
_AWAY = datetime.date.today() + datetime.timedelta(days=400)
NEW_ABSENCE = {
    "starts_on": _AWAY.isoformat(),
    "ends_on": (_AWAY + datetime.timedelta(days=6)).isoformat(),
    "reason": "Holiday",
}

ACCESS = {
    # Reference data: read by anyone signed in, changed by coordinators. Deleting what A's
    # records name is refused while they name it.
    **crud(
        f"{V1}/areas/", f"{V1}/areas/{{slug}}/", destroy=409, read_rule=read_by_anyone_signed_in
    ),
    **crud(
        f"{V1}/courses/", f"{V1}/courses/{{code}}/", destroy=409, read_rule=read_by_anyone_signed_in
    ),
    **crud(
        f"{V1}/languages/",
        f"{V1}/languages/{{code}}/",
        destroy=409,
        read_rule=read_by_anyone_signed_in,
    ),
    **crud(
        f"{V1}/focuses/", f"{V1}/focuses/{{slug}}/", destroy=409, read_rule=read_by_anyone_signed_in
    ),
    # Volunteers and their records.
    **crud(f"{V1}/volunteers/", f"{V1}/volunteers/{{id}}/", destroy=None),
    ("POST", f"{V1}/volunteers/{{id}}/status/"): coordinators_only(400),
    **crud(
        f"{V1}/volunteers/{{volunteer_id}}/training-records/",
        f"{V1}/volunteers/{{volunteer_id}}/training-records/{{id}}/",
    ),
    **crud(
        f"{V1}/volunteers/{{volunteer_id}}/availability/",
        f"{V1}/volunteers/{{volunteer_id}}/availability/{{id}}/",
    ),
    **crud(
        f"{V1}/volunteers/{{volunteer_id}}/absences/",
        f"{V1}/volunteers/{{volunteer_id}}/absences/{{id}}/",
    ),
    ("GET", f"{V1}/volunteers/{{volunteer_id}}/wellbeing/"): coordinators_only(200),
    # Peers.
    **crud(f"{V1}/peers/", f"{V1}/peers/{{id}}/", destroy=None),
    ("POST", f"{V1}/peers/{{id}}/status/"): coordinators_only(400),
    **crud(
        f"{V1}/peers/{{peer_id}}/preferred-times/",
        f"{V1}/peers/{{peer_id}}/preferred-times/{{id}}/",
    ),
    ("GET", f"{V1}/peers/{{peer_id}}/suggestions/"): coordinators_only(200),
    ("GET", f"{V1}/peers/{{peer_id}}/why-not/{{volunteer_id}}/"): coordinators_only(200),
    # Matching.
    **crud(
        f"{V1}/matches/", f"{V1}/matches/{{id}}/", update=None, partial_update=None, destroy=None
    ),
    ("POST", f"{V1}/matches/{{id}}/approve/"): coordinators_only(409),
    ("POST", f"{V1}/matches/{{id}}/decline/"): coordinators_only(409),
    ("POST", f"{V1}/matches/{{id}}/end/"): coordinators_only(400),
    **crud(f"{V1}/exclusions/", f"{V1}/exclusions/{{id}}/", update=None, partial_update=None),
    ("POST", f"{V1}/waiting-list/assignment/"): coordinators_only(400),
    # Sessions.
    **crud(
        f"{V1}/sessions/", f"{V1}/sessions/{{id}}/", update=None, partial_update=None, destroy=None
    ),
    ("POST", f"{V1}/sessions/{{id}}/cancel/"): coordinators_only(200),
    ("POST", f"{V1}/sessions/{{id}}/confirm/"): coordinators_only(200),
    ("POST", f"{V1}/sessions/{{id}}/decline/"): coordinators_only(200),
    ("POST", f"{V1}/sessions/{{id}}/outcome/"): coordinators_only(400),
    ("POST", f"{V1}/sessions/{{id}}/reschedule/"): coordinators_only(400),
    ("GET", f"{V1}/follow-ups/"): coordinators_only(200),
    ("GET", f"{V1}/follow-ups/{{id}}/"): coordinators_only(200),
    ("POST", f"{V1}/follow-ups/{{id}}/handle/"): coordinators_only(200),
    # Texts.
    ("GET", f"{V1}/messages/"): coordinators_only(200),
    ("GET", f"{V1}/messages/{{id}}/"): coordinators_only(200),
    ("GET", f"{V1}/inbox/"): coordinators_only(200),
    ("GET", f"{V1}/inbox/{{id}}/"): coordinators_only(200),
    ("POST", f"{V1}/inbox/{{id}}/answer/"): coordinators_only(400),
    ("POST", f"{V1}/inbox/{{id}}/handled/"): coordinators_only(200),
    ("GET", f"{V1}/opt-outs/"): coordinators_only(200),
    ("POST", f"{V1}/opt-outs/"): coordinators_only(400),
    ("GET", f"{V1}/opt-outs/{{id}}/"): coordinators_only(200),
    ("POST", f"{V1}/opt-outs/{{id}}/remove/"): coordinators_only(400),
    # The volunteer's own pages: A's records, which B is told do not exist.
    ("GET", f"{V1}/me/"): volunteers_own_list(),
    ("PATCH", f"{V1}/me/"): volunteers_own_list(body={"wellbeing_opt_in": False}),
    ("GET", f"{V1}/me/sessions/"): volunteers_own_list(),
    ("GET", f"{V1}/me/sessions/{{id}}/"): volunteers_own_record(),
    # A's upcoming session is scheduled, so confirming and declining it are accepted.
    ("POST", f"{V1}/me/sessions/{{id}}/confirm/"): volunteers_own_record(),
    ("POST", f"{V1}/me/sessions/{{id}}/decline/"): volunteers_own_record(
        body={"note": "I have a hospital appointment."}
    ),
    ("GET", f"{V1}/me/availability/"): volunteers_own_list(),
    ("POST", f"{V1}/me/availability/"): volunteers_own_list(201, body=NEW_WINDOW),
    ("GET", f"{V1}/me/availability/{{id}}/"): volunteers_own_record(),
    ("PUT", f"{V1}/me/availability/{{id}}/"): volunteers_own_record(body=NEW_WINDOW),
    ("PATCH", f"{V1}/me/availability/{{id}}/"): volunteers_own_record(body={"ends_at": "13:00"}),
    ("DELETE", f"{V1}/me/availability/{{id}}/"): volunteers_own_record(204),
    ("GET", f"{V1}/me/absences/"): volunteers_own_list(),
    ("POST", f"{V1}/me/absences/"): volunteers_own_list(201, body=NEW_ABSENCE),
    ("GET", f"{V1}/me/absences/{{id}}/"): volunteers_own_record(),
    ("PUT", f"{V1}/me/absences/{{id}}/"): volunteers_own_record(body=NEW_ABSENCE),
    ("PATCH", f"{V1}/me/absences/{{id}}/"): volunteers_own_record(body={"reason": "Illness"}),
    ("DELETE", f"{V1}/me/absences/{{id}}/"): volunteers_own_record(204),
    ("GET", f"{V1}/me/training/"): volunteers_own_list(),
    ("GET", f"{V1}/me/matches/"): volunteers_own_list(),
    ("GET", f"{V1}/me/matches/{{id}}/"): volunteers_own_record(),
    ("GET", f"{V1}/me/hours/"): volunteers_own_list(),
    ("GET", f"{V1}/me/calendar/"): volunteers_own_list(),
    ("POST", f"{V1}/me/calendar/reset/"): volunteers_own_list(),
}
