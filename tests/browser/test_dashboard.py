"""A coordinator's day on the dashboard, in a real browser, on a laptop and on a phone: sign
in, today's sessions, a follow-up handled in place (not without a note), the plan
for everyone waiting, a suggestion proposed and approved, an inbox reply answered, a volunteer
found by phone number and their page opened, a report read over a chosen range and its CSV
downloaded. Every page, in every state it reaches, is
photographed and checked with axe-core; on the phone it fits the screen's width and its
controls are big enough to touch (see conftest.py)."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from matching.follow_ups import Kind, Urgency
from matching.models import Session
from messaging import services as messaging
from tests.dashboard.today_data import follow_up, reminded, session_at
from tests.factories import VolunteerFactory, area, fully_trained, waiting_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

AILSA_PHONE = "+447700900123"
# Hostile text in the one box typed into on each page: markup, quotes, and beyond ASCII.
NOTE = "Called Iain: <b>fine</b> & “back next week” – Ça va 👍"
ANSWER = "Thanks Ailsa, <i>I'll</i> ring you at 3 – Morag"


@pytest.fixture
def the_day():
    """Today's sessions (one confirmed, one awaiting its reply), a follow-up, a peer waiting
    with a volunteer who fits, and a reply in the inbox that nothing could read."""
    with transaction.atomic():
        confirmed = session_at(
            0,
            22,
            match__volunteer__preferred_name="Morven",
            match__peer__preferred_name="Jo",
            place="Coatbridge library",
        )
        Session.objects.filter(pk=confirmed.pk).update(
            status=Session.Status.CONFIRMED, confirmed_at=timezone.now()
        )
        awaiting = reminded(
            session_at(
                0,
                23,
                match__volunteer__preferred_name="Iain",
                match__peer__preferred_name="Kris",
                place="Airdrie library",
            )
        )
        follow_up(
            "no-show",
            kind=Kind.NO_SHOW,
            urgency=Urgency.URGENT,
            summary="Iain’s session with Kris yesterday was not marked as held.",
            volunteer=awaiting.match.volunteer,
        )
        ailsa = fully_trained(
            VolunteerFactory(
                preferred_name="Ailsa",
                full_name="Ailsa Munro",
                phone=AILSA_PHONE,
                sms_consent=True,
                area=area("Coatbridge"),
            )
        )
        peer = waiting_for(20, preferred_name="Sam", area=area("Coatbridge"))
        reply, _ = messaging.receive(
            sid="SM" + "7" * 32,
            from_number=AILSA_PHONE,
            to_number="+447700900999",
            body="Not sure about Thursday really",
        )
        assert reply.needs_attention
    return {
        "confirmed": confirmed.pk,
        "awaiting": awaiting.pk,
        "ailsa": ailsa.pk,
        "peer": peer.pk,
        "peer_reference": peer.reference,
        "reply": reply.pk,
    }


def go_by_the_navigation(browser, name):
    nav = browser.page.get_by_role("navigation", name="Main")
    link = nav.get_by_role("link", name=name, exact=True)
    browser.press(link)
    expect(link).to_have_attribute("aria-current", "page")


def assert_the_navigation_is_usable(browser):
    """Every link in the main navigation shows whole on the screen, 44 px tall to touch."""
    width = browser.page.viewport_size["width"]
    links = browser.page.get_by_role("navigation", name="Main").get_by_role("link")
    assert links.count() == 5
    for index in range(links.count()):
        link = links.nth(index)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
        assert box["height"] >= 44 and box["width"] >= 24, box


def assert_the_skip_link_shows_and_leads_to_the_content(page):
    """The first Tab shows the skip link with its focus ring; Enter moves focus to the page's
    own content, past the header."""
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert skip.evaluate("(link) => getComputedStyle(link).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()


def mark_the_page(page):
    """A flag that a full page load would wipe: proves an htmx swap happened in place."""
    page.evaluate("() => { window.stillTheSamePage = true; }")


def assert_still_the_same_page(page):
    assert page.evaluate("() => window.stillTheSamePage === true")


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_a_coordinator_works_through_the_day_on_the_dashboard(coordinator, the_day, browser):
    page = browser.page

    # Signing in lands on Today.
    browser.sign_in(coordinator.email)
    expect(page).to_have_url(f"{browser.base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    assert_the_navigation_is_usable(browser)
    today = page.locator("section", has=page.locator("h3", has_text="Today,"))
    confirmed = today.locator(f"#session-{the_day['confirmed']}")
    expect(confirmed).to_contain_text("Morven")
    expect(confirmed.locator(".state")).to_have_text("Confirmed")
    awaiting = today.locator(f"#session-{the_day['awaiting']}")
    expect(awaiting).to_contain_text("Iain")
    expect(awaiting.locator(".state")).to_contain_text("Awaiting reply")
    browser.review("today")
    if not browser.on_phone:
        assert_the_skip_link_shows_and_leads_to_the_content(page)

    # A follow-up handled with a note: its row changes in place.
    row = page.locator("#follow-ups li.card").first
    expect(row).to_contain_text("Urgent")
    row_id = row.get_attribute("id")
    mark_the_page(page)
    browser.press(row.get_by_role("button", name="Mark handled"))
    # Without a note the browser keeps the form and puts the cursor in the empty box.
    note = row.get_by_label("What was done")
    expect(note).to_be_focused()
    assert note.evaluate("(box) => box.validity.valueMissing")
    expect(row.get_by_role("heading")).not_to_contain_text("Handled")
    note.fill(NOTE)
    browser.press(row.get_by_role("button", name="Mark handled"))
    handled = page.locator(f"#{row_id}")
    expect(handled.get_by_role("heading")).to_contain_text("Handled")
    expect(handled.get_by_role("status")).to_contain_text(NOTE)
    assert_still_the_same_page(page)
    browser.review("today, a follow-up handled")

    # The waiting list: propose the suggestion, then approve the proposal.
    go_by_the_navigation(browser, "Waiting list")
    reference = the_day["peer_reference"]
    peer_row = page.locator(f"#peer-{the_day['peer']}")
    expect(peer_row.locator(".suggestion")).to_have_count(1)
    expect(peer_row.locator(".suggestion")).to_contain_text("Ailsa (Ailsa Munro)")
    browser.review("waiting list")
    browser.press(page.get_by_role("link", name="Propose for everyone waiting"))
    plan = page.get_by_role("region", name="Each waiting peer, longest wait first")
    expect(plan.get_by_role("row", name=reference)).to_contain_text("Ailsa (Ailsa Munro)")
    browser.review("proposals for everyone waiting")
    browser.press(page.get_by_role("link", name="Back to the waiting list"))
    expect(page).to_have_url(f"{browser.base_url}/waiting/")
    page.wait_for_load_state("load")
    mark_the_page(page)
    browser.press(peer_row.get_by_role("button", name=f"Propose Ailsa for {reference}"))
    proposal = page.locator(".card", has=page.get_by_role("button", name="Approve"))
    expect(proposal.get_by_role("status")).to_contain_text(f"Ailsa is proposed for {reference}")
    assert_still_the_same_page(page)
    browser.review("waiting list, Ailsa proposed")
    browser.press(proposal.get_by_role("button", name=f"Approve Ailsa for {reference}"))
    decided = page.locator(".card", has_text=f"Ailsa for {reference}")
    expect(decided.get_by_role("heading")).to_contain_text("Active")
    assert_still_the_same_page(page)
    browser.review("waiting list, the match approved")

    # The inbox: Ailsa's reply answered by text.
    go_by_the_navigation(browser, "Inbox")
    reply = page.locator(f"#reply-{the_day['reply']}")
    expect(reply).to_contain_text("Not sure about Thursday really")
    browser.review("inbox")
    browser.press(reply.get_by_text("Answer by text"))
    reply.get_by_label("Your answer").fill(ANSWER)
    browser.review("inbox, an answer written")
    mark_the_page(page)
    browser.press(reply.get_by_role("button", name="Send the answer"))
    expect(reply.get_by_role("heading")).to_contain_text("Handled")
    expect(reply.get_by_role("status")).to_contain_text("is on its way")
    assert_still_the_same_page(page)
    browser.review("inbox, the reply answered")

    # Search by Ailsa's number written another way, then open her page.
    search = page.get_by_role("search")
    search.get_by_label("Find a volunteer or peer").fill("07700 900 123")
    browser.press(search.get_by_role("button", name="Search"))
    found = page.get_by_role("region", name="Volunteers").get_by_role("link")
    expect(found).to_have_text("Ailsa (Ailsa Munro)")
    browser.review("search by phone")
    browser.press(found)
    expect(page).to_have_url(f"{browser.base_url}/volunteers/{the_day['ailsa']}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ailsa")
    browser.review("volunteer page")

    # Reports: a range chosen, the peers-by-area figures read, their CSV downloaded.
    go_by_the_navigation(browser, "Reports")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    this_year = timezone.localdate().replace(month=1, day=1)
    page.locator("#range-from").fill(this_year.isoformat())
    page.locator("#range-to").fill(timezone.localdate().isoformat())
    browser.press(page.get_by_role("button", name="Show the reports"))
    expect(page).to_have_url(re.compile(rf"from={this_year.isoformat()}"))
    section = page.locator("section.report", has=page.locator("#report-peers-by-area"))
    browser.press(section.locator("summary"))
    table = section.get_by_role("table")
    shown = [
        [cell.strip() for cell in row.split("\t")]
        for row in table.locator("tbody tr").all_inner_texts()
    ]
    coatbridge = next(row for row in shown if row[0] == "Coatbridge")
    assert int(coatbridge[1]) >= 1 and coatbridge[2] == "0"  # Sam, matched with Ailsa above
    browser.review("reports")
    with page.expect_download() as download:
        browser.press(section.get_by_role("link", name=re.compile("as CSV")))
    saved = download.value
    assert saved.suggested_filename.startswith("peerpath-peers-by-area-")
    rows = list(csv.reader(io.StringIO(Path(saved.path()).read_text(encoding="utf-8"))))
    assert rows[0] == ["Area", "Matched in the range", "Waiting today"]
    assert rows[1:] == shown
