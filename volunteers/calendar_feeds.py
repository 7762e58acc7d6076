"""A volunteer's private calendar link: made, shown, replaced, revoked and looked up here.

The app shows the link whenever the volunteer asks (a new phone subscribes with the same
address), yet the token in it is never stored. Each link has a random nonce (32 bytes from
`secrets`), and its token is an HMAC-SHA256 of "<volunteer id>:<nonce>" under a key derived
from SECRET_KEY (`salted_hmac`, with a salt of its own). The database keeps the nonce and the
token's SHA-256, nothing else: a copy of it (a backup, a leak) opens no one's calendar, since
turning a nonce into a token needs SECRET_KEY too. Whoever holds both can; resetting the link
(a new nonce) is then the cure.

The feed finds its link by the token's SHA-256, one indexed lookup. A plain hash is enough
there: slow, salted hashes exist to stop guessing of low-entropy passwords, and a 256-bit HMAC
cannot be guessed.

Rotating SECRET_KEY (the old one moved to SECRET_KEY_FALLBACKS) does not change anyone's
address: the feed still finds it by the stored hash, and showing the link tries each key in
turn and shows the one whose token matches. Once the old key is dropped from the fallbacks,
no key gives the stored hash back, so the next time the link is shown it is made again with
the current key: from then the old address answers 404 and the volunteer subscribes again.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.http import urlsafe_base64_encode

from community.errors import StateConflict
from volunteers.models import CalendarFeed, Volunteer

NONCE_BYTES = 32
KEY_SALT = "peerpath.calendar-link"


def token_hash(token):
    """The stored form of a token; any text has one (an ill-formed token simply names no
    link), so every token is looked up the same way."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _token(volunteer_id, nonce, secret):
    digest = salted_hmac(
        KEY_SALT, f"{volunteer_id}:{nonce}", secret=secret, algorithm="sha256"
    ).digest()
    return urlsafe_base64_encode(digest)  # 43 characters, no padding


def _secrets():
    return [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]


def _shown_token(feed):
    """The token of the stored link under the current key or a fallback, or None when no
    key the server still has gives it."""
    for secret in _secrets():
        token = _token(feed.volunteer_id, feed.nonce, secret)
        if token_hash(token) == feed.token_hash:
            return token
    return None


def _lock(volunteer):
    """The volunteer, locked: two requests writing their link at once queue here, and so does
    one that races their leaving (which locks the same row), so no one who left has a link."""
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if volunteer.status == Volunteer.Status.LEFT:
        raise StateConflict(
            f"{volunteer.preferred_name} has left, so they have no calendar link.",
            code="volunteer_left",
        )
    return volunteer


def link(*, volunteer):
    """The volunteer's link, made on first asking: (token, feed). Asking again gives the same
    token, and two first askings at once end with one link."""
    feed = CalendarFeed.objects.filter(volunteer=volunteer).first()
    token = feed and _shown_token(feed)
    if token:
        return token, feed
    return _make_or_remake(volunteer)


@transaction.atomic
def _make_or_remake(volunteer):
    volunteer = _lock(volunteer)
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    token = _token(volunteer.pk, nonce, settings.SECRET_KEY)
    # The unique volunteer makes a racing second insert fail and read the first instead.
    feed, created = CalendarFeed.objects.get_or_create(
        volunteer=volunteer, defaults={"nonce": nonce, "token_hash": token_hash(token)}
    )
    if created:
        return token, feed
    token = _shown_token(feed)
    if token:
        return token, feed
    # Made under a key the server no longer has: the same nonce under the current key.
    token = _token(volunteer.pk, feed.nonce, settings.SECRET_KEY)
    feed.token_hash = token_hash(token)
    feed.created_at = timezone.now()
    feed.save(update_fields=["token_hash", "created_at"])
    return token, feed


@transaction.atomic
def reset(*, volunteer):
    """A new link in place of the volunteer's old one (or their first): (token, feed). The old
    token stops working at once, since its hash is no longer stored."""
    volunteer = _lock(volunteer)
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    token = _token(volunteer.pk, nonce, settings.SECRET_KEY)
    feed, _ = CalendarFeed.objects.update_or_create(
        volunteer=volunteer,
        defaults={"nonce": nonce, "token_hash": token_hash(token), "created_at": timezone.now()},
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
