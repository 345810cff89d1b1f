"""Test settings: the same as base, with fast hashing and no manifest static storage.

The tests expect base's documented defaults (a 30-minute session, a 50 MB upload cap, no
fixed SAE mailbox …), so base is read with an environment that holds only the choice of
services: which database (and its owner), which Redis, which broker. Whatever else the
shell exports (a deployment's .env, a developer's overrides) cannot change what the tests
see; tests/project/test_environment_independence.py holds this to every variable base reads.
"""

import os

SERVICES = ("DATABASE_URL", "DATABASE_ADMIN_URL", "REDIS_URL", "CELERY_BROKER_URL")

_environment = dict(os.environ)
os.environ.clear()
os.environ.update({name: value for name, value in _environment.items() if name in SERVICES})
try:
    from config.settings.base import *  # noqa: F403
    from config.settings.base import STORAGES
finally:
    os.environ.clear()
    os.environ.update(_environment)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_AUTOREFRESH = True
# Unit tests run tasks eagerly; the worker integration tests start a real worker themselves.
CELERY_TASK_ALWAYS_EAGER = True
# Per-test isolation: an in-process cache, and rate limits far above what any test sends
# (the throttling test sets its own low rate).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions as production keeps them with Redis (cached_db), on every test database: the exact
# query counts in tests/web hold with or without REDIS_URL (without it, base keeps sessions in the
# database only, one query more per page, and `make test` on SQLite would count differently).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"}}  # noqa: F405
