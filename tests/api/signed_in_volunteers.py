"""Volunteers signed in to the partner app, for the tests of /api/v1/me/."""

import json
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from messaging import backends, services
from tests.factories import AppVolunteerUserFactory, UserFactory, VolunteerFactory

# Hostile text for every writable field: NUL, bidirectional controls, %-formatting, a lone
# surrogate half, another script's digits, and very long strings.
HOSTILE_TEXT = [
    "\x00",
    "Holi\x00day",
    "\u202eyadiloH",
    "\u2066x\u2069",
    "%s",
    "%(name)s %d%%",
    "\ud800",
    "\u0661\u0668:\u0660\u0660",
    "a" * 20_000,
    "%" * 5_000,
    "",
    " ",
]


def signed_in_volunteer(**fields):
    """A volunteer whose app sign-in (a user with a phone) is linked to them, and an API
    client signed in as them."""
    user = AppVolunteerUserFactory()
    volunteer = VolunteerFactory(user=user, phone=user.phone, **fields)
    client = APIClient()
    client.force_login(user)
    return volunteer, client


def signed_in_without_a_volunteer():
    """Signed in, but as nobody's volunteer record: a coordinator, say."""
    client = APIClient()
    client.force_login(UserFactory())
    return client


def signed_in_by_texted_code(volunteer, monkeypatch, capture_on_commit):
    """An API client carrying the session token the app gets by signing in with the code
    texted to the volunteer's phone, as the partner app does."""
    monkeypatch.setattr(
        services, "async_task", lambda func, message_id, **kw: services.deliver(message_id)
    )
    app = "/_allauth/app/v1/auth/code/"
    client = APIClient()
    with capture_on_commit(execute=True):
        asked = client.post(app + "request", {"phone": str(volunteer.user.phone)}, format="json")
    token = asked.json()["meta"]["session_token"]
    code = re.search(r"code is ([A-Z0-9]{4}-[A-Z0-9]{4})\.", backends.outbox[-1]["body"])
    confirmed = client.post(
        app + "confirm", {"code": code.group(1)}, format="json", HTTP_X_SESSION_TOKEN=token
    )
    assert confirmed.status_code == 200, confirmed.content
    signed_in = APIClient()
    signed_in.credentials(HTTP_X_SESSION_TOKEN=confirmed.json()["meta"]["session_token"])
    return signed_in


def queries_for_list(client, url, **params):
    """How many queries a page of up to 100 costs, and how many rows the list holds."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return len(captured), response.json()["count"]


def send(client, method, url, body):
    """A JSON body as a client's JSON library writes it (a lone surrogate as an escape)."""
    return client.generic(method, url, json.dumps(body), "application/json")
