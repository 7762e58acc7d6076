"""The office texts a volunteer only if they agreed to texts, through the outbox."""

import pytest
from django.core.exceptions import ValidationError

from matching.coordinator_texts import text_volunteer
from messaging.models import Message
from tests.factories import SessionFactory, VolunteerFactory

pytestmark = pytest.mark.django_db


def test_a_volunteer_who_agreed_is_texted_about_their_session():
    session = SessionFactory(match__volunteer__sms_consent=True)
    volunteer = session.match.volunteer
    message = text_volunteer(volunteer, body="Running late?", session=session)
    assert message.to_number == str(volunteer.phone)
    assert message.context == {"volunteer_id": volunteer.pk, "session_id": session.pk}


def test_a_volunteer_who_has_not_agreed_to_texts_is_not_texted():
    volunteer = VolunteerFactory(sms_consent=False, preferred_name="Ailsa")
    with pytest.raises(ValidationError, match="Ailsa has not agreed to texts"):
        text_volunteer(volunteer, body="Hello")
    assert not Message.objects.exists()


def test_a_volunteer_without_a_phone_is_not_texted():
    volunteer = VolunteerFactory(sms_consent=True, phone=None)
    with pytest.raises(ValidationError, match="no phone number"):
        text_volunteer(volunteer, body="Hello")
