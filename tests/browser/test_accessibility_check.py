"""The accessibility check itself: axe-core runs inside the page under PeerPath's CSP and a
serious violation fails the test with what, where and how to fix it (see conftest.py)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_serious_violation_fails_with_its_rule_impact_element_and_help(browser):
    page = browser.page
    browser.goto("/accounts/login/")
    browser.check_accessibility("sign in")
    page.evaluate(
        """() => {
          const button = document.createElement("button");
          button.id = "nameless";
          document.querySelector("form").append(button);
        }"""
    )
    with pytest.raises(AssertionError) as failure:
        browser.check_accessibility("sign in, with a nameless button")
    message = str(failure.value)
    assert "button-name (critical): Buttons must have discernible text; at #nameless" in message
    assert "/accounts/login/" in message
