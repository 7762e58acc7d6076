"""A volunteer's calendar link as volunteers.calendar_feeds keeps it: a random token, stored
only as its hash, replaced on reset and gone when the volunteer leaves."""

import hashlib

import pytest

from community.errors import StateConflict
from tests.factories import VolunteerFactory
from volunteers import calendar_feeds
from volunteers.models import CalendarFeed, Volunteer
from volunteers.services import change_volunteer_status

pytestmark = pytest.mark.django_db


def test_a_token_is_random_url_safe_and_found_by_its_hash():
    volunteer = VolunteerFactory()

    token, feed = calendar_feeds.issue(volunteer=volunteer)

    assert len(token) == 43  # 32 bytes, base64url without padding
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert calendar_feeds.volunteer_for(token) == volunteer
    assert calendar_feeds.volunteer_for(feed.token_hash) is None


def test_no_two_tokens_are_alike():
    tokens = {calendar_feeds.reset(volunteer=VolunteerFactory())[0] for _ in range(20)}

    assert len(tokens) == 20


def test_a_second_link_is_refused_and_nothing_changes():
    volunteer = VolunteerFactory()
    token, feed = calendar_feeds.issue(volunteer=volunteer)

    with pytest.raises(StateConflict) as refused:
        calendar_feeds.issue(volunteer=volunteer)

    assert refused.value.code == "calendar_link_exists"
    assert CalendarFeed.objects.get().token_hash == feed.token_hash
    assert calendar_feeds.volunteer_for(token) == volunteer


def test_reset_keeps_one_link_per_volunteer_and_drops_the_old_token():
    volunteer = VolunteerFactory()
    old, _ = calendar_feeds.issue(volunteer=volunteer)

    new, _ = calendar_feeds.reset(volunteer=volunteer)

    assert CalendarFeed.objects.filter(volunteer=volunteer).count() == 1
    assert calendar_feeds.volunteer_for(old) is None
    assert calendar_feeds.volunteer_for(new) == volunteer


@pytest.mark.parametrize("to", [Volunteer.Status.PAUSED, Volunteer.Status.LEFT])
def test_only_leaving_revokes_the_link(to):
    volunteer = VolunteerFactory()
    token, _ = calendar_feeds.issue(volunteer=volunteer)
    other, _ = calendar_feeds.issue(volunteer=VolunteerFactory())

    change_volunteer_status(volunteer=volunteer, to=to)

    assert (calendar_feeds.volunteer_for(token) is None) == (to == Volunteer.Status.LEFT)
    assert calendar_feeds.volunteer_for(other) is not None


def test_a_volunteer_who_comes_back_starts_without_a_link():
    volunteer = VolunteerFactory()
    calendar_feeds.issue(volunteer=volunteer)
    change_volunteer_status(volunteer=volunteer, to=Volunteer.Status.LEFT)

    change_volunteer_status(volunteer=volunteer, to=Volunteer.Status.APPLICANT)

    assert not CalendarFeed.objects.exists()
    token, _ = calendar_feeds.issue(volunteer=volunteer)
    assert calendar_feeds.volunteer_for(token) == volunteer


@pytest.mark.parametrize("token", ["", "\x00", "\ud800", "☃" * 1000, "A" * 100_000])
def test_any_text_is_looked_up_and_names_no_one(token):
    calendar_feeds.issue(volunteer=VolunteerFactory())

    assert calendar_feeds.volunteer_for(token) is None
