"""python manage.py backup PATH: full registry backup (pg_dump custom format, or SQLite backup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the whole registry (data, audit trail, schema) to PATH, with a SHA-256 checksum beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            checksum = backup(options["path"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Backup written to {options['path']} (sha256 {checksum[:16]}…)."))
