"""The partner app's session tokens: allauth's own (the key of a Django session), found in
one query, or none with sessions in the cache. allauth's strategy first asks whether the
session exists and then reads it, two queries on every request the app makes."""

import re
from importlib import import_module

from allauth.headless.tokens.strategies.sessions import SessionTokenStrategy
from django.conf import settings
from django.contrib.auth import SESSION_KEY

# What Django makes a session key of: 32 lowercase letters and digits.
SESSION_KEY_FORM = re.compile(r"[a-z0-9]{32}")


class OneQuerySessionTokenStrategy(SessionTokenStrategy):
    def lookup_session(self, session_token):
        # Anything else was never a session: not worth a read, nor a cache key of any length.
        if not SESSION_KEY_FORM.fullmatch(session_token or ""):
            return None
        session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_token)
        # Reading it loads it; a missing or expired session is left without a key, as Django
        # leaves any session it cannot load.
        session.get(SESSION_KEY)
        return session if session.session_key else None
