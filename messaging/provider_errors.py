"""Twilio's error codes in the coordinator's words, and which ones are worth retrying."""

READABLE = {
    20003: "Twilio refused the credentials; check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.",
    20429: "Twilio asked PeerPath to slow down.",
    21211: "The number is not a valid phone number.",
    21212: "The sending number is not valid; check TWILIO_FROM_NUMBER.",
    21408: "Texts to this country or region are not enabled on the Twilio account.",
    21606: "The sending number cannot send texts; check TWILIO_FROM_NUMBER.",
    21610: "The person replied STOP to this number, so Twilio will not text them.",
    21612: "Twilio cannot route a text from PeerPath's number to this one.",
    21614: "The number is not a mobile, so it cannot receive texts.",
    21617: "The text is too long for Twilio (over 1,600 characters).",
    30003: "The phone is switched off or out of signal.",
    30004: "The text was blocked: the person or their network blocks texts from this number.",
    30005: "The number does not exist or is no longer in use.",
    30006: "The number is a landline or its network cannot take texts.",
    30007: "The person's network filtered the text as unwanted.",
    30008: "The network could not deliver the text and gave no reason.",
}

# Codes that mean the person has unsubscribed: an opt-out is recorded as if they said STOP.
UNSUBSCRIBED = {21610}


def readable(code, fallback=""):
    if code in READABLE:
        return READABLE[code]
    return fallback or f"Twilio error {code}." if code else fallback


def is_transient_http(status):
    """429 and 5xx answers may succeed later; other refusals will not."""
    return status == 429 or status >= 500
