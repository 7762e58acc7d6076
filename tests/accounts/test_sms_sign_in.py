"""Volunteers sign in to the partner app with a code texted to the phone the office registered."""

import datetime
import logging
import re
from zoneinfo import ZoneInfo

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from messaging import backends, services
from messaging.models import Message
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REQUEST = "/_allauth/app/v1/auth/code/request"
CONFIRM = "/_allauth/app/v1/auth/code/confirm"
SESSION = "/_allauth/app/v1/auth/session"
VOLUNTEERS = "/api/v1/volunteers/"
PASSWORD = "correct horse battery staple"
PHONE = "+447700900123"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def queue(monkeypatch):
    """Deliveries run in line when the transaction commits; `queue.ids` lists what was enqueued.
    With `queue.hold = True` nothing is delivered, as when no worker is running."""

    class InlineQueue:
        hold = False

        def __init__(self):
            self.ids = []

        def __call__(self, func, message_id, **options):
            self.ids.append(message_id)
            if not self.hold:
                services.deliver(message_id)

    inline = InlineQueue()
    monkeypatch.setattr(services, "async_task", inline)
    return inline


@pytest.fixture
def volunteer(db):
    return UserFactory(email="aileen@example.org", phone=PHONE)


class PartnerApp:
    """The partner app: asks for a code and confirms it, carrying its session token along.
    Deliveries of texts run when each request's transaction commits."""

    def __init__(self, capture_on_commit):
        self.capture_on_commit = capture_on_commit
        self.client = APIClient()
        self.token = None

    def post(self, path, data):
        headers = {"HTTP_X_SESSION_TOKEN": self.token} if self.token else {}
        with self.capture_on_commit(execute=True):
            response = self.client.post(path, data, format="json", **headers)
        self.token = response.json().get("meta", {}).get("session_token") or self.token
        return response

    def request_code(self, phone):
        return self.post(REQUEST, {"phone": phone})

    def confirm(self, code):
        return self.post(CONFIRM, {"code": code})

    def get(self, path):
        return self.client.get(path, HTTP_X_SESSION_TOKEN=self.token)


@pytest.fixture
def new_app(django_capture_on_commit_callbacks, queue):
    return lambda: PartnerApp(django_capture_on_commit_callbacks)


@pytest.fixture
def app(new_app):
    return new_app()


def texted_code(text):
    found = re.search(r"code is ([A-Z0-9]{4}-[A-Z0-9]{4})\.", text["body"])
    assert found, text["body"]
    return found.group(1)


def pending_flows(response):
    return {flow["id"] for flow in response.json()["data"]["flows"] if flow.get("is_pending")}


def without_token(body):
    return {**body, "meta": {k: v for k, v in body.get("meta", {}).items() if k != "session_token"}}


def totp_code(secret):
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


class TestSigningInWithATextedCode:
    @pytest.mark.parametrize("typed", ["07700 900123", "07700900123", "+44 7700 900123", PHONE])
    def test_the_registered_phone_in_any_uk_form_gets_one_text_with_the_code(
        self, app, volunteer, typed
    ):
        response = app.request_code(typed)

        assert response.status_code == 401, response.content
        assert pending_flows(response) == {"login_by_code"}
        assert app.token
        assert len(backends.outbox) == 1
        text = backends.outbox[0]
        assert text["to"] == PHONE
        assert "sign-in code" in text["body"] and "expires in 10 minutes" in text["body"]
        message = Message.objects.get()
        assert message.topic == "account.login_code"
        assert message.status == Message.Status.SENT
        # The log keeps the text without its code: nobody reading it can sign in as them.
        code = texted_code(text)
        assert code not in message.body
        assert message.body == text["body"].replace(code, "•" * len(code))
        assert message.context == {}

    def test_the_code_gives_a_session_token_that_signs_in_to_the_api(self, app, volunteer):
        app.request_code("07700 900123")

        confirmed = app.confirm(texted_code(backends.outbox[0]))

        assert confirmed.status_code == 200, confirmed.content
        assert confirmed.json()["data"]["user"]["id"] == volunteer.pk
        assert app.get(SESSION).status_code == 200
        # Signed in (not 401), but a volunteer is no coordinator: the coordinators' API says no.
        assert app.get(VOLUNTEERS).status_code == 403

    def test_the_code_is_accepted_in_lower_case_and_without_its_dash(self, app, volunteer):
        app.request_code(PHONE)
        code = texted_code(backends.outbox[0])

        confirmed = app.confirm(code.replace("-", "").lower())

        assert confirmed.status_code == 200, confirmed.content

    def test_each_request_is_its_own_text_with_its_own_key_never_held_and_expiring_with_the_code(
        self, new_app, volunteer, settings, time_machine
    ):
        now = datetime.datetime(2027, 1, 14, 12, 0, tzinfo=LONDON)
        time_machine.move_to(now, tick=False)
        new_app().request_code(PHONE)
        new_app().request_code(PHONE)  # the app starts over: a new sign-in, a new code

        first, second = Message.objects.order_by("pk")
        assert first.idempotency_key != second.idempotency_key
        assert first.idempotency_key.startswith("account.login_code:")
        assert texted_code(backends.outbox[0]) != texted_code(backends.outbox[1])
        timeout = datetime.timedelta(seconds=settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT)
        for message in (first, second):
            assert message.holds_in_quiet_hours is False
            assert message.expires_at == now + timeout


class TestWrongCodes:
    def test_a_wrong_code_is_refused_and_gives_no_token_for_the_api(self, app, volunteer):
        app.request_code(PHONE)

        refused = app.confirm("BBBB-BBBB")

        assert refused.status_code == 400
        assert refused.json()["errors"][0]["code"] == "incorrect_code"
        assert app.get(SESSION).status_code == 401
        assert app.get(VOLUNTEERS).status_code == 401

    def test_after_three_wrong_codes_even_the_right_one_is_refused(self, app, volunteer):
        app.request_code(PHONE)
        code = texted_code(backends.outbox[0])

        for _ in range(3):
            assert app.confirm("BBBB-BBBB").status_code == 400
        too_late = app.confirm(code)

        assert too_late.status_code == 409  # the sign-in was abandoned: start again
        assert app.get(SESSION).status_code == 401

    def test_a_phone_can_ask_for_three_codes_a_minute_and_no_more_texts_go(
        self, new_app, volunteer
    ):
        for _ in range(3):
            assert new_app().request_code(PHONE).status_code == 401

        fourth = new_app().request_code("07700 900123")

        assert fourth.status_code == 400
        assert fourth.json()["errors"][0]["code"] == "too_many_login_attempts"
        assert len(backends.outbox) == 3

    def test_a_code_that_ran_out_of_time_is_refused(self, app, volunteer, time_machine, settings):
        time_machine.move_to(datetime.datetime(2027, 3, 10, 12, 0, tzinfo=LONDON), tick=False)
        app.request_code(PHONE)
        code = texted_code(backends.outbox[0])

        time_machine.shift(datetime.timedelta(seconds=settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT + 1))
        response = app.confirm(code)

        assert response.status_code == 409  # nothing left to confirm: start again
        assert app.get(SESSION).status_code == 401


class TestNumbersWithoutAnAccount:
    def test_an_unknown_number_gets_the_same_answer_and_no_text_at_all(self, new_app, volunteer):
        known = new_app().request_code(PHONE)
        Message.objects.all().delete()
        backends.outbox.clear()
        stranger = new_app()

        unknown = stranger.request_code("07700 900999")

        assert unknown.status_code == known.status_code == 401
        assert without_token(unknown.json()) == without_token(known.json())
        assert stranger.token  # a session to confirm in, like anyone else's
        assert not Message.objects.exists()
        assert backends.outbox == []

    def test_an_unknown_number_is_logged_and_no_code_signs_it_in(self, app, db, caplog):
        with caplog.at_level(logging.INFO, logger="accounts.adapter"):
            app.request_code("07700 900999")

        assert "no active account" in caplog.text
        assert "07700900999" not in caplog.text.replace(" ", "").replace("+44", "0")
        assert app.confirm("BBBB-BBBB").status_code == 400
        assert not Message.objects.exists()

    def test_a_deactivated_account_gets_no_text(self, app, volunteer):
        volunteer.is_active = False
        volunteer.save()

        response = app.request_code(PHONE)

        assert response.status_code == 401
        assert not Message.objects.exists()

    def test_a_registered_landline_gets_the_same_answer_and_the_office_a_log_line(
        self, app, db, caplog
    ):
        UserFactory(phone="01236 440000")

        with caplog.at_level(logging.WARNING, logger="accounts.adapter"):
            response = app.request_code("01236 440000")

        assert response.status_code == 401
        assert pending_flows(response) == {"login_by_code"}
        assert not Message.objects.exists()
        assert "not a mobile number" in caplog.text

    def test_something_that_is_no_phone_number_is_refused_with_the_reason(self, app, db):
        response = app.request_code("0770")

        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["param"] == "phone"
        assert "too short" in error["message"]


class TestWhenTheTextGoes:
    def test_at_night_the_code_still_goes_at_once(self, app, volunteer, settings, time_machine):
        settings.SMS_QUIET_HOURS = "21:00-08:00"
        time_machine.move_to(datetime.datetime(2027, 1, 14, 23, 30, tzinfo=LONDON), tick=False)

        app.request_code(PHONE)

        assert len(backends.outbox) == 1
        message = Message.objects.get()
        assert message.status == Message.Status.SENT
        assert message.sent_at == datetime.datetime(2027, 1, 14, 23, 30, tzinfo=LONDON)

    def test_a_code_whose_text_could_not_go_before_it_expired_is_never_sent(
        self, app, volunteer, queue, time_machine, settings
    ):
        queue.hold = True  # no worker picks the text up in time
        time_machine.move_to(datetime.datetime(2027, 1, 14, 12, 0, tzinfo=LONDON), tick=False)
        app.request_code(PHONE)
        (message_id,) = queue.ids

        time_machine.shift(datetime.timedelta(seconds=settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT))
        assert services.deliver(message_id) is False

        message = Message.objects.get(pk=message_id)
        assert message.status == Message.Status.FAILED
        assert "expired" in message.error
        assert backends.outbox == []

    def test_a_code_that_failed_for_a_moment_is_retried_only_while_it_is_good(
        self, app, volunteer, queue, time_machine, monkeypatch, settings
    ):
        time_machine.move_to(datetime.datetime(2027, 1, 14, 12, 0, tzinfo=LONDON), tick=False)

        def busy(backend, message):
            raise backends.SendFailed("Twilio is busy (HTTP 503).", code=None, transient=True)

        with monkeypatch.context() as patched:
            patched.setattr(backends.LocmemBackend, "send", busy)
            app.request_code(PHONE)
        message = Message.objects.get()
        assert message.status == Message.Status.QUEUED  # to be tried again shortly

        time_machine.shift(datetime.timedelta(seconds=settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT))
        services.deliver(message.pk)

        message.refresh_from_db()
        assert message.status == Message.Status.FAILED
        assert backends.outbox == []


class TestOnlyTheOfficeCreatesAccountsAndSetsNumbers:
    def test_there_is_no_sign_up_by_phone(self, app, db):
        phone_only = app.post(
            "/_allauth/app/v1/auth/signup",
            {"phone": "+447700900555", "password": "a long new password 123"},
        )
        with_email = app.post(
            "/_allauth/app/v1/auth/signup",
            {"phone": "+447700900555", "email": "new@example.org", "password": "a long pw 12345"},
        )

        assert phone_only.status_code == 400  # an email address is what sign-up would need...
        assert with_email.status_code == 403  # ...and with one, sign-up is closed anyway

        assert not User.objects.filter(phone="+447700900555").exists()
        assert not Message.objects.exists()

    def test_a_volunteer_cannot_change_their_own_number(self, app, volunteer):
        app.request_code(PHONE)
        app.confirm(texted_code(backends.outbox[0]))
        backends.outbox.clear()

        listed = app.get("/_allauth/app/v1/account/phone")
        changed = app.post("/_allauth/app/v1/account/phone", {"phone": "+447700900456"})

        assert listed.json()["data"] == [{"phone": PHONE, "verified": True}]
        assert changed.status_code == 400
        assert "kept by the office" in changed.json()["errors"][0]["message"]
        volunteer.refresh_from_db()
        assert volunteer.phone == PHONE
        assert backends.outbox == []


class TestCoordinators:
    def test_email_and_password_still_sign_a_coordinator_in(self, coordinator):
        coordinator.phone = "+447700900321"
        coordinator.save()

        response = APIClient().post(
            "/_allauth/app/v1/auth/login",
            {"email": coordinator.email, "password": PASSWORD},
            format="json",
        )

        assert response.status_code == 200, response.content
        assert not Message.objects.exists()

    def test_the_sign_in_page_still_asks_for_an_email_address(self, client, coordinator):
        page = client.get(reverse("account_login"))

        assert 'type="email"' in page.content.decode()
        signed_in = client.post(
            reverse("account_login"), {"login": coordinator.email, "password": PASSWORD}
        )
        assert signed_in.status_code == 302
        assert client.get("/admin/").status_code == 200

    def test_a_coordinator_with_totp_signing_in_by_code_is_still_asked_for_it(
        self, app, coordinator
    ):
        coordinator.phone = "+447700900321"
        coordinator.save()
        secret = generate_totp_secret()
        TOTP.activate(coordinator, secret)
        app.request_code("07700 900321")

        after_code = app.confirm(texted_code(backends.outbox[0]))

        assert after_code.status_code == 401, after_code.content
        assert pending_flows(after_code) == {"mfa_authenticate"}
        assert app.get(VOLUNTEERS).status_code == 401
        after_totp = app.post("/_allauth/app/v1/auth/2fa/authenticate", {"code": totp_code(secret)})
        assert after_totp.status_code == 200, after_totp.content
        assert app.get(VOLUNTEERS).status_code == 200


@pytest.mark.parametrize("client_kind", ["app", "browser"])
@pytest.mark.parametrize("body", [{}, {"phone": ""}, {"email": ""}, {"phone": "  "}])
def test_a_code_request_naming_nobody_is_a_400_that_says_what_to_give(client, client_kind, body):
    response = client.post(
        f"/_allauth/{client_kind}/v1/auth/code/request", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"message": "Give the mobile number the office registered for you.", "code": "required"}
    ]
