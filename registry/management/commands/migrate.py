"""Django's migrate, connected as the database owner (DATABASE_ADMIN_URL) when one is configured.

The owner creates and alters the tables; after the last migration the owner grants the app
role (DATABASE_URL) its privileges (registry.db_roles). Without DATABASE_ADMIN_URL this is
Django's migrate unchanged.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate

from registry.db_roles import as_owner


class Command(migrate.Command):
    help = migrate.Command.help + " Connects as the owner role (DATABASE_ADMIN_URL) when one is set."

    def handle(self, *args: Any, **options: Any) -> None:
        with as_owner(options["database"]):
            super().handle(*args, **options)
