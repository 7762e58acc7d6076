"""Every text matching sends about sessions, in one place.

Each fits one SMS segment wherever the names and the place allow it (a test measures them
with messaging's segment counter): a long place is shortened, and the peer is named only by
the first word of their preferred name. Texts go to the volunteer; they still never name
recovery, drugs, alcohol or what the service is for, since someone else may see the phone.
The few texts to peers are grouped at the end, in PEER_TEXTS.
"""

from django.conf import settings
from django.utils import timezone

from messaging.segments import count_segments

REMINDER = (
    "{sender}: your session with {peer} is {day} at {time}, {where}. "
    "Reply YES to confirm or NO if you can't make it."
)
CONFIRMED = "Thanks, your session on {day} at {time} is confirmed."
DECLINED = "Thanks for letting us know. {sender} will be in touch about another time."
CANCELLED = "{sender}: your session with {peer} on {day} at {time} is cancelled. No need to reply."
CHECK_IN = "{sender}: did your session with {peer} on {day} happen? Reply YES or NO."
# The check-in with a word on hours, when the names leave room for it in one segment.
CHECK_IN_WITH_HOURS = (
    "{sender}: did your session with {peer} on {day} happen? Reply YES or NO. "
    "If it ran longer or shorter, reply YES and the hours, e.g. YES 1.5"
)
HOURS_RECORDED = "Thanks, {hours} recorded."
NO_SHOW = "Thanks for letting us know, and sorry it didn't happen. {sender} will be in touch."
NO_LONGER_OPEN = (
    "Thanks for your reply. That session has changed since we asked, so nothing was "
    "updated. {sender} will be in touch if needed."
)

BY = {"phone": "by phone", "video": "by video"}
LONGEST_FIRST_NAME = 20
SHORTENED = "..."


def first_name(preferred_name, *, unknown="your peer"):
    """The first word of a preferred name, cut to a length a text can carry."""
    words = (preferred_name or "").split()
    return words[0][:LONGEST_FIRST_NAME] if words else unknown


def _day_and_time(moment):
    local = timezone.localtime(moment, timezone.get_default_timezone())
    return f"{local:%a} {local.day} {local:%b}", f"{local:%H:%M}"


def _fitted(template, *, slot, **values):
    """The template filled in, the value of `slot` (a place, a course) shortened visibly
    until the text fits one segment, or until it is down to a few characters: text that
    cannot be GSM-7 takes more."""
    longest = values.pop(slot)
    text = template.format(**{slot: longest}, **values)
    cut = len(longest)
    while count_segments(text).count > 1 and cut > 8:
        cut -= 1
        text = template.format(**{slot: longest[:cut].rstrip() + SHORTENED}, **values)
    return text


def reminder_text(*, peer_name, starts_at, mode, place):
    day, time = _day_and_time(starts_at)
    where = BY.get(mode) or (place or "").strip()
    return _fitted(
        REMINDER,
        slot="where",
        where=where,
        sender=settings.SMS_SENDER_NAME,
        peer=first_name(peer_name),
        day=day,
        time=time,
    )


def confirmed_text(*, starts_at):
    day, time = _day_and_time(starts_at)
    return CONFIRMED.format(day=day, time=time)


def declined_text():
    return DECLINED.format(sender=settings.SMS_SENDER_NAME)


def cancelled_text(*, peer_name, starts_at):
    day, time = _day_and_time(starts_at)
    return CANCELLED.format(
        sender=settings.SMS_SENDER_NAME, peer=first_name(peer_name), day=day, time=time
    )


def check_in_text(*, peer_name, starts_at):
    """The after-session question; the day is its weekday in words (it is asked within days)."""
    values = {
        "sender": settings.SMS_SENDER_NAME,
        "peer": first_name(peer_name),
        "day": f"{timezone.localtime(starts_at, timezone.get_default_timezone()):%A}",
    }
    text = CHECK_IN_WITH_HOURS.format(**values)
    if count_segments(text).count > 1:
        text = CHECK_IN.format(**values)
    return text


def hours_recorded_text(*, hours):
    """The answer "Thanks, 1.5 hours recorded." for a Decimal number of hours."""
    number = format(hours.normalize(), "f")
    return HOURS_RECORDED.format(hours=f"{number} hour{'' if number == '1' else 's'}")


def no_show_text():
    return NO_SHOW.format(sender=settings.SMS_SENDER_NAME)


def no_longer_open_text():
    return NO_LONGER_OPEN.format(sender=settings.SMS_SENDER_NAME)


# The weekly wellbeing check-in (matching/wellbeing.py). The answer to a 1 or 2 is a
# safeguard: it fits one segment with the default numbers, and may take two for longer ones
# rather than lose the office's number or the helpline.
WELLBEING_QUESTION = "{sender}: How are you doing this week? Reply 1 (struggling) to 5 (great)."
WELLBEING_THANKS = "Thanks for letting us know how you are. Take care this week."
WELLBEING_LOW = (
    "Thank you for telling us. Sorry it's a hard week. {sender} will be in touch soon. "
    "You can call us on {office_phone}, or talk to {helpline}."
)
WELLBEING_ALREADY_ANSWERED = "Thanks, we already have your answer for this week."


def wellbeing_question_text():
    return WELLBEING_QUESTION.format(sender=settings.SMS_SENDER_NAME)


def wellbeing_thanks_text():
    return WELLBEING_THANKS


def wellbeing_low_text():
    return WELLBEING_LOW.format(
        sender=settings.SMS_SENDER_NAME,
        office_phone=settings.OFFICE_PHONE,
        helpline=settings.HELPLINE,
    )


def wellbeing_already_answered_text():
    return WELLBEING_ALREADY_ANSWERED


# Training and PVG ------------------------------------------------------------------------

TRAINING_EXPIRING = (
    "{sender}: your {course} expires on {day}. The office will be in touch to renew it."
)
# A course whose name would tell whoever sees the phone what the service is for is named
# by its kind instead ("your training course"); the office says which when it calls.
TELLING_WORDS = ("recovery", "drug", "alcohol", "naloxone", "substance", "addiction", "overdose")


def course_in_words(*, name, kind):
    """How a text names a course or check: "PVG scheme membership", "ASP training"."""
    name = " ".join((name or "").split())
    if not name or any(word in name.lower() for word in TELLING_WORDS):
        return "background check" if kind == "check" else "training course"
    if kind == "check" or name.lower().endswith(("training", "course")):
        return name
    return f"{name} training"


def training_expiring_text(*, course_name, course_kind, expires_on):
    """The volunteer's own notice, a month ahead, that a course or check runs out. A long
    course name is cut, visibly, so the text stays one segment."""
    return _fitted(
        TRAINING_EXPIRING,
        slot="course",
        course=course_in_words(name=course_name, kind=course_kind),
        sender=settings.SMS_SENDER_NAME,
        day=f"{expires_on.day} {expires_on:%b %Y}",
    )


# Texts to peers --------------------------------------------------------------------------
#
# A peer's phone may be seen by anyone: these never say what the office is or does, never
# name it (nor SMS_SENDER_NAME), never say recovery, drugs, alcohol or support, and name the
# volunteer by first name only. Every text sent to a peer is in PEER_TEXTS, which
# tests/matching/test_peer_texts.py checks against the words they must never use.

PEER_CHECK_IN = (
    "Hi, hope your week is going well. {volunteer} says hello and looks forward to {day} at "
    "{time}. Reply any time, or STOP to stop these texts."
)
PEER_CHECK_IN_NOTHING_PLANNED = (
    "Hi, hope your week is going well. {volunteer} says hello and will be in touch about "
    "when you next meet. Reply any time, or STOP to stop these texts."
)
PEER_TEXTS = (PEER_CHECK_IN, PEER_CHECK_IN_NOTHING_PLANNED)

# A first name that would tell what the texts are about is left out.
TELLING_NAME_WORDS = (
    "recover",
    "drug",
    "alcohol",
    "drink",
    "support",
    "peer",
    "addict",
    "rehab",
    "sober",
)
SOMEONE = "Your contact"


def _discreet_first_name(preferred_name):
    name = first_name(preferred_name, unknown=SOMEONE)
    telling = TELLING_NAME_WORDS + tuple(
        word.lower()
        for word in f"{settings.OFFICE_NAME} {settings.SMS_SENDER_NAME}".split()
        if len(word) > 3
    )
    return SOMEONE if any(word in name.lower() for word in telling) else name


def peer_check_in_text(*, volunteer_name, next_starts_at=None):
    """The weekly hello to a peer, naming their volunteer's first name and, if one is
    planned, when they next meet."""
    volunteer = _discreet_first_name(volunteer_name)
    if next_starts_at is None:
        return PEER_CHECK_IN_NOTHING_PLANNED.format(volunteer=volunteer)
    day, time = _day_and_time(next_starts_at)
    return PEER_CHECK_IN.format(volunteer=volunteer, day=day, time=time)
