"""Who may open the dashboard: coordinators, decided where the API decides it.

`user.is_coordinator` (accounts) is the one rule; with REQUIRE_COORDINATOR_MFA on, a
coordinator sets up an authenticator app first, as for the API and the admin. Anyone signed
out is sent to sign in and brought back; anyone else signed in is refused with a page that
says why, rather than a bare 403.
"""

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse

from volunteers.models import Volunteer


def refusal_reason(user):
    """Why a signed-in user who is not a coordinator may not open the dashboard, in words."""
    if Volunteer.objects.filter(user=user).exists():
        return (
            "This sign-in belongs to a volunteer. The dashboard is for the office's "
            "coordinators; your own sessions and availability are in the partner app."
        )
    if user.is_staff:
        return (
            "Your account may open the admin but is not in the Coordinators group, so it "
            "cannot open the dashboard. Ask a coordinator to add you to the group."
        )
    return (
        "The dashboard is for the office's coordinators, and this account is not one. "
        "If you should be, ask a coordinator to add you to the Coordinators group."
    )


class CoordinatorRequired:
    """A view mixin: the dashboard's one door. Every dashboard view uses it."""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("account_login"))
        if not user.is_coordinator:
            return render(
                request,
                "dashboard/refused.html",
                {"reason": refusal_reason(user)},
                status=403,
            )
        if settings.REQUIRE_COORDINATOR_MFA and not is_mfa_enabled(user, ["totp"]):
            return redirect("mfa_activate_totp")
        return super().dispatch(request, *args, **kwargs)
