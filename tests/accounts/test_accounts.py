import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from community.coordinators import COORDINATORS_GROUP
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def totp_code(secret):
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


class TestUser:
    def test_email_is_the_identifier(self):
        user = User.objects.create_user(email="Morag@Example.ORG", password=PASSWORD)
        assert user.email == "morag@example.org"
        assert not hasattr(user, "username") or user.USERNAME_FIELD == "email"
        assert User.objects.get_by_natural_key("MORAG@example.org") == user
        assert user.check_password(PASSWORD)

    def test_a_second_account_with_the_same_email_is_refused(self):
        User.objects.create_user(email="morag@example.org", password=PASSWORD)
        with pytest.raises(ValidationError):
            User.objects.create_user(email="MORAG@example.org", password=PASSWORD)

    def test_superuser_is_staff(self):
        admin = User.objects.create_superuser(email="boss@example.org", password=PASSWORD)
        assert admin.is_staff and admin.is_superuser and admin.is_coordinator

    def test_phone_is_optional_e164_and_unique_when_set(self):
        first = User.objects.create_user(email="a@example.org", phone="07700 900001")
        User.objects.create_user(email="b@example.org")
        User.objects.create_user(email="c@example.org")
        assert str(User.objects.get(pk=first.pk).phone) == "+447700900001"
        with pytest.raises(ValidationError) as refused:
            User.objects.create_user(email="d@example.org", phone="+447700900001")
        assert "phone" in refused.value.message_dict

    def test_only_coordinators_group_members_are_coordinators(self):
        volunteer_user = UserFactory()
        assert not volunteer_user.is_coordinator
        volunteer_user.groups.add(Group.objects.get(name=COORDINATORS_GROUP))
        assert User.objects.get(pk=volunteer_user.pk).is_coordinator


class TestCoordinatorsGroup:
    def test_it_can_run_the_records_but_not_delete_volunteers_or_grant_superuser(self):
        codenames = set(
            Group.objects.get(name=COORDINATORS_GROUP).permissions.values_list(
                "codename", flat=True
            )
        )
        expected = {
            "add_volunteer",
            "change_volunteer",
            "view_volunteer",
            "add_trainingrecord",
            "delete_trainingrecord",
            "change_availabilitywindow",
            "add_peer",
            "change_peer",
            "add_area",
            "change_focus",
            "add_user",
            "change_user",
            "view_match",
        }
        assert expected <= codenames
        assert not {"delete_volunteer", "delete_peer", "delete_user"} & codenames


class TestSignIn:
    def test_there_is_no_public_sign_up(self, client):
        response = client.post(
            reverse("account_signup"),
            {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
        )
        assert "Sign Up Closed" in response.content.decode()
        assert not User.objects.filter(email="new@example.org").exists()

    def test_a_coordinator_signs_in_with_email_and_password(self, client, coordinator):
        response = client.post(
            reverse("account_login"), {"login": coordinator.email, "password": PASSWORD}
        )
        assert response.status_code == 302
        assert response["Location"] == "/"  # the dashboard, where coordinators work
        assert client.get("/admin/").status_code == 200

    def test_the_admin_sign_in_goes_through_allauth(self, client):
        response = client.get("/admin/login/?next=/admin/")
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


class TestCoordinatorMFA:
    def test_without_the_setting_a_coordinator_is_not_asked_for_mfa(self, settings, client):
        settings.REQUIRE_COORDINATOR_MFA = False
        user = UserFactory(is_staff=True)
        client.force_login(user)
        assert client.get("/admin/").status_code == 200

    def test_when_required_a_coordinator_must_set_up_totp_first(
        self, settings, client, coordinator
    ):
        settings.REQUIRE_COORDINATOR_MFA = True
        client.post(reverse("account_login"), {"login": coordinator.email, "password": PASSWORD})
        response = client.get("/admin/volunteers/volunteer/")
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp")
        # allauth asks for the password again before any change to MFA.
        confirm = client.get(reverse("mfa_activate_totp"))
        assert confirm["Location"].startswith(reverse("account_reauthenticate"))
        client.post(confirm["Location"], {"password": PASSWORD})
        page = client.get(reverse("mfa_activate_totp"))
        assert page.status_code == 200 and "Authenticator" in page.content.decode()

    def test_when_required_a_volunteer_using_the_app_is_not_asked(self, settings, client):
        settings.REQUIRE_COORDINATOR_MFA = True
        client.force_login(UserFactory())
        assert client.get("/health/").status_code == 200
        response = client.get("/admin/")
        assert response["Location"] != reverse("mfa_activate_totp")

    def test_a_coordinator_with_totp_signs_in_with_a_code(self, settings, client, coordinator):
        settings.REQUIRE_COORDINATOR_MFA = True
        secret = generate_totp_secret()
        TOTP.activate(coordinator, secret)
        response = client.post(
            reverse("account_login"), {"login": coordinator.email, "password": PASSWORD}
        )
        assert response["Location"] == reverse("mfa_authenticate")
        not_yet = client.get("/admin/", follow=True)
        assert not_yet.redirect_chain[-1][0] == reverse("mfa_authenticate")
        wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
        assert wrong.status_code == 200 and "Incorrect code" in wrong.content.decode()
        client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
        assert client.get("/admin/").status_code == 200
