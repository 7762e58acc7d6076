"""Every change to a peer's record: one function each, one transaction each."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from community.transitions import Transitions
from community.validated_save import change_validated, save_validated
from peers.models import Peer, PeerStatusChange, PreferredTime

Status = Peer.Status

# Where a peer may go from each status. Matching a peer is the matching app's job, through
# an approved match; a closed record can be reopened onto the waiting list.
PEER_TRANSITIONS = Transitions(
    Status,
    {
        Status.REFERRED: {Status.WAITING, Status.CLOSED},
        Status.WAITING: {Status.MATCHED, Status.PAUSED, Status.CLOSED},
        Status.MATCHED: {Status.WAITING, Status.PAUSED, Status.CLOSED},
        Status.PAUSED: {Status.WAITING, Status.CLOSED},
        Status.CLOSED: {Status.WAITING},
    },
)


@transaction.atomic
def change_peer_status(*, peer, to, by=None, note=""):
    """Move a peer to another status, if the move is allowed, and log it with its date.

    Leaving the waiting list adds the wait just ended to `waited_before`; joining it starts a
    new wait now. So however often someone leaves and comes back, their place on the list is
    by the total time they have waited (see `Peer`).
    """
    peer = Peer.objects.select_for_update().get(pk=peer.pk)
    current = peer.status
    target = PEER_TRANSITIONS.check(current=current, to=to, who=peer.reference)
    now = timezone.now()
    if current == Status.WAITING:
        # Never less than nothing, even when the servers' clocks differ by a moment.
        peer.waited_before += max(now - peer.waiting_since, datetime.timedelta(0))
    peer.status = target
    peer.status_changed_at = now
    if target == Status.WAITING:
        peer.waiting_since = now
    peer.save(
        update_fields=[
            "status",
            "status_changed_at",
            "waiting_since",
            "waited_before",
            "updated_at",
        ]
    )
    PeerStatusChange.objects.create(
        peer=peer, from_status=current, to_status=target, changed_at=now, changed_by=by, note=note
    )
    return peer


@transaction.atomic
def create_peer(*, languages=(), focuses=(), **fields):
    status = fields.get("status", Status.REFERRED)
    if status not in (Status.REFERRED, Status.WAITING):
        raise ValidationError({"status": "A new peer starts as referred or waiting."})
    peer = save_validated(Peer(**fields))
    peer.languages.set(languages)
    peer.focuses.set(focuses)
    return peer


@transaction.atomic
def update_peer(*, peer, languages=None, focuses=None, **fields):
    if "status" in fields:
        raise ValidationError({"status": "Change a peer's status with a status change."})
    change_validated(peer, **fields)
    if languages is not None:
        peer.languages.set(languages)
    if focuses is not None:
        peer.focuses.set(focuses)
    return peer


@transaction.atomic
def add_preferred_time(*, peer, weekday, starts_at, ends_at):
    return save_validated(
        PreferredTime(peer=peer, weekday=weekday, starts_at=starts_at, ends_at=ends_at)
    )


@transaction.atomic
def change_preferred_time(*, window, **fields):
    return change_validated(window, **fields)


@transaction.atomic
def remove_preferred_time(*, window):
    window.delete()
