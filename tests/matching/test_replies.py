"""Replies to session reminders: YES confirms, NO declines, anything else reaches the
coordinator, and a reply to a question that no longer counts changes nothing.

The end-to-end tests send the reminder through the real twilio SDK to the local Twilio stub
and bring the reply in through the signed webhook, as Twilio does.
"""

import datetime
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from matching import reminders, services, texts
from matching.models import FollowUp, Session
from messaging import texts as messaging_texts
from messaging.models import Message, OptOut
from tests.factories import MatchFactory
from tests.matching.conftest import HOUR, NOW, texted_session
from tests.messaging.twilio_requests import inbound_params, sign

pytestmark = pytest.mark.django_db
Status = Session.Status

YES_FORMS = ["yes", "Y", "yeah", "yep", "ok", "Yes see you then", "👍", "YES", "Yes!", "ok.", "y "]
NO_FORMS = ["no", "N", "nope", "can't", "cant make it", "sorry no", "NO.", "No!", "Can't"]


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def reminded(run_passes):
    """A session five hours ahead whose volunteer has just been sent the reminder."""
    session = texted_session(NOW + 5 * HOUR)
    run_passes()
    session.refresh_from_db()
    assert session.reminder.status == Message.Status.SENT
    return session


def phone_of(session):
    return session.match.volunteer.phone


def last_text(outbox):
    return outbox[-1]["body"]


@pytest.mark.parametrize("body", YES_FORMS)
def test_yes_in_its_forms_confirms_and_thanks(reminded, text_in, outbox, body):
    reply = text_in(phone_of(reminded), body)
    reminded.refresh_from_db()
    assert reminded.status == Status.CONFIRMED
    assert reminded.confirmed_at == NOW
    assert last_text(outbox) == "Thanks, your session on Mon 23 Nov at 17:00 is confirmed."
    assert not reply.needs_attention
    assert not reminded.reminder.question_open


@pytest.mark.parametrize("body", NO_FORMS)
def test_no_in_its_forms_declines_and_answers_kindly(reminded, text_in, outbox, body):
    reply = text_in(phone_of(reminded), body)
    reminded.refresh_from_db()
    assert reminded.status == Status.DECLINED
    assert last_text(outbox) == texts.declined_text()
    assert "in touch" in last_text(outbox)
    assert not reply.needs_attention


@pytest.mark.parametrize("body", ["CANCEL", "cancel"])
def test_cancel_opts_out_and_never_declines(reminded, text_in, body):
    text_in(phone_of(reminded), body)
    reminded.refresh_from_db()
    assert reminded.status == Status.SCHEDULED
    assert OptOut.objects.current().filter(phone=phone_of(reminded)).exists()


@pytest.mark.parametrize(
    "body", ["What time is it again?", "", "😀", "yes but I can't", "maybe"], ids=repr
)
def test_anything_else_goes_to_the_coordinator_with_the_session(reminded, text_in, outbox, body):
    reply = text_in(phone_of(reminded), body)
    reminded.refresh_from_db()
    assert reminded.status == Status.SCHEDULED
    assert reply.needs_attention
    assert reply.context["session_id"] == reminded.pk
    assert reply.topic == "reply.session.reminder"
    assert last_text(outbox) == messaging_texts.not_understood_text()
    assert reminded.reminder.question_open  # a clear answer may still come


def test_a_reply_from_an_unknown_number_changes_no_session(reminded, text_in, outbox):
    reply = text_in("+447700900777", "YES")
    reminded.refresh_from_db()
    assert reminded.status == Status.SCHEDULED
    assert reply.needs_attention
    assert "session_id" not in reply.context


def test_yes_twice_confirms_once(reminded, text_in, outbox, time_machine):
    text_in(phone_of(reminded), "YES")
    time_machine.move_to(NOW + datetime.timedelta(minutes=10), tick=False)
    second = text_in(phone_of(reminded), "YES")
    reminded.refresh_from_db()
    assert reminded.status == Status.CONFIRMED
    assert reminded.confirmed_at == NOW
    confirmations = [text for text in outbox if "is confirmed" in text["body"]]
    assert len(confirmations) == 1
    # Said again, it was already acted on: nobody needs to read it, nothing more is sent.
    assert "is confirmed" in last_text(outbox)
    assert not second.needs_attention
    assert second.topic == "reply.repeated"


def test_a_different_word_after_the_answer_still_reaches_the_coordinator(
    reminded, text_in, outbox, time_machine
):
    text_in(phone_of(reminded), "YES")
    time_machine.move_to(NOW + datetime.timedelta(minutes=10), tick=False)
    second = text_in(phone_of(reminded), "no sorry")
    reminded.refresh_from_db()
    assert reminded.status == Status.CONFIRMED
    assert second.needs_attention
    assert last_text(outbox) == messaging_texts.not_understood_text()


def test_the_same_answer_half_a_day_later_reaches_the_coordinator(
    reminded, text_in, outbox, time_machine
):
    text_in(phone_of(reminded), "YES")
    time_machine.move_to(NOW + datetime.timedelta(hours=13), tick=False)
    later = text_in(phone_of(reminded), "YES")
    assert later.needs_attention


def test_a_reply_after_the_question_expired_changes_nothing(
    reminded, text_in, outbox, time_machine
):
    time_machine.move_to(reminded.starts_at + datetime.timedelta(minutes=5), tick=False)
    text_in(phone_of(reminded), "YES")
    reminded.refresh_from_db()
    assert reminded.status == Status.SCHEDULED
    assert last_text(outbox) == messaging_texts.not_understood_text()


def test_a_reply_after_the_session_was_cancelled_changes_nothing(
    reminded, text_in, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_session(reminded)
    text_in(phone_of(reminded), "YES")
    reminded.refresh_from_db()
    assert reminded.status == Status.CANCELLED
    assert reminded.confirmed_at is None
    assert last_text(outbox) == messaging_texts.not_understood_text()


def test_a_reply_after_the_session_was_rescheduled_changes_nothing(reminded, text_in, outbox):
    services.reschedule_session(
        reminded, starts_at=NOW + 30 * HOUR, ends_at=NOW + 31 * HOUR, mode="phone", place=""
    )
    text_in(phone_of(reminded), "YES")
    reminded.refresh_from_db()
    assert reminded.status == Status.SCHEDULED
    assert reminded.confirmed_at is None


def test_yes_to_the_fresh_reminder_of_a_rescheduled_session_confirms_the_new_time(
    reminded, run_passes, text_in, outbox
):
    services.reschedule_session(
        reminded, starts_at=NOW + 6 * HOUR, ends_at=NOW + 7 * HOUR, mode="phone", place=""
    )
    run_passes()
    text_in(phone_of(reminded), "yes")
    reminded.refresh_from_db()
    assert reminded.status == Status.CONFIRMED
    assert last_text(outbox) == "Thanks, your session on Mon 23 Nov at 18:00 is confirmed."


def test_a_question_about_a_session_changed_since_it_was_asked_is_answered_politely(
    reminded, text_in, outbox
):
    # Changed by hand in the admin, without its reminder being closed.
    Session.objects.filter(pk=reminded.pk).update(status=Status.CANCELLED)
    reply = text_in(phone_of(reminded), "YES")
    reminded.refresh_from_db()
    assert reminded.status == Status.CANCELLED
    assert last_text(outbox) == texts.no_longer_open_text()
    assert not reply.needs_attention


def test_no_after_the_office_confirmed_the_session_reaches_the_coordinator(
    reminded, text_in, outbox
):
    # The office recorded the volunteer's answer: the reminder asks no more, so a later NO is
    # a change of mind for a person to read, not an answer that declines by itself.
    services.confirm_session(reminded)
    reply = text_in(phone_of(reminded), "sorry no")
    reminded.refresh_from_db()
    assert reminded.status == Status.CONFIRMED
    assert reply.needs_attention
    assert last_text(outbox) == messaging_texts.not_understood_text()


def test_yes_after_the_office_confirmed_the_session_changes_nothing(reminded, text_in, outbox):
    services.confirm_session(reminded)
    reply = text_in(phone_of(reminded), "yes")
    reminded.refresh_from_db()
    assert reminded.status == Status.CONFIRMED
    assert not reminded.reminder.question_open
    assert reply.needs_attention
    assert not FollowUp.objects.filter(session=reminded).exists()


def test_two_sessions_hours_apart_are_asked_one_after_the_other(run_passes, text_in, outbox):
    first = texted_session(NOW + 5 * HOUR)
    volunteer = first.match.volunteer
    second = texted_session(NOW + 8 * HOUR, match__volunteer=volunteer)
    run_passes()
    assert len(outbox) == 1
    assert "at 17:00" in outbox[0]["body"]

    text_in(volunteer.phone, "YES")
    assert "at 20:00" in last_text(outbox)
    first.refresh_from_db()
    assert first.status == Status.CONFIRMED

    text_in(volunteer.phone, "no")
    second.refresh_from_db()
    assert second.status == Status.DECLINED
    first.refresh_from_db()
    assert first.status == Status.CONFIRMED


def test_an_unanswered_question_lets_the_next_one_go_when_its_session_starts(
    run_passes, sweep, outbox, time_machine
):
    first = texted_session(NOW + 5 * HOUR)
    texted_session(NOW + 8 * HOUR, match__volunteer=first.match.volunteer)
    run_passes()
    time_machine.move_to(first.starts_at, tick=False)
    sweep()
    assert len(outbox) == 2
    assert "at 20:00" in last_text(outbox)


# End to end: the real twilio SDK, the local Twilio stub, the signed webhook ---------------

MOBILE = "+447911123456"


@pytest.mark.parametrize(
    "body, status, answer",
    [
        ("YES", Status.CONFIRMED, "Thanks, your session on Mon 23 Nov at 17:00 is confirmed."),
        ("NO", Status.DECLINED, texts.DECLINED.format(sender="PeerPath")),
    ],
)
def test_a_reminder_through_twilio_answered_through_the_webhook(
    twilio, run_passes, client, settings, django_capture_on_commit_callbacks, body, status, answer
):
    settings.SMS_SENDER_NAME = "PeerPath"
    match = MatchFactory(
        active=True,
        volunteer__sms_consent=True,
        volunteer__phone=MOBILE,
        peer__preferred_name="Sam",
    )
    session = services.schedule_session(
        match,
        starts_at=NOW + 5 * HOUR,
        ends_at=NOW + 6 * HOUR,
        mode="in_person",
        place="Coatbridge library",
    )
    run_passes()

    [created] = twilio.requests_of("create")
    assert created.params["To"] == MOBILE
    assert "Mon 23 Nov at 17:00, Coatbridge library" in created.params["Body"]
    session.refresh_from_db()
    assert session.reminder.twilio_sid

    path = reverse("messaging:twilio-inbound")
    params = inbound_params(body, From=MOBILE, To=twilio.from_number)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            path,
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            HTTP_X_TWILIO_SIGNATURE=sign(
                settings.PUBLIC_BASE_URL + path, params, token=twilio.auth_token
            ),
        )
    assert response.status_code == 200
    session.refresh_from_db()
    assert session.status == status
    creates = twilio.requests_of("create")
    assert creates[-1].params["Body"] == answer
    assert session.reminder.topic == reminders.REMINDER_TOPIC
    declined = FollowUp.objects.filter(kind=FollowUp.Kind.SESSION_DECLINED, session=session)
    assert declined.exists() == (status == Status.DECLINED)


def test_yes_and_no_typed_in_fullwidth_letters_are_read(reminded, text_in):
    text_in(phone_of(reminded), "ＹＥＳ")
    reminded.refresh_from_db()
    assert reminded.status == Status.CONFIRMED


def test_stop_typed_in_fullwidth_letters_opts_out(reminded, text_in):
    text_in(phone_of(reminded), "ＳＴＯＰ")
    assert OptOut.objects.current().filter(phone=phone_of(reminded)).exists()
    reminded.refresh_from_db()
    assert reminded.status == Status.SCHEDULED
