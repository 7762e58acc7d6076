"""Who may do what: the one place that decides who counts as a coordinator."""

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from rest_framework import permissions
from rest_framework.exceptions import NotAuthenticated, PermissionDenied

from accounts.models import User
from volunteers.models import Volunteer


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


class IsVolunteer(permissions.BasePermission):
    """A volunteer signed in to the partner app, for their own records under /api/v1/me/.

    The volunteer is read once per request and kept as `request.volunteer`. Anonymous callers
    get 401; a sign-in with no volunteer record, or one whose volunteer has left, gets 403.
    """

    def has_permission(self, request, view):
        user = signed_in(request)
        volunteer = _volunteer_of(user)
        if volunteer is None:
            raise PermissionDenied(
                "This sign-in belongs to no volunteer, and these pages are a volunteer's own. "
                "Ask the office to link your volunteer record to it.",
                code="not_a_volunteer",
            )
        if volunteer.status == Volunteer.Status.LEFT:
            raise PermissionDenied(
                "Your volunteer record is closed, so the app has nothing for you now. "
                "If you are coming back, call the office.",
                code="volunteer_left",
            )
        request.volunteer = volunteer
        return True


def _volunteer_of(user):
    """The user's volunteer record, with its area: as the sign-in backends read it with the
    user (volunteers.auth_backends), or read now for a user loaded otherwise."""
    if User.volunteer.is_cached(user):
        return getattr(user, "volunteer", None)
    return Volunteer.objects.filter(user=user).select_related("area").first()
