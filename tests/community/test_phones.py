import pytest
from django.core.exceptions import ValidationError
from rest_framework.exceptions import ValidationError as APIValidationError

from community.phones import PhoneSerializerField, normalise_phone, phone_problem, to_phone
from tests.factories import VolunteerFactory


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("07911 123456", "+447911123456"),
        ("+44 7911 123456", "+447911123456"),
        ("+44 (0)7911 123456", "+447911123456"),
        ("07911-123-456", "+447911123456"),
        ("  07911123456 ", "+447911123456"),
        ("0044 7911 123456", "+447911123456"),
    ],
)
def test_common_uk_forms_are_stored_as_e164(typed, stored):
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("hello", "it is not a phone number"),
        ("079111234567", "it is too long"),
        ("12345", "area code missing"),
        ("+999 123456", "country code is not recognised"),
        ("07700 901000", "check the digits"),
    ],
)
def test_invalid_numbers_are_refused_with_the_reason(typed, reason):
    with pytest.raises(ValidationError) as refused:
        normalise_phone(typed)
    message = refused.value.messages[0]
    assert typed in message
    assert reason in message


@pytest.mark.parametrize("typed", ["07700 900000", "07700 900123", "+447700900999"])
def test_ofcom_drama_range_is_accepted_and_marked_fictional(typed):
    assert phone_problem(typed) is None
    assert to_phone(typed).is_fictional


def test_real_numbers_are_not_fictional():
    assert not to_phone("07911 123456").is_fictional
    assert not to_phone("+441414960000").is_fictional


@pytest.mark.django_db
def test_a_volunteer_phone_typed_nationally_is_saved_in_e164():
    volunteer = VolunteerFactory(phone="07700 900321")
    volunteer.refresh_from_db()
    assert str(volunteer.phone) == "+447700900321"
    assert volunteer.phone.is_fictional


@pytest.mark.django_db
def test_model_validation_refuses_an_unusable_phone_and_says_why():
    volunteer = VolunteerFactory.build(phone="0791 12")
    with pytest.raises(ValidationError) as refused:
        volunteer.full_clean()
    assert "not a valid phone number" in refused.value.message_dict["phone"][0]


def test_the_api_field_takes_any_uk_form_and_answers_e164():
    field = PhoneSerializerField()
    assert field.to_representation(field.to_internal_value("07700 900123")) == "+447700900123"
    with pytest.raises(APIValidationError) as refused:
        field.to_internal_value("not a number")
    assert "not a valid phone number" in str(refused.value.detail[0])
