"""Phone numbers: parsed in any common UK form, stored in E.164, refused with a reason.

Ofcom keeps 07700 900000 to 07700 900999 for drama: no real person holds those numbers, so
demo data and tests use them. The phonenumbers library calls them unassigned and invalid;
PeerPath accepts them, marks them fictional, and never hands them to a real SMS provider.
"""

import phonenumbers
from django.core.exceptions import ValidationError
from phonenumber_field import formfields, modelfields, serializerfields
from phonenumber_field.phonenumber import PhoneNumber
from phonenumbers import NumberParseException, ValidationResult
from rest_framework.exceptions import ValidationError as APIValidationError

FICTIONAL_PREFIX = "+447700900"
FICTIONAL_LENGTH = len("+447700900000")

_PARSE_PROBLEMS = {
    NumberParseException.INVALID_COUNTRY_CODE: "the country code is not recognised",
    NumberParseException.NOT_A_NUMBER: "it is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short",
    NumberParseException.TOO_SHORT_NSN: "it is too short",
    NumberParseException.TOO_LONG: "it is too long",
}
_LENGTH_PROBLEMS = {
    ValidationResult.INVALID_COUNTRY_CODE: "the country code is not recognised",
    ValidationResult.TOO_SHORT: "it is too short",
    ValidationResult.TOO_LONG: "it is too long",
    ValidationResult.INVALID_LENGTH: "it has the wrong number of digits",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "it is too short (is the area code missing?)",
}


class Phone(PhoneNumber):
    """A phone number that also accepts Ofcom's drama range."""

    @property
    def is_fictional(self):
        e164 = phonenumbers.format_number(self, phonenumbers.PhoneNumberFormat.E164)
        return e164.startswith(FICTIONAL_PREFIX) and len(e164) == FICTIONAL_LENGTH

    def is_valid(self):
        return phonenumbers.is_valid_number(self) or self.is_fictional


def to_phone(value, region="GB"):
    """Parse a value into a Phone; unparseable text becomes an invalid Phone keeping its input."""
    if value in (None, ""):
        return value
    if isinstance(value, Phone):
        return value
    if isinstance(value, phonenumbers.PhoneNumber):
        phone = Phone()
        phone.merge_from(value)
        return phone
    text = str(value).strip()
    try:
        return Phone.from_string(text, region=region)
    except NumberParseException:
        return Phone(raw_input=text)


def phone_problem(value):
    """Say in words why a value is not a usable phone number, or None when it is."""
    if value in (None, ""):
        return None
    text = str(value.raw_input if isinstance(value, Phone) and value.raw_input else value)
    text = text.strip()
    try:
        parsed = phonenumbers.parse(text, "GB")
    except NumberParseException as error:
        reason = _PARSE_PROBLEMS.get(error.error_type, "it cannot be read as a phone number")
        return f"“{text}” is not a valid phone number: {reason}."
    phone = to_phone(parsed)
    if phone.is_valid():
        return None
    length = phonenumbers.is_possible_number_with_reason(parsed)
    reason = _LENGTH_PROBLEMS.get(length, "no number in use has that form; check the digits")
    return f"“{text}” is not a valid phone number: {reason}."


def normalise_phone(value):
    """Return the E.164 form of a phone number, or raise ValidationError saying what is wrong."""
    problem = phone_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_phone")
    return to_phone(value).as_e164


def validate_phone(value):
    problem = phone_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_phone")


class _PhoneDescriptor(modelfields.PhoneNumberDescriptor):
    def __set__(self, instance, value):
        instance.__dict__[self.field.name] = to_phone(value, region=self.field.region)


class PhoneFormField(formfields.PhoneNumberField):
    default_validators = [validate_phone]

    def to_python(self, value):
        if value in self.empty_values:
            return self.empty_value
        return to_phone(value, region=self.region)


class PhoneField(modelfields.PhoneNumberField):
    """A model field storing E.164 that accepts the drama range and explains refusals."""

    attr_class = Phone
    descriptor_class = _PhoneDescriptor
    default_validators = [validate_phone]

    def to_python(self, value):
        return to_phone(value, region=self.region)

    def from_db_value(self, value, expression, connection):
        return to_phone(value)

    def formfield(self, **kwargs):
        kwargs.setdefault("form_class", PhoneFormField)
        return super().formfield(**kwargs)


class PhoneSerializerField(serializerfields.PhoneNumberField):
    """The API's phone field: any common UK form in, E.164 out, refusals that say why."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        problem = phone_problem(data)
        if problem:
            raise APIValidationError(problem, code="invalid_phone")
        return to_phone(data, region=self.region)

    def to_representation(self, value):
        if not value:
            return None
        phone = to_phone(value)
        if phone.country_code:  # parsed: format without validating again (it was, on saving)
            return phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.E164)
        return str(phone.raw_input)
