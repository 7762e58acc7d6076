"""How allauth fits PeerPath: no public sign-up, and sign-in codes sent as texts.

A volunteer signs in to the partner app with the phone number a coordinator registered on
their account (`User.phone`): allauth's login by code asks for the number, this adapter finds
the account and sends the code through messaging's outbox, and the code gives a session.

Phones are the office's records, not something a person claims for themselves: a coordinator
types the number in, so a registered number counts as verified, and nobody changes their own
number through allauth (they ask the office, which also keeps the number reminders go to).
"""

import logging
import math
import uuid
from datetime import timedelta

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.client_address import client_ip
from accounts.fields import SignInPhoneField
from community.phones import normalise_phone
from messaging.services import SECRET, send_sms
from messaging.texts import login_code_text

logger = logging.getLogger(__name__)

LOGIN_CODE_TOPIC = "account.login_code"

# allauth's pages for changing one's own phone number: the headless API's and the site's.
_PHONE_CHANGE_VIEWS = {"manage_phone", "account_change_phone"}


class AccountAdapter(DefaultAccountAdapter):
    """No public sign-up: coordinators create every account, and register every phone."""

    def is_open_for_signup(self, request):
        return False

    def get_client_ip(self, request):
        """The address sign-in limits count against: the same one the API's throttles use."""
        return client_ip(request)

    # Phone numbers: stored on User.phone in E.164 ------------------------------------------

    def phone_form_field(self, **kwargs):
        return SignInPhoneField(**kwargs)

    def clean_phone(self, phone):
        if _is_phone_change(context.request):
            raise ValidationError(
                "Your phone number is kept by the office: call "
                f"{settings.OFFICE_PHONE} to change it.",
                code="phone_kept_by_office",
            )
        return normalise_phone(phone)

    def get_phone(self, user):
        """The user's phone and whether it is verified: a number the office registered is."""
        if not user.phone:
            return None
        return user.phone.as_e164, True

    def set_phone(self, user, phone, verified):
        """Only reached by sign-up and self-service changes, which PeerPath refuses; kept so
        allauth's phone support is complete. Every stored number counts as verified."""
        user.phone = normalise_phone(phone)
        if user.pk:
            user.save(update_fields=["phone"])

    def set_phone_verified(self, user, phone):
        """Nothing to record: a registered number is verified from the start.

        allauth calls this after a sign-in code for `phone` was confirmed, and that phone is
        already the user's own (it is how the account was found).
        """

    def get_user_by_phone(self, phone):
        """The active account whose registered phone this is; anyone else gets no code."""
        try:
            e164 = normalise_phone(phone)
        except ValidationError:
            return None
        return get_user_model().objects.filter(phone=e164, is_active=True).first()

    # Texts ---------------------------------------------------------------------------------

    def send_verification_code_sms(self, user, phone, code, **kwargs):
        """Text a sign-in code through the outbox.

        allauth sends the login code for a phone through this method. (It would also send a
        phone verification code, but verification is off and numbers cannot be changed here,
        so a code through this method is always a sign-in code.) The text goes at once, even
        at night, and is never sent or retried once the code has expired.
        """
        timeout = app_settings.LOGIN_BY_CODE_TIMEOUT
        try:
            send_sms(
                phone,
                login_code_text(code, minutes=math.ceil(timeout / 60)),
                topic=LOGIN_CODE_TOPIC,
                idempotency_key=f"{LOGIN_CODE_TOPIC}:{uuid.uuid4().hex}",
                quiet_hours=False,
                expires_at=timezone.now() + timedelta(seconds=timeout),
                context={SECRET: code},  # the log shows only its mask, and drops it once sent
            )
        except ValidationError as refused:
            # Say nothing different to the caller: the answer must not tell whether the number
            # belongs to an account. The office sees it in the log.
            logger.warning(
                "Could not text a sign-in code to user %s at %s: %s",
                user.pk,
                _masked(phone),
                " ".join(refused.messages),
            )

    def send_unknown_account_sms(self, phone, **kwargs):
        """No text to a number that is not an account's: it may not be a volunteer's at all,
        and a text would tell whoever holds it that someone tried it here."""
        logger.info(
            "A sign-in code was asked for %s, which is no active account's phone: no text sent.",
            _masked(phone),
        )

    def send_account_already_exists_sms(self, phone, **kwargs):
        """Sign-up is closed, so there is nothing to warn about and no text."""


def _is_phone_change(request):
    match = getattr(request, "resolver_match", None)
    return match is not None and match.url_name in _PHONE_CHANGE_VIEWS


def _masked(phone):
    """Enough of a number for the office to recognise in a log, no more."""
    return f"…{str(phone)[-3:]}" if phone else "(no number)"
