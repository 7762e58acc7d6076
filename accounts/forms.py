"""allauth's forms, where PeerPath's differ."""

from allauth.account.fields import EmailField
from allauth.account.forms import LoginForm


class CoordinatorLoginForm(LoginForm):
    """The sign-in page on the site is the coordinators': email and password.

    Phone numbers are a sign-in method too (`ACCOUNT_LOGIN_METHODS`), which would turn this
    page's email box into a "Login: email or phone" text box; phones are for the partner app's
    sign-in by text, so the page keeps asking for an email address.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"] = EmailField()
