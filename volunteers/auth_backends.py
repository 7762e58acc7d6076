"""Sign-in backends that load a signed-in user together with their volunteer record.

Every request the partner app makes under /api/v1/me/ needs both the user and the volunteer
(`api.permissions.IsVolunteer`); reading them in one query rather than two is a good part of
what a cached answer (a 304) costs. That query is compiled once (`config.compiled_queries`):
compiling a three-table join anew was the larger part of reading the user. The rules are
Django's and allauth's own: only how the user is read differs.
"""

import functools

from allauth.account import auth_backends as allauth_backends
from asgiref.sync import sync_to_async
from django.contrib.auth import backends as django_backends
from django.contrib.auth import get_user_model
from django.db.models import IntegerField

from community.models import Area
from config.compiled_queries import Compiled, Slot
from volunteers.models import Volunteer


@functools.cache
def _user_query():
    """The user with their volunteer (if any) and the volunteer's area, as one row, and
    where each model's columns lie in it."""
    names, spans = [], []
    for prefix, model in (
        ("", get_user_model()),
        ("volunteer__", Volunteer),
        ("volunteer__area__", Area),
    ):
        columns = [field.attname for field in model._meta.concrete_fields]
        at = slice(len(names), len(names) + len(columns))
        spans.append((model, columns, at, columns.index(model._meta.pk.attname)))
        names += [prefix + column for column in columns]
    users = get_user_model()._default_manager.filter(pk=Slot("user", IntegerField()))
    return Compiled(users.values_list(*names)), spans


def user_with_volunteer(user_id):
    """The user, their volunteer and its area as `select_related("volunteer__area")` loads
    them (for a user who is no volunteer, `volunteer` is known to be missing); None when
    there is no such user."""
    query, spans = _user_query()
    rows = query.rows(user=user_id)
    if not rows:
        return None
    user, volunteer, area = (
        None if rows[0][at][pk] is None else model.from_db(query.using, columns, rows[0][at])
        for model, columns, at, pk in spans
    )
    to_user = Volunteer._meta.get_field("user")
    to_user.remote_field.set_cached_value(user, volunteer)
    if volunteer is not None:
        to_user.set_cached_value(volunteer, user)
        Volunteer._meta.get_field("area").set_cached_value(volunteer, area)
    return user


class WithVolunteer:
    def get_user(self, user_id):
        user = user_with_volunteer(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        return await sync_to_async(self.get_user)(user_id)


class ModelBackend(WithVolunteer, django_backends.ModelBackend):
    """Django's username (here email) and password sign-in."""


class AuthenticationBackend(WithVolunteer, allauth_backends.AuthenticationBackend):
    """allauth's sign-in (email, phone and code)."""
