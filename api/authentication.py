"""Who is calling: an app with allauth's session token, or a coordinator's browser session."""

from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's `X-Session-Token`, from `POST /_allauth/app/v1/auth/login`.

    A missing, expired or forged token leaves the request anonymous, so it is answered 401
    before any view logic runs. Naming the scheme in `WWW-Authenticate` is what makes DRF
    answer 401 (not signed in) rather than 403 (not allowed).
    """

    def authenticate_header(self, request):
        return 'X-Session-Token realm="PeerPath API"'
