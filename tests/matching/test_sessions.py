"""Sessions: planned for active matches, never overlapping, never while the volunteer is away,
confirmed or declined by the volunteer, and ending completed (with hours) or a no show."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from community.errors import StateConflict
from matching import services
from matching.models import MonthlyHours, Session
from tests.factories import (
    AbsenceFactory,
    MatchFactory,
    SessionFactory,
    VolunteerFactory,
)

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday; London is on GMT


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def at(day, hour, minute=0, tz=UTC):
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=tz)


def snapshot():
    return sorted(
        Session.objects.values_list(
            "pk", "status", "starts_at", "ends_at", "mode", "place", "hours", "confirmed_at"
        )
    )


def refused(error_class, call, *args, **kwargs):
    before = snapshot()
    with pytest.raises(error_class) as refusal:
        call(*args, **kwargs)
    assert snapshot() == before, "a refused call changed something"
    return refusal.value


@pytest.fixture
def match():
    return MatchFactory(active=True, volunteer__preferred_name="Senga")


def schedule(match, starts_at, hours=1, mode="phone", place=""):
    return services.schedule_session(
        match,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=hours),
        mode=mode,
        place=place,
    )


class TestSchedule:
    def test_a_session_of_an_active_match_is_scheduled(self, match):
        session = services.schedule_session(
            match,
            starts_at=at(25, 14),
            ends_at=at(25, 15, 30),
            mode="in_person",
            place=" Coatbridge library ",
        )

        session.refresh_from_db()
        assert (session.status, session.mode, session.place) == (
            "scheduled",
            "in_person",
            "Coatbridge library",
        )
        assert (session.starts_at, session.ends_at) == (at(25, 14), at(25, 15, 30))
        assert session.confirmed_at is None and session.hours is None

    @pytest.mark.parametrize("status", ["proposed", "declined"])
    def test_only_an_active_match_has_sessions(self, status):
        match = MatchFactory(status=status, volunteer__preferred_name="Senga")

        refusal = refused(StateConflict, schedule, match, at(25, 14))

        assert refusal.message == (
            f"The match of Senga with {match.peer.reference} is {status}; sessions are only "
            "for an active match."
        )

    def test_a_session_for_an_ended_match_is_refused(self, match, coordinator):
        services.end_match(match, by=coordinator, reason="Moved away.")

        refusal = refused(StateConflict, schedule, match, at(25, 14))

        assert refusal.code == "match_not_active"
        assert "is ended; sessions are only for an active match." in refusal.message
        assert not Session.objects.exists()

    def test_an_overlapping_session_is_refused(self, match):
        schedule(match, at(25, 14), hours=2)

        refusal = refused(ValidationError, schedule, match, at(25, 15))

        assert refusal.code == "overlap"
        assert refusal.messages == [
            "Senga already has a session from 25 November 2026 at 14:00 to 16:00 with "
            f"{match.peer.reference}; one volunteer's sessions cannot overlap."
        ]
        assert Session.objects.count() == 1

    def test_sessions_with_different_peers_cannot_overlap_either(self, match):
        other = MatchFactory(active=True, volunteer=match.volunteer)
        schedule(other, at(25, 14))

        refusal = refused(ValidationError, schedule, match, at(25, 13, 30))

        assert f"with {other.peer.reference}" in refusal.messages[0]

    def test_back_to_back_sessions_are_fine(self, match):
        schedule(match, at(25, 14))
        other = MatchFactory(active=True, volunteer=match.volunteer)

        schedule(other, at(25, 15))
        schedule(other, at(25, 13))

        assert Session.objects.count() == 3

    @pytest.mark.parametrize("status", ["declined", "cancelled", "no_show"])
    def test_sessions_that_will_not_happen_free_the_time(self, match, status):
        SessionFactory(match=match, starts_at=at(25, 14), ends_at=at(25, 15), status=status)

        assert schedule(match, at(25, 14)).status == "scheduled"

    def test_a_completed_session_still_holds_its_time(self, match):
        SessionFactory(
            match=match, starts_at=at(25, 14), ends_at=at(25, 15), status="completed", hours=1
        )

        with pytest.raises(ValidationError, match="cannot overlap"):
            schedule(match, at(25, 14, 30))

    def test_another_volunteers_session_at_the_same_time_is_fine(self, match):
        SessionFactory(starts_at=at(25, 14), ends_at=at(25, 15))

        assert schedule(match, at(25, 14)).status == "scheduled"

    def test_a_session_during_an_absence_is_refused(self, match):
        absence = AbsenceFactory(
            volunteer=match.volunteer,
            starts_on=datetime.date(2026, 11, 25),
            ends_on=datetime.date(2026, 11, 27),
        )

        refusal = refused(ValidationError, schedule, match, at(27, 18))

        assert refusal.code == "absent"
        assert refusal.messages == [
            f"Senga is away from {absence}; choose a day outside their absence."
        ]
        assert str(absence) == "25 Nov 2026 to 27 Nov 2026"

    def test_the_days_around_an_absence_are_free(self, match):
        AbsenceFactory(
            volunteer=match.volunteer,
            starts_on=datetime.date(2026, 11, 25),
            ends_on=datetime.date(2026, 11, 25),
        )

        schedule(match, at(24, 23))  # ends at midnight, as the absence begins
        schedule(match, at(26, 0))

        assert Session.objects.count() == 2

    def test_absences_are_whole_days_in_london(self, match, time_machine):
        """At 23:30 UTC on 9 June it is already 10 June in London (BST)."""
        time_machine.move_to(datetime.datetime(2027, 6, 1, tzinfo=UTC), tick=False)
        AbsenceFactory(
            volunteer=match.volunteer,
            starts_on=datetime.date(2027, 6, 10),
            ends_on=datetime.date(2027, 6, 12),
        )
        late_evening = datetime.datetime(2027, 6, 9, 23, 30, tzinfo=UTC)

        refusal = refused(ValidationError, schedule, match, late_evening, hours=0.5)

        assert refusal.code == "absent"
        assert schedule(match, late_evening - datetime.timedelta(hours=1), hours=0.5)

    def test_the_way_of_meeting_must_suit_both(self, match):
        match.volunteer.meets_by_video = True
        match.volunteer.save()
        match.peer.meets_by_phone = False
        match.peer.save()

        video = refused(ValidationError, schedule, match, at(25, 14), mode="video")
        phone = refused(ValidationError, schedule, match, at(25, 14), mode="phone")

        assert video.message_dict == {
            "mode": [f"{match.peer.reference} does not meet by video. Both meet: in person."]
        }
        assert phone.message_dict["mode"][0].startswith(
            f"{match.peer.reference} does not meet by phone."
        )

    def test_when_neither_meets_that_way_both_are_named(self, match):
        refusal = refused(ValidationError, schedule, match, at(25, 14), mode="video")

        assert refusal.message_dict["mode"][0].startswith(
            f"Senga and {match.peer.reference} do not meet by video."
        )

    def test_an_in_person_session_needs_a_place(self, match):
        refusal = refused(ValidationError, schedule, match, at(25, 14), mode="in_person")

        assert refusal.message_dict == {"place": ["Say where they will meet in person."]}

    @pytest.mark.parametrize(
        ("starts_at", "ends_at", "field", "message"),
        [
            (at(25, 15), at(25, 14), "ends_at", "A session must end after it starts."),
            (at(25, 15), at(25, 15), "ends_at", "A session must end after it starts."),
            (
                at(23, 11),
                at(23, 13),
                "starts_at",
                "23 November 2026 at 11:00 has passed; sessions are scheduled ahead.",
            ),
            (
                datetime.datetime(2026, 11, 25, 14),
                at(25, 15),
                "starts_at",
                "Give the time with its offset from UTC (e.g. +00:00).",
            ),
            (None, at(25, 15), "starts_at", "Give a date and a time."),
        ],
    )
    def test_bad_times_are_refused(self, match, starts_at, ends_at, field, message):
        refusal = refused(
            ValidationError,
            services.schedule_session,
            match,
            starts_at=starts_at,
            ends_at=ends_at,
            mode="phone",
        )

        assert refusal.message_dict == {field: [message]}

    def test_an_unknown_way_of_meeting_is_refused(self, match):
        refusal = refused(ValidationError, schedule, match, at(25, 14), mode="carrier pigeon")

        assert refusal.message_dict == {
            "mode": [
                "“carrier pigeon” is not a way of meeting. Choose one of: in_person, phone, video."
            ]
        }


class TestReschedule:
    def test_moving_a_confirmed_session_asks_for_confirmation_again(self, match):
        session = services.confirm_session(schedule(match, at(25, 14)))

        services.reschedule_session(session, starts_at=at(25, 14, 30), ends_at=at(25, 15, 30))

        session.refresh_from_db()
        assert (session.starts_at, session.status, session.confirmed_at) == (
            at(25, 14, 30),
            "scheduled",
            None,
        )
        assert session.mode == "phone"

    def test_a_declined_session_can_be_moved_to_another_time(self, match):
        session = services.decline_session(schedule(match, at(25, 14)))

        services.reschedule_session(
            session,
            starts_at=at(26, 10),
            ends_at=at(26, 11),
            mode="in_person",
            place="The Hub",
        )

        session.refresh_from_db()
        assert (session.status, session.mode, session.place) == (
            "scheduled",
            "in_person",
            "The Hub",
        )

    def test_moving_onto_another_session_is_refused(self, match):
        schedule(match, at(25, 14))
        later = schedule(match, at(25, 16))

        refusal = refused(
            ValidationError,
            services.reschedule_session,
            later,
            starts_at=at(25, 14, 30),
            ends_at=at(25, 15, 30),
        )

        assert refusal.code == "overlap"

    def test_moving_into_an_absence_is_refused(self, match):
        session = schedule(match, at(25, 14))
        AbsenceFactory(
            volunteer=match.volunteer,
            starts_on=datetime.date(2026, 11, 30),
            ends_on=datetime.date(2026, 11, 30),
        )

        refusal = refused(
            ValidationError,
            services.reschedule_session,
            session,
            starts_at=at(30, 14),
            ends_at=at(30, 15),
        )

        assert refusal.code == "absent"

    def test_a_new_way_of_meeting_is_checked(self, match):
        session = schedule(match, at(25, 14))

        refusal = refused(
            ValidationError,
            services.reschedule_session,
            session,
            starts_at=at(25, 14),
            ends_at=at(25, 15),
            mode="in_person",
        )

        assert refusal.message_dict == {"place": ["Say where they will meet in person."]}

    @pytest.mark.parametrize("status", ["cancelled", "completed", "no_show"])
    def test_a_settled_session_is_not_moved(self, match, status):
        session = SessionFactory(
            match=match, status=status, hours=1 if status == "completed" else None
        )

        refusal = refused(
            StateConflict,
            services.reschedule_session,
            session,
            starts_at=at(27, 14),
            ends_at=at(27, 15),
        )

        assert refusal.message.endswith(
            "only a scheduled, confirmed or declined session can be rescheduled."
        )


class TestCancel:
    @pytest.mark.parametrize("confirmed", [False, True])
    def test_a_planned_session_is_cancelled_with_its_reason(self, match, confirmed):
        session = schedule(match, at(25, 14))
        if confirmed:
            services.confirm_session(session)

        services.cancel_session(session, reason="Peer unwell.")

        session.refresh_from_db()
        assert (session.status, session.outcome_notes, session.confirmed_at) == (
            "cancelled",
            "Peer unwell.",
            None,
        )
        assert schedule(match, at(25, 14)).status == "scheduled"

    def test_cancelling_twice_says_it_is_already_cancelled(self, match):
        session = schedule(match, at(25, 14))
        services.cancel_session(session)

        refusal = refused(StateConflict, services.cancel_session, session)

        assert refusal.message == (
            f"The session of Senga with {match.peer.reference} on 25 November 2026 at 14:00 "
            "is already cancelled; nothing was changed."
        )

    def test_a_completed_session_is_not_cancelled(self, match):
        session = SessionFactory(match=match, status="completed", hours=1)

        refusal = refused(StateConflict, services.cancel_session, session)

        assert refusal.message.endswith("is completed, and that is final; schedule a new session.")


class TestConfirmAndDecline:
    def test_the_volunteer_confirms(self, match):
        session = schedule(match, at(25, 14))

        services.confirm_session(session)

        session.refresh_from_db()
        assert (session.status, session.confirmed_at) == ("confirmed", NOW)

    def test_confirming_twice_says_it_is_already_confirmed(self, match):
        session = services.confirm_session(schedule(match, at(25, 14)))

        refusal = refused(StateConflict, services.confirm_session, session)

        assert refusal.code == "already_in_status"

    def test_the_volunteer_declines_and_may_change_their_mind_to_no(self, match):
        session = services.confirm_session(schedule(match, at(25, 14)))

        services.decline_session(session)

        session.refresh_from_db()
        assert (session.status, session.confirmed_at) == ("declined", None)

    def test_a_declined_session_is_not_confirmed_without_rescheduling(self, match):
        session = services.decline_session(schedule(match, at(25, 14)))

        refusal = refused(StateConflict, services.confirm_session, session)

        assert "from declined they can become: scheduled, cancelled" in refusal.message

    def test_too_late_once_it_has_started(self, match, time_machine):
        session = schedule(match, at(25, 14))
        time_machine.move_to(at(25, 14, 5), tick=False)

        confirm = refused(StateConflict, services.confirm_session, session)
        decline = refused(StateConflict, services.decline_session, session)

        assert confirm.message.endswith("has already started; it is too late to confirm it.")
        assert decline.message.endswith("has already started; it is too late to decline it.")


class TestRecordOutcome:
    @pytest.fixture
    def started(self, match, time_machine):
        session = schedule(match, at(25, 14))
        time_machine.move_to(at(25, 15, 10), tick=False)
        return session

    def test_a_completed_session_has_its_hours_and_notes(self, started):
        services.record_outcome(started, attended=True, hours="1.25", notes=" Walked the canal. ")

        started.refresh_from_db()
        assert (started.status, started.hours, started.outcome_notes) == (
            "completed",
            Decimal("1.25"),
            "Walked the canal.",
        )

    def test_a_no_show_has_no_hours(self, started):
        services.record_outcome(started, attended=False, notes="No answer at the door.")

        started.refresh_from_db()
        assert (started.status, started.hours) == ("no_show", None)

    def test_a_confirmed_session_is_completed_too(self, match, time_machine):
        session = services.confirm_session(schedule(match, at(25, 14)))
        time_machine.move_to(at(25, 15), tick=False)

        services.record_outcome(session, attended=True, hours=1)

        session.refresh_from_db()
        assert (session.status, session.hours, session.confirmed_at) == (
            "completed",
            Decimal("1.00"),
            NOW,
        )

    @pytest.mark.parametrize(
        ("hours", "message"),
        [
            (None, "Say how many hours the session took, e.g. 1.5."),
            ("", "Say how many hours the session took, e.g. 1.5."),
            ("an hour", "“an hour” is not a number of hours."),
            (0, "Hours are more than 0 and at most 24."),
            (-1, "Hours are more than 0 and at most 24."),
            (25, "Hours are more than 0 and at most 24."),
            ("NaN", "Hours are more than 0 and at most 24."),
        ],
    )
    def test_completed_needs_sensible_hours(self, started, hours, message):
        refusal = refused(
            ValidationError, services.record_outcome, started, attended=True, hours=hours
        )

        assert refusal.message_dict == {"hours": [message]}

    def test_a_no_show_with_hours_is_refused(self, started):
        refusal = refused(
            ValidationError, services.record_outcome, started, attended=False, hours=1
        )

        assert refusal.message_dict == {
            "hours": ["Hours are recorded only for a session that took place."]
        }

    def test_a_session_to_come_has_no_outcome_yet(self, match):
        session = schedule(match, at(25, 14))

        refusal = refused(StateConflict, services.record_outcome, session, attended=True, hours=1)

        assert refusal.code == "session_not_started"
        assert refusal.message == (
            f"The session of Senga with {match.peer.reference} on 25 November 2026 at 14:00 "
            "has not started yet; record what happened once it has."
        )

    def test_a_cancelled_session_has_no_outcome(self, started):
        services.cancel_session(started)

        refusal = refused(StateConflict, services.record_outcome, started, attended=True, hours=1)

        assert "is cancelled, and that is final" in refusal.message

    def test_the_outcome_is_recorded_once(self, started):
        services.record_outcome(started, attended=True, hours=1)

        refusal = refused(StateConflict, services.record_outcome, started, attended=False)

        assert "is completed, and that is final" in refusal.message

    def test_a_session_before_the_match_ended_can_still_be_recorded(self, started, coordinator):
        services.end_match(started.match, by=coordinator, reason="Moved away.")

        services.record_outcome(started, attended=True, hours=1)

        started.refresh_from_db()
        assert started.status == "completed"


class TestHoursByMonth:
    def completed(self, volunteer, starts_at, hours, status="completed"):
        return SessionFactory(
            match__volunteer=volunteer,
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(hours=1),
            status=status,
            hours=hours if status == "completed" else None,
        )

    def test_completed_hours_are_totalled_per_london_month(self):
        volunteer = VolunteerFactory()
        self.completed(volunteer, datetime.datetime(2026, 3, 2, 10, tzinfo=UTC), "1.5")
        self.completed(volunteer, datetime.datetime(2026, 3, 20, 10, tzinfo=UTC), "2")
        # 23:30 UTC on 30 April is 00:30 on 1 May in London.
        self.completed(volunteer, datetime.datetime(2026, 4, 30, 23, 30, tzinfo=UTC), "1")
        self.completed(volunteer, datetime.datetime(2026, 4, 10, 10, tzinfo=UTC), "0.75")
        self.completed(volunteer, datetime.datetime(2026, 4, 12, 10, tzinfo=UTC), None, "no_show")
        self.completed(volunteer, datetime.datetime(2026, 4, 13, 10, tzinfo=UTC), None, "cancelled")
        self.completed(VolunteerFactory(), datetime.datetime(2026, 4, 14, 10, tzinfo=UTC), "3")

        assert services.volunteer_hours_by_month(volunteer) == [
            MonthlyHours(datetime.date(2026, 3, 1), Decimal("3.50"), 2),
            MonthlyHours(datetime.date(2026, 4, 1), Decimal("0.75"), 1),
            MonthlyHours(datetime.date(2026, 5, 1), Decimal("1.00"), 1),
        ]

    def test_one_year_at_a_time(self):
        volunteer = VolunteerFactory()
        self.completed(volunteer, datetime.datetime(2025, 12, 31, 23, 30, tzinfo=UTC), "1")
        self.completed(volunteer, datetime.datetime(2026, 1, 1, 0, 30, tzinfo=UTC), "2")
        self.completed(volunteer, datetime.datetime(2027, 1, 1, 0, 30, tzinfo=UTC), "4")

        assert services.volunteer_hours_by_month(volunteer, year=2026) == [
            MonthlyHours(datetime.date(2026, 1, 1), Decimal("2.00"), 1)
        ]

    def test_a_volunteer_without_completed_sessions_has_no_months(self):
        assert services.volunteer_hours_by_month(VolunteerFactory()) == []


class TestTheDatabaseHoldsTheRules:
    def fails(self, session, **fields):
        with pytest.raises(IntegrityError), transaction.atomic():
            Session.objects.filter(pk=session.pk).update(**fields)

    def test_a_session_ends_after_it_starts(self):
        session = SessionFactory()
        self.fails(session, ends_at=session.starts_at)

    def test_an_in_person_session_has_a_place(self):
        self.fails(SessionFactory(), place="")

    def test_a_completed_session_has_hours_and_no_other_has(self):
        self.fails(SessionFactory(), status="completed")
        self.fails(SessionFactory(), hours=1)

    def test_hours_are_sensible(self):
        self.fails(SessionFactory(), status="completed", hours=0)
        self.fails(SessionFactory(), status="completed", hours=25)

    def test_a_confirmed_session_has_its_time(self):
        self.fails(SessionFactory(), status="confirmed")
