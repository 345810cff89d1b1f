"""python manage.py restore PATH --yes: replace the registry with a verified backup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.backup import BackupError, restore


class Command(BaseCommand):
    help = "Replace the whole registry with the backup at PATH (checksum verified first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--yes", action="store_true", help="Confirm that the current data will be replaced.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["yes"]:
            raise CommandError("Restoring replaces all current data: add --yes to confirm.")
        try:
            restore(options["path"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Registry restored from {options['path']}."))
