import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.factories import (
    AbsenceFactory,
    TrainingRecordFactory,
    VolunteerFactory,
    course,
    fully_trained,
)
from volunteers import services
from volunteers.models import TrainingRecord, TrainingState, Volunteer, add_months

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC))


def test_expiry_follows_from_the_courses_validity():
    record = services.record_training(
        volunteer=VolunteerFactory(), course=course("NALOXONE"), completed_on=TODAY
    )
    assert record.expires_on == datetime.date(2027, 11, 23)


def test_expiry_set_by_hand_is_kept():
    record = services.record_training(
        volunteer=VolunteerFactory(),
        course=course("NALOXONE"),
        completed_on=TODAY,
        expires_on=datetime.date(2027, 3, 1),
    )
    assert record.expires_on == datetime.date(2027, 3, 1)


def test_a_course_without_validity_never_expires():
    record = services.record_training(
        volunteer=VolunteerFactory(), course=course("ROSC"), completed_on=TODAY
    )
    assert record.expires_on is None
    assert record.is_current(on=datetime.date(2040, 1, 1))


def test_adding_months_clamps_to_the_end_of_a_short_month():
    assert add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2024, 2, 29), 12) == datetime.date(2025, 2, 28)
    assert add_months(datetime.date(2026, 11, 30), 36) == datetime.date(2029, 11, 30)


def test_training_for_a_course_that_does_not_exist_is_refused():
    volunteer = VolunteerFactory()
    with pytest.raises(ValidationError) as refused:
        services.record_training(volunteer=volunteer, course="FIRST-AID", completed_on=TODAY)
    assert refused.value.message_dict["course"] == ["There is no course with the code “FIRST-AID”."]
    assert not TrainingRecord.objects.exists()


def test_training_completed_in_the_future_is_refused():
    with pytest.raises(ValidationError) as refused:
        services.record_training(
            volunteer=VolunteerFactory(),
            course=course("ROSC"),
            completed_on=TODAY + datetime.timedelta(days=1),
        )
    assert "future" in refused.value.message_dict["completed_on"][0]


def test_an_expiry_before_completion_is_refused():
    with pytest.raises(ValidationError) as refused:
        services.record_training(
            volunteer=VolunteerFactory(),
            course=course("ASP"),
            completed_on=TODAY,
            expires_on=TODAY - datetime.timedelta(days=1),
        )
    assert "must expire after it was completed" in str(refused.value)
    assert not TrainingRecord.objects.exists()


def test_training_lapses_on_its_expiry_date():
    record = TrainingRecordFactory(
        course=course("NALOXONE"), completed_on=datetime.date(2025, 10, 1)
    )
    assert record.expires_on == datetime.date(2026, 10, 1)
    assert record.is_current(on=datetime.date(2026, 9, 30))
    assert not record.is_current(on=datetime.date(2026, 10, 1))


class TestMatchable:
    def test_active_fully_trained_volunteer_is_matchable(self):
        volunteer = fully_trained(VolunteerFactory())
        assert list(Volunteer.objects.matchable(on=TODAY)) == [volunteer]

    @pytest.mark.parametrize("status", ["applicant", "in_training", "paused", "left"])
    def test_only_active_volunteers_are_matchable(self, status):
        fully_trained(VolunteerFactory(status=status))
        assert not Volunteer.objects.matchable(on=TODAY).exists()

    def test_a_missing_required_course_makes_a_volunteer_unmatchable(self):
        volunteer = fully_trained(VolunteerFactory())
        volunteer.training_records.filter(course__code="PVG").delete()
        assert not Volunteer.objects.matchable(on=TODAY).exists()

    def test_an_expired_required_course_makes_a_volunteer_unmatchable(self):
        volunteer = fully_trained(VolunteerFactory())
        volunteer.training_records.filter(course__code="NALOXONE").update(expires_on=TODAY)
        assert not Volunteer.objects.matchable(on=TODAY).exists()
        assert Volunteer.objects.matchable(on=TODAY - datetime.timedelta(days=1)).exists()

    def test_a_renewed_course_counts_even_when_the_old_record_expired(self):
        volunteer = fully_trained(VolunteerFactory(), completed_on=datetime.date(2025, 10, 1))
        assert not Volunteer.objects.matchable(on=TODAY).exists()
        TrainingRecordFactory(
            volunteer=volunteer, course=course("NALOXONE"), completed_on=datetime.date(2026, 11, 1)
        )
        assert list(Volunteer.objects.matchable(on=TODAY)) == [volunteer]

    def test_an_optional_course_does_not_matter(self):
        volunteer = fully_trained(VolunteerFactory())
        assert not volunteer.training_records.filter(course__code="MHFA").exists()
        assert Volunteer.objects.matchable(on=TODAY).exists()

    def test_an_absent_volunteer_is_not_matchable_during_the_absence(self):
        volunteer = fully_trained(VolunteerFactory())
        AbsenceFactory(
            volunteer=volunteer,
            starts_on=TODAY,
            ends_on=TODAY + datetime.timedelta(days=6),
        )
        assert not Volunteer.objects.matchable(on=TODAY).exists()
        assert not Volunteer.objects.matchable(on=TODAY + datetime.timedelta(days=6)).exists()
        assert Volunteer.objects.matchable(on=TODAY + datetime.timedelta(days=7)).exists()

    def test_matchable_defaults_to_today(self):
        fully_trained(VolunteerFactory())
        assert timezone.localdate() == TODAY
        assert Volunteer.objects.matchable().count() == 1


class TestTrainingState:
    def _state(self, volunteer):
        return Volunteer.objects.with_training_state(on=TODAY).get(pk=volunteer.pk).training_state

    def test_complete_when_everything_is_current_beyond_the_warning(self):
        volunteer = fully_trained(VolunteerFactory())
        assert self._state(volunteer) == TrainingState.COMPLETE
        assert not Volunteer.objects.training_expiring(on=TODAY).exists()

    def test_expiring_when_a_required_course_lapses_within_30_days(self):
        volunteer = fully_trained(VolunteerFactory())
        volunteer.training_records.filter(course__code="NALOXONE").update(
            expires_on=TODAY + datetime.timedelta(days=30)
        )
        assert self._state(volunteer) == TrainingState.EXPIRING
        assert list(Volunteer.objects.training_expiring(within_days=30, on=TODAY)) == [volunteer]
        assert not Volunteer.objects.training_expiring(within_days=29, on=TODAY).exists()

    def test_a_renewal_already_recorded_means_not_expiring(self):
        volunteer = fully_trained(VolunteerFactory(), completed_on=datetime.date(2025, 12, 1))
        assert volunteer in Volunteer.objects.training_expiring(on=TODAY)
        TrainingRecordFactory(volunteer=volunteer, course=course("NALOXONE"), completed_on=TODAY)
        assert not Volunteer.objects.training_expiring(on=TODAY).exists()
        assert self._state(volunteer) == TrainingState.COMPLETE

    def test_lapsed_when_something_is_missing_or_expired(self):
        missing = VolunteerFactory()
        expired = fully_trained(VolunteerFactory())
        expired.training_records.filter(course__code="ASP").update(expires_on=TODAY)
        assert self._state(missing) == TrainingState.LAPSED
        assert self._state(expired) == TrainingState.LAPSED
        lapsed = Volunteer.objects.in_training_state(TrainingState.LAPSED, on=TODAY)
        assert set(lapsed) == {missing, expired}
