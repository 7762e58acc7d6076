"""Where texts go: the console (default), a list in memory (tests), or Twilio.

A backend's `send(message)` returns the provider's id for the text (or None) or raises
`SendFailed`; `lookup(message)` returns the provider's id if the provider already has that
text (a worker died mid-send), else None.
"""

import logging
import sys
import uuid
from datetime import timedelta
from functools import cache
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils.module_loading import import_string
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from community.phones import to_phone
from messaging.models import Message
from messaging.provider_errors import is_transient_http, readable

logger = logging.getLogger(__name__)

BACKENDS = {
    "console": "messaging.backends.ConsoleBackend",
    "locmem": "messaging.backends.LocmemBackend",
    "twilio": "messaging.backends.TwilioBackend",
}


class SendFailed(Exception):
    def __init__(self, reason, *, code=None, transient):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.transient = transient


def get_backend():
    return _backend(settings.SMS_BACKEND)


@cache
def _backend(name):
    try:
        path = BACKENDS[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"SMS_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}."
        ) from None
    return import_string(path)()


class ConsoleBackend:
    """Prints each text: for running PeerPath on a laptop."""

    def send(self, message):
        sys.stdout.write(
            f"--- SMS to {message.to_number} [{message.topic}]\n{message.text_to_send()}\n---\n"
        )
        sys.stdout.flush()
        return None

    def lookup(self, message):
        return None


# The locmem backend's outbox: a list of sent messages, cleared by the tests.
outbox = []


class LocmemBackend:
    def send(self, message):
        sid = "SM" + uuid.uuid4().hex
        outbox.append(
            {
                "sid": sid,
                "id": message.pk,
                "to": str(message.to_number),
                "body": message.text_to_send(),
            }
        )
        return sid

    def lookup(self, message):
        return next((sent["sid"] for sent in outbox if sent["id"] == message.pk), None)


class TwilioHttpClientAt(TwilioHttpClient):
    """The SDK's own HTTP client, sending to another base URL (a Twilio-compatible stub)."""

    def __init__(self, base_url, **kwargs):
        super().__init__(**kwargs)
        self.base = urlsplit(base_url)

    def request(self, method, url, **kwargs):
        parts = urlsplit(url)
        url = urlunsplit((self.base.scheme, self.base.netloc, parts.path, parts.query, ""))
        return super().request(method, url, **kwargs)


def twilio_client():
    if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
        raise ImproperlyConfigured(
            "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."
        )
    timeout = settings.SMS_HTTP_TIMEOUT
    if settings.TWILIO_API_BASE_URL:
        http = TwilioHttpClientAt(settings.TWILIO_API_BASE_URL, timeout=timeout)
    else:
        http = TwilioHttpClient(timeout=timeout)
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http)


def status_callback_url():
    if not settings.PUBLIC_BASE_URL:
        return None
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("messaging:twilio-status")


class TwilioBackend:
    def __init__(self):
        self.client = twilio_client()

    def sender(self):
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            return {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
        if settings.TWILIO_FROM_NUMBER:
            return {"from_": settings.TWILIO_FROM_NUMBER}
        raise SendFailed(
            "Twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID to send from.",
            transient=True,
        )

    def send(self, message):
        if to_phone(message.to_number).is_fictional:
            raise SendFailed(
                "The number is in Ofcom's drama range (07700 900xxx), kept away from Twilio.",
                transient=False,
            )
        params = {"to": str(message.to_number), "body": message.text_to_send(), **self.sender()}
        callback = status_callback_url()
        if callback:
            params["status_callback"] = callback
        try:
            return self.client.messages.create(**params).sid
        except (TwilioRestException, TwilioServiceException) as error:
            raise _failure(error) from error
        except requests.RequestException as error:
            # Timeouts, refused or dropped connections, broken answers: the retry first asks
            # Twilio whether the text arrived, so trying again never sends it twice.
            reason = f"Twilio did not answer ({type(error).__name__})."
            raise SendFailed(reason, transient=True) from error
        except TwilioException as error:
            raise SendFailed(f"Twilio refused the text: {error}", transient=False) from error

    def lookup(self, message):
        """Find the text at Twilio by recipient, body and time, as its id was never saved.

        Every attempt came after the row was written (a few minutes allow for the clocks).
        Twilio leaves `date_sent` empty while a text waits in its own queue, so the texts to
        the number are filtered by when Twilio created them, not by a DateSent query. A text
        another row already holds (the same words to the same number before) is not this one.
        """
        since = message.created_at - timedelta(minutes=5)
        text = message.text_to_send()
        try:
            candidates = [
                candidate
                for candidate in self.client.messages.list(to=str(message.to_number), limit=50)
                if candidate.date_created is None or candidate.date_created >= since
            ]
        except (TwilioException, requests.RequestException) as error:
            raise SendFailed(f"Twilio could not be asked: {error}", transient=True) from error
        known = set(
            Message.objects.filter(twilio_sid__in=[c.sid for c in candidates]).values_list(
                "twilio_sid", flat=True
            )
        )
        for candidate in candidates:
            if candidate.body == text and candidate.sid not in known:
                return candidate.sid
        return None


def _failure(error):
    status = error.status or 0
    code = error.code if isinstance(error.code, int) and error.code != status else None
    detail = getattr(error, "msg", None) or getattr(error, "detail", None) or ""
    return SendFailed(
        readable(code, fallback=f"Twilio answered {status}: {detail}".strip()),
        code=code,
        transient=is_transient_http(status),
    )
