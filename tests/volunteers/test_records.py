import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from community.errors import StateConflict
from tests.factories import (
    AvailabilityWindowFactory,
    VolunteerFactory,
    area,
    drama_phone,
    focus,
    language,
)
from volunteers import services
from volunteers.models import Absence, AvailabilityWindow, Volunteer, VolunteerStatusChange

pytestmark = pytest.mark.django_db
NINE, NOON, THREE = datetime.time(9), datetime.time(12), datetime.time(15)


class TestStatus:
    def test_an_allowed_change_is_made_and_logged(self, coordinator):
        volunteer = VolunteerFactory(status="in_training")
        services.change_volunteer_status(
            volunteer=volunteer, to="active", by=coordinator, note="Induction done"
        )
        volunteer.refresh_from_db()
        assert volunteer.status == Volunteer.Status.ACTIVE
        change = volunteer.status_log.get()
        assert (change.from_status, change.to_status) == ("in_training", "active")
        assert change.changed_by == coordinator and change.note == "Induction done"

    def test_an_illegal_change_is_refused_with_the_allowed_ones(self):
        volunteer = VolunteerFactory(status="applicant")
        with pytest.raises(StateConflict) as refused:
            services.change_volunteer_status(volunteer=volunteer, to="active")
        assert refused.value.message == (
            f"{volunteer.preferred_name} is applicant and cannot become active; "
            "from applicant they can become: in training, left."
        )
        volunteer.refresh_from_db()
        assert volunteer.status == "applicant"
        assert not VolunteerStatusChange.objects.exists()

    def test_an_unknown_status_is_refused(self):
        with pytest.raises(ValidationError) as refused:
            services.change_volunteer_status(volunteer=VolunteerFactory(), to="retired")
        assert "“retired” is not a status" in refused.value.message_dict["status"][0]

    def test_a_volunteer_who_left_can_come_back_as_an_applicant(self):
        volunteer = VolunteerFactory(status="left")
        services.change_volunteer_status(volunteer=volunteer, to="applicant")
        assert Volunteer.objects.get(pk=volunteer.pk).status == "applicant"

    def test_status_cannot_be_changed_by_an_ordinary_update(self):
        volunteer = VolunteerFactory(status="applicant")
        with pytest.raises(ValidationError):
            services.update_volunteer(volunteer=volunteer, status="active")
        volunteer.refresh_from_db()
        assert volunteer.status == "applicant"


class TestCreateAndUpdate:
    def test_create_with_languages_focuses_and_consent_time(self):
        volunteer = services.create_volunteer(
            preferred_name="Morag",
            full_name="Morag Sinclair",
            phone="07700 900555",
            area=area("Airdrie"),
            sms_consent=True,
            languages=[language("en"), language("gd")],
            focuses=[focus("alcohol")],
        )
        assert str(volunteer.phone) == "+447700900555"
        assert volunteer.sms_consent_at is not None
        assert set(volunteer.languages.values_list("code", flat=True)) == {"en", "gd"}
        assert volunteer.status == "applicant" and volunteer.max_active_matches == 2

    def test_withdrawing_consent_clears_its_time(self):
        volunteer = VolunteerFactory(sms_consent=True)
        services.update_volunteer(volunteer=volunteer, sms_consent=False)
        volunteer.refresh_from_db()
        assert volunteer.sms_consent_at is None

    def test_a_phone_already_used_by_another_volunteer_is_refused(self):
        taken = VolunteerFactory().phone
        with pytest.raises(ValidationError) as refused:
            services.create_volunteer(
                preferred_name="Iain", full_name="Iain Ross", phone=taken, area=area()
            )
        assert "phone" in refused.value.message_dict
        assert Volunteer.objects.count() == 1

    def test_a_volunteer_must_meet_somehow(self):
        with pytest.raises(ValidationError) as refused:
            services.create_volunteer(
                preferred_name="Iain",
                full_name="Iain Ross",
                phone=drama_phone(),
                area=area(),
                meets_in_person=False,
                meets_by_phone=False,
                meets_by_video=False,
            )
        assert "Choose at least one way of meeting." in str(refused.value)
        assert not Volunteer.objects.exists()

    def test_an_invalid_phone_saves_nothing(self):
        with pytest.raises(ValidationError):
            services.create_volunteer(
                preferred_name="Iain",
                full_name="Iain Ross",
                phone="0123",
                area=area(),
                languages=[language("en")],
            )
        assert not Volunteer.objects.exists()


class TestAvailability:
    def test_a_window_must_end_after_it_starts(self):
        with pytest.raises(ValidationError) as refused:
            services.add_availability(
                volunteer=VolunteerFactory(), weekday=0, starts_at=NOON, ends_at=NINE
            )
        assert "must end after it starts" in refused.value.message_dict["ends_at"][0]

    def test_overlapping_windows_are_refused_with_both_named(self):
        volunteer = VolunteerFactory()
        services.add_availability(volunteer=volunteer, weekday=0, starts_at=NINE, ends_at=NOON)
        with pytest.raises(ValidationError) as refused:
            services.add_availability(
                volunteer=volunteer, weekday=0, starts_at=datetime.time(11), ends_at=THREE
            )
        assert refused.value.messages == [
            "Monday 11:00–15:00 overlaps Monday 09:00–12:00: windows of one person cannot overlap."
        ]
        assert volunteer.availability.count() == 1

    def test_back_to_back_windows_and_other_days_are_fine(self):
        volunteer = VolunteerFactory()
        services.add_availability(volunteer=volunteer, weekday=0, starts_at=NINE, ends_at=NOON)
        services.add_availability(volunteer=volunteer, weekday=0, starts_at=NOON, ends_at=THREE)
        services.add_availability(volunteer=volunteer, weekday=1, starts_at=NINE, ends_at=THREE)
        other = VolunteerFactory()
        services.add_availability(volunteer=other, weekday=0, starts_at=NINE, ends_at=THREE)
        assert AvailabilityWindow.objects.count() == 4
        assert volunteer.availability.first().hours == 3

    def test_the_database_itself_refuses_overlapping_windows(self):
        window = AvailabilityWindowFactory(starts_at=NINE, ends_at=NOON)
        clash = AvailabilityWindow(
            volunteer=window.volunteer, weekday=window.weekday, starts_at=NINE, ends_at=THREE
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            clash.save()
        moved = AvailabilityWindowFactory(
            volunteer=window.volunteer, weekday=window.weekday, starts_at=NOON, ends_at=THREE
        )
        moved.starts_at = datetime.time(10)
        with pytest.raises(IntegrityError), transaction.atomic():
            moved.save()
        assert AvailabilityWindow.objects.count() == 2

    def test_the_database_refuses_a_window_ending_before_it_starts(self):
        volunteer = VolunteerFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            AvailabilityWindow.objects.create(
                volunteer=volunteer, weekday=3, starts_at=NOON, ends_at=NINE
            )


class TestAbsence:
    def test_an_absence_cannot_end_before_it_starts(self):
        with pytest.raises(ValidationError) as refused:
            services.add_absence(
                volunteer=VolunteerFactory(),
                starts_on=datetime.date(2026, 12, 10),
                ends_on=datetime.date(2026, 12, 1),
            )
        assert refused.value.messages == ["An absence cannot end before it starts."]
        assert not Absence.objects.exists()

    def test_a_one_day_absence_is_fine(self):
        day = datetime.date(2026, 12, 10)
        absence = services.add_absence(
            volunteer=VolunteerFactory(), starts_on=day, ends_on=day, reason="Hospital appointment"
        )
        assert str(absence) == "10 Dec 2026 to 10 Dec 2026"

    def test_absences_of_one_volunteer_cannot_overlap_but_may_touch(self):
        volunteer = VolunteerFactory()
        services.add_absence(
            volunteer=volunteer,
            starts_on=datetime.date(2026, 12, 20),
            ends_on=datetime.date(2027, 1, 3),
        )

        with pytest.raises(ValidationError) as refused:
            services.add_absence(
                volunteer=volunteer,
                starts_on=datetime.date(2027, 1, 3),
                ends_on=datetime.date(2027, 1, 5),
            )
        services.add_absence(
            volunteer=volunteer,
            starts_on=datetime.date(2027, 1, 4),
            ends_on=datetime.date(2027, 1, 5),
        )
        services.add_absence(
            volunteer=VolunteerFactory(),
            starts_on=datetime.date(2026, 12, 20),
            ends_on=datetime.date(2027, 1, 3),
        )

        assert refused.value.messages == [
            "The absence from 20 Dec 2026 to 3 Jan 2027 already covers some of these days; "
            "change that absence instead."
        ]
        assert Absence.objects.filter(volunteer=volunteer).count() == 2
