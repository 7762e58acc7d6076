"""Who is calling: an app with allauth's session token, or a coordinator's browser session."""

from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

TOKEN_INVALID_CODE = "token_invalid"
TOKEN_INVALID_DETAIL = (
    "The session token is invalid or has expired (it was signed out, or never issued): "
    "sign in again for a new one."
)


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's `X-Session-Token`, from `POST /_allauth/app/v1/auth/login`.

    No token leaves the request anonymous, so it is answered 401 "not provided" before any
    view logic runs. A token allauth does not know (made up, or of a session that was signed
    out or has expired) is a 401 of its own, so an app knows to sign in again rather than to
    look for a missing header. Naming the scheme in `WWW-Authenticate` is what makes DRF
    answer 401 (not signed in) rather than 403 (not allowed).
    """

    def authenticate(self, request):
        found = super().authenticate(request)
        if found is None and self.get_session_token(request):
            raise AuthenticationFailed(TOKEN_INVALID_DETAIL, code=TOKEN_INVALID_CODE)
        return found

    def authenticate_header(self, request):
        return 'X-Session-Token realm="PeerPath API"'
