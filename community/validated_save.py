"""Saving a record only after every rule the database holds has been checked in words."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction


def save_validated(instance):
    """Validate the instance (fields, uniqueness, constraints), then save it.

    Validation catches what a person typed wrong; the database still guards against two
    writers at once, and that rare race also ends as a ValidationError, with nothing saved.
    """
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ValidationError(
            f"Not saved: it conflicts with a record saved at the same moment ({error})."
        ) from error
    return instance


def change_validated(instance, **fields):
    """Set the given fields, then validate and save as `save_validated` does."""
    for name, value in fields.items():
        setattr(instance, name, value)
    return save_validated(instance)
