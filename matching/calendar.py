"""A volunteer's sessions as an iCalendar feed (RFC 5545), for the calendar on their phone.

Whoever glances at the phone sees the calendar too, so, like the texts, it names the peer by
the first word of their preferred name only ("your contact" when that word itself would tell),
and says nothing of what the meetings are for or who arranges them: not in the calendar's
name, not in an event, not in the product id.

Each session is one event whose UID never changes, so a calendar that polls the feed moves a
rescheduled session rather than adding another; LAST-MODIFIED and DTSTAMP say when it last
changed. Times carry TZID=Europe/London, with the VTIMEZONE that defines it, so a session
stays at 14:00 on either side of a clock change. A cancelled session stays in the feed as
STATUS:CANCELLED, which tells calendars to take it off; one the volunteer declined stays,
marked so and free (TRANSP:TRANSPARENT), until it is rescheduled or cancelled.
"""

import datetime
import functools

from django.utils import timezone
from icalendar import Calendar, Event, Timezone
from icalendar.enums import STATUS, TRANSP

from matching.models import Session
from matching.texts import SOMEONE, _discreet_first_name

# Past sessions stay this long, so the volunteer can look back a few months.
PAST_DAYS = 90
NAME = "Volunteering"
PRODID = "-//Volunteering calendar//EN"
# How often calendars should poll (REFRESH-INTERVAL, and Outlook's X-PUBLISHED-TTL).
REFRESH = datetime.timedelta(hours=1)

SUMMARIES = {
    Session.Mode.IN_PERSON: "Meeting {name}",
    Session.Mode.PHONE: "Call with {name}",
    Session.Mode.VIDEO: "Video call with {name}",
}
# Session status -> (STATUS, TRANSP, a word before the summary).
SHOWN_AS = {
    Session.Status.SCHEDULED: (STATUS.TENTATIVE, TRANSP.OPAQUE, ""),
    Session.Status.CONFIRMED: (STATUS.CONFIRMED, TRANSP.OPAQUE, ""),
    Session.Status.COMPLETED: (STATUS.CONFIRMED, TRANSP.OPAQUE, ""),
    Session.Status.NO_SHOW: (STATUS.CONFIRMED, TRANSP.OPAQUE, ""),
    Session.Status.DECLINED: (STATUS.TENTATIVE, TRANSP.TRANSPARENT, "Declined: "),
    Session.Status.CANCELLED: (STATUS.CANCELLED, TRANSP.TRANSPARENT, "Cancelled: "),
}


def sessions_in_feed(volunteer, *, now=None):
    """The volunteer's sessions from PAST_DAYS ago on, of every match and status, in one
    query."""
    since = (now or timezone.now()) - datetime.timedelta(days=PAST_DAYS)
    return (
        Session.objects.of_volunteer(volunteer)
        .filter(starts_at__gte=since)
        .select_related("match__peer")
        .order_by("starts_at", "pk")
    )


@functools.cache
def _vtimezone(tzid):
    # Built once per process (icalendar asks for it to be cached); never changed afterwards.
    return Timezone.from_tzid(tzid)


def summary_of(session):
    """ "Meeting Sam", "Call with Sam", "Declined: Video call with your contact"."""
    name = _discreet_first_name(session.match.peer.preferred_name)
    if name == SOMEONE:
        name = SOMEONE.lower()
    _, _, prefix = SHOWN_AS[session.status]
    return prefix + SUMMARIES[session.mode].format(name=name)


def _event(session, *, local, domain):
    status, transparency, _ = SHOWN_AS[session.status]
    return Event.new(
        uid=f"meeting-{session.pk}@{domain}",
        created=session.created_at,
        last_modified=session.updated_at,
        stamp=session.updated_at,
        start=timezone.localtime(session.starts_at, local),
        end=timezone.localtime(session.ends_at, local),
        summary=summary_of(session),
        location=session.place or None,
        status=status,
        transparency=transparency,
    )


def calendar_of(volunteer, *, domain, now=None):
    """The feed's body: the volunteer's sessions (`sessions_in_feed`) as iCalendar bytes. The
    same records give the same bytes, so a hash of them is a fair ETag. `domain` makes each
    event's UID unique beyond PeerPath (meeting-<session id>@<domain>)."""
    local = timezone.get_default_timezone()
    calendar = Calendar.new(name=NAME, prodid=PRODID, refresh_interval=REFRESH)
    del calendar["UID"]  # a random one each time would change the bytes on every poll
    calendar.add("X-PUBLISHED-TTL", "PT1H")
    calendar.add_component(_vtimezone(local.key))
    for session in sessions_in_feed(volunteer, now=now):
        calendar.add_component(_event(session, local=local, domain=domain))
    return calendar.to_ical()
