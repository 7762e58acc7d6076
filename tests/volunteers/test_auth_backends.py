"""volunteers.auth_backends: the signed-in user is read with their volunteer and its area in
one query compiled once, and is the user the ORM's select_related would load."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from phonenumber_field.phonenumber import PhoneNumber

from tests.factories import AppVolunteerUserFactory, UserFactory, VolunteerFactory
from volunteers.auth_backends import AuthenticationBackend, ModelBackend, user_with_volunteer
from volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


def values(instance):
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


@pytest.fixture
def volunteer():
    return VolunteerFactory(preferred_name="Aileen", user=AppVolunteerUserFactory())


def test_a_volunteers_user_comes_with_their_volunteer_and_area_as_select_related_loads_them(
    volunteer,
):
    expected = get_user_model().objects.select_related("volunteer__area").get(pk=volunteer.user_id)

    with CaptureQueriesContext(connection) as queries:
        user = user_with_volunteer(volunteer.user_id)
        loaded = (values(user), values(user.volunteer), values(user.volunteer.area))
        assert user.volunteer.user is user

    assert len(queries) == 1
    assert loaded == (
        values(expected),
        values(expected.volunteer),
        values(expected.volunteer.area),
    )
    assert isinstance(user.volunteer.phone, PhoneNumber)
    assert not user._state.adding and user.volunteer._state.db == "default"


def test_a_user_who_is_no_volunteer_is_known_to_have_none_without_another_query():
    coordinator = UserFactory()

    user = user_with_volunteer(coordinator.pk)
    with CaptureQueriesContext(connection) as queries:
        assert not hasattr(user, "volunteer")

    assert len(queries) == 0
    assert user.email == coordinator.email


def test_a_loaded_user_and_volunteer_save_as_any_other(volunteer):
    user = user_with_volunteer(volunteer.user_id)
    user.volunteer.preferred_name = "Ailie"
    user.volunteer.save(update_fields=["preferred_name"])
    user.name = "Aileen Example"
    user.save()

    assert Volunteer.objects.get(pk=volunteer.pk).preferred_name == "Ailie"
    assert get_user_model().objects.get(pk=user.pk).name == "Aileen Example"


def test_no_such_user_or_an_inactive_one_is_no_one(volunteer):
    get_user_model().objects.filter(pk=volunteer.user_id).update(is_active=False)
    missing = get_user_model().objects.order_by("-pk").first().pk + 1

    for backend in (ModelBackend(), AuthenticationBackend()):
        assert backend.get_user(missing) is None
        assert backend.get_user(volunteer.user_id) is None


def test_both_backends_read_the_user_without_compiling_once_warmed(volunteer, monkeypatch):
    AuthenticationBackend().get_user(volunteer.user_id)
    compiled = []
    as_sql = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(self) or as_sql(self, *a, **k)
    )

    for backend in (ModelBackend(), AuthenticationBackend()):
        assert backend.get_user(str(volunteer.user_id)).volunteer.pk == volunteer.pk

    assert compiled == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_async_backend_reads_the_same_user(volunteer):
    async def read():
        try:
            return await AuthenticationBackend().aget_user(volunteer.user_id)
        finally:  # the thread that read it keeps its own connection open otherwise
            await sync_to_async(connections.close_all)()

    user = asyncio.run(read())

    assert user.pk == volunteer.user_id
    assert user.volunteer.pk == volunteer.pk
