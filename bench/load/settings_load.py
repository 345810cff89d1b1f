"""Production settings for the loopback load test only (bench/load, issue 5).

Everything comes from config.settings.production (DEBUG off, keys from the environment,
ATOMIC_REQUESTS, CONN_MAX_AGE, security middleware, axes, whitenoise) except the three
settings that assume TLS in front of the app. The load test talks plain HTTP to gunicorn on
127.0.0.1 with no proxy, so:

- SESSION_COOKIE_SECURE / CSRF_COOKIE_SECURE: a Secure cookie is never sent back over plain
  http, so no one could stay logged in or pass the CSRF check;
- SECURE_SSL_REDIRECT: every request would be redirected to https://, which nothing serves.

Never use this module outside the load test: production keeps all three True.
"""

from config.settings.production import *  # noqa: F403

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False

# collectstatic output (as the Dockerfile does at build time) kept inside bench/load, so the load
# test does not create /staticfiles in the working tree that other runs share.
STATIC_ROOT = BASE_DIR / "bench" / "load" / ".staticfiles"  # noqa: F405
