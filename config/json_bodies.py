"""Every request body read as JSON is bounded before anything parses or walks it.

PeerPath's own API and allauth's headless API both read JSON bodies (allauth whatever the
Content-Type says). Python's parser recurses once per level of nesting, so a body nested a
thousand levels deep raised RecursionError in whichever view parsed it first. This middleware
answers such a body with a 400 (or a 413 when it is too large) before any view sees it:

- at most JSON_BODY_MAX_BYTES bytes;
- nested at most JSON_BODY_MAX_DEPTH levels (counted in one pass over the brackets, outside
  strings, without parsing);
- no text holding a NUL character or half of a surrogate pair (`"\\ud800"`), which no field
  takes and which PostgreSQL can neither store nor compare.

A body that is not JSON at all is left to the view, which says so in its own words.
"""

import json
import re
from http import HTTPStatus

from django.conf import settings
from django.http import JsonResponse

PROBLEM_TYPE = "urn:peerpath:problem:body"
CONTENT_TYPE = "application/problem+json"

# allauth's headless views parse every body as JSON, whatever its Content-Type.
ALWAYS_JSON_PREFIXES = ("/_allauth/",)

# A backslash and the character it escapes, a quote, or a bracket: everything the depth count
# needs to see, so the loop below turns only once per such character, not once per byte.
_STRUCTURE = re.compile(rb'\\.|["\[\]{}]', re.DOTALL)
_OPENING = {ord("["), ord("{")}
_CLOSING = {ord("]"), ord("}")}
_SURROGATES = re.compile("[\ud800-\udfff]")


def nesting_depth(body, *, stop_above):
    """The deepest nesting of arrays and objects in a JSON text (bytes), counting no further
    than one level past `stop_above`."""
    depth = deepest = 0
    in_string = False
    for token in _STRUCTURE.finditer(body):
        char = token.group()[0]
        if char == ord("\\"):
            continue
        if char == ord('"'):
            in_string = not in_string
        elif in_string:
            continue
        elif char in _OPENING:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        elif char in _CLOSING:
            depth -= 1
    return deepest


def unstorable_text(data):
    """Describe the first text in parsed JSON that no field could store, or return None.

    Walks with a stack rather than recursion; the depth was bounded before parsing anyway.
    """
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                return "Text in the body holds a NUL character (\\u0000), which no field takes."
            if _SURROGATES.search(value):
                return (
                    "Text in the body holds half of a UTF-16 surrogate pair (such as "
                    "\\ud800 on its own), which is not a character."
                )
    return None


def is_read_as_json(request):
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    if request.path.startswith(ALWAYS_JSON_PREFIXES):
        return True
    media_type = request.content_type or ""
    return media_type == "application/json" or media_type.endswith("+json")


def refusal(request, status, detail, code):
    body = {
        "type": PROBLEM_TYPE,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.path,
    }
    if request.path.startswith(ALWAYS_JSON_PREFIXES):
        # allauth's clients read `errors` as a list of messages.
        body["errors"] = [{"message": detail, "code": code}]
    else:
        body["errors"] = {"non_field_errors": [detail]}
    return JsonResponse(body, status=status, content_type=CONTENT_TYPE)


class JSONBodyLimits:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_read_as_json(request):
            refused = self.check(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    @staticmethod
    def check(request):
        limit = settings.JSON_BODY_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return refusal(
                request,
                413,
                f"The body is {length:,} bytes; at most {limit:,} are accepted.",
                "body_too_large",
            )
        body = request.body
        if not body:
            return None
        max_depth = settings.JSON_BODY_MAX_DEPTH
        if nesting_depth(body, stop_above=max_depth) > max_depth:
            return refusal(
                request,
                400,
                f"The JSON body is nested more than {max_depth} levels deep; "
                f"at most {max_depth} are accepted.",
                "body_too_deep",
            )
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None  # not JSON: the view refuses it in its own words
        except ValueError:
            # Valid JSON that Python will not read: an integer of more than 4,300 digits.
            return refusal(
                request, 400, "A number in the body has too many digits.", "number_too_long"
            )
        problem = unstorable_text(data)
        if problem:
            return refusal(request, 400, problem, "unstorable_text")
        return None
