"""How many SMS segments a text costs: GSM-7 when every character fits, UCS-2 otherwise."""

from typing import NamedTuple

# The GSM 03.38 basic character set, and the extension table whose characters cost two septets.
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


class Segments(NamedTuple):
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    count: int


def count_segments(body):
    """Segments a text needs: 160 GSM-7 characters in one, 153 per part when split;
    70 UCS-2 code units in one, 67 per part when split."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in body):
        sizes = [2 if char in GSM7_EXTENDED else 1 for char in body]
        single, part = 160, 153
        encoding = "GSM-7"
    else:
        sizes = [len(char.encode("utf-16-le")) // 2 for char in body]
        single, part = 70, 67
        encoding = "UCS-2"
    units = sum(sizes)
    if units <= single:
        return Segments(encoding, units, 1 if units else 0)
    return Segments(encoding, units, _parts(sizes, part))


def _parts(sizes, room):
    """Parts of `room` units each, filled in order: a character is never split between two
    (an extension character's escape and code, an emoji's two UTF-16 units), so a part with
    one unit left ends early."""
    count, used = 1, 0
    for size in sizes:
        if used + size > room:
            count, used = count + 1, 0
        used += size
    return count
