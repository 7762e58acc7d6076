"""Without Chromium the browser tests never pass silently: in CI they fail and say why."""

import pytest

from tests.browser import conftest as browser_tests


def test_in_ci_a_missing_chromium_fails_the_run_with_the_reason(monkeypatch):
    monkeypatch.setattr(browser_tests, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="need Debian's Chromium at /usr/bin/chromium"):
        browser_tests.browser_missing("need Debian's Chromium at /usr/bin/chromium")


def test_elsewhere_a_missing_chromium_skips_the_browser_tests_with_the_reason(monkeypatch):
    monkeypatch.setattr(browser_tests, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="need Debian's Chromium"):
        browser_tests.browser_missing("need Debian's Chromium at /usr/bin/chromium")
