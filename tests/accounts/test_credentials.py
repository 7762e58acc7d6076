"""Who may change which of their own credentials, wherever allauth offers the change.

Volunteers sign in by a code texted to the phone the office registered, and the office keeps
everything else about their sign-in: they change nothing. Coordinators change their own
password, email addresses (never one another account has) and authenticator app with its
recovery codes. Nobody changes their own phone.
"""

import importlib
import re
from dataclasses import dataclass

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from accounts.models import User
from messaging import backends, services
from tests.factories import AppVolunteerUserFactory, UserFactory

pytestmark = pytest.mark.django_db

APP = "/_allauth/app/v1/"
BROWSER = "/_allauth/browser/v1/"
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase 2468"
PHONE = "+447700900123"
KEPT_BY_OFFICE = "sign_in_kept_by_office"


def current_code(secret):
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


@dataclass
class SignedIn:
    """Someone signed in to the partner app, with their session token."""

    user: User
    client: APIClient
    token: str
    totp_secret: str | None = None

    @property
    def second_address(self):
        return f"{self.user.email.split('@')[0]}.home@example.org"

    def call(self, method, path, body):
        return getattr(self.client, method.lower())(APP + path, body, format="json")

    def hold_totp_secret(self, secret):
        """As if they had asked to set up an authenticator app and been shown this secret."""
        session = importlib.import_module(settings.SESSION_ENGINE).SessionStore(
            session_key=self.token
        )
        session[SECRET_SESSION_KEY] = secret
        session.save()


def session_token(response, token=None):
    return response.json().get("meta", {}).get("session_token") or token


@pytest.fixture
def deliver_texts_at_once(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(
        services, "async_task", lambda func, message_id, **kw: services.deliver(message_id)
    )
    return django_capture_on_commit_callbacks


def sign_in_by_code(phone, capture):
    """The partner app asks for a code, reads it from the text and confirms it."""
    client = APIClient(raise_request_exception=False)
    with capture(execute=True):
        asked = client.post(APP + "auth/code/request", {"phone": phone}, format="json")
    token = session_token(asked)
    code = re.search(r"code is ([A-Z0-9]{4}-[A-Z0-9]{4})\.", backends.outbox[-1]["body"]).group(1)
    confirmed = client.post(
        APP + "auth/code/confirm", {"code": code}, format="json", HTTP_X_SESSION_TOKEN=token
    )
    return client, confirmed, session_token(confirmed, token)


def signed_in_client(client, token):
    client.credentials(HTTP_X_SESSION_TOKEN=token)
    return client


def sign_in_by_password(user, totp_secret=None):
    """Signed in by password (and authenticator code), then asked for the password again, as
    allauth asks before changes to an account."""
    client = APIClient(raise_request_exception=False)
    first = client.post(
        APP + "auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    token = session_token(first)
    if totp_secret:
        second = client.post(
            APP + "auth/2fa/authenticate",
            {"code": current_code(totp_secret)},
            format="json",
            HTTP_X_SESSION_TOKEN=token,
        )
        assert second.status_code == 200, second.content
        token = session_token(second, token)
    else:
        assert first.status_code == 200, first.content
    client = signed_in_client(client, token)
    again = client.post(APP + "auth/reauthenticate", {"password": PASSWORD}, format="json")
    assert again.status_code == 200, again.content
    return SignedIn(user, client, token, totp_secret=totp_secret)


@pytest.fixture
def another_account(db):
    other = UserFactory(email="morag@example.org")
    EmailAddress.objects.create(user=other, email=other.email, primary=True, verified=True)
    return other


@pytest.fixture
def volunteer(deliver_texts_at_once, another_account):
    """A volunteer signed in to the partner app by the code texted to them. The office has
    their email address on record, and a second one."""
    user = AppVolunteerUserFactory(email="aileen@example.org", phone=PHONE)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    EmailAddress.objects.create(user=user, email="aileen.home@example.org", verified=True)
    client, confirmed, token = sign_in_by_code(PHONE, deliver_texts_at_once)
    assert confirmed.status_code == 200, confirmed.content
    return SignedIn(user, signed_in_client(client, token), token)


@pytest.fixture
def signed_in_coordinator(coordinator, another_account):
    """A coordinator with an authenticator app and recovery codes and a second address of
    their own, signed in."""
    secret = generate_totp_secret()
    TOTP.activate(coordinator, secret)
    RecoveryCodes.activate(coordinator)
    EmailAddress.objects.create(
        user=coordinator, email=coordinator.email, primary=True, verified=True
    )
    EmailAddress.objects.create(
        user=coordinator, email="coordinator.home@example.org", verified=True
    )
    return sign_in_by_password(coordinator, totp_secret=secret)


def kept_credentials():
    """Everything a person signs in with, as the database holds it."""
    return {
        "accounts": list(
            User.objects.order_by("pk").values_list("pk", "email", "password", "phone")
        ),
        "addresses": list(
            EmailAddress.objects.order_by("pk").values_list(
                "user_id", "email", "primary", "verified"
            )
        ),
        "authenticators": list(
            Authenticator.objects.order_by("pk").values_list("user_id", "type", "data")
        ),
    }


def reset_key(user):
    """The key a password reset mail would carry for this account as it is now."""
    user = User.objects.get(pk=user.pk)
    return f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"


def refusal_of(response):
    """allauth's error shape, with PeerPath's message saying whom to call."""
    body = response.json()
    assert body["status"] == response.status_code
    [error] = [e for e in body["errors"] if e["code"] == KEPT_BY_OFFICE]
    assert settings.OFFICE_PHONE in error["message"]
    return error


def own(path):
    return lambda me: path.format(me=me)


# Every routed endpoint of allauth's headless API for apps, as each kind of person finds it.
# (method, path, body given the person, status for a volunteer, status for a coordinator)
ENDPOINTS = [
    ("GET", "config", None, 200, 200),
    ("GET", "auth/session", None, 200, 200),
    ("GET", "account/email", None, 200, 200),
    # allauth adds no address to an account with an authenticator (TestCoordinators: without).
    ("POST", "account/email", lambda me: {"email": "someone.new@example.org"}, 400, 400),
    ("POST", "account/email", lambda me: {"email": "Morag@Example.ORG"}, 400, 400),
    ("PUT", "account/email", lambda me: {"email": me.user.email}, 403, 200),
    ("PATCH", "account/email", lambda me: {"email": me.second_address, "primary": True}, 403, 200),
    ("DELETE", "account/email", lambda me: {"email": me.second_address}, 403, 200),
    ("POST", "account/password/change", lambda me: {"new_password": NEW_PASSWORD}, 400, 400),
    (
        "POST",
        "account/password/change",
        lambda me: {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        400,
        200,
    ),
    ("GET", "account/phone", None, 200, 200),
    ("POST", "account/phone", lambda me: {"phone": "+447700900456"}, 400, 400),
    ("POST", "auth/phone/verify", lambda me: {"code": "123456"}, 409, 409),
    ("POST", "auth/phone/verify/resend", None, 409, 409),
    ("POST", "auth/email/verify", lambda me: {"key": "not-a-key"}, 400, 400),
    ("POST", "auth/email/verify/resend", None, 409, 409),
    ("POST", "auth/password/request", lambda me: {"email": me.user.email}, 200, 200),
    (
        "POST",
        "auth/password/reset",
        lambda me: {"key": reset_key(me.user), "password": NEW_PASSWORD},
        400,
        200,
    ),
    ("POST", "auth/reauthenticate", lambda me: {"password": "not the password"}, 400, 400),
    ("POST", "auth/2fa/reauthenticate", lambda me: {"code": "000000"}, 400, 400),
    ("GET", "account/authenticators", None, 200, 200),
    ("GET", "account/authenticators/totp", None, 403, 200),
    ("POST", "account/authenticators/totp", "current TOTP code", 403, 409),
    ("DELETE", "account/authenticators/totp", None, 200, 200),
    ("GET", "account/authenticators/recovery-codes", None, 404, 200),
    ("POST", "account/authenticators/recovery-codes", None, 400, 200),
    ("POST", "auth/login", lambda me: {"email": me.user.email, "password": PASSWORD}, 400, 409),
    (
        "POST",
        "auth/signup",
        lambda me: {"email": "new@example.org", "password": NEW_PASSWORD},
        409,
        409,
    ),
    ("POST", "auth/code/confirm", lambda me: {"code": "AAAA-AAAA"}, 409, 409),
    ("POST", "auth/code/resend", None, 409, 409),
    ("POST", "tokens/refresh", lambda me: {"refresh_token": "not-a-token"}, 400, 400),
    # Not routed: PeerPath keeps no list of a person's sessions to sign out of one by one.
    ("GET", "auth/sessions", None, 404, 404),
    ("DELETE", "auth/sessions", lambda me: {"sessions": [1]}, 404, 404),
    # Signing out is always open, and changes no credential.
    ("DELETE", "auth/session", None, 401, 401),
]


def body_for(body, me):
    if body == "current TOTP code":
        secret = me.totp_secret or generate_totp_secret()
        me.hold_totp_secret(secret)
        return {"code": current_code(secret)}
    return body(me) if body else None


def endpoint_id(row):
    method, path, body, *_ = row
    return f"{method} {path}" + (
        " with the current password" if "current_password" in str(body) else ""
    )


@pytest.mark.parametrize(
    "method, path, body, for_volunteer, for_coordinator", ENDPOINTS, ids=map(endpoint_id, ENDPOINTS)
)
class TestEveryEndpointOfTheAppAPI:
    def test_a_volunteer_signed_in_by_code_changes_nothing(
        self, volunteer, method, path, body, for_volunteer, for_coordinator
    ):
        before = kept_credentials()

        response = volunteer.call(method, path, body_for(body, volunteer))

        assert response.status_code == for_volunteer, response.content
        assert kept_credentials() == before
        if response.status_code in (400, 403) and KEPT_BY_OFFICE in response.content.decode():
            refusal_of(response)

    def test_a_coordinator_signed_in_by_password_changes_only_their_own(
        self, signed_in_coordinator, method, path, body, for_volunteer, for_coordinator
    ):
        before = kept_credentials()

        response = signed_in_coordinator.call(method, path, body_for(body, signed_in_coordinator))

        assert response.status_code == for_coordinator, response.content
        after = kept_credentials()
        if response.status_code >= 400:
            assert after == before
        others = [row for row in after["accounts"] if row[0] != signed_in_coordinator.user.pk]
        assert others == [
            row for row in before["accounts"] if row[0] != signed_in_coordinator.user.pk
        ]


class TestVolunteers:
    def test_a_volunteer_cannot_give_themselves_a_password_and_is_told_whom_to_call(
        self, volunteer
    ):
        response = volunteer.call("POST", "account/password/change", {"new_password": NEW_PASSWORD})

        assert response.status_code == 400
        assert refusal_of(response)["param"] == "new_password"
        volunteer.user.refresh_from_db()
        assert not volunteer.user.has_usable_password()
        signed_in = APIClient().post(
            APP + "auth/login",
            {"email": volunteer.user.email, "password": NEW_PASSWORD},
            format="json",
        )
        assert signed_in.status_code == 400

    def test_a_volunteer_cannot_add_an_email_address_not_even_the_coordinators(
        self, volunteer, coordinator
    ):
        for address in ("someone.new@example.org", coordinator.email, "COORDINATOR@example.org"):
            response = volunteer.call("POST", "account/email", {"email": address})

            assert response.status_code == 400
            assert refusal_of(response)["param"] == "email"
        assert (
            not EmailAddress.objects.filter(user=volunteer.user)
            .exclude(email__in=[volunteer.user.email, volunteer.second_address])
            .exists()
        )

    @pytest.mark.parametrize("method", ["PATCH", "DELETE", "PUT"])
    def test_a_volunteer_cannot_touch_the_addresses_the_office_keeps(self, volunteer, method):
        body = {"email": volunteer.second_address, "primary": True}

        response = volunteer.call(method, "account/email", body)

        assert response.status_code == 403
        refusal_of(response)
        assert mail.outbox == []
        assert (
            EmailAddress.objects.get(user=volunteer.user, primary=True).email
            == volunteer.user.email
        )

    def test_a_password_reset_for_a_volunteer_sends_nothing_and_answers_as_for_anyone(
        self, volunteer, coordinator
    ):
        anonymous = APIClient()

        for_volunteer = anonymous.post(
            APP + "auth/password/request", {"email": volunteer.user.email}, format="json"
        )
        for_nobody = anonymous.post(
            APP + "auth/password/request", {"email": "nobody@example.org"}, format="json"
        )

        assert for_volunteer.status_code == for_nobody.status_code == 200
        assert for_volunteer.json() == for_nobody.json()
        assert [m.to for m in mail.outbox] == [["nobody@example.org"]]  # "no account here"

    def test_even_a_reset_link_made_for_a_volunteer_gives_them_no_password(self, volunteer):
        response = APIClient().post(
            APP + "auth/password/reset",
            {"key": reset_key(volunteer.user), "password": NEW_PASSWORD},
            format="json",
        )

        assert response.status_code == 400
        assert refusal_of(response)["param"] == "password"
        volunteer.user.refresh_from_db()
        assert not volunteer.user.has_usable_password()

    def test_a_volunteer_with_an_authenticator_left_over_cannot_remove_it_or_renew_codes(
        self, deliver_texts_at_once, another_account
    ):
        # Someone who was a coordinator and now volunteers keeps what the office set up.
        user = AppVolunteerUserFactory(phone=PHONE)
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
        RecoveryCodes.activate(user)
        client, after_code, token = sign_in_by_code(PHONE, deliver_texts_at_once)
        assert after_code.status_code == 401  # the authenticator's code is asked for next
        after_totp = client.post(
            APP + "auth/2fa/authenticate",
            {"code": current_code(secret)},
            format="json",
            HTTP_X_SESSION_TOKEN=token,
        )
        assert after_totp.status_code == 200, after_totp.content
        me = SignedIn(user, signed_in_client(client, session_token(after_totp, token)), token)
        before = kept_credentials()

        responses = [
            me.call("DELETE", "account/authenticators/totp", None),
            me.call("GET", "account/authenticators/recovery-codes", None),
            me.call("POST", "account/authenticators/recovery-codes", None),
        ]

        assert [r.status_code for r in responses] == [403, 403, 403]
        for response in responses:
            refusal_of(response)
        assert kept_credentials() == before


class TestCoordinators:
    def test_a_coordinator_changes_their_own_password_with_the_current_one(
        self, signed_in_coordinator
    ):
        response = signed_in_coordinator.call(
            "POST",
            "account/password/change",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )

        assert response.status_code == 200, response.content
        signed_in_coordinator.user.refresh_from_db()
        assert signed_in_coordinator.user.check_password(NEW_PASSWORD)

    @pytest.mark.parametrize(
        "address", ["morag@example.org", "MORAG@example.org", "Morag@Example.Org"]
    )
    def test_a_coordinator_cannot_add_another_accounts_address_in_any_capitals(
        self, signed_in_coordinator, address
    ):
        response = signed_in_coordinator.call("POST", "account/email", {"email": address})

        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "email_taken"
        assert not EmailAddress.objects.filter(
            user=signed_in_coordinator.user, email__iexact=address
        ).exists()

    def test_nor_an_address_that_is_only_another_accounts_sign_in_email(
        self, signed_in_coordinator
    ):
        UserFactory(email="no.rows@example.org")  # an account allauth has no address rows for

        response = signed_in_coordinator.call(
            "POST", "account/email", {"email": "No.Rows@example.org"}
        )

        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "email_taken"

    def test_a_coordinator_without_an_authenticator_makes_a_new_address_their_sign_in_email(
        self, coordinator
    ):
        me = sign_in_by_password(coordinator)

        added = me.call("POST", "account/email", {"email": "fiona@example.org"})
        primary = me.call("PATCH", "account/email", {"email": "fiona@example.org", "primary": True})

        assert (added.status_code, primary.status_code) == (200, 200), primary.content
        coordinator.refresh_from_db()
        assert coordinator.email == "fiona@example.org"

    def test_a_coordinator_without_an_authenticator_cannot_take_another_accounts_address(
        self, coordinator, another_account
    ):
        me = sign_in_by_password(coordinator)
        before = kept_credentials()

        added = me.call("POST", "account/email", {"email": "MORAG@example.org"})
        primary = me.call("PATCH", "account/email", {"email": "morag@example.org", "primary": True})

        assert added.status_code == 400
        assert added.json()["errors"][0]["code"] == "email_taken"
        assert primary.status_code == 400  # not an address of theirs, so nothing to make primary
        assert kept_credentials() == before

    def test_setting_up_a_second_authenticator_app_is_a_conflict_not_an_error(
        self, signed_in_coordinator
    ):
        secret = generate_totp_secret()
        signed_in_coordinator.hold_totp_secret(secret)
        before = kept_credentials()

        response = signed_in_coordinator.call(
            "POST", "account/authenticators/totp", {"code": current_code(secret)}
        )

        assert response.status_code == 409
        assert response.json()["errors"][0]["code"] == "totp_already_active"
        assert kept_credentials() == before

    def test_an_address_a_coordinator_added_cannot_be_given_to_another_account(
        self, signed_in_coordinator, another_account
    ):
        # Otherwise making it primary later would clash with that account's email.
        another_account.email = signed_in_coordinator.second_address.upper()

        with pytest.raises(ValidationError) as refused:
            another_account.full_clean()

        assert "email" in refused.value.message_dict


class TestTheBrowserAPI:
    """The browser client of the same API, signed in by the browser's session."""

    @staticmethod
    def browser(user):
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(user)
        client.get(BROWSER + "auth/session")
        client.credentials(HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
        return client

    def test_a_volunteer_can_neither_set_a_password_nor_add_an_address(self, db):
        user = AppVolunteerUserFactory()
        client = self.browser(user)
        before = kept_credentials()

        password = client.post(
            BROWSER + "account/password/change", {"new_password": NEW_PASSWORD}, format="json"
        )
        email = client.post(BROWSER + "account/email", {"email": "new@example.org"}, format="json")

        assert (password.status_code, email.status_code) == (400, 400)
        refusal_of(password)
        refusal_of(email)
        assert kept_credentials() == before

    def test_a_coordinator_changes_their_password_but_cannot_take_another_accounts_address(
        self, coordinator, another_account
    ):
        client = self.browser(coordinator)

        email = client.post(
            BROWSER + "account/email", {"email": "MORAG@example.org"}, format="json"
        )
        password = client.post(
            BROWSER + "account/password/change",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            format="json",
        )

        assert email.status_code == 400
        assert email.json()["errors"][0]["code"] == "email_taken"
        assert password.status_code == 200, password.content
        coordinator.refresh_from_db()
        assert coordinator.check_password(NEW_PASSWORD)


class TestTheSitePages:
    def test_a_volunteer_cannot_set_a_password_on_the_site(self, client, db):
        user = AppVolunteerUserFactory()
        client.force_login(user)

        change = client.get("/accounts/password/change/")
        page = client.post(
            "/accounts/password/set/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        )

        assert change["Location"] == "/accounts/password/set/"  # allauth: no password to change
        assert page.status_code == 200
        assert "kept by the office" in page.content.decode()
        user.refresh_from_db()
        assert not user.has_usable_password()

    def test_a_volunteer_who_has_a_password_cannot_change_it_on_the_site(self, client, db):
        user = UserFactory()  # a volunteer from before sign-in by text
        client.force_login(user)

        page = client.post(
            "/accounts/password/change/",
            {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )

        assert page.status_code == 200
        assert "kept by the office" in page.content.decode()
        user.refresh_from_db()
        assert user.check_password(PASSWORD)

    def test_a_volunteer_can_neither_add_nor_remove_an_address_on_the_site(self, client, db):
        user = AppVolunteerUserFactory(email="aileen@example.org")
        EmailAddress.objects.create(user=user, email="aileen.home@example.org")
        client.force_login(user)

        added = client.post("/accounts/email/", {"action_add": "", "email": "new@example.org"})
        removed = client.post(
            "/accounts/email/", {"action_remove": "", "email": "aileen.home@example.org"}
        )

        assert added.status_code == 200
        assert "kept by the office" in added.content.decode()
        assert removed.status_code == 403
        assert set(EmailAddress.objects.filter(user=user).values_list("email", flat=True)) == {
            "aileen@example.org",
            "aileen.home@example.org",
        }

    def test_a_volunteer_cannot_set_up_an_authenticator_app_on_the_site(self, client, db):
        user = AppVolunteerUserFactory()
        client.force_login(user)

        response = client.get("/accounts/2fa/totp/activate/")

        assert response.status_code == 403
        assert not Authenticator.objects.filter(user=user).exists()

    def test_a_coordinator_cannot_add_another_accounts_address_on_the_site(
        self, coordinator_client, another_account
    ):
        page = coordinator_client.post(
            "/accounts/email/", {"action_add": "", "email": "Morag@example.org"}
        )

        assert page.status_code == 200
        assert "already registered with this email" in page.content.decode()
        assert (
            not EmailAddress.objects.filter(email__iexact="morag@example.org")
            .exclude(user=another_account)
            .exists()
        )

    def test_a_coordinator_changes_their_password_on_the_site(
        self, coordinator_client, coordinator
    ):
        page = coordinator_client.post(
            "/accounts/password/change/",
            {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )

        assert page.status_code == 302
        coordinator.refresh_from_db()
        assert coordinator.check_password(NEW_PASSWORD)


class TestAddressesTakenBeforeThisRule:
    def test_addresses_of_other_accounts_are_removed_and_the_own_primary_restored(self, db):
        migration = importlib.import_module(
            "accounts.migrations.0003_email_addresses_of_one_account"
        )
        coordinator = UserFactory(email="fiona@example.org")
        owner = UserFactory(email="morag@example.org")
        own = EmailAddress.objects.create(user=coordinator, email="fiona@example.org")
        # What making another account's address primary used to leave behind.
        EmailAddress.objects.create(user=coordinator, email="Morag@example.org", primary=True)
        kept = EmailAddress.objects.create(user=owner, email="morag@example.org", primary=True)

        migration.remove_addresses_of_other_accounts(apps, None)

        assert list(EmailAddress.objects.order_by("pk")) == [own, kept]
        own.refresh_from_db()
        assert own.primary
