"""Twilio's webhooks: replies coming in, and delivery reports for texts going out.

Both refuse anything without a valid X-Twilio-Signature (403, nothing stored). The signature
covers the public URL Twilio called, so it is rebuilt from PUBLIC_BASE_URL when PeerPath sits
behind a proxy or tunnel.
"""

import logging
import re
from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from community.phones import normalise_phone
from messaging import services

logger = logging.getLogger(__name__)

# Twilio's error codes are five digits; ASCII only (str.isdigit also takes "²" and "٣").
ERROR_CODE = re.compile(r"[0-9]{1,9}")


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


def twilio_webhook(*required):
    """POST only, signed by Twilio, with the named form fields present."""

    def decorate(view):
        @csrf_exempt
        @require_POST
        @wraps(view)
        def checked(request):
            if not signed_by_twilio(request):
                logger.warning("Refused an unsigned or forged Twilio webhook to %s", request.path)
                return HttpResponseForbidden("The X-Twilio-Signature is missing or does not match.")
            missing = [name for name in required if not request.POST.get(name, "").strip()]
            if missing:
                return HttpResponseBadRequest(f"Missing {', '.join(missing)}.")
            return view(request)

        return checked

    return decorate


@twilio_webhook("MessageSid", "From")
def inbound(request):
    try:
        from_number = normalise_phone(request.POST["From"])
        to_number = request.POST.get("To", "").strip() or settings.TWILIO_FROM_NUMBER
        to_number = normalise_phone(to_number) if to_number else ""
    except ValidationError as error:
        return HttpResponseBadRequest(" ".join(error.messages))
    services.receive(
        sid=request.POST["MessageSid"],
        from_number=from_number,
        to_number=to_number,
        body=request.POST.get("Body", ""),
    )
    return HttpResponse(str(MessagingResponse()), content_type="text/xml")


@twilio_webhook("MessageSid", "MessageStatus")
def status(request):
    code = request.POST.get("ErrorCode", "").strip()
    if code and not ERROR_CODE.fullmatch(code):
        return HttpResponseBadRequest("ErrorCode must be a number.")
    services.apply_delivery_status(
        sid=request.POST["MessageSid"],
        provider_status=request.POST["MessageStatus"].strip().lower(),
        error_code=int(code) if code else None,
    )
    return HttpResponse(status=200)
