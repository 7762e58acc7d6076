import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts.models import User
from community.coordinators import COORDINATORS_GROUP
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a long walk by the Clyde"


def change_url(user):
    return reverse("admin:accounts_user_change", args=[user.pk])


def change_data(user, **changes):
    data = {
        "email": user.email,
        "name": user.name,
        "phone": "",
        "is_active": "on",
        "date_joined_0": "",
        "groups": [group.pk for group in user.groups.all()],
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


class TestAddingAnAccount:
    def test_a_coordinator_adds_an_account_by_email_with_a_password(self, coordinator_client):
        response = coordinator_client.post(
            reverse("admin:accounts_user_add"),
            {
                "email": "Senga.Rennie@Example.org",
                "name": "Senga Rennie",
                "phone": "07700 900321",
                "usable_password": "true",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )

        assert response.status_code == 302
        user = User.objects.get(email="senga.rennie@example.org")
        assert user.check_password(PASSWORD)
        assert str(user.phone) == "+447700900321"
        assert not user.is_superuser

    def test_two_different_passwords_are_refused(self, coordinator_client):
        response = coordinator_client.post(
            reverse("admin:accounts_user_add"),
            {
                "email": "senga@example.org",
                "usable_password": "true",
                "password1": PASSWORD,
                "password2": PASSWORD + "!",
            },
        )

        assert "The two password fields didn’t match." in response.content.decode()
        assert not User.objects.filter(email="senga@example.org").exists()

    def test_an_email_already_used_in_another_case_is_refused(self, coordinator_client):
        UserFactory(email="senga@example.org")

        response = coordinator_client.post(
            reverse("admin:accounts_user_add"),
            {
                "email": "SENGA@example.org",
                "usable_password": "true",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )

        assert "already exists" in response.content.decode()
        assert User.objects.filter(email__iexact="senga@example.org").count() == 1


class TestWhatACoordinatorMayGrant:
    def test_superuser_and_single_permissions_are_read_only_for_a_coordinator(
        self, coordinator_client
    ):
        user = UserFactory()

        form = coordinator_client.get(change_url(user)).context["adminform"].form

        assert "is_superuser" not in form.fields
        assert "user_permissions" not in form.fields
        assert {"is_staff", "is_active", "groups"} <= set(form.fields)

    def test_a_coordinator_posting_superuser_gains_nothing(self, coordinator_client):
        user = UserFactory()
        permission = Permission.objects.get(codename="delete_volunteer")
        coordinators = Group.objects.get(name=COORDINATORS_GROUP)

        response = coordinator_client.post(
            change_url(user),
            change_data(
                user,
                is_staff="on",
                is_superuser="on",
                user_permissions=[permission.pk],
                groups=[coordinators.pk],
            ),
        )

        assert response.status_code == 302
        user.refresh_from_db()
        assert user.is_staff and user.is_coordinator
        assert not user.is_superuser
        assert not user.user_permissions.exists()

    def test_a_coordinator_can_look_at_but_not_change_a_superuser(self, coordinator_client):
        boss = User.objects.create_superuser(email="boss@example.org", password=PASSWORD)

        page = coordinator_client.get(change_url(boss))
        posted = coordinator_client.post(change_url(boss), change_data(boss, email="me@x.org"))
        password_page = coordinator_client.get(
            reverse("admin:auth_user_password_change", args=[boss.pk])
        )

        assert page.status_code == 200 and "Save" not in page.content.decode()
        assert posted.status_code == 403
        assert password_page.status_code == 403
        boss.refresh_from_db()
        assert boss.email == "boss@example.org"

    def test_a_superuser_can_grant_superuser(self, client):
        boss = User.objects.create_superuser(email="boss@example.org", password=PASSWORD)
        user = UserFactory()
        client.force_login(boss)

        response = client.post(change_url(user), change_data(user, is_superuser="on"))

        assert response.status_code == 302
        user.refresh_from_db()
        assert user.is_superuser


def test_the_account_list_shows_email_name_phone_access_and_groups(coordinator_client):
    page = coordinator_client.get(reverse("admin:accounts_user_changelist")).content.decode()

    assert "coordinator@example.org" in page
    assert COORDINATORS_GROUP in page
