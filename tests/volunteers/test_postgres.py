"""Rules that only PostgreSQL can show: row locks between writers, and the exclusion constraint."""

import threading

import pytest
from django.db import connection, connections

from community.errors import StateConflict
from tests.factories import VolunteerFactory
from volunteers import services
from volunteers.models import VolunteerStatusChange

pytestmark = [
    pytest.mark.postgres,
    # Starts from the data the migrations load, whatever transactional test ran before.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_coordinators_changing_one_status_at_once_make_one_change():
    volunteer = VolunteerFactory(status="active")
    start = threading.Barrier(2)
    outcomes = []

    def mark_as_left():
        try:
            start.wait()
            services.change_volunteer_status(volunteer=volunteer, to="left")
            outcomes.append("changed")
        except StateConflict as refusal:
            outcomes.append(refusal.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=mark_as_left) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes.count("changed") == 1
    refusal = next(outcome for outcome in outcomes if outcome != "changed")
    assert "is already left; nothing was changed." in refusal
    assert VolunteerStatusChange.objects.count() == 1


def test_the_overlap_rule_is_an_exclusion_constraint():
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE contype = 'x' ORDER BY conname")
        names = [row[0] for row in cursor.fetchall()]
    assert names == ["availability_no_overlap", "preferred_time_no_overlap"]
