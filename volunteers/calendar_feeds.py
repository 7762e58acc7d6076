"""A volunteer's private calendar link: made, replaced, revoked and looked up here.

The link carries a random token of 32 bytes (256 bits) from `secrets`. Only the token's
SHA-256 is stored, so a copy of the database (a backup, a leak) opens no one's calendar, and
the token is shown once, when it is made. A plain SHA-256 is enough: slow, salted hashes exist
to stop guessing of low-entropy passwords, and 256 random bits cannot be guessed; a plain hash
also lets one indexed lookup find the link.
"""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from community.errors import StateConflict
from volunteers.models import CalendarFeed, Volunteer

TOKEN_BYTES = 32


def token_hash(token):
    """The stored form of a token; any text has one (an ill-formed token simply names no
    link), so every token is looked up the same way."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _lock(volunteer):
    # Two requests making a link at once queue here, rather than racing on the unique row.
    return Volunteer.objects.select_for_update().get(pk=volunteer.pk)


@transaction.atomic
def issue(*, volunteer):
    """A link for a volunteer who has none: (token, feed). The token is not kept, so this is
    the only moment it can be shown. A volunteer who has a link already is refused (replacing
    it would stop the calendar that uses it): `reset` does that on purpose."""
    volunteer = _lock(volunteer)
    existing = CalendarFeed.objects.filter(volunteer=volunteer).first()
    if existing is not None:
        made = timezone.localtime(existing.created_at, timezone.get_default_timezone())
        raise StateConflict(
            f"You already have a calendar link, made on {made:%-d %b %Y at %H:%M}. Its address "
            "is shown only when it is made; reset it for a new one (the old one stops working).",
            code="calendar_link_exists",
        )
    return _replace(volunteer)


@transaction.atomic
def reset(*, volunteer):
    """A new link in place of the volunteer's old one (or their first): (token, feed). The old
    token stops working at once, since its hash is no longer stored."""
    return _replace(_lock(volunteer))


def _replace(volunteer):
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed, _ = CalendarFeed.objects.update_or_create(
        volunteer=volunteer,
        defaults={"token_hash": token_hash(token), "created_at": timezone.now()},
    )
    return token, feed


def revoke(*, volunteer):
    """The volunteer's link stops working, if they have one."""
    CalendarFeed.objects.filter(volunteer=volunteer).delete()


def revoke_if_left(*, volunteer):
    """A volunteer who has left keeps no calendar link."""
    if volunteer.status == Volunteer.Status.LEFT:
        revoke(volunteer=volunteer)


def volunteer_for(token):
    """The volunteer whose link carries `token`, or None. A token that was replaced or revoked,
    one never made and one of a volunteer who has left all take the same path: one indexed
    lookup by hash that finds nothing."""
    feed = (
        CalendarFeed.objects.filter(token_hash=token_hash(token))
        .exclude(volunteer__status=Volunteer.Status.LEFT)
        .select_related("volunteer")
        .first()
    )
    return feed.volunteer if feed is not None else None
