from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

# Pages a coordinator without MFA may still open: signing out, and setting MFA up (on the
# site or through the headless API). The REST API answers for itself, with a 403 that says
# what to do, rather than a redirect to a page.
_ALWAYS_OPEN_PREFIXES = (
    "/accounts/",
    "/_allauth/",
    "/api/",
    "/health/",
    "/messaging/",
    "/static/",
)


class CoordinatorMFARequiredMiddleware:
    """With REQUIRE_COORDINATOR_MFA on, coordinators and staff set up TOTP before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_enrol(request):
            messages.warning(
                request, "Set up two-factor authentication to continue: scan the code below."
            )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def _must_enrol(request):
        if not settings.REQUIRE_COORDINATOR_MFA:
            return False
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        if not (user.is_staff or user.is_coordinator):
            return False
        if request.path.startswith(_ALWAYS_OPEN_PREFIXES):
            return False
        return not is_mfa_enabled(user, ["totp"])
