"""Production settings: no defaults for secrets, HTTPS only."""

from django.core.exceptions import ImproperlyConfigured

from config.log import logging_config
from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = False
LOGGING = logging_config(env("DJANGO_LOG_FORMAT", default="json"), env("DJANGO_LOG_LEVEL", default="INFO"))
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
IDENTIFIER_HASH_KEY = env("IDENTIFIER_HASH_KEY")
if not FIELD_ENCRYPTION_KEYS or not IDENTIFIER_HASH_KEY:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS and IDENTIFIER_HASH_KEY must be set in production.")

# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
