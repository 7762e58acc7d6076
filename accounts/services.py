"""Changes to accounts that other apps ask for: closing and reopening a sign-in."""

from django.db import transaction

from accounts.adapter import manages_own_sign_in


@transaction.atomic
def allow_sign_in(user, *, allowed):
    """Close (`allowed=False`) or reopen a partner-app account, such as a volunteer's who left
    and came back.

    Closing makes the account inactive: no sign-in code is texted to its phone (the adapter
    looks up active accounts only), and every session it holds, each app's session token and
    any browser's, answers as signed out from the next request (Django's authentication
    backend refuses an inactive account). Its session hash is renewed too (an account without
    a password gets a new unusable one), so those sessions stay dead when the account is
    reopened: coming back means signing in again. Reopening makes it active again.

    The accounts of coordinators and staff are theirs to keep and are left as they are.
    """
    if user is None or manages_own_sign_in(user):
        return user
    if allowed:
        user.is_active = True
        user.save(update_fields=["is_active"])
        return user
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["is_active", "password"])
    return user
