"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

from config.startup import pause_collector

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
pause_collector()  # until the apps are ready (config.apps)
application = get_wsgi_application()
