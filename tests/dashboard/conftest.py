"""Who is who on the dashboard's pages: the four kinds of caller every page is tried with."""

import pytest
from django.test import Client

from tests.factories import AppVolunteerUserFactory, UserFactory, VolunteerFactory


@pytest.fixture(autouse=True)
def _no_mfa_prompt(settings):
    """The pages are under test here; MFA enrolment in front of them has its own test."""
    settings.REQUIRE_COORDINATOR_MFA = False


def _signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def volunteer_client(db):
    """A volunteer signed in with their app account."""
    user = AppVolunteerUserFactory()
    VolunteerFactory(user=user, phone=user.phone)
    return _signed_in(user)


@pytest.fixture
def staff_client(db):
    """Staff who may open the admin, but not in the Coordinators group."""
    return _signed_in(UserFactory(is_staff=True))


@pytest.fixture
def anonymous_client():
    return Client()
