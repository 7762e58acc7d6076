"""The response headers Django's SecurityMiddleware does not set, on every response.

Content-Security-Policy comes from django-csp (settings.CONTENT_SECURITY_POLICY);
Referrer-Policy, Cross-Origin-Opener-Policy, X-Content-Type-Options and X-Frame-Options from
Django's own settings. This adds:

- Permissions-Policy, from settings.PERMISSIONS_POLICY: the browser features PeerPath never
  uses (camera, microphone, location, payment, USB...) are refused to every page and frame, so
  a script that got in somehow still cannot ask for them.
- Cross-Origin-Resource-Policy: same-origin, so other sites cannot embed PeerPath's responses
  (images, scripts, JSON) in their pages. The API's clients fetch it directly and are not
  affected.
"""

from django.conf import settings


def permissions_policy(features):
    """`{"camera": [], "fullscreen": ["self"]}` -> `camera=(), fullscreen=(self)`."""
    return ", ".join(f"{feature}=({' '.join(allowed)})" for feature, allowed in features.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.headers = {
            "Permissions-Policy": permissions_policy(settings.PERMISSIONS_POLICY),
            "Cross-Origin-Resource-Policy": "same-origin",
        }

    def __call__(self, request):
        response = self.get_response(request)
        for name, value in self.headers.items():
            response.headers.setdefault(name, value)
        return response
