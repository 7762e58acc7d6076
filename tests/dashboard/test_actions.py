"""The Today page's actions: cancel, reschedule, text the volunteer, handle a follow-up.
Each goes through its service; a refusal is shown on the form and changes nothing; with htmx
the row is answered in place, without it the form posts and the page comes back."""

import datetime

import pytest
from django.utils import timezone

from matching.models import FollowUp, Session
from messaging.models import Message
from messaging.services import COORDINATOR_TEXT_TOPIC, record_opt_out
from tests.api.signed_in_volunteers import HOSTILE_TEXT
from tests.dashboard.posting import post_form
from tests.dashboard.today_data import at, follow_up, session_at
from tests.factories import AbsenceFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def local_input(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def session():
    return session_at(1, 10, match__volunteer__preferred_name="Ailsa")


@pytest.fixture
def open_follow_up():
    return follow_up("a no show", summary="Ailsa's session did not happen: call her")


def action_url(session, action):
    return f"/sessions/{session.pk}/{action}/"


def valid_data(action, session):
    return {
        "cancel": {"reason": "The peer is unwell."},
        "reschedule": {
            "starts_at": local_input(session.starts_at + datetime.timedelta(days=1)),
            "ends_at": local_input(session.ends_at + datetime.timedelta(days=1)),
        },
        "text": {"body": "Can you call the office?"},
    }[action]


# Who may act ------------------------------------------------------------------------------

ACTIONS = ["cancel", "reschedule", "text"]


@pytest.mark.parametrize("action", ACTIONS)
def test_anonymous_callers_are_sent_to_sign_in_and_nothing_changes(
    anonymous_client, session, action
):
    response = anonymous_client.post(action_url(session, action), valid_data(action, session))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    session.refresh_from_db()
    assert session.status == Session.Status.SCHEDULED
    assert not Message.objects.exists()


@pytest.mark.parametrize("who", ["volunteer_client", "staff_client"])
@pytest.mark.parametrize("action", ACTIONS)
def test_volunteers_and_other_staff_are_refused_and_nothing_changes(request, session, action, who):
    response = request.getfixturevalue(who).post(
        action_url(session, action), valid_data(action, session)
    )
    assert response.status_code == 403
    before = session.starts_at
    session.refresh_from_db()
    assert (session.status, session.starts_at) == (Session.Status.SCHEDULED, before)
    assert not Message.objects.exists()


@pytest.mark.parametrize("who", ["anonymous_client", "volunteer_client", "staff_client"])
def test_only_coordinators_handle_follow_ups(request, open_follow_up, who):
    response = request.getfixturevalue(who).post(
        f"/follow-ups/{open_follow_up.pk}/handle/", {"note": "Done"}
    )
    assert response.status_code in {302, 403}
    if who == "anonymous_client":
        assert response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code == 403
    open_follow_up.refresh_from_db()
    assert open_follow_up.is_open


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_is_a_post_only(coordinator_client, session, action):
    assert coordinator_client.get(action_url(session, action)).status_code == 405


def test_an_action_on_a_session_that_does_not_exist_is_a_404(coordinator_client):
    response = coordinator_client.post("/sessions/999999/cancel/", {"reason": "x"})
    assert response.status_code == 404


def test_csrf_is_checked(coordinator, session):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    response = client.post(action_url(session, "cancel"), {"reason": "x"})
    assert response.status_code == 403
    session.refresh_from_db()
    assert session.status == Session.Status.SCHEDULED


# Cancel -----------------------------------------------------------------------------------


def test_cancel_calls_the_session_off_with_its_reason_and_comes_back(coordinator_client, session):
    response = coordinator_client.post(action_url(session, "cancel"), {"reason": "Peer unwell"})
    assert response.status_code == 302
    assert response["Location"] == f"/#session-{session.pk}"
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
    assert session.outcome_notes == "Peer unwell"
    page = coordinator_client.get("/").content.decode()
    assert "The session of Ailsa is cancelled." in page
    assert f'id="session-{session.pk}"' not in page


def test_cancel_with_htmx_answers_the_row_in_place(coordinator_client, session):
    response = coordinator_client.post(
        action_url(session, "cancel"), {"reason": "Peer unwell"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<li class="card" id="session-{session.pk}">')
    assert "Cancelled" in html
    assert "The session of Ailsa is cancelled." in html
    assert "Cancel the session" not in html


def test_cancel_needs_a_reason(coordinator_client, session):
    response = coordinator_client.post(action_url(session, "cancel"), {"reason": "  "})
    assert response.status_code == 400
    assert "Say why the session is cancelled." in response.content.decode()
    session.refresh_from_db()
    assert session.status == Session.Status.SCHEDULED


def test_cancelling_a_cancelled_session_shows_the_services_refusal(coordinator_client, session):
    coordinator_client.post(action_url(session, "cancel"), {"reason": "Peer unwell"})
    coordinator_client.get("/")  # the message saying it was cancelled is shown and gone
    response = coordinator_client.post(action_url(session, "cancel"), {"reason": "Again"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was changed:" in html
    assert "is already cancelled; nothing was changed." in html
    session.refresh_from_db()
    assert session.outcome_notes == "Peer unwell"


def test_a_refusal_with_htmx_answers_the_row_with_the_error(coordinator_client, session):
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    response = coordinator_client.post(action_url(session, "cancel"), {"reason": "x"}, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert html.startswith(f'<li class="card" id="session-{session.pk}">')
    assert "is already cancelled; nothing was changed." in html


# Reschedule -------------------------------------------------------------------------------


def test_reschedule_moves_the_session_for_the_volunteer_to_confirm(coordinator_client, session):
    starts = at(3, 15)
    response = coordinator_client.post(
        action_url(session, "reschedule"),
        {
            "starts_at": local_input(starts),
            "ends_at": local_input(starts + datetime.timedelta(hours=1)),
        },
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.starts_at == starts
    assert session.status == Session.Status.SCHEDULED
    assert "the volunteer is asked to confirm it" in coordinator_client.get("/").content.decode()


def test_the_reschedule_form_offers_the_present_times(coordinator_client, session):
    page = coordinator_client.get("/").content.decode()
    assert f'value="{local_input(session.starts_at)}"' in page


@pytest.mark.parametrize(
    ("starts", "ends", "says", "field"),
    [
        (at(-1, 10), at(-1, 11), "has passed", "starts_at"),
        (at(3, 11), at(3, 10), "must end after it starts", "ends_at"),
        ("tomorrow", at(3, 10), "Enter a valid date/time.", "starts_at"),
    ],
)
def test_a_refused_time_is_shown_beside_its_field_and_nothing_moves(
    coordinator_client, session, starts, ends, says, field
):
    response = coordinator_client.post(
        action_url(session, "reschedule"),
        {
            "starts_at": starts if isinstance(starts, str) else local_input(starts),
            "ends_at": local_input(ends),
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert says in html
    assert f'id="session-{session.pk}-reschedule-{field}_error"' in html
    before = session.starts_at
    session.refresh_from_db()
    assert session.starts_at == before


def test_a_day_the_volunteer_is_away_is_refused_with_the_services_words(
    coordinator_client, session
):
    day = timezone.localdate() + datetime.timedelta(days=4)
    AbsenceFactory(volunteer=session.match.volunteer, starts_on=day, ends_on=day)
    response = coordinator_client.post(
        action_url(session, "reschedule"),
        {"starts_at": local_input(at(4, 10)), "ends_at": local_input(at(4, 11))},
    )
    assert response.status_code == 400
    assert "Ailsa is away from" in response.content.decode()
    before = session.starts_at
    session.refresh_from_db()
    assert session.starts_at == before


def test_a_refused_reschedule_keeps_what_was_typed_and_the_form_open(coordinator_client, session):
    response = coordinator_client.post(
        action_url(session, "reschedule"),
        {"starts_at": local_input(at(-1, 10)), "ends_at": local_input(at(-1, 11))},
    )
    html = response.content.decode()
    assert f'value="{local_input(at(-1, 10))}"' in html
    row = html.split(f'id="session-{session.pk}"')[1]
    assert "<details open>\n      <summary>Reschedule</summary>" in row


# Text the volunteer -----------------------------------------------------------------------


def test_text_the_volunteer_goes_through_the_outbox(coordinator_client, coordinator, session):
    response = coordinator_client.post(action_url(session, "text"), {"body": "Running late?"})
    assert response.status_code == 302
    message = Message.objects.get(topic=COORDINATOR_TEXT_TOPIC)
    assert message.to_number == str(session.match.volunteer.phone)
    assert message.body == "Running late?"
    assert message.context == {
        "volunteer_id": session.match.volunteer_id,
        "session_id": session.pk,
        "sent_by": coordinator.pk,
    }
    assert "The text to Ailsa is on its way." in coordinator_client.get("/").content.decode()


def test_a_text_in_quiet_hours_waits_and_says_so(
    coordinator_client, session, settings, time_machine
):
    settings.SMS_QUIET_HOURS = "21:00-08:00"
    time_machine.move_to(at(0, 22, 30), tick=False)
    coordinator_client.post(action_url(session, "text"), {"body": "Running late?"})
    message = Message.objects.get(topic=COORDINATOR_TEXT_TOPIC)
    assert timezone.localtime(message.send_after).hour == 8
    assert (
        "waits for the end of quiet hours, 08:00 on" in coordinator_client.get("/").content.decode()
    )


def test_a_volunteer_who_opted_out_is_not_texted(coordinator_client, session):
    record_opt_out(str(session.match.volunteer.phone), word="STOP")
    response = coordinator_client.post(action_url(session, "text"), {"body": "Hello"})
    assert response.status_code == 400
    assert "has opted out of texts" in response.content.decode()
    assert not Message.objects.filter(topic=COORDINATOR_TEXT_TOPIC).exists()


def test_a_volunteer_without_consent_is_not_texted(coordinator_client):
    session = session_at(1, 10, match__volunteer__sms_consent=False)
    response = coordinator_client.post(action_url(session, "text"), {"body": "Hello"}, **HTMX)
    assert response.status_code == 400
    assert "has not agreed to texts" in response.content.decode()
    assert not Message.objects.exists()


def test_an_overlong_text_is_refused_beside_the_box(coordinator_client, session):
    response = coordinator_client.post(action_url(session, "text"), {"body": "a" * 481})
    assert response.status_code == 400
    assert f'id="session-{session.pk}-text-body_error"' in response.content.decode()
    assert not Message.objects.exists()


# Follow-ups -------------------------------------------------------------------------------


def test_a_follow_up_is_handled_with_a_note_and_the_page_comes_back(
    coordinator_client, coordinator, open_follow_up
):
    response = coordinator_client.post(
        f"/follow-ups/{open_follow_up.pk}/handle/", {"note": "Phoned her; all well."}
    )
    assert response.status_code == 302
    assert response["Location"] == "/#follow-ups"
    open_follow_up.refresh_from_db()
    assert open_follow_up.handled_note == "Phoned her; all well."
    assert open_follow_up.handled_by == coordinator
    page = coordinator_client.get("/").content.decode()
    assert "Handled: Ailsa&#x27;s session did not happen" in page
    assert f'id="follow-up-{open_follow_up.pk}"' not in page


def test_with_htmx_the_handled_follow_up_is_replaced_in_place(coordinator_client, open_follow_up):
    response = coordinator_client.post(
        f"/follow-ups/{open_follow_up.pk}/handle/", {"note": "Phoned her."}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<li class="card" id="follow-up-{open_follow_up.pk}">')
    assert "Phoned her." in html
    assert "Mark handled" not in html


def test_a_follow_up_needs_a_note(coordinator_client, open_follow_up):
    response = coordinator_client.post(f"/follow-ups/{open_follow_up.pk}/handle/", {"note": ""})
    assert response.status_code == 400
    assert "Say what was done, for the record." in response.content.decode()
    open_follow_up.refresh_from_db()
    assert open_follow_up.is_open


def test_a_follow_up_handled_already_shows_the_services_refusal(coordinator_client, open_follow_up):
    url = f"/follow-ups/{open_follow_up.pk}/handle/"
    coordinator_client.post(url, {"note": "First"})
    coordinator_client.get("/")
    response = coordinator_client.post(url, {"note": "Second"})
    assert response.status_code == 400
    assert "This follow-up was already handled on" in response.content.decode()
    response = coordinator_client.post(url, {"note": "Third"}, **HTMX)
    assert response.status_code == 400
    assert "This follow-up was already handled on" in response.content.decode()
    open_follow_up.refresh_from_db()
    assert open_follow_up.handled_note == "First"
    assert FollowUp.objects.open().count() == 0


# Hostile text -----------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_hostile_text_in_any_box_is_never_a_500(
    coordinator_client, session, open_follow_up, text, htmx
):
    extra = HTMX if htmx else {}
    for url, name in [
        (action_url(session, "text"), "body"),
        (f"/follow-ups/{open_follow_up.pk}/handle/", "note"),
        (action_url(session, "reschedule"), "starts_at"),
        (action_url(session, "cancel"), "reason"),
    ]:
        data = {name: text}
        if name == "starts_at":
            data["ends_at"] = text
        response = post_form(coordinator_client, url, data, **extra)
        assert response.status_code in {200, 302, 400}, (url, response.status_code)
    for message in Message.objects.filter(topic=COORDINATOR_TEXT_TOPIC):
        assert "\x00" not in message.body and "\u202e" not in message.body
