"""Load a digitised benchmark arm from its documented files (analytics/benchmark_files.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.benchmark_files import BenchmarkFileError, read_benchmark
from analytics.survival import services
from registry.models import User


class Command(BaseCommand):
    help = (
        "Add a digitised Kaplan-Meier arm (or a new version of it) from a directory holding metadata.json, "
        "survival.csv and, if published, at_risk.csv. See analytics/benchmark_files.py for the format."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="Directory with metadata.json and the CSV files.")
        parser.add_argument("--user", help="Username recorded as the benchmark's author (an analyst).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            benchmark = read_benchmark(options["directory"])
        except BenchmarkFileError as error:
            raise CommandError("The benchmark files were not loaded:\n" + str(error)) from error
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}.")
        try:
            saved = services.benchmark_revise(user=user, code=benchmark.code, **benchmark.fields)
        except ValidationError as error:
            raise CommandError(f"The benchmark was refused: {error.message_dict}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{saved.code} v{saved.version}: {len(saved.points)} points, {len(saved.risk_table)} risk-table rows"
                f"{' (TEST benchmark)' if saved.is_test else ''}"
            )
        )
