"""The waiting list: who waits, longest first, with the three volunteers who fit best; a
one-click proposal; the proposals awaiting approval, approved or declined; and proposals for
everyone at once, shown before anything is saved. Every write goes through matching's
services: a refusal is shown in their words and nothing is written."""

import itertools
import re
from urllib.parse import quote

import pytest
from django.db import connection
from django.template.defaultfilters import floatformat
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from matching import engine, services
from matching.assignment import propose_for_waiting_list
from matching.models import Match
from peers.models import Peer
from tests.api.signed_in_volunteers import HOSTILE_TEXT
from tests.dashboard.posting import post_form
from tests.factories import (
    MatchFactory,
    VolunteerFactory,
    area,
    back_after_a_match,
    fully_trained,
    waiting_for,
)
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE = "/waiting/"
EVERYONE = "/waiting/propose-for-everyone/"


def supporter(**fields):
    """An active volunteer with every required course current."""
    return fully_trained(VolunteerFactory(**fields))


@pytest.fixture
def peer():
    return waiting_for(20, preferred_name="Sam", area=area("Coatbridge"))


@pytest.fixture
def volunteer():
    return supporter(preferred_name="Ailsa", area=area("Coatbridge"))


@pytest.fixture
def proposal(peer, volunteer):
    return services.propose_match(peer, volunteer, by=None)


def propose_url(peer):
    return f"/waiting/peers/{peer.pk}/propose/"


def approve_url(match):
    return f"/waiting/proposals/{match.pk}/approve/"


def decline_url(match):
    return f"/waiting/proposals/{match.pk}/decline/"


def one_decimal(score):
    """A score as the pages show it."""
    return floatformat(score, 1)


def html_of(response):
    return response.content.decode()


def row_of(html, element_id):
    """The text of the card with this id, up to the next card."""
    start = html.index(f'id="{element_id}"')
    end = html.find('<li class="card"', start)
    return html[start : end if end != -1 else None]


# Who may open and act ---------------------------------------------------------------------


def every_action(peer, volunteer, proposal):
    """(path, form) of each write, as a coordinator would send it."""
    plan = propose_for_waiting_list(dry_run=True).plan
    return [
        (propose_url(peer), {"volunteer": volunteer.pk}),
        (approve_url(proposal), {}),
        (decline_url(proposal), {"reason": "Not a good fit."}),
        (EVERYONE, {"plan": plan}),
    ]


@pytest.fixture
def actions(volunteer, proposal):
    """A second waiting peer to propose for, beside the one with a proposal."""
    other = waiting_for(5)
    supporter()
    return every_action(other, volunteer, proposal)


def nothing_written(proposal):
    proposal.refresh_from_db()
    assert proposal.status == Match.Status.PROPOSED
    assert Match.objects.count() == 1


@pytest.mark.parametrize("page", [PAGE, EVERYONE])
def test_anonymous_callers_are_sent_to_sign_in_and_brought_back(anonymous_client, page):
    response = anonymous_client.get(page)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(page)}"


@pytest.mark.parametrize("page", [PAGE, EVERYONE])
@pytest.mark.parametrize("who", ["volunteer_client", "staff_client"])
def test_volunteers_and_other_staff_are_refused_the_pages(request, page, who):
    response = request.getfixturevalue(who).get(page)
    assert response.status_code == 403
    assert "This page is for coordinators" in html_of(response)


@pytest.mark.parametrize("page", [PAGE, EVERYONE])
def test_a_coordinator_opens_the_pages(coordinator_client, page, proposal):
    assert coordinator_client.get(page).status_code == 200


@pytest.mark.parametrize("action", range(4), ids=["propose", "approve", "decline", "everyone"])
def test_anonymous_callers_cannot_act_and_nothing_is_written(
    anonymous_client, actions, proposal, action
):
    path, data = actions[action]
    response = anonymous_client.post(path, data)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    nothing_written(proposal)


@pytest.mark.parametrize("action", range(4), ids=["propose", "approve", "decline", "everyone"])
@pytest.mark.parametrize("who", ["volunteer_client", "staff_client"])
def test_volunteers_and_other_staff_cannot_act_and_nothing_is_written(
    request, actions, proposal, action, who
):
    path, data = actions[action]
    response = request.getfixturevalue(who).post(path, data)
    assert response.status_code == 403
    nothing_written(proposal)


@pytest.mark.parametrize("action", range(3), ids=["propose", "approve", "decline"])
def test_an_action_is_a_post_only(coordinator_client, actions, action):
    path, _ = actions[action]
    assert coordinator_client.get(path).status_code == 405


def test_the_page_is_in_the_navigation_and_marked_when_open(coordinator_client):
    html = html_of(coordinator_client.get(PAGE))
    assert '<a href="/waiting/" aria-current="page">Waiting list</a>' in html
    assert '<a href="/waiting/">Waiting list</a>' in html_of(coordinator_client.get("/"))


# The page ---------------------------------------------------------------------------------


def test_peers_are_listed_longest_wait_first_each_with_the_best_three(coordinator_client):
    recent, longest, middle = waiting_for(3), waiting_for(40), waiting_for(12)
    volunteers = [supporter(preferred_name=name) for name in ("Ailsa", "Morag", "Iona", "Kirsty")]

    html = html_of(coordinator_client.get(PAGE))

    places = [html.index(f'id="peer-{peer.pk}"') for peer in (longest, middle, recent)]
    assert places == sorted(places)
    assert "3 people wait for a supporter without a proposal" in html
    row = row_of(html, f"peer-{longest.pk}")
    assert "waiting 1\xa0month, 1\xa0week" in row
    expected = engine.suggest(longest, limit=3)
    assert [s.volunteer for s in expected] == volunteers[:3]
    for suggestion in expected:
        name = suggestion.volunteer.preferred_name
        assert f"score {one_decimal(suggestion.score)}" in row
        assert f"Propose {name}<span" in row
        for reason in suggestion.reasons:
            assert reason.replace("'", "&#x27;") in row
    assert "Kirsty" not in row


def test_a_peer_nobody_may_support_is_said_so(coordinator_client, peer):
    html = html_of(coordinator_client.get(PAGE))
    assert f"Nobody may support {peer.reference} today" in row_of(html, f"peer-{peer.pk}")


def test_a_peer_with_a_proposal_is_among_the_proposals_not_the_waiting(
    coordinator_client, proposal, peer
):
    html = html_of(coordinator_client.get(PAGE))
    assert f'id="peer-{peer.pk}"' not in html
    row = row_of(html, f"match-{proposal.pk}")
    assert f"Ailsa for {peer.reference} (Sam)" in row
    assert f"Score {one_decimal(proposal.score)}" in row
    assert proposal.reasons[0].replace("'", "&#x27;") in row
    assert "Nobody is waiting without a proposal." in html
    assert '<a href="#proposals">1 proposal awaits approval</a>' in html


def test_the_waiting_list_comes_a_page_at_a_time(coordinator_client):
    peers = [waiting_for(100 - n) for n in range(27)]

    first = html_of(coordinator_client.get(PAGE))
    second = html_of(coordinator_client.get(PAGE + "?page=2"))

    assert first.count('id="peer-') == 25
    assert f'id="peer-{peers[24].pk}"' in first
    assert f'id="peer-{peers[25].pk}"' not in first
    assert "Page 1 of 2" in first
    assert '<a href="/waiting/?page=2" rel="next">' in first
    assert second.count('id="peer-') == 2
    assert '<a href="/waiting/" rel="prev">' in second
    assert html_of(coordinator_client.get(PAGE + "?page=x")).count('id="peer-') == 25


def test_the_pages_queries_do_not_grow_with_the_peers_shown(coordinator_client):
    for _ in range(4):
        supporter()
    MatchFactory(volunteer=supporter())  # a proposal awaiting approval

    def queries():
        with CaptureQueriesContext(connection) as captured:
            html = html_of(coordinator_client.get(PAGE))
        return len(captured), html.count('class="suggestion"')

    waiting_for(30)
    coordinator_client.get(PAGE)  # the session and the like, read once
    few, shown = queries()
    assert shown == 3
    for days in range(19):
        waiting_for(days)
    many, shown = queries()
    assert shown == 60
    assert few == many


@pytest.mark.parametrize("page", [PAGE, EVERYONE])
def test_the_pages_label_every_control_and_use_no_inline_script_or_style(
    coordinator_client, proposal, page
):
    waiting_for(3)
    supporter()
    response = coordinator_client.get(page)
    html = html_of(response)
    assert html.count("<h1>") == 1
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' in tag:
            continue
        control_id = re.search(r'\bid="([^"]+)"', tag)
        assert control_id and control_id.group(1) in labelled, tag
    # The plan's table scrolls in a region named by its caption, not by its section's
    # heading: two landmarks of one name would be indistinguishable.
    sections = set(re.findall(r'<section aria-labelledby="([^"]+)"', html))
    regions = re.findall(r'<div class="table-scroll" role="region" aria-labelledby="([^"]+)"', html)
    assert len(regions) == (1 if page == EVERYONE else 0)
    assert not sections & set(regions)
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert not re.search(r"<script\b[^>]*>(?!</script>)", html)
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_headings_go_in_order(coordinator_client, proposal):
    waiting_for(3)
    supporter()
    html = html_of(coordinator_client.get(PAGE))
    levels = [int(level) for level in re.findall(r"<h([1-6])\b", html)]
    assert levels[0] == 1
    assert all(later - earlier <= 1 for earlier, later in itertools.pairwise(levels))


# Propose ----------------------------------------------------------------------------------


def test_proposing_a_suggestion_records_its_score_and_reasons(
    coordinator_client, coordinator, peer, volunteer
):
    [expected] = engine.suggest(peer)

    response = coordinator_client.post(propose_url(peer), {"volunteer": volunteer.pk})

    assert response.status_code == 302
    assert response["Location"] == "/waiting/#proposals"
    match = Match.objects.get()
    assert (match.peer, match.volunteer, match.status) == (peer, volunteer, Match.Status.PROPOSED)
    assert match.proposed_by == coordinator
    assert (match.score, match.reasons) == (expected.score, list(expected.reasons))
    html = html_of(coordinator_client.get(PAGE))
    assert f"Ailsa is proposed for {peer.reference}; the proposal awaits approval." in html
    assert f'id="match-{match.pk}"' in html


def test_proposing_brings_the_coordinator_back_to_their_page(coordinator_client, peer, volunteer):
    response = coordinator_client.post(
        propose_url(peer), {"volunteer": volunteer.pk, "page": "3", "proposals": "2"}
    )
    assert response["Location"] == "/waiting/?page=3&proposals=2#proposals"


def test_proposing_with_htmx_answers_the_proposal_in_the_peers_place(
    coordinator_client, peer, volunteer
):
    response = coordinator_client.post(propose_url(peer), {"volunteer": volunteer.pk}, **HTMX)

    assert response.status_code == 200
    match = Match.objects.get()
    html = html_of(response)
    assert html.startswith(f'<li class="card" id="match-{match.pk}">')
    assert "the proposal awaits approval" in html
    assert f'hx-post="/waiting/proposals/{match.pk}/approve/"' in html


def test_an_ineligible_volunteer_is_refused_with_the_reason_and_nothing_is_written(
    coordinator_client, peer, volunteer
):
    volunteer.training_records.filter(course__code="ROSC").delete()

    response = coordinator_client.post(propose_url(peer), {"volunteer": volunteer.pk})

    assert response.status_code == 302
    assert not Match.objects.exists()
    html = html_of(coordinator_client.get(PAGE))
    assert f"Ailsa cannot be proposed for {peer.reference}:" in html
    assert "No Recovery Orientated Systems of Care training on record." in html


def test_an_ineligible_volunteer_with_htmx_answers_the_peers_row_with_the_reason(
    coordinator_client, peer
):
    paused = supporter(preferred_name="Morag", status=Volunteer.Status.PAUSED)

    response = coordinator_client.post(propose_url(peer), {"volunteer": paused.pk}, **HTMX)

    assert response.status_code == 400
    html = html_of(response)
    assert html.startswith(f'<li class="card" id="peer-{peer.pk}">')
    assert "Nothing was proposed:" in html
    assert "Morag is paused, not active." in html
    assert not Match.objects.exists()


def test_a_peer_who_already_has_a_proposal_is_not_proposed_for_again(
    coordinator_client, proposal, peer
):
    other = supporter(preferred_name="Iona")
    response = coordinator_client.post(propose_url(peer), {"volunteer": other.pk})
    assert response.status_code == 302
    assert list(Match.objects.all()) == [proposal]
    assert "already has a proposed match with Ailsa" in html_of(coordinator_client.get(PAGE))


@pytest.mark.parametrize("volunteer_id", ["", "999999", "Ailsa"])
def test_a_volunteer_not_on_record_is_refused(coordinator_client, peer, volunteer_id):
    response = coordinator_client.post(propose_url(peer), {"volunteer": volunteer_id}, **HTMX)
    assert response.status_code == 400
    assert not Match.objects.exists()
    html = html_of(response)
    assert "Say which volunteer to propose." in html or "no longer on record" in html


def test_proposing_for_a_peer_who_does_not_exist_is_a_404(coordinator_client, volunteer):
    response = coordinator_client.post("/waiting/peers/999999/propose/", {"volunteer": 1})
    assert response.status_code == 404


# Approve and decline ----------------------------------------------------------------------


def test_approving_starts_the_match_and_the_peer_is_matched(
    coordinator_client, coordinator, proposal, peer
):
    response = coordinator_client.post(approve_url(proposal))

    assert response.status_code == 302
    assert response["Location"] == "/waiting/#proposals"
    proposal.refresh_from_db()
    assert proposal.status == Match.Status.ACTIVE
    assert proposal.decided_by == coordinator
    peer.refresh_from_db()
    assert peer.status == Peer.Status.MATCHED
    html = html_of(coordinator_client.get(PAGE))
    assert f"Approved: Ailsa now supports {peer.reference}." in html
    assert f'id="match-{proposal.pk}"' not in html


def test_approving_with_htmx_answers_the_row_in_place(coordinator_client, proposal):
    response = coordinator_client.post(approve_url(proposal), **HTMX)

    assert response.status_code == 200
    html = html_of(response)
    assert html.startswith(f'<li class="card" id="match-{proposal.pk}">')
    assert "Approved: Ailsa now supports" in html
    assert "<form" not in html


def test_approving_a_match_already_approved_is_refused_in_words(coordinator_client, proposal):
    services.approve_match(proposal, by=None)

    response = coordinator_client.post(approve_url(proposal))

    assert response.status_code == 302
    html = html_of(coordinator_client.get(PAGE))
    assert "is already active; nothing was changed." in html
    proposal.refresh_from_db()
    assert proposal.decided_by is None


def test_approving_a_match_already_approved_with_htmx_shows_it_in_the_row(
    coordinator_client, proposal
):
    services.approve_match(proposal, by=None)

    response = coordinator_client.post(approve_url(proposal), **HTMX)

    assert response.status_code == 400
    html = html_of(response)
    assert html.startswith(f'<li class="card" id="match-{proposal.pk}">')
    assert "is already active; nothing was changed." in html
    assert "This match is active." in html


def test_approving_beyond_capacity_is_refused_and_nothing_is_written(
    coordinator_client, proposal, volunteer
):
    Volunteer.objects.filter(pk=volunteer.pk).update(max_active_matches=1)
    MatchFactory(volunteer=volunteer, active=True)

    coordinator_client.post(approve_url(proposal))

    proposal.refresh_from_db()
    assert proposal.status == Match.Status.PROPOSED
    assert "their capacity is 1" in html_of(coordinator_client.get(PAGE))


def test_declining_keeps_the_reason_and_the_peer_waits_on(coordinator_client, proposal, peer):
    response = coordinator_client.post(decline_url(proposal), {"reason": "They are cousins."})

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.status, proposal.end_reason) == (Match.Status.DECLINED, "They are cousins.")
    peer.refresh_from_db()
    assert peer.status == Peer.Status.WAITING
    html = html_of(coordinator_client.get(PAGE))
    assert "who stays on the waiting list" in html
    assert f'id="peer-{peer.pk}"' in html


def test_declining_with_htmx_answers_the_row_in_place(coordinator_client, proposal):
    response = coordinator_client.post(decline_url(proposal), {"reason": "Cousins."}, **HTMX)

    assert response.status_code == 200
    html = html_of(response)
    assert html.startswith(f'<li class="card" id="match-{proposal.pk}">')
    assert "Declined: Ailsa is not proposed for" in html
    assert "Why: Cousins." in html


def test_declining_needs_a_reason_shown_beside_the_field(coordinator_client, proposal):
    response = coordinator_client.post(decline_url(proposal), {"reason": "  "})

    assert response.status_code == 400
    html = html_of(response)
    row = row_of(html, f"match-{proposal.pk}")
    assert "Say why the proposal is declined, for the record." in row
    assert f'id="match-{proposal.pk}-reason_error"' in row
    assert "<details open>" in row
    proposal.refresh_from_db()
    assert proposal.status == Match.Status.PROPOSED


def test_declining_a_match_decided_meanwhile_is_refused_at_the_top(coordinator_client, proposal):
    services.decline_match(proposal, by=None, reason="First")

    response = coordinator_client.post(decline_url(proposal), {"reason": "Second"})

    assert response.status_code == 400
    html = html_of(response)
    assert "Nothing was changed:" in html
    assert "is already declined; nothing was changed." in html
    proposal.refresh_from_db()
    assert proposal.end_reason == "First"


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("text", HOSTILE_TEXT, ids=range(len(HOSTILE_TEXT)))
def test_hostile_text_in_a_decline_reason_is_refused_or_kept_never_a_500(
    coordinator_client, proposal, text, htmx
):
    response = post_form(
        coordinator_client, decline_url(proposal), {"reason": text}, **(HTMX if htmx else {})
    )

    assert response.status_code in {200, 302, 400}
    proposal.refresh_from_db()
    if response.status_code == 400:
        assert proposal.status == Match.Status.PROPOSED
        assert 'class="errorlist' in html_of(response)
    else:
        # What no UTF-8 can carry (a lone surrogate) arrives as U+FFFD, as browsers send it.
        sent = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        assert proposal.status == Match.Status.DECLINED
        assert proposal.end_reason == sent.strip()


def test_a_decision_on_a_match_that_does_not_exist_is_a_404(coordinator_client):
    assert coordinator_client.post("/waiting/proposals/999999/approve/").status_code == 404


# Propose for everyone ---------------------------------------------------------------------


@pytest.fixture
def office():
    """Two peers waiting and two volunteers with room for one each."""
    peers = [waiting_for(30, preferred_name="Sam"), waiting_for(10, preferred_name="Jo")]
    volunteers = [
        supporter(preferred_name="Ailsa", max_active_matches=1),
        supporter(preferred_name="Morag", max_active_matches=1),
    ]
    return peers, volunteers


def plan_on(html):
    return re.search(r'<input type="hidden" name="plan" value="([0-9a-f]{16})"', html).group(1)


def test_the_plan_is_shown_with_each_pair_its_score_and_the_total(coordinator_client, office):
    peers, _ = office
    expected = propose_for_waiting_list(dry_run=True)

    response = coordinator_client.get(EVERYONE)

    html = html_of(response)
    assert not Match.objects.exists()
    assert plan_on(html) == expected.plan
    assert f"2 proposals, total score {one_decimal(expected.total_score)}" in html
    for proposal in expected.proposals:
        assert (
            f'<tr><th scope="row">{proposal.peer.reference}</th>'
            f"<td>{proposal.volunteer.preferred_name} ({proposal.volunteer.full_name})</td>"
            f'<td class="number">{one_decimal(proposal.score)}</td></tr>'
        ) in html
    assert html.index(peers[0].reference) < html.index(peers[1].reference)
    assert "Propose these 2 matches" in html


def test_proposing_the_plan_writes_its_proposals(coordinator_client, coordinator, office):
    plan = plan_on(html_of(coordinator_client.get(EVERYONE)))

    response = coordinator_client.post(EVERYONE, {"plan": plan})

    assert response.status_code == 302
    assert response["Location"] == "/waiting/#proposals"
    matches = list(Match.objects.all())
    assert len(matches) == 2
    assert {match.status for match in matches} == {Match.Status.PROPOSED}
    assert {match.proposed_by for match in matches} == {coordinator}
    assert "2 matches proposed, with a total score of" in html_of(coordinator_client.get(PAGE))


def test_a_stale_plan_is_refused_with_the_fresh_one_and_nothing_is_written(
    coordinator_client, office
):
    _, volunteers = office
    stale = plan_on(html_of(coordinator_client.get(EVERYONE)))
    Volunteer.objects.filter(pk=volunteers[0].pk).update(status=Volunteer.Status.PAUSED)
    fresh = propose_for_waiting_list(dry_run=True)

    response = coordinator_client.post(EVERYONE, {"plan": stale})

    assert response.status_code == 409
    assert not Match.objects.exists()
    html = html_of(response)
    assert "Nothing was proposed:" in html
    assert "changed since that dry run" in html
    assert plan_on(html) == fresh.plan != stale
    assert "1 proposal, total score" in html


@pytest.mark.parametrize("plan", ["", "not-a-plan", "0123456789abcdef0"])
def test_a_plan_not_sent_whole_is_refused_and_nothing_is_written(coordinator_client, office, plan):
    response = post_form(coordinator_client, EVERYONE, {"plan": plan})
    assert response.status_code == 400
    assert not Match.objects.exists()
    assert "review the plan below" in html_of(response)


def test_with_nobody_to_place_there_is_nothing_to_propose(coordinator_client, peer):
    html = html_of(coordinator_client.get(EVERYONE))
    assert "Nothing to propose" in html
    assert 'name="plan"' not in html


def test_the_plan_pages_queries_do_not_grow_with_the_pairs(coordinator_client, office):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            html = html_of(coordinator_client.get(EVERYONE))
        return len(captured), html.count('<tr><th scope="row">P-')

    coordinator_client.get(EVERYONE)
    few, shown = queries()
    assert shown == 2
    for _ in range(6):
        waiting_for(1)
        supporter(max_active_matches=1)
    many, shown = queries()
    assert shown == 8
    assert few == many


def test_a_plan_proposed_twice_is_refused_the_second_time(coordinator_client, office):
    plan = plan_on(html_of(coordinator_client.get(EVERYONE)))
    coordinator_client.post(EVERYONE, {"plan": plan})

    response = coordinator_client.post(EVERYONE, {"plan": plan})

    assert response.status_code == 409
    assert Match.objects.count() == 2
    assert "Nothing to propose" in html_of(response)


def test_the_peers_area_and_wait_are_shown(coordinator_client, peer):
    row = row_of(html_of(coordinator_client.get(PAGE)), f"peer-{peer.pk}")
    since = timezone.localtime(peer.waiting_since)
    assert (
        f"Coatbridge · waiting 2\xa0weeks, 6\xa0days, since "
        f'<time datetime="{since.isoformat()}">{since.day} {since:%B %Y}</time>'
    ) in row


def test_a_peer_back_on_the_list_keeps_the_wait_they_had(coordinator_client, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    back = back_after_a_match(time_machine, waited_days=10, matched_days=30)

    row = row_of(html_of(coordinator_client.get(PAGE)), f"peer-{back.pk}")

    assert "waited 1\xa0week, 3\xa0days in all, 10 days of it in earlier spells" in row
    assert "back on the list since" in row


def test_declining_a_match_decided_meanwhile_with_htmx_says_so_in_the_row(
    coordinator_client, proposal
):
    services.approve_match(proposal, by=None)

    response = coordinator_client.post(decline_url(proposal), {"reason": "Late"}, **HTMX)

    assert response.status_code == 400
    html = html_of(response)
    assert html.startswith(f'<li class="card" id="match-{proposal.pk}">')
    assert "is active and cannot become declined" in html
    assert "This match is active." in html
