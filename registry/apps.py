from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import m2m_changed, post_migrate, post_save

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
        from registry.models import User
        from registry.selectors import forget_user_sites

        # The site scope kept on a user object (registry.selectors.user_sites) is forgotten when
        # the user's sites, role or active flag change.
        m2m_changed.connect(forget_user_sites, sender=User.sites.through, dispatch_uid="registry_forget_user_sites")
        post_save.connect(forget_user_sites, sender=User, dispatch_uid="registry_forget_user_sites_on_save")
