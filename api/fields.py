"""Fields that hold JSON types strictly: a number is not text, text is not a number.

DRF turns 7 into "7" for a text field and "7" into 7 for a number field. PeerPath refuses
both, so the contract the schema states is the contract the API keeps.
"""

import datetime
import re

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class _TextOnly:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)


_TEXT_ERRORS = {"not_text": "Give text (a JSON string)."}


class CharField(_TextOnly, serializers.CharField):
    default_error_messages = _TEXT_ERRORS


class EmailField(_TextOnly, serializers.EmailField):
    default_error_messages = _TEXT_ERRORS


class SlugField(_TextOnly, serializers.SlugField):
    default_error_messages = _TEXT_ERRORS


class _NumberOnly:
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("not_number")
        return super().to_internal_value(data)


class IntegerField(_NumberOnly, serializers.IntegerField):
    default_error_messages = {"not_number": "Give a whole number (a JSON number)."}


class DecimalField(_NumberOnly, serializers.DecimalField):
    default_error_messages = {"not_number": "Give a number (a JSON number)."}


class FloatField(_NumberOnly, serializers.FloatField):
    default_error_messages = {"not_number": "Give a number (a JSON number)."}


class BooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Give true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class ChoiceField(serializers.ChoiceField):
    """One of a set of values; a refusal names them, so the caller can put it right."""

    default_error_messages = {
        "invalid_choice": "“{input}” is not one of the choices; give one of: {choices}."
    }

    def to_internal_value(self, data):
        if data == "" and self.allow_blank:
            return ""
        try:
            return self.choice_strings_to_values[str(data)]
        except KeyError:
            shown = str(data) if len(str(data)) <= 40 else f"{str(data)[:40]}…"
            self.fail(
                "invalid_choice", input=shown, choices=", ".join(self.choice_strings_to_values)
            )


# HH:MM exactly, in the digits 0 to 9 (Python's \d also takes "٠٩:٣٠"). The schema's pattern is
# read by ECMA-262 and Python engines alike, whose $ differ over a final line break; the
# fixed length settles it for both.
LOCAL_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def local_time_schema(example):
    return {
        "type": "string",
        "pattern": LOCAL_TIME.pattern,
        "minLength": 5,
        "maxLength": 5,
        "example": example,
        "description": "Local (Europe/London) wall-clock time, HH:MM.",
    }


class LocalTimeField(serializers.TimeField):
    """A wall-clock time of day as HH:MM, with no offset: it means the same all year.

    `example` is the time the schema shows (so a window's end can be shown after its start).
    """

    default_error_messages = {"invalid": "Give a time as HH:MM, e.g. 18:00."}

    def __init__(self, example="18:00", **kwargs):
        super().__init__(format="%H:%M", **kwargs)
        extend_schema_field(local_time_schema(example))(self)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not LOCAL_TIME.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


def moment(value):
    """A moment as the API writes every one: UK local time to the second with its offset
    written out (+00:00 in winter, +01:00 in summer), never Z, so every time reads the same
    way in every field and every season."""
    return timezone.localtime(value).isoformat(timespec="seconds")


class DateTimeField(serializers.DateTimeField):
    def to_representation(self, value):
        if isinstance(value, datetime.datetime):
            return moment(value)
        return super().to_representation(value)
