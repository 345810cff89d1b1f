"""Django's flush, connected as the database owner (DATABASE_ADMIN_URL) when one is configured.

Flush empties every table with TRUNCATE, which the app role may not do on the append-only audit
and access-log tables (registry.db_roles). Transactional tests end with a flush, so it runs
as the owner, as migrate does.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush

from registry.db_roles import as_owner


class Command(flush.Command):
    help = flush.Command.help + " Connects as the owner role (DATABASE_ADMIN_URL) when one is set."

    def handle(self, **options: Any) -> None:
        with as_owner(options["database"]):
            super().handle(**options)
