import pytest

from tests.factories import VolunteerFactory, fully_trained
from volunteers.models import Volunteer


@pytest.mark.django_db
def test_fully_trained_active_volunteer_is_matchable():
    volunteer = fully_trained(VolunteerFactory())
    assert list(Volunteer.objects.matchable()) == [volunteer]
