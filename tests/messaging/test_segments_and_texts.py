"""How many SMS segments a text costs, and the texts messaging writes itself: each fits one
segment with the longest realistic values, and none says what the service is for."""

import math
import string

import pytest

from messaging import texts
from messaging.segments import count_segments

# GSM-7 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "units", "count"),
    [
        ("", 0, 0),
        ("a", 1, 1),
        ("a" * 160, 160, 1),
        ("a" * 161, 161, 2),
        ("a" * 306, 306, 2),  # 2 × 153
        ("a" * 307, 307, 3),
        ("a" * 1530, 1530, 10),
        ("a" * 1531, 1531, 11),
        ("£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà@\n\r", 64, 1),
    ],
    ids=["empty", "one", "160", "161", "306", "307", "1530", "1531", "basic-set"],
)
def test_gsm7_fits_160_in_one_segment_and_153_in_each_part(body, units, count):
    assert count_segments(body) == ("GSM-7", units, count)


@pytest.mark.parametrize("char", list("^{}\\[~]|€"))
def test_gsm7_extension_characters_count_two(char):
    assert count_segments(char) == ("GSM-7", 2, 1)
    assert count_segments(char * 80) == ("GSM-7", 160, 1)
    assert count_segments(char * 80 + "a") == ("GSM-7", 161, 2)


def test_an_extension_character_is_not_split_between_parts():
    """Its two septets travel in one part: a part that has one septet left ends early."""
    assert count_segments("a" * 152 + "€" + "a" * 151) == ("GSM-7", 305, 2)
    assert count_segments("a" * 152 + "€" + "a" * 152) == ("GSM-7", 306, 3)
    assert count_segments("a" * 151 + "€" + "a" * 153) == ("GSM-7", 306, 2)


# UCS-2 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "units", "count"),
    [
        ("ж" * 70, 70, 1),
        ("ж" * 71, 71, 2),
        ("ж" * 134, 134, 2),  # 2 × 67
        ("ж" * 135, 135, 3),
        ("a" * 69 + "’", 70, 1),  # one typographic apostrophe makes the whole text UCS-2
        ("a" * 70 + "’", 71, 2),
        ("😀" * 35, 70, 1),  # an emoji is two UTF-16 code units
        ("😀" * 35 + "a", 71, 2),
        ("ç", 1, 1),  # not in GSM 03.38 (only the capital Ç is)
    ],
    ids=["70", "71", "134", "135", "apostrophe-70", "apostrophe-71", "emoji-70", "emoji-71", "ç"],
)
def test_ucs2_fits_70_in_one_segment_and_67_in_each_part(body, units, count):
    assert count_segments(body) == ("UCS-2", units, count)


def test_an_emoji_is_not_split_between_parts():
    """Its two UTF-16 units travel in one part: a part that has one unit left ends early."""
    assert count_segments("a" * 66 + "😀" + "a" * 65) == ("UCS-2", 133, 2)
    assert count_segments("a" * 66 + "😀" + "a" * 66) == ("UCS-2", 134, 3)
    assert count_segments("a" * 65 + "😀" + "a" * 67) == ("UCS-2", 134, 2)


# The texts messaging writes ------------------------------------------------------------

# The longest values each placeholder realistically takes.
WORST_CASE = {
    "sender": "Lanarkshire PeerPath",
    "office_phone": "+44 1236 000000 ext. 1234",
    "code": "12345678",
    "minutes": "180",
}
NEVER_SAID = ("recovery", "drug", "alcohol", "addict", "substance")


def templates():
    return {
        name: value
        for name, value in vars(texts).items()
        if name.isupper() and isinstance(value, str)
    }


def test_there_are_templates_to_check():
    assert set(templates()) >= {"LOGIN_CODE", "HELP", "NOT_UNDERSTOOD"}


@pytest.mark.parametrize("name", sorted(templates()))
def test_every_template_fits_one_segment_with_the_longest_values(name):
    template = templates()[name]
    fields = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    unknown = fields - set(WORST_CASE)
    assert not unknown, f"Add the longest realistic value of {unknown} to WORST_CASE."

    text = template.format(**WORST_CASE)

    segments = count_segments(text)
    assert segments.count == 1, f"{name} is {segments} with the longest values: {text!r}"


@pytest.mark.parametrize("name", sorted(templates()))
def test_no_template_says_what_the_service_is_for(name):
    words = templates()[name].lower()
    assert not [word for word in NEVER_SAID if word in words]


def test_the_texts_as_sent_fit_one_segment(settings):
    settings.SMS_SENDER_NAME = WORST_CASE["sender"]
    settings.OFFICE_PHONE = WORST_CASE["office_phone"]
    minutes = math.ceil(settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT / 60)

    sent = [
        texts.help_text(),
        texts.not_understood_text(),
        texts.login_code_text("12345678", minutes=minutes),
    ]

    for text in sent:
        assert count_segments(text) == ("GSM-7", len(text), 1), text
        assert not [word for word in NEVER_SAID if word in text.lower()]
    help_text, not_understood, login_code = sent
    assert WORST_CASE["sender"] in help_text and WORST_CASE["sender"] in login_code
    # Anyone may get this one back, a peer too: it names no service.
    assert WORST_CASE["sender"] not in not_understood
    assert WORST_CASE["office_phone"] in help_text
