"""The dashboard is for coordinators: anyone signed out signs in first, anyone else is
refused with a page that says why."""

import pytest
from django.contrib.auth.models import Group

from community.coordinators import COORDINATORS_GROUP
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_callers_are_sent_to_sign_in_and_brought_back(anonymous_client):
    response = anonymous_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_a_volunteer_is_refused_and_told_the_app_is_theirs(volunteer_client):
    response = volunteer_client.get("/")
    assert response.status_code == 403
    assert "partner app" in response.content.decode()


def test_staff_outside_the_coordinators_group_are_refused_and_told_why(staff_client):
    response = staff_client.get("/")
    assert response.status_code == 403
    assert "not in the Coordinators group" in response.content.decode()


def test_a_coordinator_opens_the_dashboard(coordinator_client):
    response = coordinator_client.get("/")
    assert response.status_code == 200
    assert "<h1>Today</h1>" in response.content.decode()


def test_a_superuser_counts_as_a_coordinator(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/").status_code == 200


def test_a_deactivated_coordinator_is_no_longer_one(client):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=COORDINATORS_GROUP))
    client.force_login(user)
    user.is_active = False
    user.save()
    assert client.get("/")["Location"] == "/accounts/login/?next=/"


def test_a_coordinator_without_two_factor_sets_it_up_first(settings, coordinator_client):
    settings.REQUIRE_COORDINATOR_MFA = True
    response = coordinator_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
