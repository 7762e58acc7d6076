"""Failed sign-ins are limited without letting a stranger lock the owner out.

Wrong passwords count per client address and account (5 in 5 minutes, 20 an hour), and per
account from all addresses together (50 an hour).
"""

import datetime

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/_allauth/app/v1/auth/login"
PASSWORD = "correct horse battery staple"
STRANGER = "203.0.113.7"
OWNER = "198.51.100.20"


@pytest.fixture(autouse=True)
def _quick_password_checks(settings):
    """Hundreds of sign-ins: a hasher made for tests, set before any account's password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_in(email, password, address):
    return APIClient().post(
        LOGIN, {"email": email, "password": password}, format="json", REMOTE_ADDR=address
    )


def is_locked_out(response):
    return response.status_code == 400 and any(
        error["code"] == "too_many_login_attempts" for error in response.json()["errors"]
    )


def test_a_strangers_failures_at_one_address_do_not_lock_out_the_owner_at_another(coordinator):
    for _ in range(8):
        assert sign_in(coordinator.email, "wrong", STRANGER).status_code == 400

    owner = sign_in(coordinator.email, PASSWORD, OWNER)

    assert owner.status_code == 200, owner.content
    assert "session_token" in owner.json()["meta"]


def test_after_five_failures_the_same_address_is_refused_even_the_right_password(coordinator):
    for _ in range(5):
        assert not is_locked_out(sign_in(coordinator.email, "wrong", STRANGER))

    again = sign_in(coordinator.email, PASSWORD, STRANGER)

    assert is_locked_out(again)
    assert "too many failed login attempts" in again.content.decode().lower()
    assert "session_token" not in again.json().get("meta", {})


def test_the_address_may_try_again_five_minutes_later(coordinator, time_machine):
    time_machine.move_to(datetime.datetime(2027, 2, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
    for _ in range(5):
        sign_in(coordinator.email, "wrong", STRANGER)
    assert is_locked_out(sign_in(coordinator.email, PASSWORD, STRANGER))

    time_machine.shift(datetime.timedelta(minutes=5, seconds=1))

    assert sign_in(coordinator.email, PASSWORD, STRANGER).status_code == 200


def test_the_limit_is_per_account_so_the_address_may_still_sign_in_to_another(coordinator):
    colleague = UserFactory(email="colleague@example.org", is_staff=True)
    for _ in range(5):
        sign_in(coordinator.email, "wrong", STRANGER)

    assert sign_in(colleague.email, PASSWORD, STRANGER).status_code == 200


def test_guessing_spread_over_many_addresses_meets_the_ceiling_of_the_account(coordinator):
    for n in range(9):  # 45 failures, 5 from each of 9 addresses: the owner still signs in
        for _ in range(5):
            assert not is_locked_out(sign_in(coordinator.email, "wrong", f"192.0.2.{n + 1}"))
    assert sign_in(coordinator.email, PASSWORD, OWNER).status_code == 200

    for _ in range(5):  # the 50th failure, from a tenth address
        assert not is_locked_out(sign_in(coordinator.email, "wrong", "192.0.2.10"))

    assert is_locked_out(sign_in(coordinator.email, PASSWORD, OWNER))
    assert is_locked_out(sign_in(coordinator.email, "wrong", "192.0.2.11"))


def test_the_ceiling_of_the_account_lifts_after_an_hour(coordinator, time_machine):
    time_machine.move_to(datetime.datetime(2027, 2, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
    for n in range(10):
        for _ in range(5):
            sign_in(coordinator.email, "wrong", f"192.0.2.{n + 1}")
    assert is_locked_out(sign_in(coordinator.email, PASSWORD, OWNER))

    time_machine.shift(datetime.timedelta(hours=1, seconds=1))

    assert sign_in(coordinator.email, PASSWORD, OWNER).status_code == 200


def test_one_address_alone_cannot_reach_the_ceiling_of_the_account(coordinator, time_machine):
    time_machine.move_to(datetime.datetime(2027, 2, 1, 9, 0, tzinfo=datetime.UTC), tick=False)
    refused = 0
    for _ in range(12):  # an hour of trying, five at a time, as often as the limit allows
        for _ in range(5):
            refused += is_locked_out(sign_in(coordinator.email, "wrong", STRANGER))
        time_machine.shift(datetime.timedelta(minutes=5, seconds=1))

    assert refused == 60 - 20  # 20 an hour from one address for one account
    assert sign_in(coordinator.email, PASSWORD, OWNER).status_code == 200


def test_successful_sign_ins_do_not_count_towards_the_ceiling(coordinator):
    for n in range(9):
        for _ in range(5):
            sign_in(coordinator.email, "wrong", f"192.0.2.{n + 1}")
    for n in range(10):
        assert sign_in(coordinator.email, PASSWORD, f"198.51.100.{n + 1}").status_code == 200

    assert sign_in(coordinator.email, PASSWORD, OWNER).status_code == 200
