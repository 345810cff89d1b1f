from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

from registry import bulk  # noqa: F401 - registers the `__any_of` lookup on every field
from registry.audit_guard import install
from registry.db_roles import grant_app_privileges


def _install_audit_guard(using: str = "default", **kwargs: Any) -> None:
    """The append-only trigger on every audit and access-log table, then the app role's grants."""
    install(connections[using])
    grant_app_privileges(using)


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry (patients and clinical data)"

    def ready(self) -> None:
        # After every migrate: all historical tables exist then, including other apps'.
        post_migrate.connect(_install_audit_guard, sender=self, dispatch_uid="registry_audit_guard")
