"""One error shape for every 4xx and 5xx: RFC 9457 problem details, made here and only here.

Every error carries `type`, `title`, `status`, `detail` and a machine-readable `code`; a 400
adds `errors`, a flat object of field name to messages (nested fields joined with dots, as in
`languages.0`). The project's domain errors are mapped too: a Django ValidationError from a
service is a 400, a StateConflict (an action that does not fit the record's state) a 409, and
deleting something still in use a 409.
"""

import logging
import math
from http import HTTPStatus

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response

from community.errors import StateConflict

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
NON_FIELD = "non_field_errors"

VALIDATION_TYPE = "urn:peerpath:problem:validation"
STATE_CONFLICT_TYPE = "urn:peerpath:problem:state-conflict"
IN_USE_TYPE = "urn:peerpath:problem:in-use"


def problem(status, detail, *, code, type_="about:blank", title=None, errors=None, instance=None):
    """The body of one problem response."""
    body = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return body


def flatten_errors(detail, prefix=""):
    """DRF's nested error detail as {"field": ["message", ...]}, nested names joined by dots."""
    if isinstance(detail, dict):
        flat = {}
        for key, value in detail.items():
            name = NON_FIELD if key in (NON_FIELD_ERRORS, NON_FIELD) and not prefix else str(key)
            flat.update(flatten_errors(value, f"{prefix}.{name}" if prefix else name))
        return flat
    if isinstance(detail, list | tuple):
        if all(not isinstance(item, dict | list | tuple) for item in detail):
            return {prefix or NON_FIELD: [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:
                flat.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or NON_FIELD: [str(detail)]}


def summarise(errors):
    """One sentence for `detail`: the one problem, or which fields need attention."""
    if len(errors) == 1:
        name, messages = next(iter(errors.items()))
        where = "" if name == NON_FIELD else f"{name}: "
        return f"{where}{' '.join(messages)}"
    names = ", ".join(name for name in errors if name != NON_FIELD)
    return f"{len(errors)} problems with the request; see errors ({names})."


def _django_messages(error):
    if hasattr(error, "error_dict"):
        return {
            (NON_FIELD if name == NON_FIELD_ERRORS else name): [
                message for item in items for message in item.messages
            ]
            for name, items in error.error_dict.items()
        }
    return {NON_FIELD: list(error.messages)}


def _describe(exc):
    """(status, body fields, headers) for an exception, or None when it is not ours to map."""
    if isinstance(exc, StateConflict):
        if exc.code == "in_use":
            return _in_use(" ".join(exc.messages))
        return (
            409,
            {
                "detail": " ".join(exc.messages),
                "code": exc.code or "state_conflict",
                "type_": STATE_CONFLICT_TYPE,
                "title": "Not possible in the current state",
            },
            {},
        )
    if isinstance(exc, DjangoValidationError):
        errors = _django_messages(exc)
        return 400, _validation_fields(errors), {}
    if isinstance(exc, ProtectedError | RestrictedError):
        count = len(
            exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        )
        return _in_use(
            f"Still in use by {count} record{'s' if count != 1 else ''}; it cannot be deleted."
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        return 400, _validation_fields(flatten_errors(exc.detail)), {}
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.wait)))
        detail = (
            exc.detail if isinstance(exc.detail, str) else summarise(flatten_errors(exc.detail))
        )
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        fields = {"detail": str(detail), "code": code}
        if exc.status_code == 400:
            # Every 400 carries `errors`, so a client reads one shape for every bad request.
            fields["errors"] = {NON_FIELD: [str(detail)]}
        return exc.status_code, fields, headers
    return None


def _in_use(detail):
    """Deleting something still in use: the service's check and the database's say the same."""
    fields = {"detail": detail, "code": "in_use", "type_": IN_USE_TYPE, "title": "Still in use"}
    return 409, fields, {}


def _validation_fields(errors):
    return {
        "detail": summarise(errors),
        "code": "invalid",
        "type_": VALIDATION_TYPE,
        "title": "The request is not valid",
        "errors": errors,
    }


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error becomes a problem-details response."""
    described = _describe(exc)
    if described is None:
        logger.exception("Unhandled error in the API", exc_info=exc)
        described = (
            500,
            {
                "detail": "Something went wrong on our side; it has been logged. "
                "Try again, and tell the office if it keeps happening.",
                "code": "server_error",
            },
            {},
        )
    status, fields, headers = described
    request = context.get("request")
    body = problem(status, instance=request.path if request else None, **fields)
    response = Response(body, status=status, headers=headers)
    renderer = getattr(request, "accepted_renderer", None)
    if renderer is None or renderer.format == "json":
        response.content_type = CONTENT_TYPE
    return response


def _is_api(request):
    return request.path.startswith("/api/")


@csrf_exempt  # it changes nothing; without this a stray POST would get Django's HTML 403
def nothing_here(request, *args, **kwargs):
    """A 404 in the problem shape for an API URL that names nothing (also with DEBUG on)."""
    detail = f"There is nothing at {request.path}."
    try:
        with_slash = resolve(request.path + "/")
    except Resolver404:
        with_slash = None
    if with_slash is not None and with_slash.func is not nothing_here:
        detail += f" Did you mean {request.path}/ (every API address ends with a slash)?"
    body = problem(404, detail, code="not_found", instance=request.path)
    return JsonResponse(body, status=404, content_type=CONTENT_TYPE)


def page_not_found(request, exception):
    """Django's 404 for a URL no route matches: problem details under /api/, HTML elsewhere."""
    if _is_api(request):
        return nothing_here(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        body = problem(
            500,
            "Something went wrong on our side; it has been logged.",
            code="server_error",
            instance=request.path,
        )
        return JsonResponse(body, status=500, content_type=CONTENT_TYPE)
    return defaults.server_error(request)
