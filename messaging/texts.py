"""Every text PeerPath's messaging writes itself, in one place.

Each must fit one SMS segment with realistic values (a test checks). Texts never name
recovery, drugs, alcohol or what the service is for, since someone else may see the phone:
they sign with SMS_SENDER_NAME, not the office's full name.
"""

from django.conf import settings

LOGIN_CODE = (
    "Your {sender} sign-in code is {code}. It expires in {minutes} minutes. "
    "If you did not ask for it, ignore this text."
)
HELP = "{sender}: call {office_phone}. Reply STOP to stop texts, START to get them again."
# Also what a peer may get back (any reply nobody asked for): it names nobody and nothing.
NOT_UNDERSTOOD = "Thanks for your message. Someone will be in touch soon."


def help_text():
    return HELP.format(sender=settings.SMS_SENDER_NAME, office_phone=settings.OFFICE_PHONE)


def not_understood_text():
    return NOT_UNDERSTOOD


def login_code_text(code, *, minutes):
    return LOGIN_CODE.format(sender=settings.SMS_SENDER_NAME, code=code, minutes=minutes)
