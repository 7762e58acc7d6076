"""Every text to a peer is discreet: someone else may see the phone. Each template in
matching.texts.PEER_TEXTS, rendered with long and hostile names, never uses a word that tells
what the office is or does, fits one segment, and names the volunteer by first name only."""

import datetime
import re

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from matching import texts
from messaging.segments import count_segments

NEXT = datetime.datetime(2026, 12, 3, 14, 0, tzinfo=datetime.UTC)

# Words that would tell a stranger glancing at the phone what this is about.
NEVER = [
    "recovery",
    "recover",
    "drug",
    "drugs",
    "alcohol",
    "drink",
    "drinking",
    "support",
    "peer",
    "addiction",
    "addict",
    "rehab",
    "sober",
    "relapse",
    "substance",
    "treatment",
    "therapy",
    "counsel",
    "session",
    "wellbeing",
    "ROSC",
    "PeerPath",
    "Lanarkshire",
    "Communities",
]

NAMES = [
    ("Aileen", "Aileen Murray"),
    ("Maximilian-Alexander-Christopher", "Maximilian-Alexander-Christopher Fotheringham"),
    ("Mary Jane", "Mary Jane Watson-Smith"),
    ("  Jo  ", "Jo McTavish"),
    ("Sober Sam", "Samuel Sober"),
    ("Peer", "Peer Olsen"),
    ("Supportive Sue", "Susan Support"),
    ("Recovery", "Recovery Anne"),
    ("PeerPath", "Lanarkshire Communities of Recovery"),
    ("{day} {time}", "{volunteer} %s"),
    ("", "Nobody"),
    ("   ", "Blank Name"),
]


def rendered(volunteer_name):
    return [
        texts.peer_check_in_text(volunteer_name=volunteer_name, next_starts_at=NEXT),
        texts.peer_check_in_text(volunteer_name=volunteer_name, next_starts_at=None),
    ]


def test_every_peer_text_is_rendered_here():
    """A template added to PEER_TEXTS without a way here to render it fails this test."""
    bodies = rendered("Aileen")
    for template in texts.PEER_TEXTS:
        pattern = re.escape(template)
        for slot in ("volunteer", "day", "time"):
            pattern = pattern.replace(re.escape("{" + slot + "}"), ".+?")
        assert any(re.fullmatch(pattern, body) for body in bodies), template


@pytest.mark.parametrize("template", texts.PEER_TEXTS)
def test_no_template_tells_what_it_is_about(template):
    words = [
        *NEVER,
        *django_settings.SMS_SENDER_NAME.split(),
        *(word for word in django_settings.OFFICE_NAME.split() if len(word) > 3),
    ]
    for word in words:
        assert word.lower() not in template.lower(), (word, template)


@pytest.mark.parametrize(("preferred_name", "full_name"), NAMES)
def test_rendered_with_any_name_tells_nothing_and_fits_one_segment(
    preferred_name, full_name, settings
):
    settings.SMS_SENDER_NAME = "PeerPath"
    settings.OFFICE_NAME = "Lanarkshire Communities of Recovery"
    for body in rendered(preferred_name):
        for word in NEVER:
            assert word.lower() not in body.lower(), (word, body)
        segments = count_segments(body)
        assert (segments.encoding, segments.count) == ("GSM-7", 1), body


@pytest.mark.parametrize(("preferred_name", "full_name"), NAMES[:4])
def test_only_the_volunteers_first_name_is_named(preferred_name, full_name):
    first = preferred_name.split()[0][: texts.LONGEST_FIRST_NAME]
    others = [word for word in full_name.split() if word != first] + preferred_name.split()[1:]
    for body in rendered(preferred_name):
        assert first in body
        assert full_name not in body
        for word in others:
            assert word not in body, (word, body)


def test_a_name_a_text_cannot_carry_in_plain_letters_still_tells_nothing():
    for body in rendered("Zoë 🌻 Ó Briain"):
        assert "Ó" not in body and "Briain" not in body
        assert count_segments(body).count <= 3
        for word in NEVER:
            assert word.lower() not in body.lower()


def test_the_next_meeting_is_named_by_day_and_london_time():
    body = texts.peer_check_in_text(volunteer_name="Aileen", next_starts_at=NEXT)

    assert "Thu 3 Dec at 14:00" in body
    summer = datetime.datetime(2026, 6, 4, 13, 0, tzinfo=datetime.UTC)
    assert "Thu 4 Jun at 14:00" in texts.peer_check_in_text(
        volunteer_name="Aileen", next_starts_at=summer
    )
    assert timezone.get_default_timezone_name() == "Europe/London"
