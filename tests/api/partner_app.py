"""The partner app's side of the API tests: volunteers with records of their own, signed in by
the code texted to their phone, as the app signs them in.

Used by the access walk (test_access.py), the fuzzing run as a volunteer (test_fuzz.py) and the
generated client (test_generated_client.py).
"""

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone
from rest_framework.test import APIClient

from community.models import Focus, Language
from matching.follow_ups import raise_follow_up
from matching.models import FollowUp, Match, Session
from messaging import backends, services
from messaging.models import Message, OptOut
from peers.models import Peer, PreferredTime
from tests.factories import (
    AbsenceFactory,
    AppVolunteerUserFactory,
    AvailabilityWindowFactory,
    ExclusionFactory,
    MatchFactory,
    PeerFactory,
    PreferredTimeFactory,
    SessionFactory,
    VolunteerFactory,
    fully_trained,
)
from volunteers.models import Absence, AvailabilityWindow, TrainingRecord, Volunteer

CODE_REQUEST = "/_allauth/app/v1/auth/code/request"
CODE_CONFIRM = "/_allauth/app/v1/auth/code/confirm"
PASSWORD_LOGIN = "/_allauth/app/v1/auth/login"
PASSWORD = "correct horse battery staple"

_CODE = re.compile(r"code is ([A-Z0-9]{4}-[A-Z0-9]{4})\.")


def deliver_texts_at_once(monkeypatch):
    """Each text goes to the locmem outbox as soon as its transaction commits, in whichever
    thread that is (the live server's too): no queue and no worker in between."""
    monkeypatch.setattr(
        services, "async_task", lambda func, message_id, **options: services.deliver(message_id)
    )


def code_texted_to(phone):
    """The sign-in code in the latest text to `phone`. The outbox is a module-level list, so
    a text sent from the live server's thread is found here too."""
    for text in reversed(backends.outbox):
        if text["to"] == str(phone):
            found = _CODE.search(text["body"])
            assert found, text["body"]
            return found.group(1)
    raise AssertionError(f"No text was sent to {phone}: {backends.outbox}")


def sign_in_by_code(phone, capture_on_commit):
    """The app asks for a code for `phone`, reads it from the text and confirms it, through
    Django's test client. Returns the session token. `capture_on_commit` is pytest-django's
    `django_capture_on_commit_callbacks`: the text goes out when the request commits."""
    client = APIClient()
    with capture_on_commit(execute=True):
        asked = client.post(CODE_REQUEST, {"phone": str(phone)}, format="json")
    assert asked.status_code == 401, asked.content  # 401: a code is on its way
    token = asked.json()["meta"]["session_token"]
    confirmed = client.post(
        CODE_CONFIRM, {"code": code_texted_to(phone)}, format="json", HTTP_X_SESSION_TOKEN=token
    )
    assert confirmed.status_code == 200, confirmed.content
    return confirmed.json()["meta"].get("session_token", token)


def sign_in_by_password(email):
    """A coordinator signs in to the app API with their password. Returns the session token."""
    response = APIClient().post(
        PASSWORD_LOGIN, {"email": email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["meta"]["session_token"]


@dataclass
class AppVolunteer:
    """A volunteer who uses the partner app, and a record of each kind that is theirs."""

    volunteer: Volunteer
    match: Match
    peer: Peer
    upcoming: Session
    past: Session
    training_record: TrainingRecord
    availability: AvailabilityWindow
    absence: Absence
    preferred_time: PreferredTime

    @property
    def phone(self):
        return self.volunteer.user.phone


def app_volunteer(**fields):
    """An active, fully trained volunteer with a sign-in for the app (the phone the office
    registered), who speaks English and supports recovery from alcohol, with a weekly window,
    an absence next month, and an active match with one session to come and one that took
    place."""
    user = AppVolunteerUserFactory()
    volunteer = fully_trained(VolunteerFactory(user=user, phone=user.phone, **fields))
    volunteer.languages.add(Language.objects.get(code="en"))
    volunteer.focuses.add(Focus.objects.get(slug="alcohol"))
    today = timezone.localdate()
    absence = AbsenceFactory(
        volunteer=volunteer,
        starts_on=today + datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=37),
    )
    match = MatchFactory(active=True, volunteer=volunteer)
    upcoming = SessionFactory(match=match)
    started = upcoming.starts_at - datetime.timedelta(days=7)
    past = SessionFactory(
        match=match, starts_at=started, ends_at=started + datetime.timedelta(hours=1)
    )
    return AppVolunteer(
        volunteer=volunteer,
        match=match,
        peer=match.peer,
        upcoming=upcoming,
        past=past,
        training_record=volunteer.training_records.first(),
        availability=AvailabilityWindowFactory(volunteer=volunteer),
        absence=absence,
        preferred_time=PreferredTimeFactory(peer=match.peer),
    )


def records_about(owner):
    """Something of every kind the API names by id, each about `owner` (an AppVolunteer):
    their volunteer record, their match and its peer, their sessions, the texts sent to and
    received from their phone, their peer's opt-out... Keyed by the path segment before the
    id in the API's paths (`sessions` for /sessions/{id}/)."""
    volunteer = owner.volunteer
    exclusion = ExclusionFactory(volunteer=volunteer, peer=PeerFactory())
    follow_up, _ = raise_follow_up(
        kind=FollowUp.Kind.SESSION_DECLINED,
        cause=f"test.declined:{owner.upcoming.pk}",
        summary="The volunteer cannot make it: find another time.",
        session=owner.upcoming,
    )
    received, _ = services.receive(
        sid=f"SM{volunteer.pk:032d}",
        from_number=str(owner.phone),
        to_number="+447700900999",
        body="Can we move Thursday to the afternoon?",
    )
    sent = services.send_sms(str(owner.phone), "See you on Thursday.", topic="test.note")
    # The peer's number, so that texts to the owner (sign-in codes) still go.
    opt_out = services.record_opt_out(str(owner.peer.phone), word="STOP")
    assert isinstance(sent, Message) and isinstance(opt_out, OptOut)
    return {
        "volunteers": volunteer.pk,
        "training-records": owner.training_record.pk,
        "availability": owner.availability.pk,
        "absences": owner.absence.pk,
        "peers": owner.peer.pk,
        "preferred-times": owner.preferred_time.pk,
        "matches": owner.match.pk,
        "sessions": owner.upcoming.pk,
        "exclusions": exclusion.pk,
        "follow-ups": follow_up.pk,
        "messages": sent.pk,
        "inbox": received.pk,
        "opt-outs": opt_out.pk,
        # Reference data: what the owner's own record names.
        "areas": volunteer.area.slug,
        "courses": owner.training_record.course.code,
        "languages": volunteer.languages.get().code,
        "focuses": volunteer.focuses.get().slug,
    }
