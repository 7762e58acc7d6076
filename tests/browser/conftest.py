"""Browser tests: Debian's Chromium, driven by Playwright, against the live server under the
real CSP. Every console message, uncaught error and CSP violation on any page is a failure.
A test may look at a page as a laptop or as a phone shows it (the `device` fixture), and have
axe-core (vendored in vendor/axe-core) check it for accessibility.

Playwright's own browser builds are never installed: the tests launch /usr/bin/chromium. In
CI (CI=true) a missing Chromium fails the run; elsewhere these tests are skipped with a note.
"""

import functools
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

# How the tests' browser presents itself: a laptop's window, or a phone held upright (the
# width of most phones sold now), with touch and the phone's handling of the viewport tag.
DEVICES = {
    "laptop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}

TOUCH_TARGETS = (
    "button, summary, select, textarea, .site-nav a, .button-link,"
    " input:not([type=hidden], [type=checkbox], [type=radio])"
)

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2, levels A and AA: what PeerPath's pages promise.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE_FAILS_ON = {"serious", "critical"}
RUN_AXE = """async (tags) => {
  const results = await window.axe.run(document, {runOnly: {type: "tag", values: tags}});
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    targets: violation.nodes.map((node) => node.target.join(" ")),
  }));
}"""

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


def axe_violations_in_words(violations):
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}; at {', '.join(v['targets'])}" for v in violations
    )


class Browser:
    def __init__(self, page, problems, base_url, screenshots, device="laptop"):
        self.page = page
        self.problems = problems
        self.base_url = base_url
        self.screenshots = screenshots
        self.device = device

    @property
    def on_phone(self):
        return self.device == "phone"

    def press(self, locator):
        """Taps on a phone, clicks on a laptop."""
        if self.on_phone:
            locator.tap()
        else:
            locator.click()

    def goto(self, path):
        self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("load")

    def snap(self, name):
        """A screenshot of the page as it is now, and no problem reported so far."""
        self.page.wait_for_load_state("load")
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        self.page.screenshot(path=self.screenshots / f"{slug}.png", full_page=True)
        self.assert_no_problems()

    def check_accessibility(self, name):
        """Runs axe-core on the page as it is now; fails on any serious or critical violation
        of WCAG 2.0 to 2.2 A or AA, naming the rule, its impact, the elements and the fix.

        axe is evaluated through the DevTools protocol, as Playwright's own scripts are, so the
        page's CSP (which allows no script but PeerPath's) stays as it is served."""
        if not self.page.evaluate("() => Boolean(window.axe)"):
            self.page.evaluate(axe_source())
        violations = self.page.evaluate(RUN_AXE, AXE_TAGS)
        failing = [v for v in violations if v["impact"] in AXE_FAILS_ON]
        assert failing == [], f"axe on {name} ({self.page.url}):\n" + axe_violations_in_words(
            failing
        )

    def assert_no_sideways_scrolling(self, name):
        widths = self.page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert widths[0] <= widths[1], f"{name} is {widths[0]} px wide in a {widths[1]} px window"

    def assert_touch_targets_are_big_enough(self, name):
        """Every control a thumb presses is at least 44 px tall: buttons, fields, disclosure
        summaries, the navigation's links and links styled as buttons. Links inside a
        sentence are exempt, as WCAG's target-size rule exempts them, and so are checkboxes,
        whose labels take the press too (axe's target-size still holds them to 24 px)."""
        small = self.page.evaluate(
            """(selector) => [...document.querySelectorAll(selector)]
              .filter((element) => element.checkVisibility())
              .map((element) => [element.outerHTML.slice(0, 80),
                                 element.getBoundingClientRect().height])
              .filter(([, height]) => height < 44)""",
            TOUCH_TARGETS,
        )
        assert small == [], f"{name}: controls under 44 px tall: {small}"

    def review(self, name):
        """The page as it is now: a screenshot, no problem reported, no serious accessibility
        violation, and on a phone nothing wider than the screen and every control big enough
        to touch."""
        self.snap(f"{self.device} {name}")
        self.check_accessibility(name)
        if self.on_phone:
            self.assert_no_sideways_scrolling(name)
            self.assert_touch_targets_are_big_enough(name)

    def assert_no_problems(self):
        self.problems.assert_none()

    def sign_in(self, email, password=PASSWORD, path="/"):
        """Signs in through allauth's sign-in page, sent there from `path` (the dashboard
        unless told otherwise)."""
        self.goto(path)
        assert "/accounts/login/" in self.page.url
        self.review("sign in")
        self.page.fill("input[name=login]", email)
        self.page.fill("input[name=password]", password)
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")


@functools.cache
def axe_source():
    return AXE.read_text()


@pytest.fixture
def device():
    """The laptop unless a test parametrizes `device` with "phone" (see DEVICES)."""
    return "laptop"


@pytest.fixture
def browser(live_server, screenshots, request, device):
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
            context = chromium.new_context(**DEVICES[device])
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
            yield Browser(page, problems, live_server.url, folder, device)
            page.wait_for_timeout(200)  # late reports (a last fetch) still count
            problems.assert_none()
            context.close()
        finally:
            chromium.close()
