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
        units = sum(2 if char in GSM7_EXTENDED else 1 for char in body)
        single, part = 160, 153
        encoding = "GSM-7"
    else:
        units = len(body.encode("utf-16-le")) // 2
        single, part = 70, 67
        encoding = "UCS-2"
    if units <= single:
        return Segments(encoding, units, 1 if units else 0)
    return Segments(encoding, units, -(-units // part))
