import pytest
from django.urls import reverse
from django.utils.html import escape

from matching.models import Match
from peers.models import PeerStatusChange
from tests.factories import (
    AbsenceFactory,
    AvailabilityWindowFactory,
    PeerFactory,
    PreferredTimeFactory,
    TrainingRecordFactory,
    UserFactory,
    VolunteerFactory,
    area,
    course,
    focus,
    language,
)
from volunteers.models import VolunteerStatusChange

pytestmark = pytest.mark.django_db

EDITABLE = [
    "accounts.user",
    "community.area",
    "community.language",
    "community.focus",
    "volunteers.course",
    "volunteers.volunteer",
    "volunteers.trainingrecord",
    "volunteers.availabilitywindow",
    "volunteers.absence",
    "peers.peer",
    "peers.preferredtime",
]
READ_ONLY = ["volunteers.volunteerstatuschange", "peers.peerstatuschange", "matching.match"]


def admin_url(model, page, *args):
    app_label, model_name = model.split(".")
    return reverse(f"admin:{app_label}_{model_name}_{page}", args=args)


def one_of_each():
    volunteer = VolunteerFactory()
    peer = PeerFactory(status="matched")
    return {
        "accounts.user": UserFactory(),
        "community.area": area("Shotts"),
        "community.language": language("pl"),
        "community.focus": focus("alcohol"),
        "volunteers.course": course("ROSC"),
        "volunteers.volunteer": volunteer,
        "volunteers.trainingrecord": TrainingRecordFactory(volunteer=volunteer),
        "volunteers.availabilitywindow": AvailabilityWindowFactory(volunteer=volunteer),
        "volunteers.absence": AbsenceFactory(volunteer=volunteer),
        "volunteers.volunteerstatuschange": VolunteerStatusChange.objects.create(
            volunteer=volunteer, from_status="paused", to_status="active"
        ),
        "peers.peer": peer,
        "peers.preferredtime": PreferredTimeFactory(peer=peer),
        "peers.peerstatuschange": PeerStatusChange.objects.create(
            peer=peer, from_status="waiting", to_status="matched"
        ),
        "matching.match": Match.objects.create(volunteer=volunteer, peer=peer, status="active"),
    }


def test_the_desk_lists_every_record_a_coordinator_looks_after(coordinator_client):
    page = coordinator_client.get(reverse("admin:index")).content.decode()

    for heading in ["Volunteers", "Training records", "Peers", "Matches", "Areas", "Users"]:
        assert heading in page


@pytest.mark.parametrize("model", EDITABLE + READ_ONLY)
def test_a_coordinator_can_open_every_list_and_record(coordinator_client, model):
    record = one_of_each()[model]

    listing = coordinator_client.get(admin_url(model, "changelist"))
    detail = coordinator_client.get(admin_url(model, "change", record.pk))

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert escape(str(record)) in detail.content.decode()


@pytest.mark.parametrize("model", EDITABLE)
def test_a_coordinator_can_add_everyday_records(coordinator_client, model):
    assert coordinator_client.get(admin_url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", READ_ONLY)
def test_histories_and_matches_are_read_only_here(coordinator_client, model):
    record = one_of_each()[model]

    detail = coordinator_client.get(admin_url(model, "change", record.pk)).content.decode()

    assert coordinator_client.get(admin_url(model, "add")).status_code == 403
    assert 'name="_save"' not in detail


def test_a_coordinator_cannot_delete_a_volunteer(coordinator_client):
    volunteer = VolunteerFactory()
    listing = coordinator_client.get(admin_url("volunteers.volunteer", "changelist"))

    actions = dict(listing.context["action_form"].fields["action"].choices)

    assert "delete_selected" not in actions
    assert (
        coordinator_client.get(
            admin_url("volunteers.volunteer", "delete", volunteer.pk)
        ).status_code
        == 403
    )
