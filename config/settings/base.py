"""Settings shared by every run mode, driven only by the environment.

Every default yields the zero-set-up demo: SQLite and eager Celery. Setting
DATABASE_URL and REDIS_URL switches to PostgreSQL and a real broker.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.log import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-demo-key-only-for-local-use-0123456789abcdef")
# Off unless asked for (DJANGO_DEBUG=true): the demo shows the registry's own error pages, never
# Django's debug pages (which list the URLconf and settings). Static files are served by WhiteNoise
# from STATIC_ROOT, so `make demo` runs collectstatic first.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "simple_history",
    "django_celery_beat",
    "django_celery_results",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_htmx",
    "registry",
    "access_programme",
    "accounts",
    "interchange",
    "clinic",
    "pharmacy",
    "analytics",
    "analytics.survival",
    "api",
    "config.apps.ProjectConfig",  # last: its ready() ends the start-up (config.startup)
]

MIDDLEWARE = [
    "config.log.RequestIdMiddleware",
    "config.bad_requests.RefuseNulBytesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.sessions.IdleTimeoutMiddleware",
    "accounts.sessions.NoStoreMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.two_factor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # https://django-axes.readthedocs.io/en/latest/2_installation.html: keep last.
    "axes.middleware.AxesMiddleware",
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
                "clinic.context_processors.navigation",
            ],
        },
    },
]

# Django's form templates through Jinja2 (config/form_renderer.py: the same markup, faster).
FORM_RENDERER = "config.form_renderer.FormRenderer"

# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # healthchecks' settings: avoid "database is locked" under concurrent writes (Django >= 5.1).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Prepared statements (issue 18, item 3): PostgreSQL planned each page's queries on every
    # request, 3.8 ms for the patient page's header alone against 0.6 ms to run it. With
    # server-side binding, psycopg prepares a query on a connection after its 5th run, and the
    # persistent connections (CONN_MAX_AGE) keep them. Django leaves both off by default for
    # poolers in transaction mode (PgBouncer without max_prepared_statements): set
    # DJANGO_DB_PREPARED_STATEMENTS=false behind one. docs/deployment.md, "Web server".
    if env.bool("DJANGO_DB_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
    # No JIT compilation (issue 18, item 3): PostgreSQL compiles a query whose estimated cost
    # passes jit_above_cost, and some of the patient list's filters do (a correlated EXISTS is
    # estimated at 486,000): compiling took 14 ms of a 50 ms count, on every run, prepared or
    # not. The analysis' loads took the same time without it. DJANGO_DB_JIT=true leaves the
    # server's setting. docs/deployment.md, "Web server".
    if not env.bool("DJANGO_DB_JIT", default=False):
        _options = DATABASES["default"].setdefault("OPTIONS", {})
        # after any server options DATABASE_URL gave (?options=-c ...), not instead of them
        _options["options"] = " ".join(filter(None, [_options.get("options", ""), "-c jit=off"]))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Least privilege (registry.db_roles, docs/deployment.md "Database roles"): DATABASE_URL is the
# role the app runs as; DATABASE_ADMIN_URL, when set, is the owner of the same database, used by
# migrate, flush, backup, restore and key rotation only. Only its credentials are kept.
DATABASE_ADMIN: dict[str, Any] | None = None
if _admin_url := env("DATABASE_ADMIN_URL", default=""):
    _admin = environ.Env.db_url_config(_admin_url)
    if (_admin["ENGINE"], _admin["NAME"]) != (DATABASES["default"]["ENGINE"], DATABASES["default"]["NAME"]):
        raise ImproperlyConfigured("DATABASE_ADMIN_URL must name the same PostgreSQL database as DATABASE_URL.")
    DATABASE_ADMIN = {key: _admin.get(key, "") for key in ("USER", "PASSWORD", "HOST", "PORT")}

AUTH_USER_MODEL = "registry.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 30 minutes of inactivity, as clinical systems are used on shared ward computers.
# The expiry slides at most once a minute (accounts.sessions.IdleTimeoutMiddleware), not on every request.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
SESSION_REFRESH_SECONDS = env.int("SESSION_REFRESH_SECONDS", default=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False

# django-axes: lock an account and address after 5 failures for one hour.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Export files for download (MEDIA_ROOT/exports/); never served as static media.
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))


# Identifiers (names, date of birth, NHS number) are encrypted with keys kept apart from
# SECRET_KEY. FIELD_ENCRYPTION_KEYS lists Fernet keys, newest first; older keys only decrypt,
# which is how keys are rotated (see docs/security.md and `manage.py rotate_identity_keys`).
def _derived_demo_key(purpose: str) -> str:
    digest = hashlib.sha256(f"{purpose}:{SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


FIELD_ENCRYPTION_KEYS: list[str] = env.list("FIELD_ENCRYPTION_KEYS", default=[]) or [
    _derived_demo_key("field-encryption")
]
# Keyed hash ("blind index") for finding duplicate NHS numbers without decrypting.
IDENTIFIER_HASH_KEY: str = env("IDENTIFIER_HASH_KEY", default="") or _derived_demo_key("identifier-hash")

# Celery: https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_STORE_EAGER_RESULT = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="django-db")
CELERY_RESULT_EXTENDED = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# acks_late tasks are redelivered after this, so it must exceed the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60)}
# django-celery-beat's database scheduler, writing a heartbeat the health check reads (config.beat).
CELERY_BEAT_SCHEDULER = "config.beat:HeartbeatScheduler"
# The Celery app, imported by registry.tasking before the first task is sent (not at start-up).
TASKS_APP = "config.celery.app"
# A running analysis with no progress heartbeat for this long was abandoned by a lost worker.
SURVIVAL_RUN_STALE_AFTER_SECONDS = env.int("SURVIVAL_RUN_STALE_AFTER_SECONDS", default=600)
CELERY_BEAT_SCHEDULE = {
    # https://crontab.guru/#0_2_*_*_*  (02:00 every night)
    "survival-analyses-nightly": {
        "task": "analytics.survival.tasks.survival_analyses_rerun_nightly",
        "schedule": crontab(minute=0, hour=2),
    },
    # https://crontab.guru/#*/5_*_*_*_*  (every 5 minutes)
    "survival-runs-recover-stale": {
        "task": "analytics.survival.tasks.survival_runs_recover_stale",
        "schedule": crontab(minute="*/5"),
    },
    # https://crontab.guru/#30_1_*_*_*  (01:30 every night, before the survival analyses)
    "data-quality-scan-nightly": {
        "task": "registry.tasks.data_quality_scan_task",
        "schedule": crontab(minute=30, hour=1),
    },
    # https://crontab.guru/#15_*_*_*_*  (hourly, at quarter past)
    "dataset-export-files-purge": {
        "task": "analytics.tasks.export_files_purge_task",
        "schedule": crontab(minute=15),
    },
}
# Statistics-package exports (Stata, SPSS, SAS, R) are kept this long for download, then deleted.
DATASET_EXPORT_RETENTION_HOURS = env.int("DATASET_EXPORT_RETENTION_HOURS", default=72)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "accounts.api_lockout.LockoutTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 100,
    # JSON bodies nested deeper than API_JSON_MAX_DEPTH are a 400, not a RecursionError (api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)
SPECTACULAR_SETTINGS = {
    "TITLE": "IL-2LD ALS/MND early-access registry API",
    "DESCRIPTION": "Real-world data from low-dose interleukin-2 early access in ALS/MND.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Logs (config.log): plain lines for the demo and a developer's terminal; one JSON object a line,
# with the request id, in production (DJANGO_LOG_FORMAT=json, production's default).
LOGGING = logging_config(env("DJANGO_LOG_FORMAT", default="plain"), env("DJANGO_LOG_LEVEL", default="INFO"))

# The code's git commit, baked into the image at build (Dockerfile: GIT_SHA -> REGISTRY_CODE_VERSION);
# empty outside an image, where registry.version asks git.
CODE_VERSION = env("REGISTRY_CODE_VERSION", default="")
# A worker or beat whose heartbeat (config.heartbeat) is older than this counts as down.
HEARTBEAT_MAX_AGE_SECONDS = env.int("HEARTBEAT_MAX_AGE_SECONDS", default=90)

# --- api
# Swagger UI assets come from drf-spectacular-sidecar (no CDN on these machines).
INSTALLED_APPS += ["drf_spectacular_sidecar"]
SPECTACULAR_SETTINGS.update(
    {
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        # No deep-link anchors inside the operation buttons (axe: nested-interactive, target-size).
        "SWAGGER_UI_SETTINGS": {"deepLinking": False},
        # Separate request and response components: read-only fields (derived scores, version on
        # create) stay out of request bodies, which keeps the schema honest for clients and fuzzers.
        "COMPONENT_SPLIT_REQUEST": True,
        "SCHEMA_PATH_PREFIX": r"/api/v1",
        "ENUM_NAME_OVERRIDES": {
            "RouteCodeEnum": "access_programme.models.RouteCode",
            "ProductCodeEnum": "access_programme.models.ProductCode",
        },
    }
)

# --- web app
# django-axes shows this page instead of a bare 429 when an account is locked.
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Serious adverse events are mailed to active data managers (and to these fixed addresses, e.g. a
# pharmacovigilance mailbox). The demo prints mail to the console; production sets an SMTP backend.
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="registry@localhost")
SAE_ALERT_EMAILS: list[str] = env.list("SAE_ALERT_EMAILS", default=[])
# Pharmacy: a cycle may be dispensed (and recorded) up to this many days before it starts; the
# 28-day rule applies to the cycle's administration dates, not to the dispensing date.
PHARMACY_DISPENSE_AHEAD_DAYS = env.int("PHARMACY_DISPENSE_AHEAD_DAYS", default=7)

# --- security headers
# Content security policy (django-csp 4): scripts only from our own static files, never inline;
# inline styles allowed because matplotlib's inline SVG figures carry a <style> element.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
OTP_TOTP_ISSUER = "IL-2LD registry"

# API rate limits (DRF throttling): generous for people and scripts, a brake on scraping or abuse.
REST_FRAMEWORK["EXCEPTION_HANDLER"] = "accounts.api_lockout.exception_handler"
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "rest_framework.throttling.AnonRateThrottle",
    "rest_framework.throttling.UserRateThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "anon": env("API_THROTTLE_ANON", default="60/minute"),
    "user": env("API_THROTTLE_USER", default="1200/minute"),
}

# A shared cache (Redis when configured) so rate limits hold across gunicorn workers.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Sessions are read from that shared cache and written through to the database (issue 18, item 3):
# a page view reads its session from Redis instead of querying django_session, and a cache miss
# (Redis restarted) falls back to the row. Only with Redis: a per-process cache would let one
# worker keep serving a session that another worker had ended (signed out).
if REDIS_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Web uploads of cohorts are capped (refused before parsing); bigger migrations use the
# import_cohort command, which streams from disk.
IMPORT_UPLOAD_MAX_BYTES = env.int("IMPORT_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
# What one file of a cohort may hold, whatever the channel (docs/interchange.md, "Limits"): a
# file over a limit is refused as a whole with a file-level error, before any row is parsed.
IMPORT_MAX_LINE_BYTES = env.int("IMPORT_MAX_LINE_BYTES", default=1024 * 1024)
IMPORT_MAX_FILE_BYTES = env.int("IMPORT_MAX_FILE_BYTES", default=2 * 1024**3)
IMPORT_MAX_COMPRESSION_RATIO = env.int("IMPORT_MAX_COMPRESSION_RATIO", default=100)
IMPORT_MAX_ROWS_PER_FILE = env.int("IMPORT_MAX_ROWS_PER_FILE", default=10_000_000)
IMPORT_REPORT_MAX_ISSUES_PER_FILE = env.int("IMPORT_REPORT_MAX_ISSUES_PER_FILE", default=100_000)
