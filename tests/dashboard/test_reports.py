"""The Reports page: each report's figures over a date range, counted in UK months, drawn as
a chart with the same figures in a table and in its CSV; the range checked with clear words;
hostile area names harmless in the page and in a spreadsheet; a fixed number of queries."""

import csv
import datetime
import html
import io
import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from community.models import Area
from matching.models import Match, Session
from messaging.models import Message
from peers.models import Peer
from tests.factories import (
    MatchFactory,
    PeerFactory,
    SessionFactory,
    TrainingRecordFactory,
    VolunteerFactory,
    course,
    fully_trained,
)
from volunteers.models import Course, Volunteer, VolunteerStatusChange

pytestmark = pytest.mark.django_db

UK = timezone.get_default_timezone()
SLUGS = [
    "sessions",
    "hours",
    "confirmations",
    "reply-time",
    "peers-by-area",
    "wait-to-first-match",
    "training-compliance",
]


def uk(year, month, day, hour=12, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=UK)


@pytest.fixture(autouse=True)
def _mid_june_2026(time_machine):
    time_machine.move_to(uk(2026, 6, 15, 12), tick=False)


@pytest.fixture
def match():
    return MatchFactory(active=True)


def session(starts_at, status=Session.Status.COMPLETED, *, match, hours=None, **fields):
    if status == Session.Status.COMPLETED and hours is None:
        hours = Decimal("1")
    return SessionFactory(
        match=match,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=1),
        status=status,
        hours=hours,
        **fields,
    )


def page(client, query=""):
    response = client.get(f"/reports/{query}")
    return response.status_code, response.content.decode()


def section(page_html, slug):
    return page_html.split(f'id="report-{slug}"')[1].split("</section>")[0]


def csv_rows(client, slug, start, end):
    response = client.get(f"/reports/{slug}.csv?from={start}&to={end}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


def table_rows(section_html):
    """The table's rows as text: the label, then the figures; "–" ("none" to a screen
    reader) as ""."""
    body = section_html.split("<tbody>")[1].split("</tbody>")[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        cells = [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]
        rows.append(["" if cell == "–none" else cell for cell in cells])
    return rows


def month_words(key):
    """ "2026-03" as the table writes it: "March 2026"."""
    return datetime.datetime.strptime(key, "%Y-%m").strftime("%B %Y")


# Who may open it ---------------------------------------------------------------------------

URLS = ["/reports/", "/reports/sessions.csv?from=2026-01-01&to=2026-06-15"]


@pytest.mark.parametrize("url", URLS)
def test_anonymous_callers_are_sent_to_sign_in(anonymous_client, url):
    response = anonymous_client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(url)}"


@pytest.mark.parametrize("url", URLS)
def test_a_volunteer_is_refused(volunteer_client, url):
    response = volunteer_client.get(url)
    assert response.status_code == 403
    assert "partner app" in response.content.decode()


@pytest.mark.parametrize("url", URLS)
def test_staff_outside_the_coordinators_group_are_refused(staff_client, url):
    response = staff_client.get(url)
    assert response.status_code == 403
    assert "not in the Coordinators group" in response.content.decode()


@pytest.mark.parametrize("url", URLS)
def test_a_coordinator_opens_the_reports_and_their_csv(coordinator_client, url):
    assert coordinator_client.get(url).status_code == 200


def test_the_navigation_leads_to_the_reports_after_the_inbox(coordinator_client):
    _, today = page(coordinator_client)
    nav = today.split('aria-label="Main"')[1].split("</nav>")[0]
    assert nav.index(">Inbox<") < nav.index('href="/reports/"')
    assert 'href="/reports/" aria-current="page">Reports' in nav


# The page ----------------------------------------------------------------------------------


def test_an_empty_database_renders_every_report_with_zero_months(coordinator_client):
    status, body = page(coordinator_client)
    assert status == 200
    for slug in SLUGS:
        assert f'id="report-{slug}"' in body
        assert f'href="/reports/{slug}.csv?from=2025-07-01&amp;to=2026-06-15"' in body
    sessions = table_rows(section(body, "sessions"))
    assert [row[0] for row in sessions][:2] == ["July 2025", "August 2025"]
    assert len(sessions) == 12 and all(row[1:] == ["0", "0", "0"] for row in sessions)
    assert "nobody is waiting" in section(body, "peers-by-area")
    training = table_rows(section(body, "training-compliance"))
    assert training[0] == ["31 July 2025", "0", "0", ""]
    assert training[-1] == ["15 June 2026", "0", "0", ""]


def test_each_chart_is_an_image_with_a_title_and_a_description(coordinator_client, match):
    session(uk(2026, 5, 4, 10), match=match)
    _, body = page(coordinator_client)
    for slug in SLUGS[:4]:
        part = section(body, slug)
        svg = re.search(r"<svg[^>]*>", part).group()
        assert 'role="img"' in svg and 'viewBox="0 0 400 ' in svg
        assert f'aria-labelledby="chart-{slug}-title chart-{slug}-desc"' in svg
        assert f'<title id="chart-{slug}-title">' in part
        assert f'<desc id="chart-{slug}-desc">' in part
    assert "1 completed, 0 no show and 0 cancelled in all" in section(body, "sessions")


def test_the_page_has_no_inline_style_or_script(coordinator_client, match):
    session(uk(2026, 5, 4, 10), match=match)
    _, body = page(coordinator_client)
    assert "<style" not in body and not re.search(r"\sstyle=", body)
    assert not re.search(r"<script\b[^>]*>(?!</script>)", body)
    assert not re.search(r"\son[a-z]+=", body)


# The date range ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("?from=2026-05-01&to=2026-01-01", "“To” (1 January 2026) is before “From” (1 May 2026)"),
        ("?from=1 May&to=2026-06-01", "That is not a date: give it as year-month-day"),
        ("?from=2026-02-30&to=2026-06-01", "That is not a date"),
        ("?from=&to=2026-06-01", "Say which day the reports run from"),
        ("?from=2026-01-01&to=2026-06-16", "Today (15 June 2026) at the latest"),
        ("?from=2023-05-01&to=2026-06-01", "At most 36 months at a time; this range covers 38"),
        ("?from=0001-01-01&to=2026-06-01", "1 January 2000 at the earliest"),
        ("?from=1999-12-01&to=1999-12-31", "1 January 2000 at the earliest"),
        ("?from=" + "9" * 5000 + "&to=2026-06-01", "That is not a date"),
    ],
)
def test_a_range_that_cannot_be_used_is_refused_with_words_on_the_page(
    coordinator_client, query, words
):
    status, body = page(coordinator_client, query)
    assert status == 400
    assert html.escape(words, quote=False) in body or words in body
    assert "<svg" not in body
    assert 'aria-invalid="true"' in body


def test_a_csv_of_a_range_that_cannot_be_used_says_why(coordinator_client):
    response = coordinator_client.get("/reports/hours.csv?from=2026-05-01&to=2026-01-01")
    assert response.status_code == 400
    assert "is before “From”" in response.content.decode()


def test_an_unknown_report_is_not_found(coordinator_client):
    assert coordinator_client.get("/reports/payroll.csv").status_code == 404


def test_hostile_text_in_the_range_is_not_echoed_as_markup(coordinator_client):
    status, body = page(coordinator_client, '?from="><script>alert(1)</script>&to=2026-06-01')
    assert status == 400
    assert "<script>alert(1)</script>" not in body


def test_a_one_day_range_is_one_month(coordinator_client, match):
    session(uk(2026, 3, 10, 10), match=match)
    session(uk(2026, 3, 11, 10), match=match)
    assert csv_rows(coordinator_client, "sessions", "2026-03-10", "2026-03-10") == [
        ["Month", "Completed", "No show", "Cancelled"],
        ["2026-03", "1", "0", "0"],
    ]


# Sessions and hours per month, in UK months --------------------------------------------------


@pytest.fixture
def around_the_clock_change(match):
    """Sessions either side of UK midnights, around the clocks going forward (29 March 2026)."""
    session(uk(2026, 2, 28, 23, 30), match=match)  # February, out of the range
    session(uk(2026, 3, 29, 0, 30), match=match, hours=Decimal("2"))  # GMT, before the change
    session(uk(2026, 3, 31, 23, 30), match=match)  # the last day of March, 22:30 UTC
    session(uk(2026, 4, 1, 0, 30), Session.Status.NO_SHOW, match=match)  # 23:30 UTC on 31 March
    session(uk(2026, 4, 30, 23, 30), match=match, hours=Decimal("1.5"))
    session(uk(2026, 5, 1, 0, 30), Session.Status.CANCELLED, match=match)
    session(uk(2026, 6, 1, 0, 30), match=match)  # 23:30 UTC on 31 May: June, out of the range


def test_sessions_are_counted_in_the_uk_month_they_start(
    coordinator_client, around_the_clock_change
):
    assert csv_rows(coordinator_client, "sessions", "2026-03-01", "2026-05-31") == [
        ["Month", "Completed", "No show", "Cancelled"],
        ["2026-03", "2", "0", "0"],
        ["2026-04", "1", "1", "0"],
        ["2026-05", "0", "0", "1"],
    ]


def test_the_range_starts_and_ends_at_uk_midnight(coordinator_client, around_the_clock_change):
    assert csv_rows(coordinator_client, "sessions", "2026-04-01", "2026-04-30")[1:] == [
        ["2026-04", "1", "1", "0"]
    ]


def test_hours_are_those_of_completed_sessions_per_uk_month(
    coordinator_client, around_the_clock_change
):
    assert csv_rows(coordinator_client, "hours", "2026-02-01", "2026-05-31") == [
        ["Month", "Hours", "Completed sessions"],
        ["2026-02", "1", "1"],
        ["2026-03", "3", "2"],
        ["2026-04", "1.5", "1"],
        ["2026-05", "0", "0"],
    ]


def test_the_sessions_chart_draws_the_figures_of_its_csv(
    coordinator_client, around_the_clock_change
):
    _, body = page(coordinator_client, "?from=2026-03-01&to=2026-05-31")
    bars = re.findall(r"<rect[^>]*><title>([^<]*)</title>", section(body, "sessions"))
    assert sorted(bars) == sorted(
        [
            "March 2026: completed 2 sessions",
            "April 2026: completed 1 session",
            "April 2026: no show 1 session",
            "May 2026: cancelled 1 session",
        ]
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_the_csv_holds_the_tables_figures(coordinator_client, around_the_clock_change, slug):
    PeerFactory()  # someone waiting, so that the areas have a table
    _, body = page(coordinator_client, "?from=2026-01-01&to=2026-06-15")
    table = table_rows(section(body, slug))
    rows = csv_rows(coordinator_client, slug, "2026-01-01", "2026-06-15")
    assert len(rows) == len(table) + 1
    for csv_row, table_row in zip(rows[1:], table, strict=True):
        assert csv_row[1:] == table_row[1:]
        if slug == "training-compliance":
            day = datetime.date.fromisoformat(csv_row[0])
            assert table_row[0] == f"{day.day} {day:%B %Y}"
        elif slug != "peers-by-area":
            assert table_row[0] == month_words(csv_row[0])


def test_the_csv_is_an_attachment_named_for_the_report_and_range(coordinator_client):
    response = coordinator_client.get("/reports/reply-time.csv?from=2026-01-01&to=2026-03-31")
    assert response["Content-Disposition"] == (
        'attachment; filename="peerpath-reply-time-2026-01-01-to-2026-03-31.csv"'
    )


# Confirmations and how fast volunteers reply ------------------------------------------------


def reminded(sess, *, sent_at, replied_after=None, status=Message.Status.DELIVERED):
    phone = str(sess.match.volunteer.phone)
    reminder = Message.objects.create(
        direction=Message.Direction.OUTBOUND,
        to_number=phone,
        body="Reminder: reply YES or NO",
        status=status,
        topic="session.reminder",
        sent_at=sent_at,
    )
    if replied_after is not None:
        reminder.answered_by = Message.objects.create(
            direction=Message.Direction.INBOUND,
            to_number="+447700900999",
            from_number=phone,
            body="YES",
            status=Message.Status.RECEIVED,
            created_at=sent_at + replied_after,
        )
        reminder.save(update_fields=["answered_by"])
    sess.reminder = reminder
    sess.save(update_fields=["reminder"])
    return sess


@pytest.fixture
def reminders(match):
    minutes = datetime.timedelta(minutes=1)
    day_before = datetime.timedelta(days=1)

    def confirmed(starts_at, status=Session.Status.COMPLETED):
        return session(starts_at, status, match=match, confirmed_at=starts_at - day_before)

    for starts_at, wait in ((uk(2026, 5, 5, 10), 30), (uk(2026, 5, 31, 23, 30), 90)):
        reminded(confirmed(starts_at), sent_at=starts_at - day_before, replied_after=wait * minutes)
    no_show = session(uk(2026, 5, 12, 10), Session.Status.NO_SHOW, match=match)
    reminded(no_show, sent_at=uk(2026, 5, 11, 10))  # asked, never confirmed
    cancelled = session(uk(2026, 5, 13, 10), Session.Status.CANCELLED, match=match)
    reminded(cancelled, sent_at=uk(2026, 5, 12, 10))
    failed = session(uk(2026, 5, 14, 10), Session.Status.SCHEDULED, match=match)
    reminded(failed, sent_at=uk(2026, 5, 13, 10), status=Message.Status.FAILED)
    confirmed(uk(2026, 5, 20, 10))  # confirmed through the office, never asked by text
    later_today = session(uk(2026, 6, 15, 18), Session.Status.SCHEDULED, match=match)
    reminded(later_today, sent_at=uk(2026, 6, 14, 18))  # still awaiting its answer
    early_june = confirmed(uk(2026, 6, 1, 0, 30))  # 23:30 UTC on 31 May
    reminded(early_june, sent_at=uk(2026, 5, 31, 0, 30), replied_after=5 * minutes)


def test_the_confirmation_rate_is_the_share_of_reminded_sessions_confirmed(
    coordinator_client, reminders
):
    assert csv_rows(coordinator_client, "confirmations", "2026-05-01", "2026-06-15") == [
        ["Month", "Reminders sent", "Confirmed", "Confirmed (%)"],
        ["2026-05", "3", "2", "66.7"],
        ["2026-06", "1", "1", "100"],
    ]


def test_reply_time_is_the_mean_from_reminder_to_reply(coordinator_client, reminders):
    assert csv_rows(coordinator_client, "reply-time", "2026-04-01", "2026-06-15") == [
        ["Month", "Replies", "Mean minutes to reply"],
        ["2026-04", "0", ""],
        ["2026-05", "2", "60"],
        ["2026-06", "1", "5"],
    ]


def test_a_month_without_reminders_has_no_rate_drawn(coordinator_client, reminders):
    _, body = page(coordinator_client, "?from=2026-04-01&to=2026-06-15")
    part = section(body, "confirmations")
    dots = re.findall(r"<circle[^>]*><title>([^<]*)</title>", part)
    assert dots == ["May 2026: 66.7%", "June 2026: 100%"]
    assert table_rows(part)[0] == ["April 2026", "0", "0", ""]
    assert "3 of 4 reminded sessions confirmed in all (75%)" in part


# Waits from referral to a first match -------------------------------------------------------


def approved(peer, started_on, *, ended_on=None):
    if ended_on is not None:
        return MatchFactory(
            peer=peer, status=Match.Status.ENDED, started_on=started_on, ended_on=ended_on
        )
    return MatchFactory(peer=peer, status=Match.Status.ACTIVE, started_on=started_on)


def test_the_wait_is_from_referral_to_the_first_match_approved(coordinator_client):
    twice = PeerFactory(status=Peer.Status.MATCHED, referred_on=datetime.date(2025, 12, 20))
    approved(twice, datetime.date(2026, 1, 9), ended_on=datetime.date(2026, 2, 1))  # 20 days
    approved(twice, datetime.date(2026, 3, 1))  # a second match: not a first
    once = PeerFactory(status=Peer.Status.MATCHED, referred_on=datetime.date(2026, 1, 1))
    approved(once, datetime.date(2026, 1, 31))  # 30 days, on the month's last day
    spring = PeerFactory(status=Peer.Status.MATCHED, referred_on=datetime.date(2026, 2, 1))
    approved(spring, datetime.date(2026, 4, 11))  # 69 days
    earlier = PeerFactory(status=Peer.Status.MATCHED, referred_on=datetime.date(2025, 6, 1))
    approved(earlier, datetime.date(2025, 12, 1), ended_on=datetime.date(2026, 1, 5))
    approved(earlier, datetime.date(2026, 2, 1))  # first matched before the range
    MatchFactory(peer=PeerFactory(referred_on=datetime.date(2026, 1, 1)))  # only proposed
    assert csv_rows(coordinator_client, "wait-to-first-match", "2026-01-01", "2026-04-30") == [
        ["Month", "Peers first matched", "Mean days waited"],
        ["2026-01", "2", "25"],
        ["2026-02", "0", ""],
        ["2026-03", "0", ""],
        ["2026-04", "1", "69"],
    ]


def test_a_referral_dated_after_its_match_keeps_its_figure_and_draws_no_bar(coordinator_client):
    muddled = PeerFactory(status=Peer.Status.MATCHED, referred_on=datetime.date(2026, 2, 10))
    approved(muddled, datetime.date(2026, 2, 1))  # -9 days: the referral typed in late

    assert csv_rows(coordinator_client, "wait-to-first-match", "2026-02-01", "2026-02-28") == [
        ["Month", "Peers first matched", "Mean days waited"],
        ["2026-02", "1", "-9"],
    ]
    page = coordinator_client.get("/reports/?from=2026-02-01&to=2026-02-28").content.decode()
    lengths = re.findall(r'<rect[^>]* (?:height|width)="([^"]+)"', page)
    assert lengths and all(float(length) >= 0 for length in lengths)


# Peers by area, with hostile names -----------------------------------------------------------

HOSTILE = [
    '=HYPERLINK("http://example.org/x","Click")',
    "+SUM(1,2)",
    "-2+3",
    "@cmd",
    '<script>alert("area")</script> & “Ünïcödé” ' + "x" * 40,
]


def an_area(name, index):
    return Area.objects.create(
        name=name,
        slug=f"hostile-{index}",
        council="North Lanarkshire",
        latitude=Decimal("55.86"),
        longitude=Decimal("-4.02"),
    )


@pytest.fixture
def hostile_areas():
    areas = [an_area(name, index) for index, name in enumerate(HOSTILE)]
    for area in areas:
        PeerFactory(area=area, status=Peer.Status.WAITING)
    matched = PeerFactory(area=areas[0], status=Peer.Status.MATCHED)
    approved(matched, datetime.date(2026, 5, 2))
    approved(
        PeerFactory(area=areas[1], status=Peer.Status.MATCHED), datetime.date(2025, 12, 1)
    )  # before the range
    PeerFactory(area=areas[4], status=Peer.Status.PAUSED)  # not waiting
    return areas


def test_peers_are_counted_by_area_matched_in_the_range_and_waiting_today(
    coordinator_client, hostile_areas
):
    PeerFactory()  # waiting in Coatbridge
    rows = csv_rows(coordinator_client, "peers-by-area", "2026-01-01", "2026-06-15")
    assert rows[0] == ["Area", "Matched in the range", "Waiting today"]
    assert {row[0]: row[1:] for row in rows[1:]} == {
        "'" + HOSTILE[0]: ["1", "1"],
        "'" + HOSTILE[1]: ["0", "1"],
        "'" + HOSTILE[2]: ["0", "1"],
        "'" + HOSTILE[3]: ["0", "1"],
        HOSTILE[4]: ["0", "1"],
        "Coatbridge": ["0", "1"],
    }


def test_hostile_area_names_are_text_in_the_page_and_its_svg(coordinator_client, hostile_areas):
    _, body = page(coordinator_client, "?from=2026-01-01&to=2026-06-15")
    part = section(body, "peers-by-area")
    assert "<script>" not in body
    assert "&lt;script&gt;alert(&quot;area&quot;)&lt;/script&gt; &amp; “Ünïcödé”" in part
    labels = re.findall(r'<text class="chart-axis"[^>]*text-anchor="end">([^<]*)</text>', part)
    assert "&lt;script&gt;alert(&quot;…" in labels  # cut short beside its bars, whole in the table
    assert "=HYPERLINK(&quot;htt…" in labels
    titles = re.findall(r"<rect[^>]*><title>([^<]*)</title>", part)
    assert (
        "=HYPERLINK(&quot;http://example.org/x&quot;,&quot;Click&quot;): "
        "matched in the range 1 peer" in titles
    )


# Training compliance over time --------------------------------------------------------------


def since(volunteer, day):
    Volunteer.objects.filter(pk=volunteer.pk).update(created_at=uk(day.year, day.month, day.day))
    return volunteer


def moved(volunteer, *, on, from_status, to_status):
    VolunteerStatusChange.objects.create(
        volunteer=volunteer, from_status=from_status, to_status=to_status, changed_at=on
    )


def test_training_compliance_is_the_share_of_active_volunteers_fully_trained_each_month_end(
    coordinator_client,
):
    long_ago = datetime.date(2025, 6, 1)
    always = since(fully_trained(VolunteerFactory(), completed_on=long_ago), long_ago)
    lapses = since(VolunteerFactory(), long_ago)
    for required in Course.objects.filter(required_for_matching=True).exclude(code="NALOXONE"):
        TrainingRecordFactory(volunteer=lapses, course=required, completed_on=long_ago)
    TrainingRecordFactory(
        volunteer=lapses,
        course=course("NALOXONE"),
        completed_on=long_ago,
        expires_on=datetime.date(2026, 2, 10),
    )
    joins = since(VolunteerFactory(status=Volunteer.Status.ACTIVE), long_ago)  # untrained
    moved(joins, on=uk(2026, 2, 15), from_status="in_training", to_status="active")
    leaves = since(
        fully_trained(VolunteerFactory(status=Volunteer.Status.LEFT), completed_on=long_ago),
        long_ago,
    )
    moved(leaves, on=uk(2026, 3, 1, 0, 30), from_status="active", to_status="left")
    since(VolunteerFactory(), datetime.date(2026, 3, 10))  # recorded in March, untrained
    since(VolunteerFactory(status=Volunteer.Status.PAUSED), long_ago)
    assert always and csv_rows(
        coordinator_client, "training-compliance", "2026-01-01", "2026-03-15"
    ) == [
        ["Day", "Active volunteers", "Required training current", "Current (%)"],
        ["2026-01-31", "3", "3", "100"],
        ["2026-02-28", "4", "2", "50"],
        ["2026-03-15", "4", "1", "25"],
    ]


# Queries -------------------------------------------------------------------------------------


def _queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/reports/?from=2025-07-01&to=2026-06-15").status_code == 200
    return len(queries)


def _a_month_of_everything(month, count):
    for index in range(count):
        peer = PeerFactory(referred_on=datetime.date(2025, 6, 1))
        approved(peer, datetime.date(2026, month, 2))
        sess = session(uk(2026, month, 3 + index, 10), match=Match.objects.get(peer=peer))
        reminded(
            sess, sent_at=uk(2026, month, 2 + index, 10), replied_after=datetime.timedelta(hours=1)
        )
        fully_trained(VolunteerFactory(), completed_on=datetime.date(2025, 6, 1))
        PeerFactory(area=an_area(f"Area {month}-{index}", month * 100 + index))


def test_the_query_count_does_not_grow_with_the_rows(coordinator_client, django_assert_num_queries):
    _a_month_of_everything(1, 1)
    few = _queries(coordinator_client)
    _a_month_of_everything(2, 8)
    _a_month_of_everything(3, 8)
    with django_assert_num_queries(few):
        coordinator_client.get("/reports/?from=2025-07-01&to=2026-06-15")


@pytest.mark.parametrize("slug", SLUGS)
def test_a_csvs_query_count_does_not_grow_with_the_rows(
    coordinator_client, django_assert_num_queries, slug
):
    _a_month_of_everything(1, 1)
    few = _csv_queries(coordinator_client, slug)
    _a_month_of_everything(2, 6)
    with django_assert_num_queries(few):
        coordinator_client.get(f"/reports/{slug}.csv?from=2025-07-01&to=2026-06-15")


def _csv_queries(client, slug):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/reports/{slug}.csv?from=2025-07-01&to=2026-06-15").status_code == 200
    return len(queries)
