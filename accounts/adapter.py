from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """No public sign-up: coordinators create every account."""

    def is_open_for_signup(self, request):
        return False
