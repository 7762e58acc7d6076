import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture
def api(coordinator):
    """An API client signed in as a coordinator (browser session)."""
    client = APIClient()
    client.force_login(coordinator)
    return client


@pytest.fixture
def anonymous_api(db):
    return APIClient()


@pytest.fixture
def non_coordinator_api(db):
    """Signed in, but not a coordinator: a volunteer using the partner app, say."""
    client = APIClient()
    client.force_login(UserFactory(email="volunteer@example.org"))
    return client


def problem_of(response):
    """The problem-details body of an error response, checked for its shape on the way."""
    assert response["Content-Type"] == "application/problem+json", response.content
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == response.status_code
    return body
