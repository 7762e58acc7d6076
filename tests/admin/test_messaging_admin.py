"""The coordinator's text pages: the message log with its actions, and the opt-out list."""

import itertools

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from community.coordinators import COORDINATORS_GROUP
from messaging import services
from messaging.models import Message, OptOut
from tests.conftest import SIGN_IN_CODE
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MESSAGES = reverse("admin:messaging_message_changelist")
OPT_OUTS = reverse("admin:messaging_optout_changelist")
ADD_OPT_OUT = reverse("admin:messaging_optout_add")

OFFICE = "+447700900001"
AILEEN = "+447700900123"
JAMIE = "+447700900456"

_sids = itertools.count(1)


def sent(to=AILEEN, **fields):
    values = {
        "direction": Message.Direction.OUTBOUND,
        "to_number": to,
        "from_number": OFFICE,
        "body": "A reminder: you meet J at 14:00 tomorrow. Reply YES or NO.",
        "status": Message.Status.DELIVERED,
        "topic": "session.reminder",
        "attempts": 1,
    }
    values.update(fields)
    return Message.objects.create(**values)


def failed(to=AILEEN, **fields):
    return sent(
        to=to, status=Message.Status.FAILED, error_code=30003, error="Unreachable", **fields
    )


def received(body="Can we make it Thursday instead?", phone=JAMIE):
    reply, _ = services.receive(
        sid=f"SM{next(_sids):032d}", from_number=phone, to_number=OFFICE, body=body
    )
    return reply


def listed(response):
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def act(client, action, *records, url=MESSAGES):
    return client.post(
        url, {"action": action, "_selected_action": [record.pk for record in records]}, follow=True
    )


def change_url(record):
    meta = record._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk])


def test_coordinators_may_read_texts_act_on_them_and_look_after_opt_outs():
    codenames = set(
        Group.objects.get(name=COORDINATORS_GROUP)
        .permissions.filter(content_type__app_label="messaging")
        .values_list("codename", flat=True)
    )

    assert codenames == {
        "view_message",
        "change_message",
        "view_optout",
        "add_optout",
        "change_optout",
    }


def test_the_desk_shows_texts_and_opt_outs(coordinator_client):
    page = coordinator_client.get(reverse("admin:index")).content.decode()

    assert "Text messages" in page
    assert "Opt-outs" in page


# The message log --------------------------------------------------------------------------


class TestMessageLog:
    def test_shows_what_happened_to_each_text(self, coordinator_client):
        failed(to=AILEEN, attempts=5)
        received(phone=JAMIE)

        page = coordinator_client.get(MESSAGES).content.decode()

        for shown in [
            "07700 900123",  # the other party, for a text sent
            "07700 900456",  # and for a text received
            "session.reminder",
            "Failed",
            "Unreachable",
            "Received",
            "reply.unexpected",
        ]:
            assert shown in page

    def test_filters_by_direction_status_topic_and_attention(self, coordinator_client):
        delivered = sent()
        lost = failed(topic="checkin")
        reply = received()

        assert listed(coordinator_client.get(MESSAGES, {"direction__exact": "inbound"})) == [reply]
        assert listed(coordinator_client.get(MESSAGES, {"status__exact": "failed"})) == [lost]
        assert listed(coordinator_client.get(MESSAGES, {"topic": "checkin"})) == [lost]
        assert listed(coordinator_client.get(MESSAGES, {"needs_attention__exact": "1"})) == [reply]
        assert delivered in listed(coordinator_client.get(MESSAGES, {"status__exact": "delivered"}))

    def test_a_number_typed_the_usual_way_finds_texts_to_and_from_it(self, coordinator_client):
        to_jamie = sent(to=JAMIE)
        from_jamie = received(phone=JAMIE)
        polite = Message.objects.get(topic="reply.not_understood")
        sent(to=AILEEN)

        found = listed(coordinator_client.get(MESSAGES, {"q": "07700 900456"}))

        assert set(found) == {to_jamie, from_jamie, polite}

    def test_search_finds_words_in_the_text(self, coordinator_client):
        thursday = received(body="Can we make it Thursday?")
        received(body="Friday is better", phone=AILEEN)

        assert listed(coordinator_client.get(MESSAGES, {"q": "thursday"})) == [thursday]

    def test_the_list_costs_the_same_queries_for_one_text_or_thirty(self, coordinator_client):
        def queries_for_list():
            with CaptureQueriesContext(connection) as queries:
                response = coordinator_client.get(MESSAGES)
            return len(queries), len(listed(response))

        failed()
        one, shown = queries_for_list()
        assert shown == 1
        for number in range(10):
            failed(to=f"+447700900{200 + number}")
            received(phone=f"+447700900{300 + number}")  # and the polite answer to it
        thirty_one, shown = queries_for_list()
        assert shown == 31
        assert thirty_one == one

    def test_a_text_is_read_never_edited_added_or_deleted(self, coordinator_client):
        text = failed()

        page = coordinator_client.get(change_url(text))
        actions = dict(
            coordinator_client.get(MESSAGES).context["action_form"].fields["action"].choices
        )

        assert page.status_code == 200
        assert text.body in page.content.decode()
        assert 'name="_save"' not in page.content.decode()
        assert coordinator_client.post(change_url(text), {"body": "Changed"}).status_code == 403
        assert coordinator_client.get(reverse("admin:messaging_message_add")).status_code == 403
        delete = reverse("admin:messaging_message_delete", args=[text.pk])
        assert coordinator_client.get(delete).status_code == 403
        assert "delete_selected" not in actions
        assert {"send_again", "mark_handled"} <= actions.keys()
        text.refresh_from_db()
        assert text.body != "Changed"

    def test_a_received_text_shows_its_handling(self, coordinator_client):
        reply = received()
        services.mark_handled(reply, note="Phoned back")

        page = coordinator_client.get(change_url(reply)).content.decode()

        assert "Phoned back" in page


class TestSendAgain:
    def test_a_failed_text_is_queued_again_as_a_new_message(self, coordinator_client):
        lost = failed(context={"session": 4})

        response = act(coordinator_client, "send_again", lost)

        assert messages_of(response) == ["1 text is queued to send again."]
        again = Message.objects.exclude(pk=lost.pk).get()
        assert (again.to_number, again.body, again.topic) == (lost.to_number, lost.body, lost.topic)
        assert again.status == Message.Status.QUEUED
        assert again.context == {"session": 4}
        lost.refresh_from_db()
        assert lost.status == Message.Status.FAILED

    def test_undelivered_texts_are_sent_again_too(self, coordinator_client):
        texts = [
            sent(status=Message.Status.UNDELIVERED),
            failed(to=JAMIE),
        ]

        response = act(coordinator_client, "send_again", *texts)

        assert messages_of(response) == ["2 texts are queued to send again."]
        assert Message.objects.filter(status=Message.Status.QUEUED).count() == 2

    def test_a_text_that_did_not_fail_is_refused_by_name_and_the_others_go(
        self, coordinator_client
    ):
        delivered = sent()
        lost = failed(to=JAMIE)

        response = act(coordinator_client, "send_again", delivered, lost)

        assert messages_of(response) == [
            f"Text {delivered.pk}: Only failed or undelivered texts can be sent again; "
            "this one is delivered.",
            "1 text is queued to send again.",
        ]
        assert Message.objects.filter(status=Message.Status.QUEUED).count() == 1
        assert Message.objects.get(status=Message.Status.QUEUED).to_number == JAMIE

    def test_a_received_text_is_never_sent(self, coordinator_client):
        reply = received()
        before = Message.objects.count()

        response = act(coordinator_client, "send_again", reply)

        assert messages_of(response)[0].startswith(f"Text {reply.pk}: Only failed")
        assert Message.objects.count() == before

    def test_a_number_that_opted_out_since_is_not_sent_to(self, coordinator_client):
        lost = failed()
        services.record_opt_out(AILEEN, word="STOP")

        response = act(coordinator_client, "send_again", lost)

        assert messages_of(response) == [
            f"Text {lost.pk} was not sent again: 07700 900123 has opted out of texts."
        ]
        assert not Message.objects.filter(status=Message.Status.QUEUED).exists()


class TestMarkHandled:
    def test_texts_needing_attention_leave_the_inbox_with_who_handled_them(
        self, coordinator_client, coordinator
    ):
        replies = [received(), received(phone=AILEEN)]

        response = act(coordinator_client, "mark_handled", *replies)

        assert messages_of(response) == ["2 texts are marked handled."]
        for reply in replies:
            reply.refresh_from_db()
            assert reply.needs_attention is False
            assert reply.handled_at is not None
            assert "Marked handled in the admin" in reply.handled_note
            assert str(coordinator) in reply.handled_note

    def test_a_text_not_needing_attention_is_refused_by_name(self, coordinator_client):
        reply = received()
        services.mark_handled(reply, note="Phoned back")
        text = sent()

        response = act(coordinator_client, "mark_handled", reply, text)

        assert messages_of(response) == [
            f"Text {reply.pk}: This text does not need attention.",
            f"Text {text.pk}: This text does not need attention.",
        ]
        reply.refresh_from_db()
        assert reply.handled_note == "Phoned back"


def test_someone_who_may_only_read_texts_gets_no_actions(client):
    reader = UserFactory(email="reader@example.org", is_staff=True)
    reader.user_permissions.add(
        Permission.objects.get(codename="view_message", content_type__app_label="messaging")
    )
    client.force_login(reader)
    lost = failed()

    response = client.get(MESSAGES)
    act(client, "send_again", lost)

    assert listed(response) == [lost]
    assert response.context["action_form"] is None
    assert Message.objects.count() == 1


# Opt-outs ---------------------------------------------------------------------------------


def ended(phone):
    opt_out = services.record_opt_out(phone, word="STOP")
    services.end_opt_out(phone, word="START")
    opt_out.refresh_from_db()
    return opt_out


class TestOptOutList:
    def test_shows_current_opt_outs_unless_asked_for_the_ended_ones(self, coordinator_client):
        old = ended(AILEEN)
        current = services.record_opt_out(JAMIE, word="STOP")

        assert listed(coordinator_client.get(OPT_OUTS)) == [current]
        assert listed(coordinator_client.get(OPT_OUTS, {"state": "ended"})) == [old]
        assert set(listed(coordinator_client.get(OPT_OUTS, {"state": "all"}))) == {old, current}
        page = coordinator_client.get(OPT_OUTS).content.decode()
        assert "07700 900456" in page and "STOP" in page

    def test_a_number_typed_the_usual_way_finds_its_opt_out(self, coordinator_client):
        jamie = services.record_opt_out(JAMIE, word="STOP")
        services.record_opt_out(AILEEN, word="STOP")

        assert listed(coordinator_client.get(OPT_OUTS, {"q": "07700 900456"})) == [jamie]

    def test_the_list_costs_the_same_queries_for_one_or_thirty(self, coordinator_client):
        def queries_for_list():
            with CaptureQueriesContext(connection) as queries:
                response = coordinator_client.get(OPT_OUTS, {"state": "all"})
            return len(queries), len(listed(response))

        services.record_opt_out(JAMIE, word="STOP")
        one, shown = queries_for_list()
        assert shown == 1
        for number in range(29):
            ended(f"+447700900{200 + number}")
        thirty, shown = queries_for_list()
        assert shown == 30
        assert thirty == one

    def test_opt_outs_are_never_deleted(self, coordinator_client):
        opt_out = services.record_opt_out(JAMIE, word="STOP")

        assert coordinator_client.get(OPT_OUTS).context["action_form"] is None
        delete = reverse("admin:messaging_optout_delete", args=[opt_out.pk])
        assert coordinator_client.get(delete).status_code == 403


class TestEndingAnOptOut:
    def test_needs_a_note_of_why(self, coordinator_client):
        opt_out = services.record_opt_out(JAMIE, word="STOP")

        response = coordinator_client.post(change_url(opt_out), {"note": ""})

        assert response.status_code == 200
        assert "This field is required." in response.content.decode()
        opt_out.refresh_from_db()
        assert opt_out.ended_at is None

    def test_with_a_note_texts_go_to_the_number_again(self, coordinator_client, coordinator):
        opt_out = services.record_opt_out(JAMIE, word="STOP")

        response = coordinator_client.post(
            change_url(opt_out), {"note": "Phoned on 12 May to ask for reminders again."}
        )

        assert response.status_code == 302
        opt_out.refresh_from_db()
        assert opt_out.ended_at is not None
        assert opt_out.ended_note.startswith("Phoned on 12 May to ask for reminders again.")
        assert str(coordinator) in opt_out.ended_note
        text = services.send_sms(JAMIE, "Your session is tomorrow.", topic="session.reminder")
        assert text.status == Message.Status.QUEUED

    def test_an_ended_opt_out_is_history_read_but_never_changed(self, coordinator_client):
        opt_out = ended(JAMIE)

        page = coordinator_client.get(change_url(opt_out))
        again = coordinator_client.post(change_url(opt_out), {"note": "Again"})

        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert 'name="note"' not in page.content.decode()
        assert again.status_code == 403
        opt_out.refresh_from_db()
        assert opt_out.ended_note == ""

    def test_a_page_left_open_cannot_end_an_opt_out_that_ended_meanwhile(self, coordinator_client):
        opt_out = services.record_opt_out(JAMIE, word="STOP")
        page = coordinator_client.get(change_url(opt_out))
        assert 'name="note"' in page.content.decode()
        services.end_opt_out(JAMIE, word="START")

        response = coordinator_client.post(change_url(opt_out), {"note": "Asked by phone."})

        assert response.status_code == 403
        opt_out.refresh_from_db()
        assert opt_out.ended_by_word == "START"
        assert opt_out.ended_note == ""


class TestRecordingAnOptOut:
    def test_the_office_records_one_for_a_number_typed_the_usual_way(self, coordinator_client):
        queued = services.send_sms(JAMIE, "Your session is tomorrow.", topic="session.reminder")

        response = coordinator_client.post(ADD_OPT_OUT, {"phone": "07700 900456"})

        assert response.status_code == 302
        opt_out = OptOut.objects.current().get()
        assert (str(opt_out.phone), opt_out.word) == (JAMIE, "office")
        queued.refresh_from_db()
        assert queued.status == Message.Status.SUPPRESSED

    def test_a_number_already_opted_out_is_refused_saying_since_when(self, coordinator_client):
        services.record_opt_out(JAMIE, word="STOP")

        response = coordinator_client.post(ADD_OPT_OUT, {"phone": "07700 900456"})

        assert response.status_code == 200
        assert "already opted out" in response.content.decode()
        assert OptOut.objects.count() == 1

    def test_an_unreadable_number_is_refused_in_words(self, coordinator_client):
        response = coordinator_client.post(ADD_OPT_OUT, {"phone": "07700 90"})

        assert response.status_code == 200
        assert "is not a valid phone number" in response.content.decode()
        assert not OptOut.objects.exists()


def test_times_show_in_local_time(coordinator_client):
    # Sanity for the date hierarchy: a text sent today is under today's date.
    failed()
    today = timezone.localdate()

    response = coordinator_client.get(
        MESSAGES,
        {
            "created_at__year": today.year,
            "created_at__month": today.month,
            "created_at__day": today.day,
        },
    )

    assert len(listed(response)) == 1


# Sign-in codes ----------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["queued", "retrying", "sent", "failed"])
class TestSignInCodes:
    def test_the_log_and_the_text_show_the_code_masked(
        self, state, coordinator_client, sign_in_code_text
    ):
        message = sign_in_code_text(state)

        log = coordinator_client.get(MESSAGES)
        page = coordinator_client.get(change_url(message))

        assert listed(log) == [message]
        assert page.status_code == 200
        assert "•" * len(SIGN_IN_CODE) in page.content.decode()
        for response in (log, page):
            assert SIGN_IN_CODE not in response.content.decode()
            assert SIGN_IN_CODE[:4] not in response.content.decode()

    @pytest.mark.parametrize("term", [SIGN_IN_CODE, SIGN_IN_CODE[:4], SIGN_IN_CODE[-4:]])
    def test_searching_for_the_code_finds_nothing(
        self, state, term, coordinator_client, sign_in_code_text
    ):
        message = sign_in_code_text(state)

        assert listed(coordinator_client.get(MESSAGES, {"q": term})) == []
        assert listed(coordinator_client.get(MESSAGES, {"q": "sign-in code"})) == [message]
