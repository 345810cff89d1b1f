"""Test settings: the same as base, with fast hashing and no manifest static storage."""

from config.settings.base import *  # noqa: F403
from config.settings.base import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_AUTOREFRESH = True
# Unit tests run tasks eagerly; the worker integration tests start a real worker themselves.
CELERY_TASK_ALWAYS_EAGER = True
# Per-test isolation: an in-process cache, and rate limits far above what any test sends
# (the throttling test sets its own low rate).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"}}  # noqa: F405
