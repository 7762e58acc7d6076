"""What every dashboard page has: a way past the header, the navigation, the search box,
labels on every control, and nothing the CSP would block."""

import re
from pathlib import Path

import pytest

from tests.dashboard.today_data import follow_up, session_at
from tests.factories import VolunteerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rows():
    """Something in every panel of the Today page, so its forms are checked too."""
    session_at(1, 10)
    session_at(2, 10, match__volunteer__sms_consent=False)
    follow_up("a cause")
    VolunteerFactory()  # no training


PAGES = ["/", "/search/", "/search/?q=anything"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_a_skip_link_navigation_and_search(coordinator_client, page):
    html = coordinator_client.get(page).content.decode()
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert re.search(r'<nav class="site-nav" aria-label="Main">', html)
    assert '<a href="/admin/">Admin</a>' in html
    assert '<form class="site-search" role="search" method="get" action="/search/">' in html
    assert html.count("<h1>") == 1


def test_the_page_in_view_is_marked_in_the_navigation(coordinator_client):
    html = coordinator_client.get("/").content.decode()
    assert '<a href="/" aria-current="page">Today</a>' in html


@pytest.mark.parametrize("page", PAGES)
def test_every_control_has_a_label(coordinator_client, page):
    html = coordinator_client.get(page).content.decode()
    ids = set(re.findall(r'<label for="([^"]+)"', html))
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' in tag:
            continue
        control_id = re.search(r'\bid="([^"]+)"', tag)
        assert control_id and control_id.group(1) in ids, tag


@pytest.mark.parametrize("page", PAGES)
def test_no_id_is_used_twice_on_a_page(coordinator_client, page):
    html = coordinator_client.get(page).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("page", PAGES)
def test_no_page_has_inline_script_or_style(coordinator_client, page):
    response = coordinator_client.get(page)
    html = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    for script in re.findall(r"<script\b[^>]*>", html):
        assert " src=" in script
    assert not re.search(r"<script\b[^>]*>(?!</script>)", html)
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_htmx_is_served_from_peerpath_with_its_licence(coordinator_client):
    from django.contrib.staticfiles import finders

    html = coordinator_client.get("/").content.decode()
    assert '<script src="/static/dashboard/vendor/htmx/htmx.min.js" defer></script>' in html
    assert finders.find("dashboard/vendor/htmx/htmx.min.js")
    licence = finders.find("dashboard/vendor/htmx/LICENSE")
    assert "Zero-Clause BSD" in Path(licence).read_text()


def test_htmx_is_told_to_add_no_inline_style(coordinator_client):
    html = coordinator_client.get("/").content.decode()
    assert '"includeIndicatorStyles": false' in html


def test_the_stylesheet_lays_the_page_out_for_a_phone_and_shows_focus():
    from django.contrib.staticfiles import finders

    css = Path(finders.find("dashboard/dashboard.css")).read_text()
    assert ":focus-visible" in css
    assert "@media (min-width:" in css
