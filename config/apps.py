"""The project's configuration package as an installed app, for the end of Django's set-up."""

from __future__ import annotations

from django.apps import AppConfig

from config.startup import resume_collector


class ProjectConfig(AppConfig):
    """Installed last: Django calls the apps' ready() in order once every model is imported (and
    admin, the first app, has discovered every admin module), so this one marks set-up done."""

    name = "config"
    verbose_name = "Project configuration"

    def ready(self) -> None:
        resume_collector()
