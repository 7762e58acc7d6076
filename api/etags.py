"""Entity tags for the volunteer's own records: `ETag` on answers, `If-None-Match` (304) on
reads, `If-Match` (412) on changes.

A tag is strong: it is made from every value the answer shows, the media type it is written
in and, for a page of a list, the address asked for (query and page) and the number of rows,
so one tag stands for one representation byte for byte. Views read those values in one query
without serialising anything (`tag_of`), which is what makes a 304 cheap.

If-None-Match compares weakly (a `W/` prefix is ignored), If-Match strongly, as RFC 9110
says; `*` matches any record that exists. A request without If-Match is allowed: the
header is the app's way of saying "only if it is still as I saw it".
"""

import hashlib

from django.db.models import Func, TextField
from django.db.models.functions import MD5
from django.http import HttpResponseNotModified
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import APIException

from api import problems
from api.schema import ProblemSerializer

# What the answers say about caching: personal data, for this client only, and checked again
# (with If-None-Match) before each use.
CACHE_CONTROL = "private, no-cache"


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "This changed since you read it; read it again, then decide."
    default_code = "precondition_failed"


class _Joined(Func):
    """Values as text joined by "|" in one flat expression, a NULL as nothing. (Concat nests
    a pair of expressions per value, deeper than SQLite's parser goes for a dozen.)"""

    template = "CONCAT_WS('|', %(expressions)s)"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        joined = self.copy()
        joined.set_source_expressions(
            [
                Func(value, template="COALESCE(%(expressions)s, '')", output_field=TextField())
                for value in self.get_source_expressions()
            ]
        )
        return Func.as_sql(
            joined, compiler, connection, template="(%(expressions)s)", arg_joiner=" || '|' || "
        )


def digest(*paths):
    """A row's version as the database makes it: the MD5 of the values at `paths`, so a list
    is tagged without fetching, parsing or serialising its rows."""
    return MD5(_Joined(*paths))


def tag_of(request, *parts):
    """The strong tag of an answer to `request` showing `parts` (plain values: ids, text,
    times, numbers, and tuples of them)."""
    renderer = getattr(request, "accepted_media_type", "") or ""
    digest = hashlib.sha256(repr((renderer, parts)).encode()).hexdigest()[:32]
    return f'"{digest}"'


def _tags(request, header):
    return parse_etags(request.headers.get(header, ""))


def unchanged_for(request, tag):
    """Whether the client's If-None-Match names `tag` (or `*`): it has this answer already."""
    if not request.headers.get("If-None-Match"):
        return False
    tags = _tags(request, "If-None-Match")
    return "*" in tags or tag in {known.removeprefix("W/") for known in tags}


def not_modified(tag):
    """A 304: no body, the tag, and the same caching rule as the full answer."""
    response = HttpResponseNotModified()
    response["ETag"] = tag
    response["Cache-Control"] = CACHE_CONTROL
    return response


def tagged(response, tag):
    """The full answer, with its tag."""
    response["ETag"] = tag
    response["Cache-Control"] = CACHE_CONTROL
    return response


def check_if_match(request, tag, *, what):
    """Refuse with a 412 when If-Match is given and does not name `tag` (nor `*`)."""
    if request.headers.get("If-Match") is None:
        return
    tags = _tags(request, "If-Match")
    if "*" in tags or tag in tags:
        return
    raise PreconditionFailed(
        f"{what} changed since you read it (its ETag is now {tag}); read it again, then decide."
    )


# The schema's words for the headers and answers above --------------------------------------

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag of the answer you have: if it is still current the answer is a 304 "
    "with no body.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag of the record as you read it: if it has changed since, nothing is "
    "done and the answer is a 412. Leave it out to act on the record as it is now.",
)
ETAG_HEADER = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=True,
    description="A strong tag of this answer; send it back as If-None-Match (to read again "
    "cheaply) or If-Match (to act only on what you saw).",
)
NOT_MODIFIED = OpenApiResponse(
    description="Not modified: the answer is still the one with the ETag you sent; no body."
)
PRECONDITION_FAILED = OpenApiResponse(
    ProblemSerializer,
    "The record changed since you read it (If-Match does not name its current ETag); "
    "nothing was done.",
    [
        OpenApiExample(
            "412",
            value=problems.problem(
                412,
                "The session changed since you read it (its ETag is now "
                '"5f0c1e9a2b7d4c315f0c1e9a2b7d4c31"); read it again, then decide.',
                code="precondition_failed",
            ),
            status_codes=["412"],
            response_only=True,
        )
    ],
)
# The key of the 412 in `extend_schema(responses=...)`: in the problem media type, as every
# error.
PRECONDITION_FAILED_KEY = (412, problems.CONTENT_TYPE)
