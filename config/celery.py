"""Celery application, configured from Django settings (CELERY_* names)."""

import os

from celery import Celery

from config.heartbeat import HeartbeatStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("il2ld_registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every worker writes a heartbeat the health checks read (config.heartbeat, config.health).
app.steps["worker"].add(HeartbeatStep)
