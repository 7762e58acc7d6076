"""A volunteer's calendar link as volunteers.calendar_feeds keeps it: a token derived from a
random nonce and SECRET_KEY, stored only as its hash, shown again on asking, replaced on reset
and gone when the volunteer leaves."""

import hashlib

import pytest
from django.conf import settings
from django.test import override_settings

from community.errors import StateConflict
from tests.factories import VolunteerFactory
from volunteers import calendar_feeds
from volunteers.models import CalendarFeed, Volunteer
from volunteers.services import change_volunteer_status

pytestmark = pytest.mark.django_db


def test_a_token_is_url_safe_and_found_by_its_hash_alone():
    volunteer = VolunteerFactory()

    token, feed = calendar_feeds.link(volunteer=volunteer)

    assert len(token) == 43  # 32 bytes of HMAC-SHA256, base64url without padding
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert calendar_feeds.volunteer_for(token) == volunteer
    assert calendar_feeds.volunteer_for(feed.token_hash) is None
    assert calendar_feeds.volunteer_for(feed.nonce) is None


def test_asking_again_shows_the_same_link():
    volunteer = VolunteerFactory()
    token, feed = calendar_feeds.link(volunteer=volunteer)

    again, same = calendar_feeds.link(volunteer=volunteer)

    assert again == token
    assert same.pk == feed.pk
    assert CalendarFeed.objects.get().nonce == feed.nonce


def test_two_first_askings_at_once_end_with_one_link():
    """As two requests that both found no link and then both went to make it."""
    volunteer = VolunteerFactory()

    first, _ = calendar_feeds._make_or_remake(volunteer)
    second, _ = calendar_feeds._make_or_remake(volunteer)

    assert first == second
    assert CalendarFeed.objects.count() == 1
    assert calendar_feeds.volunteer_for(first) == volunteer


def test_the_token_needs_the_secret_key():
    volunteer = VolunteerFactory()
    token, _ = calendar_feeds.link(volunteer=volunteer)

    with override_settings(SECRET_KEY="another key " * 5, SECRET_KEY_FALLBACKS=[]):
        elsewhere, _ = calendar_feeds.link(volunteer=volunteer)

    assert elsewhere != token
    assert calendar_feeds.volunteer_for(token) is None
    assert calendar_feeds.volunteer_for(elsewhere) == volunteer


def test_a_fallback_key_shows_the_link_without_rewriting_it():
    volunteer = VolunteerFactory()
    token, feed = calendar_feeds.link(volunteer=volunteer)

    with override_settings(
        SECRET_KEY="another key " * 5, SECRET_KEY_FALLBACKS=["x", settings.SECRET_KEY]
    ):
        shown, _ = calendar_feeds.link(volunteer=volunteer)

    assert shown == token
    assert CalendarFeed.objects.get().token_hash == feed.token_hash


def test_no_two_tokens_are_alike():
    volunteer = VolunteerFactory()
    tokens = {calendar_feeds.reset(volunteer=VolunteerFactory())[0] for _ in range(10)}
    tokens |= {calendar_feeds.reset(volunteer=volunteer)[0] for _ in range(10)}

    assert len(tokens) == 20


def test_reset_keeps_one_link_per_volunteer_and_drops_the_old_token():
    volunteer = VolunteerFactory()
    old, old_feed = calendar_feeds.link(volunteer=volunteer)

    new, feed = calendar_feeds.reset(volunteer=volunteer)

    assert CalendarFeed.objects.filter(volunteer=volunteer).count() == 1
    assert feed.nonce != old_feed.nonce
    assert calendar_feeds.volunteer_for(old) is None
    assert calendar_feeds.volunteer_for(new) == volunteer
    assert calendar_feeds.link(volunteer=volunteer)[0] == new


@pytest.mark.parametrize("to", [Volunteer.Status.PAUSED, Volunteer.Status.LEFT])
def test_only_leaving_revokes_the_link(to):
    volunteer = VolunteerFactory()
    token, _ = calendar_feeds.link(volunteer=volunteer)
    other, _ = calendar_feeds.link(volunteer=VolunteerFactory())

    change_volunteer_status(volunteer=volunteer, to=to)

    assert (calendar_feeds.volunteer_for(token) is None) == (to == Volunteer.Status.LEFT)
    assert calendar_feeds.volunteer_for(other) is not None


@pytest.mark.parametrize("write", [calendar_feeds.link, calendar_feeds.reset])
def test_a_volunteer_who_has_left_gets_no_link(write):
    volunteer = VolunteerFactory(status=Volunteer.Status.LEFT)

    with pytest.raises(StateConflict) as refused:
        write(volunteer=volunteer)

    assert refused.value.code == "volunteer_left"
    assert not CalendarFeed.objects.exists()


def test_a_volunteer_who_comes_back_starts_with_a_new_link():
    volunteer = VolunteerFactory()
    old, _ = calendar_feeds.link(volunteer=volunteer)
    change_volunteer_status(volunteer=volunteer, to=Volunteer.Status.LEFT)

    change_volunteer_status(volunteer=volunteer, to=Volunteer.Status.APPLICANT)

    assert not CalendarFeed.objects.exists()
    token, _ = calendar_feeds.link(volunteer=volunteer)
    assert token != old
    assert calendar_feeds.volunteer_for(old) is None
    assert calendar_feeds.volunteer_for(token) == volunteer


@pytest.mark.parametrize("token", ["", "\x00", "\ud800", "☃" * 1000, "A" * 100_000])
def test_any_text_is_looked_up_and_names_no_one(token):
    calendar_feeds.link(volunteer=VolunteerFactory())

    assert calendar_feeds.volunteer_for(token) is None
