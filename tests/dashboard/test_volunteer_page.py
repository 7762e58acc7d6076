"""The volunteer page: training and its gaps, the week grid of availability, absences,
matches, sessions with where each confirmation stands, hours per month, wellbeing as a chart
with its figures in words, and every text with them both ways with its delivery state."""

import datetime
import itertools
import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from matching.models import Match, Session, WellbeingCheckIn, monday_of
from messaging import services
from messaging.models import Message
from messaging.services import record_opt_out
from tests.dashboard.today_data import at, reminded, trained_but
from tests.factories import (
    AbsenceFactory,
    AvailabilityWindowFactory,
    MatchFactory,
    SessionFactory,
    VolunteerFactory,
    fully_trained,
)

pytestmark = pytest.mark.django_db

_sids = itertools.count(1)


@pytest.fixture
def ailsa():
    return VolunteerFactory(
        preferred_name="Ailsa", full_name="Ailsa Munro", sms_consent=True, wellbeing_opt_in=True
    )


def page_of(client, volunteer):
    response = client.get(f"/volunteers/{volunteer.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def section(html, heading_id):
    return html.split(f'id="{heading_id}"')[1].split("</section>")[0]


def upcoming(volunteer, days, hour, *, match=None):
    """A session of the volunteer `days` from today at `hour`, UK time."""
    starts_at = at(days, hour)
    return SessionFactory(
        match=match or MatchFactory(volunteer=volunteer, active=True),
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=1),
    )


def completed(volunteer, *, days_ago, hours="1.5", match=None, **fields):
    starts_at = timezone.now() - datetime.timedelta(days=days_ago)
    return SessionFactory(
        match=match or MatchFactory(volunteer=volunteer, active=True),
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=2),
        status=Session.Status.COMPLETED,
        hours=Decimal(hours),
        **fields,
    )


def check_in(volunteer, weeks_ago, score):
    week = monday_of(timezone.localdate()) - datetime.timedelta(weeks=weeks_ago)
    return WellbeingCheckIn.objects.create(
        volunteer=volunteer,
        week=week,
        score=score,
        answered_at=timezone.now() if score is not None else None,
    )


# Who may open it --------------------------------------------------------------------------


def test_anonymous_callers_are_sent_to_sign_in(anonymous_client, ailsa):
    url = f"/volunteers/{ailsa.pk}/"
    response = anonymous_client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(url)}"


@pytest.mark.parametrize(
    ("who", "says"),
    [("volunteer_client", "partner app"), ("staff_client", "not in the Coordinators group")],
)
def test_volunteers_and_other_staff_are_refused(request, ailsa, who, says):
    response = request.getfixturevalue(who).get(f"/volunteers/{ailsa.pk}/")
    assert response.status_code == 403
    html = response.content.decode()
    assert says in html
    assert "Ailsa Munro" not in html


def test_a_coordinator_opens_it(coordinator_client, ailsa):
    html = page_of(coordinator_client, ailsa)
    assert "<h1>Ailsa" in html
    assert "Ailsa Munro" in html
    assert f'href="/admin/volunteers/volunteer/{ailsa.pk}/change/"' in html


def test_an_unknown_volunteer_is_a_404(coordinator_client):
    assert coordinator_client.get("/volunteers/999999/").status_code == 404


# What it shows ----------------------------------------------------------------------------


def test_training_shows_the_state_and_the_gaps_by_the_volunteers_rules(coordinator_client):
    runs_out = timezone.localdate() + datetime.timedelta(days=10)
    expiring = trained_but(VolunteerFactory(), "PVG", expires_on=runs_out)
    html = section(page_of(coordinator_client, expiring), "training-heading")
    assert "Expiring soon" in html
    assert f"runs out on {runs_out:%-d %B %Y}" in html

    untrained = VolunteerFactory()
    html = section(page_of(coordinator_client, untrained), "training-heading")
    assert "Missing or expired" in html
    assert "cannot be matched until" in html
    assert "no record" in html
    assert "No training recorded." in html

    trained = fully_trained(VolunteerFactory())
    html = section(page_of(coordinator_client, trained), "training-heading")
    assert "Complete" in html
    assert "every required course and check is current" in html
    assert "Gaps" not in html


def test_availability_is_a_week_grid_in_words(coordinator_client, ailsa):
    AvailabilityWindowFactory(
        volunteer=ailsa, weekday=0, starts_at=datetime.time(10), ends_at=datetime.time(14)
    )
    AvailabilityWindowFactory(
        volunteer=ailsa, weekday=3, starts_at=datetime.time(18), ends_at=datetime.time(20)
    )
    html = section(page_of(coordinator_client, ailsa), "availability-heading")
    assert "<table" in html and '<caption id="availability-table-caption">' in html
    assert html.count('<th scope="row">') == 7
    monday = html.split('<th scope="row">Monday</th>')[1].split("</tr>")[0]
    assert "Free 10:00–12:00" in monday
    assert "Free 12:00–14:00" in monday
    assert monday.count("Not free") == 1  # the evening
    thursday = html.split('<th scope="row">Thursday</th>')[1].split("</tr>")[0]
    assert "Free 18:00–20:00" in thursday
    assert "6 hours a week" in html
    # No one is free early or late, so those bands are left out.
    assert "Early" not in html and "Late" not in html


def test_a_volunteer_without_availability_is_told_so(coordinator_client, ailsa):
    html = section(page_of(coordinator_client, ailsa), "availability-heading")
    assert "No availability recorded." in html
    assert html.count("Not free") == 21


def test_absences_ahead_and_past(coordinator_client, ailsa):
    today = timezone.localdate()
    AbsenceFactory(
        volunteer=ailsa, starts_on=today, ends_on=today + datetime.timedelta(days=3), reason="Ill"
    )
    AbsenceFactory(
        volunteer=ailsa,
        starts_on=today - datetime.timedelta(days=40),
        ends_on=today - datetime.timedelta(days=30),
        reason="Holiday in Arran",
    )
    html = section(page_of(coordinator_client, ailsa), "absences-heading")
    ahead, past = html.split('id="absences-past-heading"')
    assert "Away now" in ahead and "Ill" in ahead
    assert "Holiday in Arran" in past


def test_matches_active_and_past(coordinator_client, ailsa):
    active = MatchFactory(volunteer=ailsa, active=True, peer__preferred_name="Morag")
    ended = MatchFactory(volunteer=ailsa, active=True, peer__preferred_name="Iona")
    Match.objects.filter(pk=ended.pk).update(
        status=Match.Status.ENDED, ended_on=timezone.localdate(), end_reason="Moved away"
    )
    html = section(page_of(coordinator_client, ailsa), "matches-heading")
    open_ones, past = html.split('id="matches-past-heading"')
    assert f"{active.peer.reference} (Morag): active since" in open_ones
    assert f"{ended.peer.reference} (Iona)" in past
    assert "Moved away" in past
    assert "Supports</dt><dd>1 of at most 2 people" in page_of(coordinator_client, ailsa)


def test_sessions_say_where_their_confirmation_stands_in_words(coordinator_client, ailsa):
    confirmed = upcoming(ailsa, 1, 10)
    Session.objects.filter(pk=confirmed.pk).update(
        status=Session.Status.CONFIRMED, confirmed_at=timezone.now()
    )
    awaiting = reminded(upcoming(ailsa, 2, 10))
    done = completed(ailsa, days_ago=7, hours="1.5")
    cancelled = upcoming(ailsa, 3, 10)
    Session.objects.filter(pk=cancelled.pk).update(
        status=Session.Status.CANCELLED, outcome_notes="Peer unwell"
    )
    html = section(page_of(coordinator_client, ailsa), "sessions-heading")
    ahead, past = html.split('id="sessions-past-heading"')
    assert f'id="session-{confirmed.pk}"' in ahead
    assert "Confirmed" in ahead
    assert f'id="session-{awaiting.pk}"' in ahead
    assert "Awaiting reply: reminded, not answered yet" in ahead
    assert f'id="session-{done.pk}"' in past
    assert "Completed, 1.5 hours" in past
    assert f'id="session-{cancelled.pk}"' in past
    assert "Cancelled" in past and "Peer unwell" in past


def test_hours_per_month_for_the_last_twelve_months(coordinator_client, ailsa, time_machine):
    time_machine.move_to(at(0, 12).replace(month=6, day=15), tick=False)
    completed(ailsa, days_ago=3, hours="1.5")
    completed(ailsa, days_ago=4, hours="2")
    completed(ailsa, days_ago=40, hours="1")
    completed(ailsa, days_ago=800, hours="3")
    html = section(page_of(coordinator_client, ailsa), "hours-heading")
    assert "7.5 hours in 4 completed sessions in all." in html
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>(\d+)</td><td>([\d.]+)</td></tr>', html)
    assert len(rows) == 12
    year = timezone.localdate().year
    assert rows[-1] == (f"June {year}", "2", "3.5")
    assert rows[-2] == (f"May {year}", "1", "1")
    assert rows[0] == (f"July {year - 1}", "0", "0")
    assert "<td>4.5</td>" in html.split("<tfoot>")[1]


def test_wellbeing_is_an_accessible_chart_with_its_figures_in_words(coordinator_client, ailsa):
    check_in(ailsa, 3, 4)
    check_in(ailsa, 2, None)
    check_in(ailsa, 1, 2)
    check_in(ailsa, 0, 3)
    html = section(page_of(coordinator_client, ailsa), "wellbeing-heading")
    svg = html.split("<svg")[1].split("</svg>")[0]
    assert 'role="img"' in svg
    assert 'aria-labelledby="wellbeing-chart-title wellbeing-chart-desc"' in svg
    assert '<title id="wellbeing-chart-title">' in svg
    desc = svg.split('<desc id="wellbeing-chart-desc">')[1].split("</desc>")[0]
    assert ": 4;" in desc and ": no answer;" in desc and ": 2;" in desc and ": 3." in desc
    assert svg.count("<circle") == 3
    assert svg.count("chart-point-low") == 1
    assert svg.count('class="chart-missing"') == 1
    table = html.split("<table>")[1]
    assert table.count("of 5</td>") == 3
    assert "No answer" in table
    assert "Asked each week how they are doing" in html


def test_wellbeing_without_check_ins_says_so_and_draws_nothing(coordinator_client):
    volunteer = VolunteerFactory()
    html = section(page_of(coordinator_client, volunteer), "wellbeing-heading")
    assert "<svg" not in html
    assert "No check-in in the last 12 weeks." in html
    assert "they have not opted in" in html


def test_texts_both_ways_with_their_delivery_state(coordinator_client, ailsa):
    phone = str(ailsa.phone)
    delivered = services.send_sms(phone, "See you Tuesday at 10.", topic="test")
    Message.objects.filter(pk=delivered.pk).update(
        status=Message.Status.DELIVERED, sent_at=timezone.now()
    )
    failed = services.send_sms(phone, "Reminder for Friday.", topic="test")
    Message.objects.filter(pk=failed.pk).update(
        status=Message.Status.UNDELIVERED, error="The phone was switched off."
    )
    reply, _ = services.receive(
        sid=f"SMV{next(_sids):031d}", from_number=phone, to_number="+447700900999", body="ok!"
    )
    services.send_sms(str(VolunteerFactory().phone), "Someone else entirely.", topic="test")
    html = section(page_of(coordinator_client, ailsa), "texts-heading")
    assert "See you Tuesday at 10." in html and "Delivered" in html
    assert "Reminder for Friday." in html
    assert "Not delivered (The phone was switched off.)" in html
    assert "From Ailsa" in html and "ok!" in html
    assert f'<a href="/inbox/#reply-{reply.pk}">Received: waiting in the inbox</a>' in html
    assert "Someone else entirely." not in html
    # Newest first.
    assert html.index("ok!") < html.index("See you Tuesday")


def test_the_texts_both_ways_are_found_by_an_index_on_each_number():
    """The text history asks for the texts sent to the number and those received from it,
    newest first: each side has an index led by its number, so neither scans every text."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Message._meta.db_table)
    leading = {
        tuple(each["columns"][:2]) for each in found.values() if each["index"] and each["columns"]
    }
    assert ("to_number", "created_at") in leading
    assert ("from_number", "created_at") in leading


def test_an_opted_out_volunteer_is_said_to_be_unable_to_be_texted(coordinator_client, ailsa):
    record_opt_out(str(ailsa.phone), word="STOP")
    assert "Cannot be texted: they opted out (STOP)" in page_of(coordinator_client, ailsa)


def test_a_volunteer_without_a_phone_has_no_texts(coordinator_client):
    volunteer = VolunteerFactory(phone=None)
    html = page_of(coordinator_client, volunteer)
    assert "No phone number on record, so no texts." in html


def test_the_today_page_and_search_link_here(coordinator_client, ailsa):
    upcoming(ailsa, 1, 10)
    assert (
        f'<a href="/volunteers/{ailsa.pk}/">Ailsa</a>'
        in coordinator_client.get("/").content.decode()
    )
    found = coordinator_client.get("/search/?q=Ailsa").content.decode()
    assert f'href="/volunteers/{ailsa.pk}/"' in found


def test_the_page_is_labelled_ordered_and_has_nothing_inline(coordinator_client, ailsa):
    check_in(ailsa, 0, 4)
    AvailabilityWindowFactory(volunteer=ailsa)
    fully_trained(ailsa)
    upcoming(ailsa, 1, 10)
    response = coordinator_client.get(f"/volunteers/{ailsa.pk}/")
    html = response.content.decode()
    assert html.count("<h1>") == 1
    levels = [int(level) for level in re.findall(r"<h([1-6])\b", html)]
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert "<style" not in html and not re.search(r"\sstyle=", html)
    assert not re.search(r"<script\b[^>]*>(?!</script>)", html)
    assert not re.search(r"\son[a-z]+=", html)
    # Each table that scrolls sideways is a region of its own, named by its caption: named
    # by its section's heading it would be a second landmark of the same name.
    sections = set(re.findall(r'<section aria-labelledby="([^"]+)"', html))
    regions = re.findall(r'<div class="table-scroll"[^>]*>', html)
    assert len(regions) == 4
    for region in regions:
        assert 'role="region"' in region
        name = re.search(r'aria-labelledby="([^"]+)"', region)[1]
        assert name not in sections, region


# Queries ----------------------------------------------------------------------------------


def _queries(client, volunteer):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/volunteers/{volunteer.pk}/").status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_rows_shown(coordinator_client, ailsa):
    """One of each, then twenty sessions, texts and wellbeing answers (and more of the rest):
    the page reads them in the same number of queries."""
    phone = str(ailsa.phone)
    trained_but(ailsa, "PVG", expires_on=timezone.localdate() + datetime.timedelta(days=5))
    AvailabilityWindowFactory(volunteer=ailsa)
    AbsenceFactory(volunteer=ailsa)
    upcoming(ailsa, 1, 10)
    completed(ailsa, days_ago=3)
    check_in(ailsa, 0, 4)
    services.send_sms(phone, "Hello", topic="test")
    one = _queries(coordinator_client, ailsa)

    match = MatchFactory(volunteer=ailsa, active=True)
    for n in range(19):
        upcoming(ailsa, 2 + n % 5, 9 + n // 5, match=match)
        completed(ailsa, days_ago=10 + 20 * n, match=match)
        services.send_sms(phone, f"Text {n}", topic="test")
        AvailabilityWindowFactory(
            volunteer=ailsa,
            weekday=n % 7,
            starts_at=datetime.time(13 + n // 7),
            ends_at=datetime.time(14 + n // 7),
        )
    for weeks_ago in range(1, 12):
        check_in(ailsa, weeks_ago, weeks_ago % 5 + 1)
    for n in range(5):
        day = timezone.localdate() - datetime.timedelta(days=100 + 10 * n)
        AbsenceFactory(volunteer=ailsa, starts_on=day, ends_on=day)
    html = page_of(coordinator_client, ailsa)
    assert html.count('<li class="card" id="session-') == 40
    assert html.count('<li class="sms-row') == 20
    assert html.count("<circle") == 12
    assert _queries(coordinator_client, ailsa) == one
