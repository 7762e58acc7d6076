"""The search box: a volunteer by name or by phone typed any UK way, a peer by reference."""

import pytest

from tests.api.signed_in_volunteers import HOSTILE_TEXT
from tests.dashboard.posting import form_body
from tests.factories import PeerFactory, VolunteerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ailsa():
    return VolunteerFactory(preferred_name="Ailsa", full_name="Ailsa Munro", phone="+447700900123")


def search(client, term):
    response = client.get("/search/", {"q": term})
    assert response.status_code == 200
    return response.content.decode()


def test_finds_a_volunteer_by_the_words_of_their_name(coordinator_client, ailsa):
    VolunteerFactory(preferred_name="Calum", full_name="Calum Munro")
    page = search(coordinator_client, "ailsa munro")
    assert "Ailsa (Ailsa Munro)" in page
    assert "Calum" not in page


@pytest.mark.parametrize(
    "typed", ["07700 900123", "07700900123", "+44 7700 900123", "0044 7700 900 123"]
)
def test_finds_a_volunteer_by_phone_however_it_is_typed(coordinator_client, ailsa, typed):
    page = search(coordinator_client, typed)
    assert f'href="/volunteers/{ailsa.pk}/"' in page


@pytest.mark.parametrize("typed", ["P-{:06d}", "p{}", "P{}"])
def test_finds_a_peer_by_reference(coordinator_client, typed):
    peer = PeerFactory(preferred_name="Morag")
    page = search(coordinator_client, typed.format(peer.pk))
    assert f"{peer.reference} (Morag)" in page


def test_says_when_nothing_is_found(coordinator_client, ailsa):
    page = search(coordinator_client, "Nobody")
    assert "No volunteer found." in page
    assert "peers are found by their reference" in page


def test_the_term_stays_in_the_box(coordinator_client):
    page = search(coordinator_client, "Ailsa")
    assert 'name="q" value="Ailsa"' in page


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_hostile_text_never_breaks_the_search(coordinator_client, ailsa, text):
    response = coordinator_client.get(f"/search/?{form_body({'q': text})}")
    assert response.status_code == 200
