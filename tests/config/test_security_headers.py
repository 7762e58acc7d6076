"""Every kind of page carries the CSP, Permissions-Policy and the other security headers, and
PeerPath's HTML holds nothing that the CSP would refuse (inline script, event handler
attributes, inline <style>)."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.factories import PeerFactory, VolunteerFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def directives(response):
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


class InlineCode(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' refuses: <script> without src (other than
    JSON data blocks), on...= handlers, javascript: links and <style> elements."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._in_script = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs:
            kind = (attrs.get("type") or "text/javascript").lower()
            if kind not in {"application/json", "application/ld+json"}:
                self._in_script = tag
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            address = (value or "").strip().lower()
            if name in {"href", "src", "action", "formaction"} and address.startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:...>")

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"inline script: {data.strip()[:60]!r}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


def inline_code(response):
    parser = InlineCode()
    parser.feed(response.content.decode())
    return parser.found


def assert_secure_headers(response):
    csp = directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    # Inline styles only as style="" attributes; everything else inline is refused.
    assert csp["style-src-attr"] == ["'unsafe-inline'"]
    assert response["Content-Security-Policy"].count("'unsafe-inline'") == 1
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


@pytest.fixture
def records():
    return {"volunteer": VolunteerFactory(), "peer": PeerFactory()}


COORDINATOR_PAGES = {
    "admin index": lambda r: "/admin/",
    "volunteer list": lambda r: reverse("admin:volunteers_volunteer_changelist"),
    "volunteer list filtered": lambda r: (
        reverse("admin:volunteers_volunteer_changelist") + "?status__exact=active"
    ),
    "volunteer form": lambda r: reverse(
        "admin:volunteers_volunteer_change", args=[r["volunteer"].pk]
    ),
    "new volunteer": lambda r: reverse("admin:volunteers_volunteer_add"),
    "volunteer import": lambda r: reverse("admin:volunteers_volunteer_import"),
    "volunteer export": lambda r: reverse("admin:volunteers_volunteer_export"),
    "peer list": lambda r: reverse("admin:peers_peer_changelist"),
    "peer form, with suggested supporters": lambda r: reverse(
        "admin:peers_peer_change", args=[r["peer"].pk]
    ),
    "match list": lambda r: reverse("admin:matching_match_changelist"),
    "text messages": lambda r: reverse("admin:messaging_message_changelist"),
    "api docs": lambda r: reverse("api:docs"),
    "browsable api": lambda r: reverse("api:volunteer-list"),
    "browsable api detail": lambda r: reverse("api:volunteer-detail", args=[r["volunteer"].pk]),
    "two-factor settings": lambda r: reverse("mfa_index"),
    "change password": lambda r: reverse("account_change_password"),
}


@pytest.mark.parametrize("page", COORDINATOR_PAGES)
def test_every_coordinator_page_carries_the_headers_and_no_inline_code(
    coordinator_client, records, page
):
    response = coordinator_client.get(COORDINATOR_PAGES[page](records), HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert_secure_headers(response)
    assert inline_code(response) == []


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/accounts/password/reset/",
        "/_allauth/openapi.html",
        "/api/v1/docs/",
    ],
)
def test_every_public_page_carries_the_headers_and_no_inline_code(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert_secure_headers(response)
    assert inline_code(response) == []


def test_the_page_that_sets_up_an_authenticator_app_shows_its_qr_code_as_a_data_image(
    client, coordinator
):
    client.post(reverse("account_login"), {"login": coordinator.email, "password": PASSWORD})
    confirm = client.get(reverse("mfa_activate_totp"))
    client.post(confirm["Location"], {"password": PASSWORD})
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in response.content.decode()
    assert_secure_headers(response)
    assert inline_code(response) == []


@pytest.mark.parametrize(
    "path",
    ["/health/", "/api/v1/volunteers/", "/api/v1/schema/", "/api/v1/no-such-thing/", "/admin/"],
)
def test_other_answers_carry_the_headers_too(client, path):
    """JSON, the schema, a 404 problem and a redirect to sign in."""
    response = client.get(path)
    assert response.status_code in {200, 302, 401, 404}
    assert_secure_headers(response)


def test_swagger_ui_loads_its_start_up_script_from_a_url(client):
    page = client.get("/api/v1/docs/").content.decode()
    assert 'src="/api/v1/docs/?script="' in page
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()
    assert "/api/v1/schema/" in script.content.decode()


def test_the_sign_in_api_page_gives_its_script_the_specification_and_csrf_token(client):
    page = client.get("/_allauth/openapi.html").content.decode()
    assert 'data-specification-url="/_allauth/openapi.json"' in page
    assert 'data-csrf-token="' in page
    assert "/static/peerpath/sign-in-api-docs.js" in page


def test_the_icon_browsers_ask_for_is_peerpaths(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/peerpath/favicon.svg"
