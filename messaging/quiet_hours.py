"""Quiet hours: no text goes out between, by default, 21:00 and 08:00 UK time."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
UK = ZoneInfo("Europe/London")


def quiet_window(value=None):
    """The (start, end) local times of quiet hours, or None when they are turned off."""
    value = settings.SMS_QUIET_HOURS if value is None else value
    if not value.strip():
        return None
    match = _WINDOW.match(value)
    try:
        start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
        start, end = time(start_h, start_m), time(end_h, end_m)
    except (AttributeError, ValueError):
        raise ImproperlyConfigured(
            f"SMS_QUIET_HOURS must look like 21:00-08:00 (or be empty), not {value!r}."
        ) from None
    if start == end:
        raise ImproperlyConfigured("SMS_QUIET_HOURS starts and ends at the same time.")
    return start, end


def _at(day, clock):
    """The instant a UK clock shows `clock` on `day` (a clock that skips ahead moves with it)."""
    return datetime.combine(day, clock, tzinfo=UK).astimezone(ZoneInfo("UTC")).astimezone(UK)


def quiet_spell(moment):
    """(began, ends): the quiet hours around `moment`, or None if a text may go at `moment`."""
    window = quiet_window()
    if window is None:
        return None
    start, end = window
    local = moment.astimezone(UK)
    clock, day = local.time(), local.date()
    if start < end:
        return (_at(day, start), _at(day, end)) if start <= clock < end else None
    if clock >= start:
        return _at(day, start), _at(day + timedelta(days=1), end)
    if clock < end:
        return _at(day - timedelta(days=1), start), _at(day, end)
    return None


def quiet_until(moment):
    """When quiet hours around `moment` end, or None if a text may go at `moment`."""
    spell = quiet_spell(moment)
    return spell[1] if spell else None


def quiet_since(moment):
    """When the quiet hours around `moment` began, or None if a text may go at `moment`."""
    spell = quiet_spell(moment)
    return spell[0] if spell else None


def first_moment_allowed(moment):
    """`moment` itself, or the end of the quiet hours it falls in."""
    return quiet_until(moment) or moment
