import pytest


@pytest.fixture(autouse=True)
def _no_mfa_prompt(settings):
    """The admin pages themselves are under test here, not the MFA enrolment in front of them."""
    settings.REQUIRE_COORDINATOR_MFA = False
