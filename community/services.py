"""Changes to the shared reference data: areas, languages and focuses (and, in volunteers,
courses). Everything is validated before it is saved; nothing in use is deleted."""

from django.db import transaction

from community.errors import StateConflict
from community.validated_save import change_validated, save_validated


@transaction.atomic
def create_reference(*, model, **fields):
    return save_validated(model(**fields))


@transaction.atomic
def change_reference(*, item, **fields):
    return change_validated(item, **fields)


def uses_of(item):
    """How many records of each kind point at `item`, e.g. {"volunteers": 3}, zeros left out."""
    uses = {}
    for relation in item._meta.related_objects:
        if relation.one_to_one:
            continue
        count = getattr(item, relation.get_accessor_name()).count()
        if count:
            meta = relation.related_model._meta
            uses[str(meta.verbose_name if count == 1 else meta.verbose_name_plural)] = count
    return uses


@transaction.atomic
def remove_reference(*, item):
    """Delete a piece of reference data, unless some record still uses it."""
    uses = uses_of(item)
    if uses:
        listed = " and ".join(f"{count} {kind}" for kind, count in uses.items())
        raise StateConflict(
            f"{item} is still used by {listed}; change those records first.", code="in_use"
        )
    item.delete()
