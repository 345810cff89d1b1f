"""Re-encrypt every stored identifier (and its audit copies) under the newest key.

Rotation: put a new Fernet key first in FIELD_ENCRYPTION_KEYS (keeping the old ones after it),
deploy, run this command, then remove the old key. See docs/security.md.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registry.services import identity_keys_rotate


class Command(BaseCommand):
    help = "Re-encrypt patient identities and their history under the first key of FIELD_ENCRYPTION_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        counts = identity_keys_rotate(batch_size=options["batch_size"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted {counts['identities']} identities and {counts['history']} audit rows "
                "under the newest key."
            )
        )
