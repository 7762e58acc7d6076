"""Sessions for bench/api.py: many for the coordinator's list, and one volunteer with many.

Run inside a configured Django (bench/api.py calls these after seeding the demo set).
"""

from datetime import timedelta

SESSION_MARK = "bench session"
BATCH = 2000


def seed(*, total, mine, volunteer_phone):
    """Add sessions until there are `total`, `mine` of them the volunteer's with `volunteer_phone`
    (the demo app volunteer), the rest spread over active matches of synthetic volunteers
    and peers, 20 sessions each. Every session starts at its own moment, past and to come,
    with a mix of states, so the lists' order is stable and their rows varied."""
    from django.db import transaction
    from django.utils import timezone

    from community.models import Area
    from matching.models import Match, Session
    from peers.models import Peer
    from volunteers.models import Volunteer

    if Session.objects.filter(outcome_notes__startswith=SESSION_MARK).exists():
        return "bench sessions seeded already"
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    volunteer = Volunteer.objects.get(phone=volunteer_phone)
    mine -= Session.objects.of_volunteer(volunteer).count()  # the demo history's
    total -= Session.objects.count()
    areas = list(Area.objects.order_by("pk"))
    others = total - mine
    per_match = 20
    with transaction.atomic():
        peers = Peer.objects.bulk_create(
            (
                Peer(
                    preferred_name=f"Sam{number}",
                    full_name=f"Sam Bench {number}",
                    area=areas[number % len(areas)],
                    status=Peer.Status.MATCHED,
                )
                for number in range(-(-others // per_match) + 1)
            ),
            batch_size=BATCH,
        )
        helpers = list(
            Volunteer.objects.filter(status=Volunteer.Status.ACTIVE)
            .exclude(pk=volunteer.pk)
            .order_by("pk")[: len(peers)]
        )
        matches = Match.objects.bulk_create(
            (
                Match(
                    peer=peer,
                    volunteer=volunteer if number == 0 else helpers[number % len(helpers)],
                    status=Match.Status.ACTIVE,
                    proposed_at=now,
                    decided_at=now,
                    started_on=timezone.localdate() - timedelta(days=400),
                )
                for number, peer in enumerate(peers)
            ),
            batch_size=BATCH,
        )
        Session.objects.bulk_create(
            (
                session(number, matches[0], now=now, spacing=timedelta(days=2))
                for number in range(mine)
            ),
            batch_size=BATCH,
        )
        Session.objects.bulk_create(
            (
                session(
                    number,
                    matches[1 + number // per_match],
                    now=now,
                    spacing=timedelta(minutes=47),
                )
                for number in range(others)
            ),
            batch_size=BATCH,
        )
    return (
        f"added {total:,} sessions: {mine} of the app volunteer's, {others:,} of "
        f"{len(peers) - 1:,} other matches"
    )


def session(number, match, *, now, spacing):
    """The `number`th: two thirds in the past (completed, a few no shows or cancelled), the
    rest to come (scheduled or confirmed), each at its own moment."""
    from matching.models import Session

    status = Session.Status
    starts_at = now - spacing * number * 2 // 3 if number % 3 else now + spacing * (number + 1)
    past = starts_at < now
    kind = number % 10
    if past:
        state = status.NO_SHOW if kind == 1 else status.CANCELLED if kind == 2 else status.COMPLETED
    else:
        state = status.CONFIRMED if kind < 4 else status.SCHEDULED
    mode = "in_person" if kind < 7 else ("phone" if kind < 9 else "video")
    return Session(
        match=match,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        mode=mode,
        place="Coatbridge library" if mode == "in_person" else "",
        status=state,
        hours=1 if state == status.COMPLETED else None,
        confirmed_at=now if state == status.CONFIRMED else None,
        outcome_notes=f"{SESSION_MARK} {number}",
    )


def session_token(phone):
    """An app session token for the user with `phone`, as allauth's headless app sign-in
    would hand out: a Django session holding their sign-in."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )

    user = get_user_model().objects.get(phone=phone)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key
