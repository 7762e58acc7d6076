"""Text that people type into records holds only characters that show.

A name or a note that carries a control character can look like something it is not: after
U+202E (RIGHT-TO-LEFT OVERRIDE) the rest of the text is shown backwards, and the other
bidirectional embeddings and isolates reorder what follows them in every list and page that
shows the text.
Control characters (NUL among them, which PostgreSQL cannot store) have no place in a record
either. Tabs and line breaks stay allowed; so do the invisible marks that right-to-left
scripts need (U+200E, U+200F, U+061C), which reorder nothing on their own.

Models whose text is typed by people take the PlainText mixin: every CharField and TextField
is checked in `clean_fields`, so the admin's forms and every service (through
`full_clean`) refuse the same characters with the same words.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import models

_HIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # control characters but tab and line breaks
    "\u202a-\u202e\u2066-\u2069"  # bidirectional embeddings, overrides and isolates
    "\ud800-\udfff]"  # halves of surrogate pairs, which are not characters
)


def hidden_character_problem(text):
    """Say which hidden character text holds and where, or None when it holds none."""
    if not isinstance(text, str):
        return None
    found = _HIDDEN.search(text)
    if found is None:
        return None
    char = found.group()
    name = unicodedata.name(char, "a control character")
    return (
        f"Holds an invisible character, U+{ord(char):04X} ({name}), at position "
        f"{found.start() + 1}; type the text again without it."
    )


def without_hidden_characters(text):
    """The text with every hidden character taken out, for words that must be kept even so
    (a text message someone sent)."""
    return _HIDDEN.sub("", text)


class PlainText:
    """Refuses hidden characters in every text field of a model (see the module's docstring)."""

    def clean_fields(self, exclude=None):
        exclude = set(exclude or ())
        try:
            super().clean_fields(exclude=exclude)
            errors = {}
        except ValidationError as invalid:
            errors = invalid.error_dict
        for field in self._meta.concrete_fields:
            if field.name in exclude or field.name in errors:
                continue
            if isinstance(field, models.CharField | models.TextField):
                problem = hidden_character_problem(getattr(self, field.attname))
                if problem:
                    errors[field.name] = [ValidationError(problem, code="hidden_character")]
        if errors:
            raise ValidationError(errors)
