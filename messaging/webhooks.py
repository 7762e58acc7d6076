"""Twilio's webhooks: replies coming in, and delivery reports for texts going out.

Both refuse anything without a valid X-Twilio-Signature (403, nothing stored). The signature
covers the public URL Twilio called, so it is rebuilt from PUBLIC_BASE_URL when PeerPath sits
behind a proxy or tunnel.

Every form field a webhook reads is declared once below with the shape Twilio gives it, and
checked before the view runs: a field that does not fit is a 400 naming the field and what is
wrong, and nothing is stored. The one exception is a text's Body, which is a person's words:
control characters that no phone sends on purpose (NUL among them, which PostgreSQL cannot
store) are removed and the rest is kept.
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.rest.api.v2010.account.message import MessageInstance
from twilio.twiml.messaging_response import MessagingResponse

from community.phones import normalise_phone
from messaging import services

logger = logging.getLogger(__name__)

# The largest webhook request heard. Twilio's are a few kilobytes (a 1,600-character body is
# at most 19 KB percent-encoded); anything larger is refused before its form is read.
MAX_REQUEST_BYTES = 64 * 1024

# A message's id at Twilio: SM (a text) or MM (a picture message) and 32 hex digits.
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
# Twilio's error codes are five digits; ASCII only (str.isdigit also takes "²" and "٣").
ERROR_CODE = re.compile(r"[0-9]{1,9}")
# Every status Twilio reports for a message, as its SDK lists them.
TWILIO_STATUSES = frozenset(
    value for name, value in vars(MessageInstance.Status).items() if not name.startswith("_")
)


class FieldProblem(ValueError):
    """What is wrong with a field's value, in words that follow its name."""


def message_sid(value):
    if not MESSAGE_SID.fullmatch(value):
        raise FieldProblem("is not a Twilio message id (SM or MM and 32 hex digits)")
    return value


def phone(value):
    try:
        return normalise_phone(value)
    except ValidationError as error:
        raise FieldProblem(" ".join(error.messages)) from None


def text_body(value):
    """The words as sent, as messaging keeps them (see services.received_words)."""
    return services.received_words(value)


def message_status(value):
    word = value.strip().lower()
    if word not in TWILIO_STATUSES:
        raise FieldProblem(
            f"must be one of Twilio's statuses ({', '.join(sorted(TWILIO_STATUSES))})"
        )
    return word


def error_code(value):
    value = value.strip()
    if not ERROR_CODE.fullmatch(value):
        raise FieldProblem("must be a number of at most 9 digits")
    return int(value)


@dataclass(frozen=True)
class Field:
    """One form field a webhook reads: how its value is checked and cleaned, and whether it
    must be there. An optional field that is absent or blank reads as None."""

    name: str
    clean: Callable[[str], object]
    required: bool = False


INBOUND_FIELDS = [
    Field("MessageSid", message_sid, required=True),
    Field("From", phone, required=True),
    Field("To", phone),
    Field("Body", text_body),
]
STATUS_FIELDS = [
    Field("MessageSid", message_sid, required=True),
    Field("MessageStatus", message_status, required=True),
    Field("ErrorCode", error_code),
]


def public_url(request):
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
    return request.build_absolute_uri()


def signed_by_twilio(request):
    if not settings.TWILIO_AUTH_TOKEN:
        logger.error("TWILIO_AUTH_TOKEN is not set, so no Twilio webhook can be checked.")
        return False
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    # The QueryDict itself, so a field sent more than once is checked as Twilio signed it.
    return validator.validate(public_url(request), request.POST, signature)


def request_bytes(request):
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # Django reads no body at all then


def cleaned_fields(form, fields):
    """The declared fields' cleaned values by name, or the problems with them in words."""
    values, problems = {}, []
    for field in fields:
        value = form.get(field.name, "")
        if not value.strip():
            if field.required:
                problems.append(f"Missing {field.name}.")
            values[field.name] = None
            continue
        try:
            values[field.name] = field.clean(value)
        except FieldProblem as problem:
            problems.append(f"{field.name} {problem}.")
    return values, problems


def twilio_webhook(fields):
    """POST only, at most MAX_REQUEST_BYTES, signed by Twilio, with every declared field in
    its shape; the view gets the cleaned values by name."""

    def decorate(view):
        @csrf_exempt
        @require_POST
        @wraps(view)
        def checked(request):
            if request_bytes(request) > MAX_REQUEST_BYTES:
                return HttpResponse(
                    f"The request is larger than {MAX_REQUEST_BYTES // 1024} KB; "
                    "no Twilio webhook is.",
                    status=413,
                    content_type="text/plain",
                )
            if not signed_by_twilio(request):
                logger.warning("Refused an unsigned or forged Twilio webhook to %s", request.path)
                return HttpResponseForbidden("The X-Twilio-Signature is missing or does not match.")
            values, problems = cleaned_fields(request.POST, fields)
            if problems:
                logger.warning("Refused a signed Twilio webhook to %s: %s", request.path, problems)
                return HttpResponseBadRequest(" ".join(problems), content_type="text/plain")
            return view(request, values)

        return checked

    return decorate


@twilio_webhook(INBOUND_FIELDS)
def inbound(request, fields):
    to_number = fields["To"]
    if to_number is None and settings.TWILIO_FROM_NUMBER:
        to_number = normalise_phone(settings.TWILIO_FROM_NUMBER)
    services.receive(
        sid=fields["MessageSid"],
        from_number=fields["From"],
        to_number=to_number or "",
        body=fields["Body"] or "",
    )
    return HttpResponse(str(MessagingResponse()), content_type="text/xml")


@twilio_webhook(STATUS_FIELDS)
def status(request, fields):
    services.apply_delivery_status(
        sid=fields["MessageSid"],
        provider_status=fields["MessageStatus"],
        error_code=fields["ErrorCode"],
    )
    return HttpResponse(status=200)
