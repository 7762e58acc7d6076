"""factory_boy factories: realistic records with fictional names and drama-range phones."""

import datetime
import itertools

import factory
from django.utils import timezone

from accounts.models import User
from community.models import Area, Focus, Language
from matching import services as matching_services
from matching.models import Exclusion, Match, Session
from peers.models import Peer, PreferredTime
from volunteers.models import Absence, AvailabilityWindow, Course, TrainingRecord, Volunteer

_drama_numbers = itertools.count(0)


def drama_phone():
    """A fresh number from Ofcom's drama range, 07700 900000 to 900999: never a real person."""
    return f"+447700900{next(_drama_numbers) % 1000:03d}"


def area(name="Coatbridge"):
    return Area.objects.get(name=name)


def course(code):
    return Course.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Faker("name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def _saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AppVolunteerUserFactory(UserFactory):
    """A volunteer's account for the partner app: a phone the office registered, no password."""

    phone = factory.LazyFunction(drama_phone)
    password = factory.PostGenerationMethodCall("set_unusable_password")

    @factory.post_generation
    def _saved(obj, create, extracted, **kwargs):  # after the password, as in UserFactory
        if create:
            obj.save()


class VolunteerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Volunteer

    preferred_name = factory.Faker("first_name", locale="en_GB")
    full_name = factory.LazyAttribute(lambda v: f"{v.preferred_name} MacLeod")
    phone = factory.LazyFunction(drama_phone)
    area = factory.LazyFunction(area)
    status = Volunteer.Status.ACTIVE


class TrainingRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingRecord

    volunteer = factory.SubFactory(VolunteerFactory)
    course = factory.LazyFunction(lambda: course("ROSC"))
    completed_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))


def fully_trained(volunteer, *, completed_on=None):
    """Give a volunteer a current record of every course required for matching."""
    completed_on = completed_on or timezone.localdate() - datetime.timedelta(days=30)
    for required in Course.objects.filter(required_for_matching=True):
        TrainingRecordFactory(volunteer=volunteer, course=required, completed_on=completed_on)
    return volunteer


class AvailabilityWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AvailabilityWindow

    volunteer = factory.SubFactory(VolunteerFactory)
    weekday = 0
    starts_at = datetime.time(9, 0)
    ends_at = datetime.time(12, 0)


class AbsenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Absence

    volunteer = factory.SubFactory(VolunteerFactory)
    starts_on = factory.LazyFunction(timezone.localdate)
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=7))
    reason = "Holiday"


class PeerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Peer

    preferred_name = factory.Faker("first_name", locale="en_GB")
    full_name = factory.LazyAttribute(lambda p: f"{p.preferred_name} Campbell")
    phone = factory.LazyFunction(drama_phone)
    area = factory.LazyFunction(area)
    status = Peer.Status.WAITING


class PreferredTimeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PreferredTime

    peer = factory.SubFactory(PeerFactory)
    weekday = 2
    starts_at = datetime.time(18, 0)
    ends_at = datetime.time(20, 0)


def language(code):
    return Language.objects.get(code=code)


def focus(slug):
    return Focus.objects.get(slug=slug)


class MatchFactory(factory.django.DjangoModelFactory):
    """A proposed match of a waiting peer; `MatchFactory(active=True)` for one under way."""

    class Meta:
        model = Match

    peer = factory.SubFactory(PeerFactory)
    volunteer = factory.SubFactory(VolunteerFactory)
    status = Match.Status.PROPOSED
    proposed_at = factory.LazyFunction(timezone.now)

    class Params:
        active = factory.Trait(
            status=Match.Status.ACTIVE,
            peer=factory.SubFactory(PeerFactory, status=Peer.Status.MATCHED),
            started_on=factory.LazyFunction(
                lambda: timezone.localdate() - datetime.timedelta(days=14)
            ),
            decided_at=factory.LazyAttribute(lambda match: match.proposed_at),
        )


class ExclusionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exclusion

    peer = factory.SubFactory(PeerFactory)
    volunteer = factory.SubFactory(VolunteerFactory)
    reason = "They are neighbours."


class SessionFactory(factory.django.DjangoModelFactory):
    """An in-person hour of an active match, two days ahead at 14:00 UTC."""

    class Meta:
        model = Session

    match = factory.SubFactory(MatchFactory, active=True)
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + datetime.timedelta(days=2)).replace(
            hour=14, minute=0, second=0, microsecond=0
        )
    )
    ends_at = factory.LazyAttribute(lambda s: s.starts_at + datetime.timedelta(hours=1))
    mode = Session.Mode.IN_PERSON
    place = "Coatbridge library"


def waiting_for(days, **fields):
    """A peer on the waiting list for the first time, these `days` until now."""
    return PeerFactory(
        status=Peer.Status.WAITING,
        waiting_since=timezone.now() - datetime.timedelta(days=days),
        **fields,
    )


def back_after_a_match(time_machine, *, waited_days, matched_days, **fields):
    """A peer who waited `waited_days`, was matched for `matched_days` through the matching
    services, and whose match ended now, putting them back on the waiting list.

    Their volunteer then leaves, so they take no part in any later suggestion or bulk
    assignment.
    """
    now = timezone.now()
    time_machine.move_to(now - datetime.timedelta(days=waited_days + matched_days), tick=False)
    peer = PeerFactory(status=Peer.Status.WAITING, **fields)
    time_machine.move_to(now - datetime.timedelta(days=matched_days), tick=False)
    volunteer = fully_trained(VolunteerFactory())
    match = matching_services.propose_match(peer, volunteer, by=None)
    matching_services.approve_match(match, by=None)
    time_machine.move_to(now, tick=False)
    matching_services.end_match(match, by=None, reason="The volunteer moved away.")
    Volunteer.objects.filter(pk=volunteer.pk).update(status=Volunteer.Status.LEFT)
    peer.refresh_from_db()
    return peer
