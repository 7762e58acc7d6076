"""Who may do what: the one place that decides who counts as a coordinator."""

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from rest_framework import permissions
from rest_framework.exceptions import NotAuthenticated, PermissionDenied


def signed_in(request):
    """The signed-in user; anyone else is answered 401."""
    if not (request.user and request.user.is_authenticated):
        raise NotAuthenticated()
    return request.user


class IsCoordinator(permissions.BasePermission):
    """Coordinators (the Coordinators group, or superusers) only.

    Anonymous callers get 401 and signed-in non-coordinators 403. With REQUIRE_COORDINATOR_MFA
    on, a coordinator who has not set up two-factor authentication is refused until they do.
    """

    def has_permission(self, request, view):
        user = signed_in(request)
        if not user.is_coordinator:
            raise PermissionDenied("Only coordinators may use this part of the API.")
        if settings.REQUIRE_COORDINATOR_MFA and not is_mfa_enabled(user, ["totp"]):
            raise PermissionDenied(
                "Set up two-factor authentication first: "
                "POST /_allauth/app/v1/account/authenticators/totp with a code from your "
                "authenticator app."
            )
        return True


class CoordinatorsWriteOthersRead(IsCoordinator):
    """Reading is open to anyone signed in; changing is for coordinators."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            signed_in(request)
            return True
        return super().has_permission(request, view)
