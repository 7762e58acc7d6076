"""Settings for bench/api.py: the project's own, plus the plain baseline view's route.

Everything else (DEBUG, the database, the throttle rate, MFA) comes from the environment
exactly as in production; bench/api.py sets it.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_urls"
