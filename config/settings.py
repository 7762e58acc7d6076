"""PeerPath settings: one module, configured by environment variables.

With nothing set, PeerPath runs locally: SQLite, the django-q2 ORM broker, the console SMS
backend and DEBUG on. Every variable is listed in the README.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0 (true or false), not {value!r}.")


def env_int(name, default):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG=0 PeerPath needs a long random SECRET_KEY; "
            'make one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    SECRET_KEY = "django-insecure-local-development-key-never-use-in-production"
# Earlier keys, newest first, while rotating SECRET_KEY: sessions, sign-in links and calendar
# addresses made under them keep working.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
    "django_q",
    "import_export",
    "phonenumber_field",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "accounts",
    "community",
    "volunteers",
    "peers",
    "messaging",
    "matching",
    "api",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.security_headers.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.json_bodies.JSONBodyLimits",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.CoordinatorMFARequiredMiddleware",
    # request.htmx: whether a dashboard request came from htmx (a part of a page, not a page).
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite by default, PostgreSQL (or anything dj-database-url knows) by DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server, so psycopg prepares a query run five times on a
    # connection and PostgreSQL stops planning it again (planning is most of a short read's
    # time). Off (0) behind a pooler in transaction mode, which cannot keep prepared queries.
    if env_bool("DATABASE_PREPARED_QUERIES", True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=5
        )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web and worker) share the file: wait for locks rather than fail.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Django's and allauth's backends, reading a user with their volunteer record in one query.
AUTHENTICATION_BACKENDS = [
    "volunteers.auth_backends.ModelBackend",
    "volunteers.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
# Coordinators work on the dashboard; the admin is one link away in its navigation.
LOGIN_REDIRECT_URL = "dashboard:today"

# django-allauth: coordinators sign in by email and password, volunteers in the app by a code
# texted to the phone the office registered (accounts/adapter.py); no public sign-up; MFA by
# TOTP and recovery codes, asked for after a code as after a password.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"login": "accounts.forms.CoordinatorLoginForm"}
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# A text can take a few minutes to arrive; the code (8 letters, 3 tries) stays safe that long.
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 10 * 60
# Phones are typed in by the office, so a registered number is verified already.
ACCOUNT_PHONE_VERIFICATION_ENABLED = False
# Sign-up is closed (the adapter refuses it); email stays its one required identifier.
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
# Failed sign-ins (allauth's "login_failed", keyed by the adapter on the client address and the
# account together): 5 in 5 minutes and 20 an hour from one address for one account, and
# allauth's 10 a minute from one address for any. A stranger's guesses therefore never lock the
# owner out at another address. Against guessing spread over many addresses, an account takes
# 50 failures an hour from all addresses together; one address alone cannot reach that (at
# most 20), so it takes several working together to keep an owner out. allauth counts wrong
# authenticator codes under "login_failed" too, per account.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key,20/h/key",
    "login_failed_per_account": "50/h/key",
}
MFA_ADAPTER = "accounts.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "PeerPath"
REQUIRE_COORDINATOR_MFA = env_bool("REQUIRE_COORDINATOR_MFA", not DEBUG)

# allauth's headless API for apps (/_allauth/app/v1/) and browsers (/_allauth/browser/v1/),
# with its OpenAPI specification served from PeerPath's own static files.
HEADLESS_CLIENTS = ("app", "browser")
HEADLESS_TOKEN_STRATEGY = "accounts.session_tokens.OneQuerySessionTokenStrategy"
HEADLESS_SERVE_SPECIFICATION = True
HEADLESS_SPECIFICATION_TEMPLATE_NAME = "headless/spec/swagger_local.html"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

PHONENUMBER_DEFAULT_REGION = "GB"
PHONENUMBER_DB_FORMAT = "E164"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# PeerPath's own page assets (the sign-in pages' styles, the API documentation's scripts).
STATICFILES_DIRS = [BASE_DIR / "static"]

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "PeerPath <peerpath@localhost>")

# Redis, when REDIS_URL is set, carries the task queue and the cache (below).
REDIS_URL = env("REDIS_URL")

# Throttle counts and allauth's rate limits live in the cache: shared through Redis when
# REDIS_URL is set (several web processes), in each process's memory otherwise.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if REDIS_URL:
    CACHES["default"] = {
        "BACKEND": "config.redis_cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "peerpath",
    }
    # Sessions (a browser's, and each app's session token) are read from the shared cache and
    # written through to the database: a request reads no session row. Never with the
    # per-process cache, where a session signed out in one process would live on in another.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Every JSON body (the API's and allauth's) is bounded before it is parsed (config/json_bodies.py).
JSON_BODY_MAX_BYTES = 128 * 1024
JSON_BODY_MAX_DEPTH = 16

# How many proxies in front of PeerPath append to X-Forwarded-For: 0 means none, and the
# client is whoever connected (REMOTE_ADDR). Throttles and sign-in limits both count per client
# address as accounts/client_address.py reads it, so a client cannot choose its own.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)

# The REST API under /api/v1/: one set of conventions for every endpoint (see api/).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.SessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.IsCoordinator"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "api.filters.KnownParametersOnly",
        "api.filters.Filters",
        "api.filters.NameAndPhoneSearch",
        "api.filters.Ordering",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttles.AnonRateThrottle",
        "api.throttles.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_ANON_RATE", "60/minute"),
        "user": env("API_USER_RATE", "1200/minute"),
    },
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": False,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # The format is chosen by the Accept header only: `?format=` would be a parameter every
    # operation takes and none documents. (The schema view reads it; see api/urls.py.)
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PeerPath API",
    "DESCRIPTION": (
        "The REST API of PeerPath for the partner app and integrations. Sign in through "
        "allauth's headless API (`/_allauth/app/v1/auth/login`) and send the session token "
        "it returns as `X-Session-Token`. Errors are RFC 9457 problem details."
    ),
    "VERSION": "1.0.0",
    "CONTACT": {"name": "Lanarkshire Communities of Recovery, the PeerPath office in Coatbridge"},
    "LICENSE": {"name": "Proprietary"},
    "SERVERS": [
        {
            "url": "/",
            "description": "The PeerPath installation serving this schema (every path starts "
            "/api/v1/). A generated client takes the installation's address as its base URL.",
        },
        {"url": "http://127.0.0.1:8000", "description": "A local installation (`make run`)."},
    ],
    # One tag per group of resources, in the order the documentation shows them; which paths
    # belong to which is decided in api/schema.py (AutoSchema.get_tags).
    "TAGS": [
        {
            "name": "me",
            "description": "The signed-in volunteer's own records, for the partner app.",
        },
        {
            "name": "volunteers",
            "description": "Volunteers with their training records, availability, absences "
            "and wellbeing answers.",
        },
        {
            "name": "peers",
            "description": "People in recovery waiting for or matched with a supporter, and "
            "their preferred times.",
        },
        {
            "name": "matches",
            "description": "Matches between volunteers and peers: suggestions, proposals, "
            "approval, exclusions and the waiting list's bulk assignment.",
        },
        {
            "name": "sessions",
            "description": "Sessions between a volunteer and a peer: confirmation, "
            "rescheduling, cancelling and outcomes.",
        },
        {
            "name": "messages",
            "description": "Text messages sent and received, the coordinator's inbox of "
            "replies, and opt-outs.",
        },
        {
            "name": "follow-ups",
            "description": "What needs a coordinator's attention: declined or at-risk "
            "sessions, no-shows, unanswered check-ins, low wellbeing.",
        },
        {
            "name": "reference data",
            "description": "Areas, courses, languages and focuses: read by anyone signed in, "
            "changed by coordinators.",
        },
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.state_strictness",
        "api.schema.readable_enum_names",
        "api.schema.page_links_of_each_list",
    ],
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayOperationId": False},
    "ENUM_NAME_OVERRIDES": {
        "GenderEnum": "community.models.Gender",
        "VolunteerStatusEnum": "volunteers.models.Volunteer.Status",
        "PeerStatusEnum": "peers.models.Peer.Status",
        "TrainingStateEnum": "volunteers.models.TrainingState",
        # The course's kind keeps the name it had before follow-ups had kinds too.
        "KindEnum": "volunteers.models.Course.Kind",
        "FollowUpKindEnum": "matching.models.FollowUp.Kind",
    },
}

# Background tasks: django-q2 on the database by default, on Redis when REDIS_URL is set.
# Successful results are not stored (each text's row is its record), which also spares the
# monitor a prune per task; workers keep their database connection and live long.
Q_CLUSTER = {
    "name": "peerpath",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 60,
    "retry": 120,
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": -1,
    "recycle": 10000,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# The office's own words, used in texts and pages.
OFFICE_NAME = env("OFFICE_NAME", "Lanarkshire Communities of Recovery")
OFFICE_PHONE = env("OFFICE_PHONE", "01236 000000")

# Text messages (see messaging/): the backend, its limits, and Twilio's credentials.
SMS_BACKEND = env("SMS_BACKEND", "console")
SMS_SENDER_NAME = env("SMS_SENDER_NAME", "PeerPath")
SMS_QUIET_HOURS = env("SMS_QUIET_HOURS", "21:00-08:00")
SMS_MAX_ATTEMPTS = env_int("SMS_MAX_ATTEMPTS", 5)
SMS_RATE_PER_SECOND = env_int("SMS_RATE_PER_SECOND", 10)
SMS_REPLY_WINDOW_HOURS = env_int("SMS_REPLY_WINDOW_HOURS", 24)
SMS_RETRY_BASE_SECONDS = 30
# Texts one delivery task may send when more are due: fewer tasks and commits under load.
SMS_DELIVERY_BATCH = env_int("SMS_DELIVERY_BATCH", 20)
SMS_STALE_SENDING_SECONDS = 120
SMS_HTTP_TIMEOUT = 10
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID")
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL")
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL")

# Sessions (see matching/reminders.py): the volunteer's reminder goes this many hours before
# the start, and a session still unconfirmed this many hours before it is flagged at risk.
SESSION_REMINDER_HOURS = env_int("SESSION_REMINDER_HOURS", 24)
SESSION_CONFIRM_DEADLINE_HOURS = env_int("SESSION_CONFIRM_DEADLINE_HOURS", 4)
# After each session (matching/check_ins.py), the volunteer is asked whether it happened.
SESSION_CHECK_IN_HOURS_AFTER = env_int("SESSION_CHECK_IN_HOURS_AFTER", 2)

# The weekly wellbeing check-in (matching/wellbeing.py) for volunteers who opted in, and the
# line a volunteer who answers 1 or 2 is given alongside the office's number.
WELLBEING_CHECK_IN_DAY = env("WELLBEING_CHECK_IN_DAY", "monday")
WELLBEING_CHECK_IN_TIME = env("WELLBEING_CHECK_IN_TIME", "10:00")
# How long the check-in awaits its answer. Short, since while it waits it holds back the
# volunteer's other questions (a session reminder): by default 10:00 to 18:00.
WELLBEING_REPLY_HOURS = env_int("WELLBEING_REPLY_HOURS", 8)
HELPLINE = env("HELPLINE", "Breathing Space, 0800 83 85 87")

# The weekly check-in text to peers who agreed to texts (matching/peer_check_ins.py).
PEER_CHECK_IN_DAY = env("PEER_CHECK_IN_DAY", "wednesday")
PEER_CHECK_IN_TIME = env("PEER_CHECK_IN_TIME", "11:00")

# A volunteer's required training counts as "expiring" this many days before it lapses.
TRAINING_EXPIRY_WARNING_DAYS = env_int("TRAINING_EXPIRY_WARNING_DAYS", 30)

# django-import-export: one bad row imports nothing.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The Twilio SDK logs every request's headers at INFO: too much for a log worth reading.
        "twilio.http_client": {"level": "WARNING"},
    },
}

# Production hardening: on whenever DEBUG is off, each switch overridable for odd deployments.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_HTTPS_PROXY", False) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every page (django-csp): scripts, styles, images, fonts and
# connections come from PeerPath itself; no inline script, no inline event handler and no eval
# anywhere, so injected markup cannot run script. PeerPath's pages keep their styles and
# scripts in static files (static/peerpath/), Swagger UI loads its start-up script from a URL
# (api/urls.py, templates/headless/spec/), and the templates of the admin's export page and the
# browsable API are overridden where they had inline code (templates/).
# One allowance, for styles only: style="..." attributes (style-src-attr), which DRF's browsable
# API and django-import-export write into their markup. An attribute styles only its own
# element and cannot select or read anything else on the page; whatever it might load
# (url(...)) is still bound by img-src and font-src. <style> elements and stylesheets stay
# limited to 'self', and browsers without style-src-attr fall back to that stricter style-src.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        # data: for the QR code on the page that sets up an authenticator app (allauth.mfa).
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Permissions-Policy (config/security_headers.py): browser features no PeerPath page uses,
# refused to every page and to anything framed in one.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# Matching (matching/engine.py). Each soft score is a part from 0 to 1 times its weight here;
# a weight of 0 leaves that part out. Suggestions and bulk assignment use the same weights.
MATCHING_WEIGHTS = {
    "distance": 2.0,  # near the peer's area
    "availability": 3.0,  # free at the peer's preferred times
    "focus": 2.0,  # lived experience of what the peer wants support with
    "language": 1.0,  # speaks the peer's languages
    "gender": 1.0,  # the supporter's gender the peer asked for, or their own
    "load": 1.0,  # supports fewer people now: spread the work
    "continuity": 2.0,  # supported this peer before
}
# The distance part falls from full marks within the peer's area to nothing at this distance.
MATCHING_DISTANCE_ZERO_KM = 30
# Hours a week of availability at the peer's preferred times that earn the availability part
# in full.
MATCHING_FULL_OVERLAP_HOURS = 3
