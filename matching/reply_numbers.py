"""The numbers in a volunteer's reply, read the same way for every question that asks for
one: the hours of a session ("YES 1.5") and the wellbeing score ("4").

A number is ASCII digits with at most one decimal point or comma ("2", "1.5", "1,5", ".5").
A reply with a number that could be read more than one way is not read at all, so that a
person reads it instead of PeerPath guessing: a numeral in another script or form ("１",
"٣", "²", "½", "Ⅱ"), a sign ("-1", "+1"), an exponent ("1e3"), more than one decimal point
("1.5.5"), or more digits than any answer has (MOST_CHARACTERS: "9" * 1600).
"""

import re
import unicodedata
from decimal import Decimal
from typing import NamedTuple

MOST_CHARACTERS = 8
# What a reply writes as one number: digits with the dots and commas among them.
WRITTEN = re.compile(r"[0-9.,]*[0-9][0-9.,]*")
PLAIN = re.compile(r"[0-9]+(?:[.,][0-9]+)?|[.,][0-9]+")
SIGNS = "+-\N{MINUS SIGN}"
EXPONENT = re.compile(r"[eE][+-]?[0-9]")
# The word after a number, glued to it ("90mins", "2nd") or after spaces ("2 hours").
WORD = re.compile(r"(\s*)([a-z]*)")


class Unreadable(ValueError):
    """The reply has a number in it that cannot be read as one plain number."""


class Number(NamedTuple):
    value: Decimal
    start: int
    end: int
    word: str  # the ASCII word after it, lower case ("hours"), or ""
    glued: bool  # whether that word touches the number ("2nd", "90mins")


def other_numerals(text):
    """The characters of `text` that are numerals but not ASCII digits."""
    return [
        character
        for character in text
        if unicodedata.category(character).startswith("N") and not "0" <= character <= "9"
    ]


def numbers_in(text):
    """Every number `text` writes, in order, as `Number`s. Unreadable when any of them is not
    a plain number, or the text has numerals that are not ASCII digits."""
    text = text or ""
    if other_numerals(text):
        raise Unreadable(text)
    numbers = []
    for found in WRITTEN.finditer(text):
        start, written = found.start(), found.group()
        if start and not text[start - 1].isspace():
            # "Yes,2": a comma or full stop after a word is punctuation, not a decimal point.
            stripped = written.lstrip(".,")
            start += len(written) - len(stripped)
            written = stripped
        # A full stop or comma after it ends the sentence: "Yes 2."
        written = written.rstrip(".,")
        end = start + len(written)
        if (
            len(written) > MOST_CHARACTERS
            or not PLAIN.fullmatch(written)
            or (start and text[start - 1] in SIGNS)
            or EXPONENT.match(text, end)
        ):
            raise Unreadable(text)
        spaces, word = WORD.match(text[end:].lower()).groups()
        numbers.append(
            Number(Decimal(written.replace(",", ".")), start, end, word, bool(word and not spaces))
        )
    return numbers
