"""Sign-in backends that load a signed-in user together with their volunteer record.

Every request the partner app makes under /api/v1/me/ needs both the user and the volunteer
(`api.permissions.IsVolunteer`); reading them in one query rather than two is a good part of
what a cached answer (a 304) costs. The rules are Django's and allauth's own: only how the
user is read differs.
"""

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends as django_backends
from django.contrib.auth import get_user_model


class WithVolunteer:
    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("volunteer__area")
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        users = get_user_model()._default_manager.select_related("volunteer__area")
        user = await users.filter(pk=user_id).afirst()
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(WithVolunteer, django_backends.ModelBackend):
    """Django's username (here email) and password sign-in."""


class AuthenticationBackend(WithVolunteer, allauth_backends.AuthenticationBackend):
    """allauth's sign-in (email, phone and code)."""
