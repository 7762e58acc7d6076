"""JSON request bodies, refused whole when any text in them holds a NUL character.

No field of PeerPath's takes NUL, and PostgreSQL cannot store or even compare it: without this
check a NUL in, say, an area's slug reached the database and ended as a 500.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

NUL = "\x00"


def holds_nul(value):
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if holds_nul(data):
            raise ParseError(
                "Text in the request holds a NUL character (\\u0000), which no field takes."
            )
        return data
