"""Domain errors shared by every app.

They subclass Django's ValidationError so that forms and the admin show them beside the
field or at the top of the page; the API maps them to its problem-details responses.
"""

from django.core.exceptions import ValidationError


class StateConflict(ValidationError):
    """An action that does not fit the object's current state (the API answers 409)."""
