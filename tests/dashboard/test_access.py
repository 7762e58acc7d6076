"""The dashboard is for coordinators: anyone signed out signs in first, anyone else is
refused with a page that says why. Every page is tried with each kind of caller."""

from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group

from community.coordinators import COORDINATORS_GROUP
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGES = ["/", "/search/?q=Ailsa"]


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_callers_are_sent_to_sign_in_and_brought_back(anonymous_client, page):
    response = anonymous_client.get(page)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(page)}"


@pytest.mark.parametrize("page", PAGES)
def test_a_volunteer_is_refused_and_told_the_app_is_theirs(volunteer_client, page):
    response = volunteer_client.get(page)
    assert response.status_code == 403
    assert "partner app" in response.content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_staff_outside_the_coordinators_group_are_refused_and_told_why(staff_client, page):
    response = staff_client.get(page)
    assert response.status_code == 403
    assert "not in the Coordinators group" in response.content.decode()


def test_the_refusal_offers_no_dashboard_navigation(staff_client):
    page = staff_client.get("/").content.decode()
    assert "Sign out" in page
    assert 'aria-label="Main"' not in page
    assert 'role="search"' not in page


@pytest.mark.parametrize("page", PAGES)
def test_a_coordinator_opens_every_page(coordinator_client, page):
    assert coordinator_client.get(page).status_code == 200


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
