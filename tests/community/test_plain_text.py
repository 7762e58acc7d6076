"""Names and notes hold only characters that show: no control or bidirectional characters."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from community.models import Area
from community.plain_text import hidden_character_problem
from peers.models import Peer
from tests.factories import VolunteerFactory
from volunteers import services
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

HIDDEN = [
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u202a",  # LEFT-TO-RIGHT EMBEDDING
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u2069",  # POP DIRECTIONAL ISOLATE
    "\x00",
    "\x07",
    "\x1b",
    "\x85",  # NEXT LINE, a C1 control
]
SHOWN = ["Aileen", "Ailín Ó Súilleabháin", "line one\nline two\tand a tab", "سارا\u200f", "😀"]


@pytest.mark.parametrize("char", HIDDEN)
def test_a_hidden_character_is_named_with_its_position(char):
    problem = hidden_character_problem(f"Ai{char}leen")

    assert f"U+{ord(char):04X}" in problem
    assert "position 3" in problem


@pytest.mark.parametrize("text", SHOWN)
def test_text_that_shows_is_accepted(text):
    assert hidden_character_problem(text) is None


@pytest.mark.parametrize("char", HIDDEN)
def test_the_service_refuses_a_name_with_a_hidden_character_and_saves_nothing(char):
    with pytest.raises(ValidationError) as refused:
        services.create_volunteer(
            preferred_name=f"Ai{char}leen", full_name="Aileen Murray", phone="07700 900123"
        )

    assert "preferred_name" in refused.value.message_dict
    assert not Volunteer.objects.exists()


def test_a_change_is_refused_too_and_the_record_keeps_its_name():
    volunteer = VolunteerFactory(preferred_name="Aileen")

    with pytest.raises(ValidationError):
        services.update_volunteer(volunteer=volunteer, notes="fine \u202eenif")

    volunteer.refresh_from_db()
    assert volunteer.notes == ""


def test_the_api_answers_a_bidi_override_with_a_field_error(coordinator):
    api = APIClient()
    api.force_login(coordinator)
    response = api.post(
        "/api/v1/peers/",
        {"preferred_name": "Jamie\u202eeimaJ", "area": Area.objects.first().slug},
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "U+202E" in " ".join(errors["preferred_name"])
    assert not Peer.objects.exists()


def test_the_admin_form_refuses_it_beside_the_field(coordinator_client, settings):
    settings.REQUIRE_COORDINATOR_MFA = False
    volunteer = VolunteerFactory(preferred_name="Aileen")
    url = f"/admin/volunteers/volunteer/{volunteer.pk}/change/"
    page = coordinator_client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data = {name: value for name, value in data.items() if not isinstance(value, list)}

    response = coordinator_client.post(url, {**data, "preferred_name": "Ai\u202eleen"})

    assert response.status_code == 200  # the form again, not a redirect
    assert "U+202E" in response.content.decode()
    volunteer.refresh_from_db()
    assert volunteer.preferred_name == "Aileen"
