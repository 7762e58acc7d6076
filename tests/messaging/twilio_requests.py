"""Requests as Twilio makes them to PeerPath's webhooks, signed with the twilio SDK's own
RequestValidator for the public URL Twilio was given (PUBLIC_BASE_URL + path)."""

import uuid
from urllib.parse import urlencode

from django.urls import reverse
from twilio.request_validator import RequestValidator

PUBLIC_BASE_URL = "https://peerpath.example.org"
AUTH_TOKEN = "test-twilio-auth-token"
OFFICE_NUMBER = "+447700900001"
VOLUNTEER = "+447700900123"


def new_sid():
    return "SM" + uuid.uuid4().hex


def sign(url, params, token=AUTH_TOKEN):
    return RequestValidator(token).compute_signature(url, params)


def inbound_params(body="Hello", **fields):
    return {
        "MessageSid": new_sid(),
        "AccountSid": "AC" + "0" * 32,
        "From": VOLUNTEER,
        "To": OFFICE_NUMBER,
        "Body": body,
        "NumMedia": "0",
        **fields,
    }


def status_params(sid, status, **fields):
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": OFFICE_NUMBER,
        "To": VOLUNTEER,
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": "2010-04-01",
        **fields,
    }


def post_signed(client, webhook, params, *, body=None):
    """POST `params` to a webhook as Twilio does, signed; `body` sends other bytes of form
    instead (signed for `params`, which is what they decode to)."""
    path = reverse(f"messaging:twilio-{webhook}")
    return client.post(
        path,
        urlencode(params) if body is None else body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=sign(PUBLIC_BASE_URL + path, params),
    )
