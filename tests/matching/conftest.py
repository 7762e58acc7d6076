"""Fixtures for sessions texted over SMS: a volunteer who can be texted, the passes the
schedule runs, and replies as messaging receives them."""

import datetime
import uuid

import pytest

from matching import tasks
from messaging import services
from tests.factories import SessionFactory
from tests.messaging.conftest import outbox, queue  # noqa: F401 (fixtures)

OFFICE_NUMBER = "+447700900001"
UTC = datetime.UTC
NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday; London is on GMT
HOUR = datetime.timedelta(hours=1)


def at(month, day, hour, minute=0):
    """A moment of 2026 in UTC."""
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def texted_session(starts_at, *, hours=1, **fields):
    """A session of a volunteer who agreed to texts, with Sam, starting at `starts_at`."""
    fields.setdefault("match__volunteer__sms_consent", True)
    fields.setdefault("match__volunteer__preferred_name", "Senga")
    fields.setdefault("match__peer__preferred_name", "Sam")
    return SessionFactory(
        starts_at=starts_at, ends_at=starts_at + datetime.timedelta(hours=hours), **fields
    )


@pytest.fixture
def run_passes(queue, django_capture_on_commit_callbacks):  # noqa: F811
    """Run the schedule's task once, as the worker does: texts due go out in line."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return tasks.session_passes()

    return run


@pytest.fixture
def sweep(queue, django_capture_on_commit_callbacks):  # noqa: F811
    """messaging's sweep, as the schedule runs it every minute: held texts now due go out."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return services.sweep()

    return run


@pytest.fixture
def text_in(queue, django_capture_on_commit_callbacks):  # noqa: F811
    """A text received from `phone`, acted on, its answers sent. Returns the reply row."""

    def receive(phone, body):
        with django_capture_on_commit_callbacks(execute=True):
            reply, _ = services.receive(
                sid="SM" + uuid.uuid4().hex,
                from_number=phone,
                to_number=OFFICE_NUMBER,
                body=body,
            )
        reply.refresh_from_db()
        return reply

    return receive
