"""How allauth fits PeerPath: no public sign-up, and sign-in codes sent as texts.

A volunteer signs in to the partner app with the phone number a coordinator registered on
their account (`User.phone`): allauth's login by code asks for the number, this adapter finds
the account and sends the code through messaging's outbox, and the code gives a session.

Phones are the office's records, not something a person claims for themselves: a coordinator
types the number in, so a registered number counts as verified, and nobody changes their own
number through allauth (they ask the office, which also keeps the number reminders go to).

Who looks after which of their own credentials (`manages_own_sign_in`): coordinators and staff
change their own password, email addresses (never one another account has) and authenticator
app with its recovery codes. Volunteers have nothing to look after but the code texted to them:
the office keeps their sign-in, so every change they try is refused, with the office's number.
The rule holds wherever allauth offers the change (the app and browser APIs and the site's
pages), because allauth asks this adapter before each one.

Failed sign-ins are counted per client address and account, and per account over a longer
window (`pre_authenticate`): a stranger's wrong guesses from one address do not lock the owner
out at another.
"""

import logging
import math
import uuid
from datetime import timedelta
from http import HTTPStatus

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context, ratelimit
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.internal.ratelimit import get_ip
from allauth.headless.internal.restkit.response import ErrorResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import PermissionDenied, ValidationError
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
# allauth's pages for adding one's own email address: the headless API's and the site's.
_EMAIL_CHANGE_VIEWS = {"manage_email", "account_email"}
# allauth's API for setting up an authenticator app (the site's page checks for itself).
_TOTP_SET_UP_VIEWS = {"manage_totp"}

SIGN_IN_KEPT_BY_OFFICE = "sign_in_kept_by_office"

# Failed sign-ins per account from every address together (rates in ACCOUNT_RATE_LIMITS).
LOGIN_FAILED_PER_ACCOUNT = "login_failed_per_account"


def manages_own_sign_in(user):
    """Whether this person may change their own password, email addresses and authenticators.

    Coordinators and staff may. Volunteers sign in only with a code texted to the phone the
    office registered, and the office keeps everything else about their sign-in.
    """
    return user.is_staff or user.is_coordinator


def sign_in_kept_by_office_message():
    return (
        "Your sign-in is kept by the office: you sign in with the code we text to your phone. "
        f"To change anything about it, call {settings.OFFICE_PHONE}."
    )


class AccountAdapter(DefaultAccountAdapter):
    """No public sign-up: coordinators create every account, and register every phone."""

    def is_open_for_signup(self, request):
        return False

    def get_client_ip(self, request):
        """The address sign-in limits count against: the same one the API's throttles use."""
        return client_ip(request)

    # Who may change which credentials -------------------------------------------------------

    def clean_password(self, password, user=None):
        """allauth checks every new password here, for its owner: on changing, setting and
        resetting one, in the apps' API and on the site. A volunteer is given none."""
        if user is not None and user.pk is not None and not manages_own_sign_in(user):
            raise ValidationError(sign_in_kept_by_office_message(), code=SIGN_IN_KEPT_BY_OFFICE)
        return super().clean_password(password, user=user)

    def clean_email(self, email):
        """An address someone adds to their own account: refused for volunteers, and refused
        if another account already has it, in any mix of capitals (as the account's email or
        as one of its addresses), since an address signs in to one account only."""
        email = super().clean_email(email)
        request = context.request
        if not _is_view(request, _EMAIL_CHANGE_VIEWS) or not request.user.is_authenticated:
            return email
        if not manages_own_sign_in(request.user):
            raise ValidationError(sign_in_kept_by_office_message(), code=SIGN_IN_KEPT_BY_OFFICE)
        if address_belongs_to_another_account(email, user=request.user):
            raise self.validation_error("email_taken")
        return email

    def is_reauthentication_required(self, *, app, **kwargs):
        """allauth asks this before every change to a signed-in person's email addresses,
        phone, authenticator app, recovery codes or security keys, before anything is written:
        the one place such changes are refused to volunteers."""
        request = context.request
        refuse_if_sign_in_kept_by_office(request)
        refuse_a_second_authenticator_app(request)
        return super().is_reauthentication_required(app=app, **kwargs)

    def send_confirmation_mail(self, request, emailconfirmation, signup):
        """No verification mail at a volunteer's request: their address is the office's."""
        refuse_if_sign_in_kept_by_office(request)
        super().send_confirmation_mail(request, emailconfirmation, signup)

    def send_password_reset_mail(self, user, email, mail_context):
        """No reset link for a volunteer, who has no password to reset. The answer to the
        request stays the same as anyone's, so it does not tell who is a volunteer."""
        if not manages_own_sign_in(user):
            logger.info(
                "A password reset was asked for user %s, a volunteer who signs in by text: "
                "no mail sent.",
                user.pk,
            )
            return
        super().send_password_reset_mail(user, email, mail_context)

    # Failed sign-ins --------------------------------------------------------------------------

    def _get_login_attempts_cache_key(self, request, **credentials):
        """allauth's `login_failed` limit counts per this key: the client address and the
        account together, so failures from one address never lock out another. allauth also
        clears it (for the address the reset came from) after a password reset."""
        return f"{get_ip(request)}:{_account_key(request, credentials)}"

    def pre_authenticate(self, request, **credentials):
        """Before each password is checked: allauth's own limits (per address, and per address
        and account), then the ceiling per account from all addresses together, which guessing
        spread over many addresses runs into. Only failures count against the ceiling."""
        super().pre_authenticate(request, **credentials)
        if not ratelimit.consume(
            request,
            action=LOGIN_FAILED_PER_ACCOUNT,
            key=_account_key(request, credentials),
            dry_run=True,
        ):
            raise self.validation_error("too_many_login_attempts")

    def authentication_failed(self, request, **credentials):
        super().authentication_failed(request, **credentials)
        ratelimit.consume(
            request, action=LOGIN_FAILED_PER_ACCOUNT, key=_account_key(request, credentials)
        )

    def _delete_login_attempts_cached_email(self, request, **credentials):
        """After a successful password reset allauth wipes the count of failures; the ceiling
        per account goes too, as the guesses were at a password that no longer exists."""
        super()._delete_login_attempts_cached_email(request, **credentials)
        ratelimit.clear(
            request, action=LOGIN_FAILED_PER_ACCOUNT, key=_account_key(request, credentials)
        )

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
                # A code that never arrives needs nobody from the office: they ask again.
                attention_if_not_delivered=False,
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


class MFAAdapter(DefaultMFAAdapter):
    """Authenticator apps and recovery codes are for coordinators and staff."""

    def build_totp_url(self, user, secret):
        """Shown when an authenticator app is about to be set up: not to volunteers."""
        refuse_if_sign_in_kept_by_office(context.request)
        return super().build_totp_url(user, secret)


def refuse_if_sign_in_kept_by_office(request):
    """Stop the request here if the signed-in person is a volunteer, with a 403 that says
    whom to call: in allauth's own error shape for its APIs, a 403 page on the site."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or manages_own_sign_in(user):
        return
    if hasattr(getattr(request, "allauth", None), "headless"):
        refusal = ValidationError(sign_in_kept_by_office_message(), code=SIGN_IN_KEPT_BY_OFFICE)
        raise ImmediateHttpResponse(
            ErrorResponse(request, exception=refusal, status=HTTPStatus.FORBIDDEN)
        )
    raise PermissionDenied(sign_in_kept_by_office_message())


def refuse_a_second_authenticator_app(request):
    """allauth's API would store a second authenticator app beside the first and fail on the
    database's rule of one each; the answer is a 409 that says what to do instead."""
    if request.method != "POST" or not _is_view(request, _TOTP_SET_UP_VIEWS):
        return
    if Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP).exists():
        conflict = ValidationError(
            "An authenticator app is already set up: remove it first to set up another.",
            code="totp_already_active",
        )
        raise ImmediateHttpResponse(
            ErrorResponse(request, exception=conflict, status=HTTPStatus.CONFLICT)
        )


def address_belongs_to_another_account(email, *, user):
    """Whether `email` is, in any capitals, another account's email or one of its addresses."""
    users = get_user_model().objects.exclude(pk=user.pk)
    return (
        users.filter(email__iexact=email).exists()
        or EmailAddress.objects.exclude(user=user).filter(email__iexact=email).exists()
    )


def _is_phone_change(request):
    return _is_view(request, _PHONE_CHANGE_VIEWS)


def _is_view(request, url_names):
    match = getattr(request, "resolver_match", None)
    return match is not None and match.url_name in url_names


def _account_key(request, credentials):
    """The account a sign-in is for, as it was typed: the email address (or phone)."""
    login = credentials.get("email") or credentials.get("phone") or ""
    return f"{get_current_site(request).domain}:{str(login).lower()}"


def _masked(phone):
    """Enough of a number for the office to recognise in a log, no more."""
    return f"…{str(phone)[-3:]}" if phone else "(no number)"
