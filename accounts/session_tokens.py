"""The partner app's session tokens: allauth's own (the key of a Django session), found in
one query. allauth's strategy first asks whether the session exists and then reads it, two
queries on every request the app makes."""

from importlib import import_module

from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy
from django.conf import settings
from django.contrib.auth import SESSION_KEY


class OneQuerySessionTokenStrategy(SessionTokenStrategy):
    def lookup_session(self, session_token):
        session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_token)
        # Reading it loads it; a missing or expired session (or a key that is not one) is
        # left without a key, as Django leaves any session it cannot load.
        session.get(SESSION_KEY)
        return session if session.session_key else None
