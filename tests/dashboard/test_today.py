"""The Today page: the week's sessions by day with where each confirmation stands, the open
follow-ups most urgent first, and training running out or missing."""

import datetime

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard import today as week
from dashboard.forms import (
    CancelSessionForm,
    RescheduleSessionForm,
    TextVolunteerForm,
    control_ids,
)
from matching.follow_ups import Kind, Urgency
from matching.models import Session
from tests.dashboard.today_data import follow_up, reminded, session_at, trained_but
from tests.factories import VolunteerFactory, fully_trained

pytestmark = pytest.mark.django_db


def today_page(client):
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_sessions_are_listed_by_day_with_who_where_and_when(coordinator_client):
    session = session_at(
        1,
        10,
        match__volunteer__preferred_name="Ailsa",
        match__peer__preferred_name="Morag",
        place="Airdrie library",
    )
    page = today_page(coordinator_client)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert f"Tomorrow, {tomorrow:%A} {tomorrow.day} {tomorrow:%B}" in page
    assert "10:00</time>–<time" in page
    volunteer = session.match.volunteer
    assert (
        f'<a href="/volunteers/{volunteer.pk}/">Ailsa</a> with {session.match.peer.reference} '
        "(Morag)" in page
    )
    assert "In person, Airdrie library" in page


def test_today_is_always_shown_and_days_after_it_without_sessions_take_one_line(
    coordinator_client,
):
    today = timezone.localdate()
    day = [today + datetime.timedelta(days=n) for n in range(8)]

    def heading(date):
        return f"{date:%A} {date.day}"

    page = today_page(coordinator_client)
    assert f"Today, {heading(today)} {today:%B}" in page
    assert page.count("No sessions.") == 1
    assert page.count("No sessions on any of these days.") == 1
    first_month = "" if day[1].month == day[7].month else f" {day[1]:%B}"
    assert f">{heading(day[1])}{first_month} to " in page
    assert f" to {heading(day[7])} {day[7]:%B}</h3>" in page

    session_at(3, 10)
    page = today_page(coordinator_client)
    assert page.count("No sessions on any of these days.") == 2  # days 1-2 and 4-7
    assert f"Today, {heading(today)}" in page
    assert f'id="day-{day[3]:%Y-%m-%d}"' in page
    assert f'id="days-{day[1]:%Y-%m-%d}"' in page and f'id="days-{day[4]:%Y-%m-%d}"' in page


def test_one_day_without_sessions_between_two_with_is_named_alone():
    today = datetime.date(2026, 12, 3)
    days = [week.Day(today + datetime.timedelta(days=n), "") for n in range(8)]
    for n in (0, 1, 3, 4, 5, 6, 7):
        days[n].sessions = ["a session"]

    laid_out = week.folded(days)

    assert [getattr(item, "name", None) for item in laid_out if hasattr(item, "last")] == [
        "Saturday 5 December"
    ]
    assert len(laid_out) == 8


def test_days_without_sessions_across_a_month_end_name_both_months():
    today = datetime.date(2026, 12, 28)
    days = [week.Day(today + datetime.timedelta(days=n), "") for n in range(8)]

    [_, empty] = week.folded(days)

    assert empty.name == "Tuesday 29 December to Monday 4 January"


def test_a_session_after_the_week_or_settled_is_not_listed(coordinator_client):
    later = session_at(8, 10, match__volunteer__preferred_name="Later")
    cancelled = session_at(2, 10, match__volunteer__preferred_name="Gone")
    Session.objects.filter(pk=cancelled.pk).update(status=Session.Status.CANCELLED)
    page = today_page(coordinator_client)
    assert f'id="session-{later.pk}"' not in page
    assert f'id="session-{cancelled.pk}"' not in page


def test_each_session_says_where_its_confirmation_stands(coordinator_client):
    confirmed = session_at(1, 9)
    Session.objects.filter(pk=confirmed.pk).update(
        status=Session.Status.CONFIRMED, confirmed_at=timezone.now()
    )
    declined = session_at(1, 11)
    Session.objects.filter(pk=declined.pk).update(status=Session.Status.DECLINED)
    awaiting = reminded(session_at(1, 13))
    at_risk = reminded(session_at(1, 15))
    Session.objects.filter(pk=at_risk.pk).update(at_risk_since=timezone.now())
    no_texts = session_at(2, 9, match__volunteer__sms_consent=False)
    not_yet = session_at(3, 9)
    page = today_page(coordinator_client)
    for session, words in [
        (confirmed, "Confirmed"),
        (declined, "Declined: needs a new time or cancelling"),
        (awaiting, "Awaiting reply: reminded, not answered yet"),
        (at_risk, "At risk: not confirmed in time"),
        (no_texts, "Cannot be texted: call them"),
        (not_yet, "Not reminded yet"),
    ]:
        row = page.split(f'id="session-{session.pk}"')[1].split("</li>")[0]
        assert words in row, words


def test_a_volunteer_who_cannot_be_texted_is_offered_a_call_not_a_text(coordinator_client):
    session = session_at(1, 9, match__volunteer__sms_consent=False)
    page = today_page(coordinator_client)
    row = page.split(f'id="session-{session.pk}"')[1].split("</li>\n</ul>")[0]
    assert "tel:+447700" in row
    assert "Send the text" not in row
    assert "Cancel the session" in row


def test_follow_ups_are_most_urgent_first_with_low_wellbeing_at_the_top(coordinator_client):
    follow_up("routine", urgency=Urgency.ROUTINE, summary="Routine one")
    follow_up("urgent", urgency=Urgency.URGENT, summary="Urgent one")
    follow_up("wellbeing", kind=Kind.WELLBEING_LOW, urgency=Urgency.URGENT, summary="Low one")
    handled = follow_up("handled", summary="Handled one")
    handled.handled_at = timezone.now()
    handled.save()
    page = today_page(coordinator_client)
    assert page.index("Low one") < page.index("Urgent one") < page.index("Routine one")
    assert "Handled one" not in page


def test_training_running_out_and_missing_is_shown(coordinator_client):
    runs_out = timezone.localdate() + datetime.timedelta(days=10)
    trained_but(VolunteerFactory(preferred_name="Ailsa"), "PVG", expires_on=runs_out)
    VolunteerFactory(preferred_name="Calum")  # no training at all
    fully_trained(VolunteerFactory(preferred_name="Dougie"))
    trained_but(
        VolunteerFactory(preferred_name="Ewan"),
        "NALOXONE",
        expires_on=timezone.localdate() + datetime.timedelta(days=90),
    )
    VolunteerFactory(preferred_name="Fiona", status="paused")
    page = today_page(coordinator_client)
    expiring = page.split('id="expiring-heading"')[1].split('id="unmatchable-heading"')[0]
    unmatchable = page.split('id="unmatchable-heading"')[1]
    assert "Ailsa" in expiring
    assert f"PVG scheme membership (Disclosure Scotland) runs out on {runs_out:%A} " in expiring
    assert "Calum" in unmatchable
    assert "Naloxone administration: no record" in unmatchable
    for name in ["Dougie", "Ewan", "Fiona"]:
        assert name not in expiring and name not in unmatchable


def test_an_empty_day_says_so_in_every_panel(coordinator_client):
    page = today_page(coordinator_client)
    assert "Nothing needs following up." in page
    assert "Nobody’s training or PVG runs out soon." in page


def test_times_are_shown_on_the_uk_clock(coordinator_client, time_machine):
    time_machine.move_to(datetime.datetime(2026, 7, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
    session = session_at(0, 23)  # 22:00 UTC in summer: still today in the UK
    page = today_page(coordinator_client)
    today = page.split("Today, Wednesday 1 July")[1].split("Tomorrow")[0]
    assert f'id="session-{session.pk}"' in today
    assert "23:00</time>" in today


def _queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_rows_shown(coordinator_client):
    """1 session, 1 follow-up and 1 volunteer short of training, then 20, 10 and 5: the page
    reads them in the same number of queries."""
    session_at(0, 9)
    follow_up("first")
    VolunteerFactory()  # no training: cannot be matched
    trained_but(
        VolunteerFactory(), "PVG", expires_on=timezone.localdate() + datetime.timedelta(days=5)
    )
    few = _queries(coordinator_client)

    for n in range(19):
        session = session_at(n % 8, 10 + n // 8)
        if n % 2:
            reminded(session)
    for n in range(9):
        follow_up(f"more-{n}", kind=Kind.WELLBEING_LOW if n % 3 == 0 else Kind.NO_SHOW)
    for n in range(4):
        VolunteerFactory()
        trained_but(
            VolunteerFactory(),
            "NALOXONE",
            expires_on=timezone.localdate() + datetime.timedelta(days=n + 1),
        )
    page = today_page(coordinator_client)
    assert page.count('class="card" id="session-') == 20
    assert page.count('<li class="card urgency-') == 10
    assert _queries(coordinator_client) == few


def test_a_busy_day_lists_its_first_sessions_and_links_to_all_of_them(
    coordinator_client, monkeypatch
):
    monkeypatch.setattr(week, "SESSIONS_PER_DAY", 3)
    busy = [session_at(1, 9 + n) for n in range(5)]
    quiet = session_at(2, 10)
    page = today_page(coordinator_client)
    shown = [session for session in busy if f'id="session-{session.pk}"' in page]
    assert shown == busy[:3]
    assert f'id="session-{quiet.pk}"' in page
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    link = f'href="/?day={tomorrow:%Y-%m-%d}#day-{tomorrow:%Y-%m-%d}"'
    assert "The first 3 of 5 sessions." in page and link in page
    assert page.count("The first 3 of") == 1

    in_full = coordinator_client.get(f"/?day={tomorrow:%Y-%m-%d}").content.decode()
    assert all(f'id="session-{session.pk}"' in in_full for session in busy)
    assert "The first 3 of" not in in_full
    assert "Today and the next seven days: 6 sessions" in in_full


def test_a_day_asked_for_that_is_no_date_shows_the_week_as_usual(coordinator_client):
    session = session_at(1, 9)
    for text in ["nonsense", "2026-13-45", "<script>", "9" * 200]:
        response = coordinator_client.get("/", {"day": text})
        assert response.status_code == 200
        assert f'id="session-{session.pk}"' in response.content.decode()


def test_the_training_lists_show_their_first_volunteers_and_count_the_rest(
    coordinator_client, monkeypatch
):
    monkeypatch.setattr(week, "TRAINING_SHOWN", 2)
    for n in range(3):
        VolunteerFactory(preferred_name=f"Untrained{n}")
        trained_but(
            VolunteerFactory(preferred_name=f"Expiring{n}"),
            "NALOXONE",
            expires_on=timezone.localdate() + datetime.timedelta(days=n + 1),
        )
    page = today_page(coordinator_client)
    expiring = page.split('id="expiring-heading"')[1].split('id="unmatchable-heading"')[0]
    unmatchable = page.split('id="unmatchable-heading"')[1]
    assert "Expiring0" in expiring and "Expiring1" in expiring and "Expiring2" not in expiring
    assert "And 1 more, the latest to run out." in expiring
    assert "/admin/volunteers/volunteer/?status__exact=active&amp;training=expiring" in expiring
    assert "Untrained0" in unmatchable and "Untrained1" in unmatchable
    assert "Untrained2" not in unmatchable
    assert "And 1 more." in unmatchable
    assert "/admin/volunteers/volunteer/?status__exact=active&amp;training=lapsed" in unmatchable


def test_the_follow_ups_panel_lists_the_most_urgent_and_links_to_all_of_them(
    coordinator_client, monkeypatch
):
    monkeypatch.setattr(week, "FOLLOW_UPS_SHOWN", 2)
    urgent = follow_up("urgent", urgency=Urgency.URGENT)
    soon = [follow_up(f"soon-{n}") for n in range(2)]
    page = today_page(coordinator_client)
    panel = page.split('id="follow-ups"')[1].split('id="training-heading"')[0]
    assert f'id="follow-up-{urgent.pk}"' in panel
    assert panel.count('<li class="card urgency-') == 2
    assert "3 open, most urgent first." in panel
    assert "The 2 most urgent of 3." in panel
    assert 'href="/?follow_ups=all#follow-ups">All 3 open follow-ups</a>' in panel

    everything = coordinator_client.get("/", {"follow_ups": "all"}).content.decode()
    panel = everything.split('id="follow-ups"')[1].split('id="training-heading"')[0]
    assert all(f'id="follow-up-{row.pk}"' in panel for row in [urgent, *soon])
    assert "most urgent of" not in panel
    for text in ["some", "<script>", "9" * 200]:
        other = coordinator_client.get("/", {"follow_ups": text}).content.decode()
        assert other.count('<li class="card urgency-') == 2


def test_each_form_is_rendered_once_a_page_and_each_row_gets_its_ids_and_times(
    coordinator_client,
):
    sessions = [session_at(1, 9 + n) for n in range(5)]
    response = coordinator_client.get("/")
    page = response.content.decode()
    rendered = [used.name for used in response.templates].count("dashboard/_form_fields.html")
    assert rendered == 3  # text, reschedule and cancel, however many rows
    for session in sessions:
        forms = [
            ("text", TextVolunteerForm, {}),
            ("cancel", CancelSessionForm, {}),
            ("reschedule", RescheduleSessionForm, {"session": session}),
        ]
        for action, form_class, extra in forms:
            whole = render_to_string(
                "dashboard/_form_fields.html",
                {
                    "form": form_class(
                        auto_id=control_ids(f"session-{session.pk}-{action}"), **extra
                    )
                },
            )
            assert whole in page
