"""Browser tests: Debian's Chromium, driven by Playwright, against the live server under the
real CSP. Every console message, uncaught error and CSP violation on any page is a failure.

Playwright's own browser builds are never installed: the tests launch /usr/bin/chromium. In
CI (CI=true) a missing Chromium fails the run; elsewhere these tests are skipped with a note.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"

# Reports each CSP violation to the test (window.reportViolation is exposed below); runs in
# every page before the page's own scripts, outside the page's CSP.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(JSON.stringify({
    directive: event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile + ":" + event.lineNumber,
    sample: event.sample,
  }));
});
"""


def browser_missing(reason):
    message = f"The browser tests {reason}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    """Signing in is under test, not the cost of hashing a password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    """A folder under pytest's tmp path with a screenshot of every page the tests visit."""
    return tmp_path_factory.mktemp("screenshots")


@dataclass
class Problems:
    """What the browser reported on the pages visited: console messages, uncaught errors and
    CSP violations, each with the page it came from."""

    seen: list = field(default_factory=list)

    def add(self, kind, page, text):
        self.seen.append(f"{kind} on {page.url}: {text}")

    def assert_none(self):
        """Fails on the problems reported since the last look, each reported once."""
        found, self.seen = self.seen, []
        assert found == [], "\n".join(found)


class Browser:
    def __init__(self, page, problems, base_url, screenshots):
        self.page = page
        self.problems = problems
        self.base_url = base_url
        self.screenshots = screenshots

    def goto(self, path):
        self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("load")

    def snap(self, name):
        """A screenshot of the page as it is now, and no problem reported so far."""
        self.page.wait_for_load_state("load")
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        self.page.screenshot(path=self.screenshots / f"{slug}.png")
        self.assert_no_problems()

    def assert_no_problems(self):
        self.problems.assert_none()

    def sign_in(self, email, password=PASSWORD, path="/admin/"):
        """Signs in through allauth's sign-in page, as a coordinator does from the admin."""
        self.goto(path)
        assert "/accounts/login/" in self.page.url
        self.snap("sign-in")
        self.page.fill("input[name=login]", email)
        self.page.fill("input[name=password]", password)
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")


@pytest.fixture
def browser(live_server, screenshots, request):
    """A fresh browser context on the live server; fails the test on any console message,
    uncaught error or CSP violation. A test names it after its data fixtures: Playwright then
    starts after the data is written and stops before the database is emptied, so the test's
    own queries never run beside Playwright's event loop (which Django refuses)."""
    if not CHROMIUM.exists():
        browser_missing(f"need Debian's Chromium at {CHROMIUM}: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_missing("need Playwright: pip install -r requirements-dev.txt")

    problems = Problems()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(15_000)
            context.expose_binding(
                "reportViolation",
                lambda source, report: problems.add(
                    "CSP violation", source["page"], json.loads(report)
                ),
            )
            context.add_init_script(REPORT_VIOLATIONS)
            page = context.new_page()
            page.on("console", lambda message: problems.add(message.type, page, message.text))
            page.on("pageerror", lambda error: problems.add("uncaught error", page, error))
            folder = screenshots / request.node.name
            folder.mkdir()
            yield Browser(page, problems, live_server.url, folder)
            page.wait_for_timeout(200)  # late reports (a last fetch) still count
            problems.assert_none()
            context.close()
        finally:
            chromium.close()
