"""A coordinator's pages work in a real browser under PeerPath's CSP: the admin (signed in
through allauth), Swagger UI for the REST API and for the sign-in API, and setting up an
authenticator app. No page logs anything to the console or breaks the CSP (see conftest.py)."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import VolunteerFactory, area

# The live server needs committed data; the migrations' own rows (the Coordinators group,
# areas, courses) are restored after each test for the tests that follow.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def volunteers():
    return [
        VolunteerFactory(preferred_name="Ailsa", status="active", area=area("Coatbridge")),
        VolunteerFactory(preferred_name="Calum", status="paused", area=area("Airdrie")),
    ]


def test_a_coordinator_signs_in_and_works_with_volunteers_in_the_admin(
    coordinator, volunteers, browser
):
    page = browser.page
    browser.sign_in(coordinator.email)
    # Signed in, a coordinator lands on the dashboard; the admin is in its navigation.
    expect(page).to_have_url(f"{browser.base_url}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    browser.snap("admin index")

    page.click("#content-main a[href='/admin/volunteers/volunteer/']")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    browser.snap("volunteer list")

    # A filter: active volunteers only.
    page.locator("#changelist-filter a[href*='status__exact=active']").click()
    expect(page).to_have_url(re.compile(r"status__exact=active"))
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    browser.snap("volunteer list filtered")

    # An action on the selected row: the admin's actions.js counts the selection.
    page.locator("#result_list tbody input.action-select").check()
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")
    page.select_option("select[name=action]", "mark_paused")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("1 volunteer is now paused")
    browser.snap("volunteer list after an action")

    # A change form, with its inlines' "Add another" (inlines.js).
    page.goto(f"{browser.base_url}/admin/volunteers/volunteer/?q=Ailsa")
    page.locator("#result_list tbody a", has_text="Ailsa").first.click()
    expect(page.locator("input[name=preferred_name]")).to_have_value("Ailsa")
    rows = page.locator("#training_records-group tr.dynamic-training_records")
    before = rows.count()
    page.locator("#training_records-group .add-row a").click()
    expect(rows).to_have_count(before + 1)
    browser.snap("volunteer form")

    # Import, and export with its "Select all" box (templates/admin/import_export/export.html).
    browser.goto("/admin/volunteers/volunteer/import/")
    expect(page.locator("input[type=file]")).to_be_visible()
    browser.snap("volunteer import")
    browser.goto("/admin/volunteers/volunteer/export/")
    fields = page.locator(".selectable-field-export-row input[type=checkbox]:visible")
    assert fields.count() > 1
    page.uncheck("input.select-toggle")
    for index in range(fields.count()):
        expect(fields.nth(index)).not_to_be_checked()
    browser.snap("volunteer export")


def test_swagger_ui_shows_the_api_and_tries_a_request(coordinator, browser):
    page = browser.page
    browser.sign_in(coordinator.email)
    browser.goto("/api/v1/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() > 20
    browser.snap("swagger ui")

    areas = page.locator(".opblock-get", has=page.locator("[data-path='/api/v1/areas/']"))
    areas.locator(".opblock-summary").click()
    areas.locator("button.try-out__btn").click()
    areas.locator("button.execute").click()
    status = areas.locator(".live-responses-table tbody .response-col_status")
    expect(status).to_have_text("200")
    expect(areas.locator(".live-responses-table tbody .response-col_description")).to_contain_text(
        "Coatbridge"
    )
    browser.snap("swagger ui after a request")

    # The browsable API, in the same session.
    browser.goto("/api/v1/volunteers/")
    expect(page.locator(".response-info")).to_contain_text('"count": 0')
    browser.snap("browsable api")


def test_the_sign_in_api_documents_itself(browser):
    page = browser.page
    browser.goto("/_allauth/openapi.html")
    expect(page.locator(".information-container .title")).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() > 10
    browser.snap("sign-in api")


def test_a_coordinator_sees_the_qr_code_to_set_up_an_authenticator_app(coordinator, browser):
    page = browser.page
    browser.sign_in(coordinator.email)
    browser.goto("/accounts/2fa/totp/activate")
    # allauth asks for the password again before any change to two-factor authentication.
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    browser.snap("reauthenticate")
    page.fill("input[name=password]", "correct horse battery staple")
    with page.expect_navigation():
        page.click("button[type=submit]")
    qr_code = page.locator("img[src^='data:image/svg+xml']")
    expect(qr_code).to_be_visible()
    assert qr_code.evaluate("image => image.naturalWidth") > 0
    browser.snap("authenticator app set-up")
